// The mount namespace of a sandbox, set up by its init (pid 1, in the new user + PID + mount
// namespaces) before the main process starts. Every step is a raw system call on strings
// prepared before fork (child stages allocate nothing).
//
//  1. Every mount becomes private, so nothing done here propagates to the host.
//  2. A new proc is mounted on /proc: it shows the sandbox's PID namespace only, so foreign
//     pids are absent for stat, access and open alike.
//  3. Kernel secrets are masked, as container runtimes do: /dev/null is bound over files
//     (/proc/kallsyms, kcore, kmsg, ...) on a nodev mount, and an empty read-only tmpfs of
//     mode 000 over directories (/sys/kernel, /sys/firmware, /sys/fs/cgroup, ...): opening
//     either is EACCES. The kernel resolves every path to the mask, however the path is
//     spelled or swapped.
//  4. With a restricted filesystem, every mount is made read-only (recursively) and each
//     fs_writable tree is bound onto itself read-write: chmod, chown, utimes, xattrs and
//     writes outside the writable trees fail with EROFS, fd-based calls included.
//  5. Always, last: the kernel's settings (/proc/sys, /sys) are read-only, fs_writable or not.
// Steps 2, 3 and 5 happen only for /proc and /sys as far as the sandbox can reach them
// (policy_reach.hpp): what Landlock refuses as a whole needs no mount, and mounts cost start-up.
// The sandbox cannot undo any of this: seccomp refuses mount, umount2 and the new mount API,
// Landlock refuses topology changes, and the main process has no capabilities.
#pragma once

#include "child_plan.hpp"

namespace sandlock {

// Returns 0 or an errno.
int set_up_mounts(const ChildPlan& plan) noexcept;

// The masked paths (kept here so README, tests and code agree).
extern const char* const kMaskedFiles[];
extern const char* const kMaskedDirectories[];
extern const char* const kReadOnlyKernelSettings[];

}  // namespace sandlock
