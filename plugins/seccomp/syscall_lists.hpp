// The built-in syscall lists that "@default" stands for. Names, not numbers: they are resolved
// for the architecture sandlock runs on, and names that do not exist there are skipped.
#pragma once

#include <span>
#include <string_view>

namespace sandlock::seccomp {

// Inside deny_syscalls or allow_syscalls, this name stands for the built-in list.
inline constexpr std::string_view kDefaultGroup = "@default";

// Denied (EPERM) when deny_syscalls is unset: calls that reach kernel attack surface or
// host-wide state a sandboxed program has no business touching.
std::span<const std::string_view> default_deny_list();

// Allowed by "@default" in allow_syscalls: enough for sh, coreutils and python3 (threads,
// subprocesses, sockets), nothing that administers the machine.
std::span<const std::string_view> default_allow_list();

}  // namespace sandlock::seccomp
