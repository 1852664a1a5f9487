// The raw Landlock kernel interface: syscalls, the constants the 6.1 uapi headers lack
// (ABI 3-7), and the struct layouts of the newer ABIs.
#pragma once

#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)  // ABI 2
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)  // ABI 4
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)  // ABI 4
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // ABI 6
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)  // ABI 6
#endif

namespace sandlock::landlock {

// landlock_ruleset_attr as of ABI 6 (the installed header stops at handled_access_fs). The
// kernel accepts a larger struct than it knows as long as the unknown tail is zero.
struct RulesetAttr {
    std::uint64_t handled_access_fs = 0;
    std::uint64_t handled_access_net = 0;  // ABI 4
    std::uint64_t scoped = 0;              // ABI 6
};

// landlock_path_beneath_attr: packed in the uapi, 12 bytes.
struct [[gnu::packed]] PathBeneathAttr {
    std::uint64_t allowed_access;
    std::int32_t parent_fd;
};

// landlock_net_port_attr (ABI 4).
struct NetPortAttr {
    std::uint64_t allowed_access;
    std::uint64_t port;
};

static_assert(sizeof(PathBeneathAttr) == 12 && sizeof(NetPortAttr) == 16 && sizeof(RulesetAttr) == 24,
              "Landlock uapi layouts");

inline constexpr int kRulePathBeneath = 1;  // LANDLOCK_RULE_PATH_BENEATH
inline constexpr int kRuleNetPort = 2;      // LANDLOCK_RULE_NET_PORT (ABI 4)

inline int create_ruleset(const RulesetAttr* attr, std::size_t size, std::uint32_t flags) {
    return static_cast<int>(::syscall(SYS_landlock_create_ruleset, attr, size, flags));
}
inline int add_rule(int ruleset_fd, int rule_type, const void* rule_attr) {
    return static_cast<int>(::syscall(SYS_landlock_add_rule, ruleset_fd, rule_type, rule_attr, 0U));
}
// Async-signal-safe: used in the child between fork and exec.
inline int restrict_self(int ruleset_fd) {
    return static_cast<int>(::syscall(SYS_landlock_restrict_self, ruleset_fd, 0U));
}

// The Landlock ABI version of the running kernel, 0 when Landlock is missing or disabled.
inline int kernel_abi() {
    int abi = create_ruleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : abi;
}

}  // namespace sandlock::landlock
