// The destination of a connect/sendto/sendmsg, read from the caller's sockaddr the way the
// kernel will read it, and whether net_allow_hosts lets it through. Pure logic: the module
// (net_allow.cpp) copies the sockaddr once and decides on that copy.
#pragma once

#include <sandlock/sdk/policy.hpp>

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock::notif {

struct IpAddress {
    int family = AF_UNSPEC;                // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{};  // AF_INET: the first 4, network order

    static IpAddress v4(std::uint32_t host_order);
    static IpAddress v6(const std::array<std::uint8_t, 16>& bytes);
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address; others unchanged.
    IpAddress unmapped() const;
    std::string to_string() const;
    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

// The address of an AF_INET/AF_INET6 sockaddr (e.g. from getaddrinfo), or nullopt.
std::optional<IpAddress> ip_of(const sockaddr* address, socklen_t length);

// Loopback (127.0.0.0/8, ::1), the unspecified address (0.0.0.0, ::, which Linux connects to
// the local host) and their IPv4-mapped forms: traffic that reaches this machine's services.
// Not a wildcard of the allowlist: only what an allowed name resolves to is allowed.
bool is_local(const IpAddress& address);

// The union of the addresses the allowed names resolved to.
class AllowedAddresses {
public:
    void add(const IpAddress& address);
    bool contains(const IpAddress& address) const;  // IPv4-mapped compares as IPv4
    bool empty() const { return addresses_.empty(); }

private:
    std::vector<IpAddress> addresses_;
};

enum class DestinationKind {
    None,     // no destination in the call (AF_UNSPEC: disconnect, or "the connected peer")
    Allowed,  // an address of an allowed host
    Foreign,  // any other address, loopback and 0.0.0.0/:: included: refused
    Invalid,  // the kernel itself refuses the sockaddr: answer `error`
};

struct Destination {
    DestinationKind kind = DestinationKind::Invalid;
    int error = 0;          // Invalid: the errno
    IpAddress address;      // Allowed/Foreign
    std::uint16_t port = 0; // host order
};

enum class AddressUse { Connect, Send };

// What the kernel will do with `sockaddr` (the caller's bytes, copied) on an AF_INET or
// AF_INET6 socket. It follows the kernel's reading: an AF_INET address on an AF_INET6 socket is
// IPv4 (dual stack), AF_UNSPEC disconnects on connect but is read as an address by IPv4 and
// raw IPv6 sends; a short sockaddr is EINVAL, a foreign family EAFNOSUPPORT.
Destination classify_destination(int socket_domain, AddressUse use, std::span<const std::uint8_t> sockaddr,
                                 const AllowedAddresses& allowed);

// Whether `port` is in one of `ranges` (the Landlock net_connect list, mirrored by the
// on-behalf connect so acting for the caller never widens what Landlock allows it).
bool port_in_ranges(std::uint16_t port, const std::vector<PortRange>& ranges);

struct ResolvedHost {
    std::string name;
    std::vector<IpAddress> addresses;
};

// /etc/hosts as the sandbox sees it: localhost, then each allowed name with its addresses.
std::string render_hosts_file(const std::vector<ResolvedHost>& hosts);

// /etc/nsswitch.conf as the sandbox sees it: the original with its hosts line replaced by
// "hosts: files" (added when missing), so names resolve from the virtual /etc/hosts only.
std::string rewrite_nsswitch(std::string_view original);

}  // namespace sandlock::notif
