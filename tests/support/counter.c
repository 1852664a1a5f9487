// A program to checkpoint and restore (tests/integration/checkpoint_test.cpp): counts from 0,
// one number every 20 ms, to stdout and to LOG (opened as fd 3), keeping the count also in
// 4 MiB of heap it checks and rewrites each step, so a restore that lost memory or the file
// offset shows.
//   counter LOG [--thread] [--socket] [--in-thread] [--until N] [--own-filter] [--vfork-hang]
// --thread: a second thread sleeps meanwhile; --socket: fd 4 is a socket; --in-thread: a second
// thread counts while the main one waits for it (pthread_join); --until N: stop after N, print
// "joined" (with --in-thread) and exit 0; --own-filter: installs a seccomp filter of its own
// (one that allows everything); --vfork-hang: a thread vforks a child that never execs (its
// parent thread waits where ptrace cannot stop it).
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long until = -1;

static void* sleeper(void* arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

static void* vfork_hang(void* arg) {
    (void)arg;
    if (vfork() == 0)
        for (;;) pause();
    return NULL;
}

static void* count(void* arg) {
    (void)arg;
    const size_t size = 4u << 20;
    volatile long* memory = malloc(size);
    if (memory == NULL) exit(5);
    const size_t slots = size / sizeof(long);
    for (long n = 0; until < 0 || n <= until; ++n) {
        // The count lives in memory: every slot must hold n - 1 before it moves on.
        for (size_t i = 0; i < slots; i += 512)
            if (n > 0 && memory[i] != n - 1) {
                fprintf(stderr, "memory lost at %zu: %ld, not %ld\n", i, memory[i], n - 1);
                exit(6);
            }
        for (size_t i = 0; i < slots; i += 512) memory[i] = n;
        char line[32];
        int len = snprintf(line, sizeof line, "%ld\n", n);
        if (write(3, line, (size_t)len) != len) exit(7);
        if (write(1, line, (size_t)len) != len) exit(8);
        struct timespec step = {0, 20 * 1000 * 1000};
        nanosleep(&step, NULL);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    int log = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log != 3 && (log < 0 || dup2(log, 3) != 3)) return 3;
    int in_thread = 0;
    for (int i = 2; i < argc; ++i) {
        if (strcmp(argv[i], "--thread") == 0) {
            pthread_t thread;
            pthread_create(&thread, NULL, sleeper, NULL);
        } else if (strcmp(argv[i], "--socket") == 0) {
            int s = socket(AF_UNIX, SOCK_STREAM, 0);
            if (s != 4 && dup2(s, 4) != 4) return 4;
        } else if (strcmp(argv[i], "--in-thread") == 0) {
            in_thread = 1;
        } else if (strcmp(argv[i], "--vfork-hang") == 0) {
            pthread_t thread;
            pthread_create(&thread, NULL, vfork_hang, NULL);
        } else if (strcmp(argv[i], "--own-filter") == 0) {
            struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
            struct sock_fprog program = {1, &allow};
            if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) return 12;
        } else if (strcmp(argv[i], "--until") == 0 && i + 1 < argc) {
            until = atol(argv[++i]);
        }
    }
    if (!in_thread) {
        count(NULL);
        return 0;
    }
    pthread_t counter;
    if (pthread_create(&counter, NULL, count, NULL) != 0) return 9;
    if (pthread_join(counter, NULL) != 0) return 10;
    if (write(1, "joined\n", 7) != 7) return 11;
    return 0;
}
