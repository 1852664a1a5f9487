// net_allow_hosts: the sandbox reaches only the addresses the named hosts resolve to.
//
// - The names are resolved once, in the parent, before anything runs (getaddrinfo). A name
//   that does not resolve refuses the policy (strict) or is warned about and stays blocked
//   (strict = false). The allowed addresses are the union of every address the names gave.
//   Loopback is not a wildcard: 127.0.0.0/8, ::1, 0.0.0.0 and :: are refused like any other
//   address unless a listed name resolves to them (`localhost`: exactly 127.0.0.1 and ::1).
// - /etc/hosts reads as localhost plus each allowed name with its addresses, and
//   /etc/nsswitch.conf with "hosts: files", so programs resolve the allowed names (and nothing
//   else) without DNS. Both are sealed memfds; opening them for writing is EACCES.
// - Every connect, every sendto with an address, and every sendmsg/sendmmsg is performed by
//   the supervisor, whatever the socket's family or type, on the socket it took (pidfd_getfd)
//   with the sockaddr copy it checked (see socket_proxy.hpp): neither rewriting the sockaddr
//   nor dup2'ing another socket onto the fd number after the check changes what is done. A
//   foreign IP address is ECONNREFUSED (nothing leaves the machine). For a TCP socket the
//   on-behalf connect also applies Landlock's net_connect port list, which the supervisor's own
//   connect would otherwise bypass (EACCES, like Landlock). AF_UNIX pathnames are resolved in
//   the caller's root and cwd (unix_address.hpp); ancillary data is rebuilt for the supervisor
//   (control_messages.hpp). Only sendto without an address is let through: the address is a
//   register, so the kernel sends to the peer checked at connect, or fails (EDESTADDRREQ).
// - socket(): raw IPv4/IPv6 sockets are EACCES (with IP_HDRINCL their header names any
//   destination) and families other than AF_UNIX, AF_NETLINK, AF_INET, AF_INET6 and AF_ALG
//   (packet, CAN, Bluetooth, VSOCK, ... which can carry traffic off the machine) EAFNOSUPPORT.
#pragma once

#include "supervisor/builtin_module.hpp"
#include "net/net_address.hpp"
#include "net/socket_proxy.hpp"
#include "net/unix_address.hpp"

#include <sandlock/sdk/notif.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sandlock::notif {

class NetAllowModule final : public BuiltinModule {
public:
    std::string_view rule() const override { return "net_allow_hosts"; }
    void configure(const ModuleSetup& setup) override;
    // The list is fixed for the sandbox's life: a changed one is refused.
    void check_update(const Policy& policy) const override;
    // A nested sandbox's own list is refused: the parent's applies to it (and its /etc/hosts).
    void check_nest(const Policy& policy) const override;

    const AllowedAddresses& allowed() const { return allowed_; }
    const std::string& hosts_file() const { return hosts_file_; }

private:
    sdk::NotifVerdict on_open(sdk::NotifContext& call);
    sdk::NotifVerdict on_socket(sdk::NotifContext& call);
    sdk::NotifVerdict on_connect(sdk::NotifContext& call);
    sdk::NotifVerdict on_sendto(sdk::NotifContext& call);
    sdk::NotifVerdict on_sendmsg(sdk::NotifContext& call);
    sdk::NotifVerdict on_sendmmsg(sdk::NotifContext& call);

    // Whether Landlock's net_connect list (when set) lets a TCP socket reach this destination.
    bool landlock_allows(const SocketKind& kind, const Destination& destination) const;
    // 0 when a message or connection toward `name` may go, else the errno to answer.
    int judge(const SocketKind& kind, AddressUse use, std::span<const std::uint8_t> name, bool fast_open) const;
    // The sockaddr the supervisor uses for the caller's `name` on a socket of `kind` (empty when
    // the kernel would ignore it): the checked copy for IP, the caller's file for AF_UNIX. 0 or -errno.
    int address_for_caller(const sdk::NotifContext& call, const SocketKind& kind, AddressUse use,
                           std::vector<std::uint8_t> name, bool fast_open, SupervisorAddress& out) const;
    // Sends one message of the caller (sendmsg/sendmmsg) on its behalf: bytes sent or -errno.
    std::int64_t send_message(const sdk::NotifContext& call, int fd, const SocketKind& kind, const msghdr& message,
                              int flags) const;

    AllowedAddresses allowed_;
    std::string hosts_file_;
    std::vector<std::string> hosts_;  // net_allow_hosts as the sandbox started
    std::string nsswitch_;
    std::vector<PortRange> tcp_connect_ports_;
    bool isolate_ipc_ = false;
};

// Resolves the allowed names (getaddrinfo). A name that does not resolve throws sdk::Error
// naming it when `strict`, else it is logged as a warning and left out.
std::vector<ResolvedHost> resolve_hosts(const std::vector<std::string>& names, bool strict,
                                        const sdk::Host& host);

}  // namespace sandlock::notif
