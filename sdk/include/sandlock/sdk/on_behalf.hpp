// Acting on the caller's behalf: the safe way for a handler to allow a call it decided on
// something the caller can still change (the bytes behind a pointer, what an fd number refers
// to). Copy what you check once, then let the supervisor perform the call with that copy and
// answer with its result — never answer allow()/next() after such a decision (see README).
//
//   sdk::NotifVerdict on_connect(sdk::NotifContext& call) {
//       auto address = copy_sockaddr(call);            // your copy of the caller's bytes
//       if (!allowed(address)) return sdk::Verdict::error(ECONNREFUSED);
//       return sdk::connect_for_caller(call, static_cast<int>(call.arg(0)), address.data(), address.size());
//   }
//
// These run on a supervisor thread: the caller's uid but no capabilities, and outside the
// caller's Landlock domain — use them only for what the caller may do itself. open_for_caller
// resolves the path in the caller's own view (its root, chroot and mount namespace, so the
// sandbox's masks and read-only mounts apply); connect_for_caller does not apply Landlock's
// port rules or scoping, which is yours to check. They wait as the call would (a blocking
// connect waits for the handshake), holding every other supervised call of the sandbox
// meanwhile: prefer them for calls that answer at once.
#pragma once

#include <sandlock/sdk/notif.hpp>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <string>

namespace sandlock::sdk {

// Opens `path` — absolute, as the caller sees it (NotifContext::resolve_path gives that) —
// inside the caller's root with the caller's `flags` and `mode`, and answers with the fd
// installed in the caller (keeping its O_CLOEXEC), or with the open's errno. Symlinks cannot
// lead out of the caller's root, and magic links (/proc/<pid>/fd/N) are refused (ELOOP).
inline NotifVerdict open_for_caller(const NotifContext& call, const std::string& path, int flags, mode_t mode = 0) {
    const std::string root_path = "/proc/" + std::to_string(call.pid()) + "/root";
    OwnedFd root(::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    // Checked after the open: the pid was the caller's, not a recycled one.
    if (root.get() < 0 || !call.still_valid()) return Verdict::error(root.get() < 0 ? errno : ESRCH);
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);  // ours is close-on-exec
    how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;  // openat2 insists
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const int fd = static_cast<int>(::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how));
    if (fd < 0) return Verdict::error(errno);
    return Verdict::inject(fd, static_cast<std::uint32_t>(flags & O_CLOEXEC));
}

// connect(2) of the caller's socket `caller_fd` to `address` (your checked copy), performed on
// the socket the supervisor takes (pidfd_getfd): swapping the fd number or rewriting the
// caller's sockaddr afterwards changes nothing. Answers 0 or connect's errno.
inline NotifVerdict connect_for_caller(const NotifContext& call, int caller_fd, const void* address,
                                       socklen_t length) {
    OwnedFd socket = call.get_fd(caller_fd);
    if (::connect(socket.get(), static_cast<const sockaddr*>(address), length) == 0) return Verdict::value(0);
    return Verdict::error(errno);
}

// sendto(2) of `data` (your copy) on the caller's socket `caller_fd`, to `address` (your
// checked copy, or nullptr for the connected peer), performed like connect_for_caller. Never
// raises SIGPIPE in the supervisor (the caller gets EPIPE). Answers the bytes sent or errno.
inline NotifVerdict send_for_caller(const NotifContext& call, int caller_fd, const void* data, std::size_t size,
                                    int flags, const void* address, socklen_t length) {
    OwnedFd socket = call.get_fd(caller_fd);
    const ssize_t sent = ::sendto(socket.get(), data, size, flags | MSG_NOSIGNAL,
                                  static_cast<const sockaddr*>(address), address == nullptr ? 0 : length);
    return sent >= 0 ? Verdict::value(sent) : Verdict::error(errno);
}

}  // namespace sandlock::sdk
