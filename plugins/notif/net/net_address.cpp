#include "net/net_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sandlock::notif {
namespace {

// Sizes the kernel insists on (include/linux/in6.h: SIN6_LEN_RFC2133).
constexpr std::size_t kSockaddrInSize = sizeof(sockaddr_in);  // 16
constexpr std::size_t kSockaddrIn6MinSize = 24;

std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
    std::uint16_t value;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    return value;
}

IpAddress v4_at(std::span<const std::uint8_t> bytes, std::size_t at) {
    IpAddress address;
    address.family = AF_INET;
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), 4, address.bytes.begin());
    return address;
}

IpAddress v6_at(std::span<const std::uint8_t> bytes, std::size_t at) {
    IpAddress address;
    address.family = AF_INET6;
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), 16, address.bytes.begin());
    return address;
}

Destination invalid(int error) { return {DestinationKind::Invalid, error, {}, 0}; }

Destination judge(const IpAddress& address, std::uint16_t port_network_order, const AllowedAddresses& allowed) {
    Destination out;
    out.address = address;
    out.port = ntohs(port_network_order);
    out.kind = allowed.contains(address) ? DestinationKind::Allowed : DestinationKind::Foreign;
    return out;
}

}  // namespace

IpAddress IpAddress::v4(std::uint32_t host_order) {
    IpAddress address;
    address.family = AF_INET;
    const std::uint32_t network = htonl(host_order);
    std::memcpy(address.bytes.data(), &network, 4);
    return address;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& bytes) {
    IpAddress address;
    address.family = AF_INET6;
    address.bytes = bytes;
    return address;
}

IpAddress IpAddress::unmapped() const {
    static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family != AF_INET6 || !std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), bytes.begin()))
        return *this;
    IpAddress v4;
    v4.family = AF_INET;
    std::copy_n(bytes.begin() + 12, 4, v4.bytes.begin());
    return v4;
}

std::string IpAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(family, bytes.data(), text, sizeof text) == nullptr) return "?";
    return text;
}

std::optional<IpAddress> ip_of(const sockaddr* address, socklen_t length) {
    if (address == nullptr) return std::nullopt;
    if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        return IpAddress::v4(ntohl(in->sin_addr.s_addr));
    }
    if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        std::array<std::uint8_t, 16> bytes;
        std::memcpy(bytes.data(), &in6->sin6_addr, 16);
        return IpAddress::v6(bytes);
    }
    return std::nullopt;
}

bool is_local(const IpAddress& address) {
    const IpAddress plain = address.unmapped();
    if (plain.family == AF_INET)
        return plain.bytes[0] == 127 || std::all_of(plain.bytes.begin(), plain.bytes.begin() + 4,
                                                    [](std::uint8_t b) { return b == 0; });
    if (plain.family == AF_INET6) {
        const bool zero_prefix =
            std::all_of(plain.bytes.begin(), plain.bytes.begin() + 15, [](std::uint8_t b) { return b == 0; });
        return zero_prefix && (plain.bytes[15] == 1 || plain.bytes[15] == 0);  // ::1 or ::
    }
    return false;
}

void AllowedAddresses::add(const IpAddress& address) {
    const IpAddress plain = address.unmapped();
    if (!contains(plain)) addresses_.push_back(plain);
}

bool AllowedAddresses::contains(const IpAddress& address) const {
    return std::find(addresses_.begin(), addresses_.end(), address.unmapped()) != addresses_.end();
}

Destination classify_destination(int socket_domain, AddressUse use, std::span<const std::uint8_t> sockaddr,
                                 const AllowedAddresses& allowed) {
    if (sockaddr.size() < sizeof(sa_family_t)) return invalid(EINVAL);
    const sa_family_t family = read_u16(sockaddr, 0);
    switch (family) {
    case AF_INET:
        if (sockaddr.size() < kSockaddrInSize) return invalid(EINVAL);
        return judge(v4_at(sockaddr, 4), read_u16(sockaddr, 2), allowed);
    case AF_INET6:
        if (socket_domain == AF_INET) return invalid(EAFNOSUPPORT);
        if (sockaddr.size() < kSockaddrIn6MinSize) return invalid(EINVAL);
        return judge(v6_at(sockaddr, 8), read_u16(sockaddr, 2), allowed);
    case AF_UNSPEC:
        if (use == AddressUse::Connect) return {DestinationKind::None, 0, {}, 0};  // disconnect
        // IPv4 sends (UDP, raw, ping) read an AF_UNSPEC sockaddr as sockaddr_in; raw IPv6 as
        // sockaddr_in6 while UDPv6 ignores it. Judge the bytes whenever some protocol uses them.
        if (socket_domain == AF_INET) {
            if (sockaddr.size() < kSockaddrInSize) return invalid(EINVAL);
            return judge(v4_at(sockaddr, 4), read_u16(sockaddr, 2), allowed);
        }
        if (sockaddr.size() >= kSockaddrIn6MinSize) return judge(v6_at(sockaddr, 8), read_u16(sockaddr, 2), allowed);
        return {DestinationKind::None, 0, {}, 0};
    default:
        return invalid(EAFNOSUPPORT);
    }
}

bool port_in_ranges(std::uint16_t port, const std::vector<PortRange>& ranges) {
    return std::any_of(ranges.begin(), ranges.end(),
                       [port](const PortRange& range) { return port >= range.first && port <= range.last; });
}

std::string render_hosts_file(const std::vector<ResolvedHost>& hosts) {
    std::string text =
        "# /etc/hosts as sandlock shows it: localhost and the hosts of net_allow_hosts\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n";
    for (const ResolvedHost& host : hosts)
        for (const IpAddress& address : host.addresses) {
            if (host.name == "localhost" && is_local(address)) continue;  // already above
            text += address.to_string() + "\t" + host.name + "\n";
        }
    return text;
}

std::string rewrite_nsswitch(std::string_view original) {
    std::string text;
    bool replaced = false;
    while (!original.empty()) {
        std::size_t end = original.find('\n');
        std::string_view line = original.substr(0, end);
        original.remove_prefix(end == std::string_view::npos ? original.size() : end + 1);
        std::string_view key = line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
        if (key.starts_with("hosts:")) {
            if (!replaced) text += "hosts: files\n";
            replaced = true;
            continue;
        }
        text += std::string(line) + "\n";
    }
    if (!replaced) text += "hosts: files\n";
    return text;
}

}  // namespace sandlock::notif
