/* Attack on max_memory's measuring: a process whose main thread has exited reads as empty in
 * /proc/PID/statm while another thread runs on, and the memory limit measured it so: each
 * measurement forgot what the thread had been granted.
 *
 *   leader_exit_memory MIB
 *
 * The main process forks a child whose thread maps and dirties MIB MiB in 8 MiB steps, 150 ms
 * apart (older than the limit's unmeasured grants, so every step may measure), after the
 * child's main thread has exited. Prints "got G MiB" (G what the thread got). Exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long goal_mib;
static int report[2];

static void* grow(void* arg) {
    (void)arg;
    struct timespec moment = {0, 150 * 1000 * 1000};
    nanosleep(&moment, NULL); /* the main thread is gone by then */
    long got = 0;
    while (got < goal_mib) {
        char* chunk = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (chunk == MAP_FAILED) break;
        memset(chunk, 1, 8 << 20);
        got += 8;
        nanosleep(&moment, NULL);
    }
    if (write(report[1], &got, sizeof got) != sizeof got) _exit(1);
    syscall(SYS_exit_group, 0);
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    goal_mib = strtol(argv[1], NULL, 10);
    if (pipe(report) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, grow, NULL) != 0) _exit(1);
        syscall(SYS_exit, 0); /* the main thread only: the process lives on */
    }
    long got = -1;
    if (read(report[0], &got, sizeof got) != sizeof got) return 1;
    waitpid(pid, NULL, 0);
    printf("got %ld MiB\n", got);
    return 0;
}
