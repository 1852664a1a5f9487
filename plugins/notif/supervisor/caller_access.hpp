// What a handler may do with the process behind a notification: read its memory and strings,
// see a path the way it sees it, and copy one of its fds. These implement NotifContextApi.
// All of them return -errno on failure and never throw.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sandlock::notif::caller {

// Copies up to `size` bytes of the caller's memory (process_vm_readv, else /proc/PID/mem);
// returns the bytes copied, fewer when the range runs into an unmapped page.
std::int64_t read_memory(pid_t tid, std::uint64_t address, void* buffer, std::size_t size);

// Copies a NUL-terminated string, a page at a time so an unmapped page after the string does
// not fail the read. Returns its length, -ENAMETOOLONG when it does not fit in size-1 bytes,
// -EFAULT when it runs into unmapped memory.
std::int64_t read_string(pid_t tid, std::uint64_t address, char* buffer, std::size_t size);

// The absolute path the caller means by (dirfd, path), as the caller sees it: relative paths
// are joined to its cwd (AT_FDCWD) or to the directory behind its fd, and when it lives under
// a chroot the root's prefix is taken off. Returns the length written (NUL-terminated).
std::int64_t resolve_path(pid_t tid, int dirfd, std::uint64_t path_address, char* buffer, std::size_t size);

// A pidfd for a thread: a thread pidfd on Linux 6.9+, else one for its thread group.
int open_pidfd(pid_t tid);

// A copy of the caller's fd `child_fd` (pidfd_getfd), close-on-exec; the caller owns it.
int copy_fd(pid_t tid, int child_fd);

// Pure: joins `path` (as passed by the caller) to `base` (the directory it is relative to,
// as the supervisor sees it) and takes the caller's root off the front. `path` absolute:
// returned as is. Empty `path` (AT_EMPTY_PATH): the base itself.
std::string join_caller_path(std::string_view base, std::string_view path, std::string_view root);

}  // namespace sandlock::notif::caller
