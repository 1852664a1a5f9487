// net_allow_hosts: the sandbox reaches only the named hosts (and this machine).
//
// - The names are resolved once, in the parent, before anything runs (getaddrinfo). A name
//   that does not resolve refuses the policy (strict) or is warned about and stays blocked
//   (strict = false). The allowed addresses are the union of every address the names gave.
// - /etc/hosts reads as localhost plus each allowed name with its addresses, and
//   /etc/nsswitch.conf with "hosts: files", so programs resolve the allowed names (and nothing
//   else) without DNS. Both are sealed memfds; opening them for writing is EACCES.
// - connect, sendto, sendmsg and sendmmsg on an IPv4/IPv6 socket toward any other address fail
//   with ECONNREFUSED (nothing ever leaves the machine for a refused address). Loopback and the
//   unspecified address stay allowed. The decision is made on a copy of the sockaddr and the
//   call is then performed by the supervisor on the caller's socket with that copy (see
//   socket_proxy.hpp), so rewriting the sockaddr from another thread cannot redirect it. For a
//   TCP socket, the on-behalf connect also applies Landlock's net_connect port list, which the
//   supervisor's own connect would otherwise bypass (EACCES, like Landlock).
// - Calls that need no check are let through untouched: sockets of other families (the family
//   of a socket is fixed, no sockaddr can make an AF_UNIX socket reach IP), sendto without an
//   address (the connected peer was checked at connect), and sendmsg/sendmmsg/sendto on a TCP
//   socket without MSG_FASTOPEN (TCP ignores the address then).
// - sendmsg/sendmmsg carrying ancillary data (msg_control) on an IP socket are refused with
//   EACCES: the supervisor would have to forward control messages it cannot vet with the
//   caller's privileges.
// - socket(): raw IPv4/IPv6 sockets are EACCES (with IP_HDRINCL their header names any
//   destination) and families other than AF_UNIX, AF_NETLINK, AF_INET, AF_INET6 and AF_ALG
//   (packet, CAN, Bluetooth, VSOCK, ... which can carry traffic off the machine) EAFNOSUPPORT.
#pragma once

#include "supervisor/builtin_module.hpp"
#include "net/net_address.hpp"
#include "net/socket_proxy.hpp"

#include <sandlock/sdk/notif.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sandlock::notif {

class NetAllowModule final : public BuiltinModule {
public:
    void configure(const ModuleSetup& setup) override;

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
    // Sends one message of the caller (sendmsg/sendmmsg) on its behalf: bytes sent or -errno.
    std::int64_t send_message(const sdk::NotifContext& call, int fd, const SocketKind& kind, const msghdr& message,
                              int flags) const;

    AllowedAddresses allowed_;
    std::string hosts_file_;
    std::string nsswitch_;
    std::vector<PortRange> tcp_connect_ports_;
};

// Resolves the allowed names (getaddrinfo). A name that does not resolve throws sdk::Error
// naming it when `strict`, else it is logged as a warning and left out.
std::vector<ResolvedHost> resolve_hosts(const std::vector<std::string>& names, bool strict,
                                        const sdk::Host& host);

}  // namespace sandlock::notif
