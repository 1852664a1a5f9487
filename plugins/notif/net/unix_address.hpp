// A caller's AF_UNIX sockaddr made usable by the supervisor, which connects or sends on the
// caller's behalf (see net_allow.hpp): a pathname means the file the caller would reach, from
// its own root and working directory, so the supervisor opens that file (O_PATH, resolved
// inside the caller's root) and names it through /proc/self/fd. Abstract and unnamed addresses
// need no translation. The supervisor's connect is not scoped by Landlock: with isolate_ipc an
// abstract address is refused (EPERM, Landlock's answer) rather than reached from outside.
#pragma once

#include <sandlock/sdk/owned_fd.hpp>

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <vector>

namespace sandlock::notif {

struct SupervisorAddress {
    std::vector<std::uint8_t> sockaddr;  // what the supervisor passes to connect/sendmsg
    sdk::OwnedFd file;                   // a pathname's socket file, named by `sockaddr`
};

// 0, or -errno for the caller (the kernel's: EINVAL for a short sockaddr, ENOENT, ...).
int unix_address_for_caller(pid_t tid, std::span<const std::uint8_t> caller_sockaddr, bool abstract_allowed,
                            SupervisorAddress& out);

}  // namespace sandlock::notif
