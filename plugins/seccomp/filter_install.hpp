// seccomp(2) itself: probing what the kernel supports (parent) and installing a finished
// program (child, async-signal-safe: no allocation, no locks, no exceptions).
#pragma once

#include <linux/filter.h>

namespace sandlock::seccomp {

// 0 when the kernel runs seccomp filters with the actions sandlock uses, else an errno.
int probe_filter_support() noexcept;
// 0 when the kernel supports SECCOMP_RET_USER_NOTIF, else an errno.
int probe_user_notification() noexcept;

// Installs `program` on the calling thread (no_new_privs must be set). Returns 0 or -errno.
int install_filter(const sock_fprog& program) noexcept;
// Same, creating a user-notification listener; returns its fd or -errno. A killable wait
// (5.19+) is asked for first, so a supervised child can still be killed while the
// supervisor handles its call; older kernels refuse that flag with EINVAL.
int install_filter_with_listener(const sock_fprog& program) noexcept;

}  // namespace sandlock::seccomp
