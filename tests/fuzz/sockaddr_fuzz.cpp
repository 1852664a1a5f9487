// Sockaddr classification of the host allowlist on the caller's raw bytes, for every socket
// family and use: never reads past the copy, and a refusal always carries an errno.
#include "net/net_address.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>

namespace {

const sandlock::notif::AllowedAddresses& allowed() {
    static const sandlock::notif::AllowedAddresses set = [] {
        sandlock::notif::AllowedAddresses a;
        a.add(sandlock::notif::IpAddress::v4(0xC0000201));  // 192.0.2.1
        std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
        v6[15] = 1;
        a.add(sandlock::notif::IpAddress::v6(v6));  // 2001:db8::1
        return a;
    }();
    return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    constexpr int kDomains[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET, AF_UNSPEC, 0x7fff, -1};
    const int domain = kDomains[data[0] & 7];
    const auto use = (data[0] & 8) != 0 ? sandlock::notif::AddressUse::Send : sandlock::notif::AddressUse::Connect;
    // A copy of exactly the given length, so ASan sees any read past it.
    std::vector<std::uint8_t> bytes(data + 1, data + size);
    const auto d = sandlock::notif::classify_destination(domain, use, bytes, allowed());
    if (d.kind == sandlock::notif::DestinationKind::Invalid && d.error == 0) std::abort();
    if (d.kind == sandlock::notif::DestinationKind::Allowed && !allowed().contains(d.address)) std::abort();
    return 0;
}
