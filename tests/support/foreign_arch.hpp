// Whether this kernel has the i386 syscall entry (`int 0x80`, CONFIG_IA32_EMULATION). Without
// it the instruction faults with SIGSEGV before any filter sees the call, so tests of the
// foreign-architecture rule probe first, unconfined, and then know which death to expect.
#pragma once

#if defined(__x86_64__)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

namespace sandlock::test {

// i386 getpid (20) through the 32-bit entry point; returns what the kernel answered. Only in a
// process that may die of it: SIGSEGV is reset to its default first, so that where the entry
// is missing the fault kills the process (a sanitizer's handler would turn it into an exit).
inline long ia32_getpid() {
    ::signal(SIGSEGV, SIG_DFL);
    long ret = 20;
    asm volatile("int $0x80" : "+a"(ret) : : "memory");
    return ret;
}

// Probed once in a forked child: true when the call came back with the child's pid.
inline bool ia32_entry_available() {
    static const bool available = [] {
        pid_t pid = ::fork();
        if (pid == 0) {
            const rlimit no_core{0, 0};
            ::setrlimit(RLIMIT_CORE, &no_core);
            ::_exit(ia32_getpid() == ::getpid() ? 0 : 1);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }();
    return available;
}

// The signal an i386 call must die of in a filtered process: SIGSYS from our filter where the
// entry exists, SIGSEGV from the CPU where it does not (the call never reaches the kernel).
inline int expected_ia32_death() { return ia32_entry_available() ? SIGSYS : SIGSEGV; }

}  // namespace sandlock::test
#endif
