// Turns net_bind / net_connect port ranges into one Landlock rule per port.
#pragma once

#include "access_rights.hpp"

#include <sandlock/sdk/policy.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace sandlock::landlock {

struct PortRule {
    std::uint16_t port = 0;
    Access access = 0;  // LANDLOCK_ACCESS_NET_BIND_TCP and/or _CONNECT_TCP
    friend bool operator==(const PortRule&, const PortRule&) = default;
};

// Throws sdk::Error naming the field when a range holds port 0 or is reversed.
void validate_port_ranges(std::string_view field, const std::vector<PortRange>& ranges);

// One rule per port, sorted by port; a port in both lists gets both rights.
std::vector<PortRule> plan_port_rules(const std::vector<PortRange>& bind,
                                      const std::vector<PortRange>& connect);

// The network rights a ruleset must handle: only those whose list is non-empty, so an
// empty list leaves that operation unrestricted.
Access handled_net_rights(const std::vector<PortRange>& bind, const std::vector<PortRange>& connect);

}  // namespace sandlock::landlock
