/* Attack on max_processes' census: a process whose main thread has exited while another thread
 * runs on shows state Z in /proc/PID/stat, like a dead one, yet it lives.
 *
 *   leader_exit TRIES
 *
 * The main process forks TRIES times; each child starts a thread that waits forever and ends its
 * own main thread. Prints "made M of T tries": M the children that started (each still runs).
 * With max_processes P, M must stay at most P - 1. Exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void* wait_forever(void* arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    const long tries = strtol(argv[1], NULL, 10);
    signal(SIGCHLD, SIG_IGN);
    long made = 0;
    for (long i = 0; i < tries; ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            pthread_t thread;
            if (pthread_create(&thread, NULL, wait_forever, NULL) != 0) _exit(1);
            syscall(SYS_exit, 0); /* the main thread only: the process lives on */
        }
        if (pid > 0) {
            ++made;
            struct timespec moment = {0, 2 * 1000 * 1000}; /* its main thread is gone by then */
            nanosleep(&moment, NULL);
        }
    }
    printf("made %ld of %ld tries\n", made, tries);
    fflush(stdout);
    return 0;
}
