/* Attack on max_processes' counting: the children of a thread move when it exits (to another
 * thread of its process), and a refresh of the process table that already read the thread they
 * move to misses them. Forks let through without a refresh must then still count.
 *
 *   thread_exit_walk FILLERS KIDS TRIES
 *
 * The process starts FILLERS idle threads, so a refresh takes long to read every thread's
 * children. Each round, a new thread (listed after them all) forks KIDS children; the main
 * thread forks one, then the new thread exits while the main thread tries 5 more forks; the
 * children wait until the round ends. Each fork is a try. Prints "most in a round M, rounds R":
 * M the most children alive at once. With max_processes P, M must stay at most P - 1 (the
 * process itself counts). Exits 0 (1 on a failure). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waiting_children.h"

enum { kTriesPerRound = 5, kMaxKids = 64 };

static pid_t children[kMaxKids + kTriesPerRound + 1];
static int made;
static int kids;
static int forked, go;  /* the round's hand-offs, spun on */

static pid_t spawn(void) {
    const pid_t pid = spawn_child(1);
    if (pid > 0) children[__atomic_fetch_add(&made, 1, __ATOMIC_SEQ_CST)] = pid;
    return pid;
}

static void* forker(void* arg) {
    const long delay = (long)arg;
    for (int i = 0; i < kids; ++i) spawn();
    __atomic_store_n(&forked, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST)) {
    }
    for (volatile long spin = 0; spin < delay; ++spin) {
    }
    return NULL; /* its children move to the main thread now */
}

int main(int argc, char** argv) {
    if (argc != 4) return 2;
    const long fillers = strtol(argv[1], NULL, 10);
    kids = (int)strtol(argv[2], NULL, 10);
    const long tries = strtol(argv[3], NULL, 10);
    if (kids < 0 || kids > kMaxKids || fillers < 0) return 2;
    pthread_attr_t small;
    if (start_idle_threads(fillers, &small) != 0) return 1;
    long rounds = 0, attempted = 0;
    int most = 0;
    while (attempted < tries) {
        made = 0;
        forked = go = 0;
        pthread_t thread;
        /* Exits at a different moment of the main thread's next fork each round. */
        if (pthread_create(&thread, &small, forker, (void*)((rounds * 7919) % 100000)) != 0) return 1;
        while (!__atomic_load_n(&forked, __ATOMIC_SEQ_CST)) {
        }
        attempted += kids;
        spawn();
        ++attempted;
        __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
        for (int i = 0; i < kTriesPerRound; ++i, ++attempted) spawn();
        pthread_join(thread, NULL);
        if (made > most) most = made;
        for (int i = 0; i < made; ++i) kill(children[i], SIGKILL);
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
        }
        ++rounds;
    }
    printf("most in a round %d, rounds %ld\n", most, rounds);
    fflush(stdout);
    return 0;
}
