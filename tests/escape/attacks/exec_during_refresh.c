/* Attack on max_processes' counting: a thread waiting in a fork is killed while the process
 * table is refreshed (another thread's execve kills every other thread), and its children move
 * to the exec'ing thread, which the refresh may have read already. The dead thread's earlier
 * forks must then still count.
 *
 *   exec_during_refresh FILLERS KIDS TRIES
 *
 * Each round the process starts FILLERS idle threads (so a refresh takes long to read every
 * thread's children) and a thread that forks KIDS children, then forks once more, while the
 * main thread execs this program again during that fork. The new image, which inherits the
 * children, tries 5 forks. Each fork is a try; the children wait until the round ends. Prints
 * "most at once M, rounds R": M the most processes alive at once, the program included. With
 * max_processes P and KIDS = P - 1, M must stay at most P. Exits 0 (1 on a failure). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "waiting_children.h"

enum { kTriesAfterExec = 5, kMaxKids = 32 };

static long kids;
static pid_t kid_pids[kMaxKids];
static int forked, go; /* the round's hand-offs, spun on */

static void* forker(void* arg) {
    (void)arg;
    for (long i = 0; i < kids; ++i) kid_pids[i] = spawn_child(1);
    __atomic_store_n(&forked, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST)) {
    }
    spawn_child(0); /* judged after a refresh, while the main thread execs (its child, if any, ends) */
    for (;;) pause();
    return NULL;
}

/* argv: PROGRAM FILLERS KIDS TRIES [ROUND ATTEMPTED MOST KID_PID...] (the state after an exec) */
int main(int argc, char** argv) {
    if (argc < 4) return 2;
    const long fillers = strtol(argv[1], NULL, 10);
    kids = strtol(argv[2], NULL, 10);
    const long tries = strtol(argv[3], NULL, 10);
    if (kids < 0 || kids > kMaxKids || fillers < 0) return 2;
    long round = 0, attempted = 0, most = 0;
    if (argc > 4) {
        if (argc != 7 + kids) return 2;
        round = strtol(argv[4], NULL, 10);
        attempted = strtol(argv[5], NULL, 10);
        most = strtol(argv[6], NULL, 10);
        /* The new image: the children of the killed thread are ours now. */
        long alive = 1 + kids, made = 0;
        pid_t mine[kTriesAfterExec];
        for (int i = 0; i < kTriesAfterExec; ++i, ++attempted)
            if ((mine[made] = spawn_child(1)) > 0) ++made;
        if (alive + made > most) most = alive + made;
        for (long i = 0; i < kids; ++i) kill((pid_t)strtol(argv[7 + i], NULL, 10), SIGKILL);
        for (long i = 0; i < made; ++i) kill(mine[i], SIGKILL);
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
        }
        ++round;
    }
    if (attempted >= tries) {
        printf("most at once %ld, rounds %ld\n", most, round);
        fflush(stdout);
        return 0;
    }
    pthread_attr_t small;
    if (start_idle_threads(fillers, &small) != 0) return 1;
    pthread_t thread;
    if (pthread_create(&thread, &small, forker, NULL) != 0) return 1;
    while (!__atomic_load_n(&forked, __ATOMIC_SEQ_CST)) {
    }
    for (long i = 0; i < kids; ++i)
        if (kid_pids[i] <= 0) return 1; /* below the limit every one of these fits */
    attempted += kids + 1;
    /* Execs at a different moment of the thread's last fork each round. */
    char text[3][24], pids[kMaxKids][16];
    char* next[7 + kMaxKids + 1] = {argv[0], argv[1], argv[2], argv[3], text[0], text[1], text[2]};
    snprintf(text[0], sizeof text[0], "%ld", round);
    snprintf(text[1], sizeof text[1], "%ld", attempted);
    snprintf(text[2], sizeof text[2], "%ld", most);
    for (long i = 0; i < kids; ++i) {
        snprintf(pids[i], sizeof pids[i], "%d", kid_pids[i]);
        next[7 + i] = pids[i];
    }
    next[7 + kids] = NULL;
    const long delay = (round * 7919) % 100000;
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    for (volatile long spin = 0; spin < delay; ++spin) {
    }
    execv(argv[0], next);
    return 1;
}
