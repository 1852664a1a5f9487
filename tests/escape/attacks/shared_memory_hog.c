/* Attacks on max_memory's accounting of memory that one process maps and another keeps.
 *
 *   shared_memory_hog clone-vm N MIB    N children sharing this process's memory (clone
 *                                       CLONE_VM, not threads) each map and touch MIB MiB,
 *                                       then exit: the mappings stay in this process.
 *   shared_memory_hog growsdown N MIB   N MAP_GROWSDOWN mappings of one page, each grown by
 *                                       page faults to MIB MiB (no call to judge).
 *
 * Prints "held X" (the MiB alive at once) and exits 0. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t chunk;
static volatile int mapped_ok;

static int child(void* arg) {
    (void)arg;
    char* p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(1);
    memset(p, 1, chunk);
    mapped_ok++;
    _exit(0);
}

static int clone_vm(int n) {
    for (int i = 0; i < n; ++i) {
        char* stack = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (stack == MAP_FAILED) break;
        pid_t pid = clone(child, stack + (1 << 16), CLONE_VM | SIGCHLD, NULL);
        if (pid < 0) break;
        waitpid(pid, NULL, 0);
    }
    return mapped_ok;
}

static int growsdown(int n) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    /* Each mapping at the top of a slot with room below it to grow into, and more than the
     * kernel's stack guard gap (1 MiB) left over above the slot beneath. */
    const size_t slot = chunk + (2u << 20);
    char* area = mmap(NULL, slot * (size_t)n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED) return 0;
    munmap(area, slot * (size_t)n);
    int grown = 0;
    for (int i = 0; i < n; ++i) {
        char* want = area + slot * (size_t)(i + 1) - page;
        char* top = mmap(want, page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE, -1, 0);
        if (top == MAP_FAILED) break;
        /* Touch downwards page by page: each fault below the mapping grows it. */
        for (size_t off = 0; off < chunk; off += page) top[-(long)off] = 1;
        grown++;
    }
    return grown;
}

int main(int argc, char** argv) {
    if (argc != 4) return 2;
    int n = atoi(argv[2]);
    chunk = (size_t)atoi(argv[3]) << 20;
    int held = strcmp(argv[1], "clone-vm") == 0 ? clone_vm(n) : growsdown(n);
    printf("held %d\n", held * atoi(argv[3]));
    return 0;
}
