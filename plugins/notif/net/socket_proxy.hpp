// Acting on the caller's socket: the supervisor holds a copy of its fd (pidfd_getfd, the same
// open file description) and runs connect/sendmsg itself with the address and data it copied
// out of the caller, so what the kernel uses is exactly what was checked — a second thread
// rewriting the sockaddr after the check changes nothing.
//
// A blocking socket is served without letting the supervisor block past the caller's life:
// the operation is started non-blocking and the supervisor waits for it in short slices, up to
// the socket's SO_SNDTIMEO, giving up as soon as the caller no longer waits (killed or
// interrupted). Other notifications of the sandbox wait meanwhile: a connect to a slow allowed
// host holds the supervisor for its handshake.
#pragma once

#include <sandlock/sdk/notif.hpp>

#include <sys/socket.h>

#include <cstdint>

namespace sandlock::notif {

struct SocketKind {
    int domain = 0;    // SO_DOMAIN
    int type = 0;      // SO_TYPE
    int protocol = 0;  // SO_PROTOCOL

    bool is_ip() const;   // AF_INET or AF_INET6
    bool is_tcp() const;  // a TCP stream (what Landlock's port rules and MSG_FASTOPEN concern)
};

// The kind of the socket behind `fd`; 0 or -errno (ENOTSOCK).
int socket_kind(int fd, SocketKind& kind);

// connect(2) on the caller's behalf; 0 or -errno. A blocking socket that does not connect at
// once is waited for as described above (EINPROGRESS after SO_SNDTIMEO, as the kernel says).
int connect_for_caller(int fd, const sockaddr* address, socklen_t length, const sdk::NotifContext& call);

// sendmsg(2) on the caller's behalf (no ancillary data); the bytes sent or -errno. Never raises
// SIGPIPE in the supervisor: the caller gets -EPIPE and raises it itself (see net_allow.cpp).
std::int64_t send_for_caller(int fd, const msghdr& message, int flags, const sdk::NotifContext& call);

}  // namespace sandlock::notif
