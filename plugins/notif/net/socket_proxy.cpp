#include "net/socket_proxy.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>

namespace sandlock::notif {
namespace {

using Clock = std::chrono::steady_clock;

// How long the supervisor waits before checking again whether the caller still waits.
constexpr std::chrono::milliseconds kSlice{50};

// SO_SNDTIMEO (the kernel's timeout for a blocking connect and send); zero means none.
std::chrono::milliseconds send_timeout(int fd) {
    timeval tv{};
    socklen_t length = sizeof tv;
    if (::getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &length) != 0) return std::chrono::milliseconds::zero();
    return std::chrono::seconds(tv.tv_sec) + std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::microseconds(tv.tv_usec));
}

enum class Wait { Ready, TimedOut, CallerGone, Failed };

// Waits until `fd` is writable (or failed), the timeout passes or the caller stops waiting.
Wait wait_writable(int fd, std::chrono::milliseconds timeout, const sdk::NotifContext& call) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        auto slice = kSlice;
        if (timeout.count() > 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return Wait::TimedOut;
            slice = std::min(slice, left);
        }
        pollfd watch{fd, POLLOUT, 0};
        const int ready = ::poll(&watch, 1, static_cast<int>(slice.count()));
        if (ready > 0) return Wait::Ready;  // POLLOUT, or POLLERR/POLLHUP: the error is in SO_ERROR
        if (ready < 0 && errno != EINTR) return Wait::Failed;
        if (!call.still_valid()) return Wait::CallerGone;
    }
}

bool is_blocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK) == 0;
}

}  // namespace

bool SocketKind::is_ip() const { return domain == AF_INET || domain == AF_INET6; }
bool SocketKind::is_tcp() const { return is_ip() && type == SOCK_STREAM && protocol == IPPROTO_TCP; }

int socket_kind(int fd, SocketKind& kind) {
    socklen_t length = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &kind.domain, &length) != 0) return -errno;
    length = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &kind.type, &length) != 0) return -errno;
    length = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &kind.protocol, &length) != 0) return -errno;
    return 0;
}

int connect_for_caller(int fd, const sockaddr* address, socklen_t length, const sdk::NotifContext& call) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return -errno;
    if ((flags & O_NONBLOCK) != 0) return ::connect(fd, address, length) == 0 ? 0 : -errno;

    // Blocking: start it non-blocking (the flag is on the shared open file description, so it
    // is put back at once), then wait in slices.
    if (::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return -errno;
    const int rc = ::connect(fd, address, length);
    const int error = errno;
    ::fcntl(fd, F_SETFL, flags);
    if (rc == 0) return 0;
    if (error != EINPROGRESS) return -error;

    switch (wait_writable(fd, send_timeout(fd), call)) {
        case Wait::Ready: break;
        case Wait::TimedOut: return -EINPROGRESS;  // the kernel's answer to a connect timeout
        case Wait::CallerGone: return -EINTR;      // nobody reads this answer
        case Wait::Failed: return -errno;
    }
    int result = 0;
    socklen_t size = sizeof result;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &size) != 0) return -errno;
    return -result;
}

std::int64_t send_for_caller(int fd, const msghdr& message, int flags, const sdk::NotifContext& call) {
    const bool blocking = (flags & MSG_DONTWAIT) == 0 && is_blocking(fd);
    const int send_flags = flags | MSG_NOSIGNAL | (blocking ? MSG_DONTWAIT : 0);
    const auto timeout = blocking ? send_timeout(fd) : std::chrono::milliseconds::zero();
    for (;;) {
        const ssize_t sent = ::sendmsg(fd, &message, send_flags);
        if (sent >= 0) return sent;
        if (errno == EINTR) continue;
        if (!blocking || (errno != EAGAIN && errno != EWOULDBLOCK)) return -errno;
        switch (wait_writable(fd, timeout, call)) {
            case Wait::Ready: continue;
            case Wait::TimedOut: return -EAGAIN;  // the kernel's answer when SO_SNDTIMEO passes
            case Wait::CallerGone: return -EINTR;
            case Wait::Failed: return -errno;
        }
    }
}

}  // namespace sandlock::notif
