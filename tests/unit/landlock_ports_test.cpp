// net_bind / net_connect: validation and one rule per port.
#include "port_rules.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <gtest/gtest.h>

namespace sandlock::landlock {
namespace {

constexpr Access kBind = LANDLOCK_ACCESS_NET_BIND_TCP;
constexpr Access kConnect = LANDLOCK_ACCESS_NET_CONNECT_TCP;

TEST(LandlockPorts, SinglePortsAndRangesBecomeOneRulePerPort) {
    auto rules = plan_port_rules({{8080, 8080}}, {{443, 443}, {5432, 5434}});
    EXPECT_EQ(rules, (std::vector<PortRule>{
                         {443, kConnect}, {5432, kConnect}, {5433, kConnect}, {5434, kConnect}, {8080, kBind}}));
}

TEST(LandlockPorts, OverlapsAreMergedAndBothListsCombine) {
    auto rules = plan_port_rules({{10, 12}, {11, 13}}, {{12, 12}});
    EXPECT_EQ(rules, (std::vector<PortRule>{{10, kBind}, {11, kBind}, {12, kBind | kConnect}, {13, kBind}}));
}

TEST(LandlockPorts, LargeRangesAndTheTopPort) {
    EXPECT_EQ(plan_port_rules({}, {{8000, 9000}}).size(), 1001u);
    auto top = plan_port_rules({{65534, 65535}}, {});
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top.back().port, 65535);
    EXPECT_EQ(plan_port_rules({}, {{1, 65535}}).size(), 65535u);
}

TEST(LandlockPorts, PortZeroIsRefusedNamingTheField) {
    try {
        validate_port_ranges("net_bind", {{80, 80}, {0, 10}});
        FAIL() << "port 0 accepted";
    } catch (const sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("net_bind"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("0-10"), std::string::npos) << e.what();
    }
}

TEST(LandlockPorts, ReversedRangeIsRefused) {
    EXPECT_THROW(validate_port_ranges("net_connect", {{9000, 8000}}), sdk::Error);
    EXPECT_NO_THROW(validate_port_ranges("net_connect", {{1, 65535}, {22, 22}}));
}

TEST(LandlockPorts, OnlyNonEmptyListsAreHandled) {
    EXPECT_EQ(handled_net_rights({}, {}), 0u);
    EXPECT_EQ(handled_net_rights({{80, 80}}, {}), kBind);
    EXPECT_EQ(handled_net_rights({}, {{80, 80}}), kConnect);
    EXPECT_EQ(handled_net_rights({{80, 80}}, {{80, 80}}), kBind | kConnect);
}

}  // namespace
}  // namespace sandlock::landlock
