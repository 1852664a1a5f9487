// System calls that touch no memory of ours but their arguments: they return -errno instead of
// setting errno. A sandbox's init that runs in sandlock's own memory (CLONE_VM, child.cpp)
// shares the launching thread's TLS, so libc's wrappers would write that thread's errno
// while it runs on; this is what the init uses once sandlock no longer waits for it.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sandlock::raw {

#if defined(__x86_64__)
inline long call(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) noexcept {
    long result;
    register long r10 asm("r10") = d;
    register long r8 asm("r8") = e;
    asm volatile("syscall"
                 : "=a"(result)
                 : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                 : "rcx", "r11", "memory");
    return result;
}
#elif defined(__aarch64__)
inline long call(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) noexcept {
    register long x8 asm("x8") = number;
    register long x0 asm("x0") = a;
    register long x1 asm("x1") = b;
    register long x2 asm("x2") = c;
    register long x3 asm("x3") = d;
    register long x4 asm("x4") = e;
    asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
    return x0;
}
#else
// Elsewhere the init is always a copy of sandlock (launcher.cpp): libc's wrapper will do.
inline long call(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) noexcept {
    const long result = ::syscall(number, a, b, c, d, e);
    return result < 0 ? -errno : result;
}
#endif

// Whether this architecture has the calls above (elsewhere the init is always a copy).
#if defined(__x86_64__) || defined(__aarch64__)
inline constexpr bool kAvailable = true;
#else
inline constexpr bool kAvailable = false;
#endif

}  // namespace sandlock::raw
