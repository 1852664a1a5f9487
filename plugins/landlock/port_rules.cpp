#include "port_rules.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <string>

namespace sandlock::landlock {

namespace {

std::string describe(const PortRange& range) {
    if (range.first == range.last) return std::to_string(range.first);
    return std::to_string(range.first) + "-" + std::to_string(range.last);
}

}  // namespace

void validate_port_ranges(std::string_view field, const std::vector<PortRange>& ranges) {
    for (const auto& range : ranges) {
        if (range.first == 0)
            throw sdk::Error(std::string(field) + ": port 0 in \"" + describe(range) +
                             "\" is not a TCP port a rule can name; use ports 1-65535");
        if (range.first > range.last)
            throw sdk::Error(std::string(field) + ": range \"" + describe(range) +
                             "\" is reversed; write it as " + std::to_string(range.last) + "-" +
                             std::to_string(range.first));
    }
}

std::vector<PortRule> plan_port_rules(const std::vector<PortRange>& bind,
                                      const std::vector<PortRange>& connect) {
    std::vector<PortRule> rules;
    if (bind.empty() && connect.empty()) return rules;  // the common case costs nothing
    // Indexed by port: ranges may overlap or repeat, each port still gets one rule. One byte a
    // port (the two net rights are bits 0 and 1): 64 KiB, not half a megabyte of page faults.
    static_assert(LANDLOCK_ACCESS_NET_BIND_TCP <= 0xff && LANDLOCK_ACCESS_NET_CONNECT_TCP <= 0xff);
    std::vector<std::uint8_t> access(65536, 0);
    auto mark = [&](const std::vector<PortRange>& ranges, Access right) {
        for (const auto& range : ranges)
            for (std::uint32_t port = range.first; port <= range.last; ++port)
                access[port] |= static_cast<std::uint8_t>(right);
    };
    mark(bind, LANDLOCK_ACCESS_NET_BIND_TCP);
    mark(connect, LANDLOCK_ACCESS_NET_CONNECT_TCP);

    for (std::uint32_t port = 0; port < access.size(); ++port)
        if (access[port] != 0) rules.push_back({static_cast<std::uint16_t>(port), access[port]});
    return rules;
}

Access handled_net_rights(const std::vector<PortRange>& bind, const std::vector<PortRange>& connect) {
    return (bind.empty() ? 0 : LANDLOCK_ACCESS_NET_BIND_TCP) |
           (connect.empty() ? 0 : LANDLOCK_ACCESS_NET_CONNECT_TCP);
}

}  // namespace sandlock::landlock
