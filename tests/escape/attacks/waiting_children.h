/* Parts shared by the max_processes attacks: children that hold their slot, and idle threads
 * that make a refresh of the process table slow (it reads every thread's children). */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* A child that waits until it is killed (exits at once when !waits); its pid, or -1. Raw
 * calls only: it is the child of a multi-threaded process. */
static inline pid_t spawn_child(int waits) {
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        if (!waits) syscall(SYS_exit_group, 0);
        for (;;) pause();
    }
    return (pid_t)pid;
}

static void* idle_thread(void* arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

/* Starts `count` idle threads with small stacks; 0, or -1 on a failure. `small` is set up for
 * the caller's own threads too. */
static inline int start_idle_threads(long count, pthread_attr_t* small) {
    pthread_attr_init(small);
    pthread_attr_setstacksize(small, 64 * 1024);
    for (long i = 0; i < count; ++i) {
        pthread_t id;
        if (pthread_create(&id, small, idle_thread, NULL) != 0) return -1;
    }
    return 0;
}
