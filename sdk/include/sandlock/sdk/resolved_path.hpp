// Opening a path that was resolved earlier (every component a real directory, none a symlink)
// for a rule on its inode: a symlink found on the way now was swapped in since, and following it
// would put the rule on whatever the link points to. Header-only, async-signal-safe (no
// allocation): usable between fork and exec.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

namespace sandlock::sdk {

// An O_PATH fd of `path`, or -1 with errno (ELOOP: a symlink on the way; ENOENT: gone).
inline int open_resolved_path(const char* path) noexcept {
    open_how how{};
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS;
    const int fd = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
    if (fd >= 0 || errno != ENOSYS) return fd;
    return ::open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);  // before Linux 5.6: the last component only
}

}  // namespace sandlock::sdk
