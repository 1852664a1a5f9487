#include "filter_install.hpp"

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace sandlock::seccomp {
namespace {

// glibc has no wrapper for seccomp(2).
long seccomp_call(unsigned operation, unsigned long flags, void* args) noexcept {
    return ::syscall(SYS_seccomp, operation, flags, args);
}

int action_available(std::uint32_t action) noexcept {
    return seccomp_call(SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0 ? 0 : errno;
}

int install(const sock_fprog& program, unsigned long flags) noexcept {
    // The kernel never writes through the pointer; the cast only satisfies the signature.
    long rc = seccomp_call(SECCOMP_SET_MODE_FILTER, flags, const_cast<sock_fprog*>(&program));
    return rc < 0 ? -errno : static_cast<int>(rc);
}

}  // namespace

int probe_filter_support() noexcept {
    if (int err = action_available(SECCOMP_RET_ERRNO)) return err;
    return action_available(SECCOMP_RET_KILL_PROCESS);
}

int probe_user_notification() noexcept { return action_available(SECCOMP_RET_USER_NOTIF); }

int install_filter(const sock_fprog& program) noexcept { return install(program, 0); }

int install_filter_with_listener(const sock_fprog& program) noexcept {
    int fd = install(program, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    if (fd == -EINVAL) fd = install(program, SECCOMP_FILTER_FLAG_NEW_LISTENER);
    return fd;
}

}  // namespace sandlock::seccomp
