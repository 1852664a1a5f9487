// net_allow_hosts, pure parts: how a sockaddr is read, what is local, allowed or foreign, the
// virtual /etc/hosts and nsswitch.conf, name resolution errors and the module's registration.
#include "fake_host.hpp"

#include "net/net_address.hpp"
#include "net/net_allow.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>

namespace sandlock::notif {
namespace {

std::vector<std::uint8_t> bytes_of(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    return {p, p + size};
}

std::vector<std::uint8_t> v4(const char* text, std::uint16_t port = 80, sa_family_t family = AF_INET) {
    sockaddr_in in{};
    in.sin_family = family;
    in.sin_port = htons(port);
    ::inet_pton(AF_INET, text, &in.sin_addr);
    return bytes_of(&in, sizeof in);
}

std::vector<std::uint8_t> v6(const char* text, std::uint16_t port = 80, sa_family_t family = AF_INET6) {
    sockaddr_in6 in6{};
    in6.sin6_family = family;
    in6.sin6_port = htons(port);
    ::inet_pton(AF_INET6, text, &in6.sin6_addr);
    return bytes_of(&in6, sizeof in6);
}

IpAddress ip(const char* text) {
    std::uint8_t buffer[16] = {};
    if (::inet_pton(AF_INET, text, buffer) == 1) {
        IpAddress out;
        out.family = AF_INET;
        std::copy_n(buffer, 4, out.bytes.begin());
        return out;
    }
    EXPECT_EQ(::inet_pton(AF_INET6, text, buffer), 1) << text;
    std::array<std::uint8_t, 16> bytes;
    std::copy_n(buffer, 16, bytes.begin());
    return IpAddress::v6(bytes);
}

AllowedAddresses allowed_set() {
    AllowedAddresses allowed;
    allowed.add(ip("192.0.2.10"));
    allowed.add(ip("2001:db8::10"));
    return allowed;
}

DestinationKind kind_of(int domain, AddressUse use, const std::vector<std::uint8_t>& sockaddr) {
    return classify_destination(domain, use, sockaddr, allowed_set()).kind;
}

TEST(NotifNetAddress, LoopbackAndUnspecifiedAreLocal) {
    for (const char* text : {"127.0.0.1", "127.5.6.7", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1", "::ffff:0.0.0.0"})
        EXPECT_TRUE(is_local(ip(text))) << text;
    for (const char* text : {"10.0.0.1", "192.0.2.10", "::2", "fe80::1", "::ffff:10.0.0.1", "128.0.0.1"})
        EXPECT_FALSE(is_local(ip(text))) << text;
}

TEST(NotifNetAddress, AllowedSetComparesMappedAddressesAsIpv4) {
    const AllowedAddresses allowed = allowed_set();
    EXPECT_TRUE(allowed.contains(ip("192.0.2.10")));
    EXPECT_TRUE(allowed.contains(ip("::ffff:192.0.2.10")));
    EXPECT_TRUE(allowed.contains(ip("2001:db8::10")));
    EXPECT_FALSE(allowed.contains(ip("192.0.2.11")));
    EXPECT_FALSE(allowed.contains(ip("2001:db8::11")));
}

TEST(NotifNetAddress, LoopbackIsNotAWildcard) {
    // Not allowed: every loopback and unspecified form is foreign like any other address.
    for (const char* text : {"127.0.0.1", "127.0.0.2", "0.0.0.0"})
        EXPECT_EQ(kind_of(AF_INET, AddressUse::Connect, v4(text)), DestinationKind::Foreign) << text;
    for (const char* text : {"::1", "::", "::ffff:127.0.0.1", "::ffff:0.0.0.0"})
        EXPECT_EQ(kind_of(AF_INET6, AddressUse::Send, v6(text)), DestinationKind::Foreign) << text;
    // Allowed (as `localhost` gives it): exactly 127.0.0.1 and ::1, not the rest of 127/8 nor 0.0.0.0.
    AllowedAddresses localhost;
    localhost.add(ip("127.0.0.1"));
    localhost.add(ip("::1"));
    auto kind = [&](int domain, const std::vector<std::uint8_t>& sockaddr) {
        return classify_destination(domain, AddressUse::Connect, sockaddr, localhost).kind;
    };
    EXPECT_EQ(kind(AF_INET, v4("127.0.0.1")), DestinationKind::Allowed);
    EXPECT_EQ(kind(AF_INET6, v6("::1")), DestinationKind::Allowed);
    EXPECT_EQ(kind(AF_INET6, v6("::ffff:127.0.0.1")), DestinationKind::Allowed);
    EXPECT_EQ(kind(AF_INET, v4("127.0.0.2")), DestinationKind::Foreign);
    EXPECT_EQ(kind(AF_INET, v4("0.0.0.0")), DestinationKind::Foreign);
    EXPECT_EQ(kind(AF_INET6, v6("::")), DestinationKind::Foreign);
}

TEST(NotifNetAddress, ClassifiesIpv4Destinations) {
    EXPECT_EQ(kind_of(AF_INET, AddressUse::Connect, v4("192.0.2.10")), DestinationKind::Allowed);
    EXPECT_EQ(kind_of(AF_INET, AddressUse::Connect, v4("203.0.113.9")), DestinationKind::Foreign);
    EXPECT_EQ(kind_of(AF_INET, AddressUse::Send, v4("203.0.113.9")), DestinationKind::Foreign);
    // An IPv6 socket takes an AF_INET sockaddr too (dual stack): still judged.
    EXPECT_EQ(kind_of(AF_INET6, AddressUse::Connect, v4("203.0.113.9")), DestinationKind::Foreign);
    const Destination d = classify_destination(AF_INET, AddressUse::Connect, v4("192.0.2.10", 8443), allowed_set());
    EXPECT_EQ(d.port, 8443);
    EXPECT_EQ(d.address.to_string(), "192.0.2.10");
}

TEST(NotifNetAddress, ClassifiesIpv6Destinations) {
    EXPECT_EQ(kind_of(AF_INET6, AddressUse::Connect, v6("::ffff:192.0.2.10")), DestinationKind::Allowed);
    EXPECT_EQ(kind_of(AF_INET6, AddressUse::Connect, v6("::ffff:203.0.113.9")), DestinationKind::Foreign);
    EXPECT_EQ(kind_of(AF_INET6, AddressUse::Send, v6("2001:db8::10")), DestinationKind::Allowed);
    EXPECT_EQ(kind_of(AF_INET6, AddressUse::Send, v6("2001:db8::99")), DestinationKind::Foreign);
}

TEST(NotifNetAddress, MalformedSockaddrsAreTheKernelsErrors) {
    auto error_of = [](int domain, AddressUse use, std::vector<std::uint8_t> sockaddr) {
        const Destination d = classify_destination(domain, use, sockaddr, allowed_set());
        EXPECT_EQ(d.kind, DestinationKind::Invalid);
        return d.error;
    };
    EXPECT_EQ(error_of(AF_INET, AddressUse::Connect, {}), EINVAL);
    auto short_v4 = v4("203.0.113.9");
    short_v4.resize(8);
    EXPECT_EQ(error_of(AF_INET, AddressUse::Connect, short_v4), EINVAL);
    auto short_v6 = v6("2001:db8::99");
    short_v6.resize(20);
    EXPECT_EQ(error_of(AF_INET6, AddressUse::Connect, short_v6), EINVAL);
    EXPECT_EQ(error_of(AF_INET, AddressUse::Connect, v6("::1")), EAFNOSUPPORT);
    auto unix_family = v4("127.0.0.1", 80, AF_UNIX);
    EXPECT_EQ(error_of(AF_INET, AddressUse::Send, unix_family), EAFNOSUPPORT);
}

TEST(NotifNetAddress, UnspecFamilyDisconnectsOnConnectButIsAnAddressForIpv4Sends) {
    EXPECT_EQ(kind_of(AF_INET, AddressUse::Connect, v4("203.0.113.9", 80, AF_UNSPEC)), DestinationKind::None);
    // udp_sendmsg reads an AF_UNSPEC sockaddr as sockaddr_in: judged like AF_INET.
    EXPECT_EQ(kind_of(AF_INET, AddressUse::Send, v4("203.0.113.9", 80, AF_UNSPEC)), DestinationKind::Foreign);
    EXPECT_EQ(kind_of(AF_INET, AddressUse::Send, v4("192.0.2.10", 80, AF_UNSPEC)), DestinationKind::Allowed);
    // Raw IPv6 reads it as sockaddr_in6 when long enough; UDPv6 ignores it.
    EXPECT_EQ(kind_of(AF_INET6, AddressUse::Send, v6("2001:db8::99", 80, AF_UNSPEC)), DestinationKind::Foreign);
    auto short_unspec = v4("203.0.113.9", 80, AF_UNSPEC);
    EXPECT_EQ(kind_of(AF_INET6, AddressUse::Send, short_unspec), DestinationKind::None);
}

TEST(NotifNetAddress, PortRanges) {
    const std::vector<PortRange> ranges = {{443, 443}, {8000, 8080}};
    EXPECT_TRUE(port_in_ranges(443, ranges));
    EXPECT_TRUE(port_in_ranges(8000, ranges));
    EXPECT_TRUE(port_in_ranges(8080, ranges));
    EXPECT_FALSE(port_in_ranges(80, ranges));
    EXPECT_FALSE(port_in_ranges(8081, ranges));
    EXPECT_FALSE(port_in_ranges(443, {}));
}

TEST(NotifNetHosts, HostsFileListsLocalhostAndTheAllowedNames) {
    const std::string text =
        render_hosts_file({{"api.example", {ip("192.0.2.10"), ip("2001:db8::10")}}, {"db.example", {ip("192.0.2.20")}}});
    EXPECT_NE(text.find("127.0.0.1\tlocalhost\n"), std::string::npos);
    EXPECT_NE(text.find("::1\tlocalhost"), std::string::npos);
    EXPECT_NE(text.find("192.0.2.10\tapi.example\n"), std::string::npos);
    EXPECT_NE(text.find("2001:db8::10\tapi.example\n"), std::string::npos);
    EXPECT_NE(text.find("192.0.2.20\tdb.example\n"), std::string::npos);
}

TEST(NotifNetHosts, LocalhostIsNotListedTwice) {
    const std::string text = render_hosts_file({{"localhost", {ip("127.0.0.1"), ip("::1")}}});
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
}

TEST(NotifNetHosts, NsswitchKeepsEverythingButTheHostsLine) {
    EXPECT_EQ(rewrite_nsswitch("passwd: files systemd\nhosts:   files mdns4_minimal [NOTFOUND=return] dns\n"
                               "networks: files\n"),
              "passwd: files systemd\nhosts: files\nnetworks: files\n");
    EXPECT_EQ(rewrite_nsswitch("passwd: files\n"), "passwd: files\nhosts: files\n");
    EXPECT_EQ(rewrite_nsswitch(""), "hosts: files\n");
    EXPECT_EQ(rewrite_nsswitch("  hosts: dns\nhosts: dns files\n"), "hosts: files\n");
}

TEST(NotifNetResolve, LocalhostResolvesToLoopback) {
    test::FakeHost fake;
    const auto hosts = resolve_hosts({"localhost"}, true, fake.host());
    ASSERT_EQ(hosts.size(), 1u);
    // Both loopback addresses, whatever this machine's /etc/hosts says: the sandbox's own
    // /etc/hosts names both as localhost.
    ASSERT_EQ(hosts[0].addresses.size(), 2u);
    EXPECT_EQ(hosts[0].addresses[0].to_string(), "127.0.0.1");
    EXPECT_EQ(hosts[0].addresses[1].to_string(), "::1");
}

TEST(NotifNetResolve, IpLiteralsAreTheirOwnAddress) {
    test::FakeHost fake;
    const auto hosts = resolve_hosts({"192.0.2.44", "2001:db8::44"}, true, fake.host());
    ASSERT_EQ(hosts.size(), 2u);
    EXPECT_EQ(hosts[0].addresses, std::vector<IpAddress>{ip("192.0.2.44")});
    EXPECT_EQ(hosts[1].addresses, std::vector<IpAddress>{ip("2001:db8::44")});
}

// A 64-character label fails inside the resolver before any query is built: no packet leaves.
const std::string kUnresolvable = std::string(64, 'a') + ".invalid";

TEST(NotifNetResolve, AnUnresolvableNameIsRefusedByName) {
    test::FakeHost fake;
    try {
        resolve_hosts({"localhost", kUnresolvable}, true, fake.host());
        FAIL() << "expected an error";
    } catch (const sdk::Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("net_allow_hosts"), std::string::npos) << message;
        EXPECT_NE(message.find(kUnresolvable), std::string::npos) << message;
        EXPECT_NE(message.find("strict = false"), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

TEST(NotifNetResolve, WithoutStrictAnUnresolvableNameIsAWarning) {
    test::FakeHost fake;
    const auto hosts = resolve_hosts({kUnresolvable, "localhost"}, false, fake.host());
    ASSERT_EQ(hosts.size(), 1u);
    EXPECT_EQ(hosts[0].name, "localhost");
    EXPECT_TRUE(fake.warned_about(kUnresolvable));
}

TEST(NotifNetResolve, SomethingThatIsNotAHostNameIsRefused) {
    test::FakeHost fake;
    for (const char* bad : {"", "two words", "tab\there", "a#b"}) {
        EXPECT_THROW(resolve_hosts({bad}, false, fake.host()), sdk::Error) << bad;
    }
}

TEST(NotifNetModule, RegistersOnlyWhenHostsAreNamed) {
    test::FakeHost fake;
    const sdk::Host host = fake.host();
    const boost::json::object options;
    HandlerTable table;
    Policy policy;
    NetAllowModule off;
    off.configure({policy, options, host, table});
    EXPECT_TRUE(table.entries().empty());
    EXPECT_TRUE(fake.notified.empty());

    policy.net_allow_hosts = {"localhost"};
    NetAllowModule on;
    on.configure({policy, options, host, table});
    for (int nr : {static_cast<int>(SYS_connect), static_cast<int>(SYS_sendto), static_cast<int>(SYS_sendmsg),
                   static_cast<int>(SYS_sendmmsg), static_cast<int>(SYS_socket), static_cast<int>(SYS_openat)}) {
        EXPECT_NE(std::find(fake.notified.begin(), fake.notified.end(), nr), fake.notified.end()) << nr;
    }
    EXPECT_EQ(table.entries().size(), fake.notified.size());
    EXPECT_TRUE(on.allowed().contains(ip("127.0.0.1")));
    EXPECT_NE(on.hosts_file().find("localhost"), std::string::npos);
}

}  // namespace
}  // namespace sandlock::notif
