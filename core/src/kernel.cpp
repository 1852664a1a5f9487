#include "fd.hpp"
#include "kernel.hpp"

#include <sandlock/errors.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <string>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

namespace sandlock {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_getfd(int pidfd, int target_fd) { return static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, target_fd, 0)); }

int landlock_abi() {
    constexpr unsigned kCreateRulesetVersion = 1u << 0;
    long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
    return abi < 0 ? 0 : static_cast<int>(abi);
}

std::pair<Fd, Fd> pipe_pair() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw ConfinementError(std::string("pipe2 failed: ") + std::strerror(errno));
    return {Fd(fds[0]), Fd(fds[1])};
}

std::pair<Fd, Fd> socket_pair(int type) {
    int fds[2];
    if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0)
        throw ConfinementError(std::string("socketpair failed: ") + std::strerror(errno));
    return {Fd(fds[0]), Fd(fds[1])};
}

Fd open_fd(const char* path, int flags) {
    int fd = ::open(path, flags | O_CLOEXEC);
    if (fd < 0) throw ConfinementError(std::string("cannot open ") + path + ": " + std::strerror(errno));
    return Fd(fd);
}

}  // namespace sandlock
