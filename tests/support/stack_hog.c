/* An attack on max_memory through the stack, which grows by page faults, never by a syscall:
 *   stack_hog MIB         raise RLIMIT_STACK to MIB MiB (as far as allowed), re-exec itself so the
 *                         new limit shapes the stack, then dirty MIB MiB of it
 * Prints "touched MIB" when it got there; dies of SIGSEGV when the stack could not grow. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { kFrame = 64 << 10 };

static unsigned long dirty(unsigned long frames) {
    volatile char frame[kFrame];
    for (unsigned i = 0; i < kFrame; i += 4096) frame[i] = (char)i;
    return frames == 0 ? frame[0] : frame[1] + dirty(frames - 1);
}

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    const unsigned long mib = strtoul(argv[1], NULL, 10);
    if (argc == 2) {
        struct rlimit want = {(mib + 8) << 20, (mib + 8) << 20};
        if (setrlimit(RLIMIT_STACK, &want) != 0) printf("setrlimit %s\n", strerror(errno));
        fflush(stdout);
        char* again[] = {argv[0], argv[1], "touch", NULL};
        execv("/proc/self/exe", again);
        return 3;
    }
    dirty(mib * ((1 << 20) / kFrame));
    printf("touched %lu\n", mib);
    return 0;
}
