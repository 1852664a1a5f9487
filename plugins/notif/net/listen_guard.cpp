#include "net/listen_guard.hpp"

#include "net/socket_proxy.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>

namespace sandlock::notif {
namespace {

// The local port of an IP socket (0: not bound yet), or -errno.
int local_port(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -errno;
    if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
    if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
    return -EAFNOSUPPORT;
}

}  // namespace

void ListenGuardModule::configure(const ModuleSetup& setup) {
    if (setup.policy.net_bind.empty()) return;
    setup.table.add(SYS_listen, sdk::handler_fn<&ListenGuardModule::on_listen>(), this);
    setup.host.request_notify(SYS_listen);
}

sdk::NotifVerdict ListenGuardModule::on_listen(sdk::NotifContext& call) {
    sdk::OwnedFd socket = call.get_fd(static_cast<int>(call.arg(0)));
    SocketKind kind;
    if (int rc = socket_kind(socket.get(), kind); rc < 0) return sdk::Verdict::error(-rc);
    if (kind.is_ip()) {
        const int port = local_port(socket.get());
        if (port < 0) return sdk::Verdict::error(-port);
        if (port == 0) return sdk::Verdict::error(EACCES);
    }
    // The kernel reads the backlog as an int and clamps it to somaxconn.
    if (::listen(socket.get(), static_cast<int>(call.arg(1))) != 0) return sdk::Verdict::error(errno);
    return sdk::Verdict::value(0);
}

}  // namespace sandlock::notif
