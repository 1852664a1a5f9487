/* Attack on max_processes' counting: several threads of one process fork at once, by fork(2)
 * and by clone(CLONE_PARENT), whose child lands beside the forking process (under its parent)
 * rather than under it, so that forks are let through while others are still in flight.
 *
 *   fork_race THREADS TRIES
 *
 * The main process starts one worker process (so CLONE_PARENT children land under a process of
 * the sandbox, not under its init). In rounds of 50 tries per thread, the worker's THREADS
 * threads fork at once, alternating the two kinds; the children wait, so every fork let
 * through holds a slot until the round ends and the worker kills them all. Prints "most in a
 * round M, rounds R": M the most forks that succeeded in one round. With max_processes P, M must
 * stay at most P - 2 (the main process and the worker count too). Exits 0 (1 on a failure). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { kTriesPerRound = 50, kMaxThreads = 16, kMaxChildren = kMaxThreads * kTriesPerRound };

static pthread_barrier_t start, finish;
static long rounds;
static pid_t children[kMaxChildren];
static long made;

static void* forker(void* arg) {
    long index = (long)arg;
    for (long round = 0; round < rounds; ++round) {
        pthread_barrier_wait(&start);
        for (long i = 0; i < kTriesPerRound; ++i) {
            const long flags = ((i + index) % 2 == 0) ? (CLONE_PARENT | SIGCHLD) : SIGCHLD;
            long pid = syscall(SYS_clone, flags, 0, 0, 0, 0);
            if (pid == 0) {
                for (;;) pause(); /* a child of a multi-threaded process: raw calls only */
            }
            if (pid > 0) children[__atomic_fetch_add(&made, 1, __ATOMIC_SEQ_CST)] = (pid_t)pid;
        }
        pthread_barrier_wait(&finish);
    }
    return NULL;
}

static int worker(long threads) {
    pthread_t ids[kMaxThreads];
    if (pthread_barrier_init(&start, NULL, (unsigned)threads + 1) != 0 ||
        pthread_barrier_init(&finish, NULL, (unsigned)threads + 1) != 0)
        return 1;
    for (long t = 0; t < threads; ++t)
        if (pthread_create(&ids[t], NULL, forker, (void*)t) != 0) return 1;
    long most = 0;
    for (long round = 0; round < rounds; ++round) {
        made = 0;
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&finish);
        if (made > most) most = made;
        /* Killed and gone (reaped at once: SIGCHLD is ignored) before the next round starts. */
        for (long i = 0; i < made; ++i) kill(children[i], SIGKILL);
        for (long i = 0; i < made; ++i) {
            struct timespec moment = {0, 100 * 1000};
            while (kill(children[i], 0) == 0 || errno != ESRCH) nanosleep(&moment, NULL);
        }
    }
    for (long t = 0; t < threads; ++t) pthread_join(ids[t], NULL);
    printf("most in a round %ld, rounds %ld\n", most, rounds);
    fflush(stdout);
    return 0;
}

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    const long threads = strtol(argv[1], NULL, 10);
    const long tries = strtol(argv[2], NULL, 10);
    if (threads < 1 || threads > kMaxThreads || tries < threads * kTriesPerRound) return 2;
    rounds = tries / (threads * kTriesPerRound);
    signal(SIGCHLD, SIG_IGN); /* children are reaped at once, here (CLONE_PARENT) and in the worker */
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(worker(threads));
    /* With SIGCHLD ignored the worker cannot be waited for: it is gone once reaped. */
    struct timespec moment = {0, 1000 * 1000};
    while (kill(pid, 0) == 0) nanosleep(&moment, NULL);
    return 0;
}
