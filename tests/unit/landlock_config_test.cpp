// Access rights per ABI, and fitting a policy to the kernel's ABI (strict or degraded).
#include "landlock_config.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <gtest/gtest.h>

namespace sandlock::landlock {
namespace {

std::string refusal(const Policy& policy, int abi) {
    try {
        make_config(policy, abi);
    } catch (const sdk::Error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(LandlockAccessRights, EachAbiAddsItsRights) {
    EXPECT_EQ(fs_rights(0), 0u);
    EXPECT_EQ(fs_rights(1), 0x1fffu);  // EXECUTE .. MAKE_SYM
    EXPECT_EQ(fs_rights(2), fs_rights(1) | LANDLOCK_ACCESS_FS_REFER);
    EXPECT_EQ(fs_rights(3), fs_rights(2) | LANDLOCK_ACCESS_FS_TRUNCATE);
    EXPECT_EQ(fs_rights(4), fs_rights(3));
    EXPECT_EQ(fs_rights(5), fs_rights(4) | LANDLOCK_ACCESS_FS_IOCTL_DEV);
    EXPECT_EQ(fs_rights(7), 0xffffu);
    EXPECT_EQ(kReadableRights & ~fs_rights(1), 0u);
    EXPECT_EQ(kReadableRights & LANDLOCK_ACCESS_FS_WRITE_FILE, 0u);
}

TEST(LandlockConfig, NothingSetIsInactive) {
    auto config = make_config(Policy{}, 7);
    EXPECT_FALSE(config.active());
    EXPECT_TRUE(config.warnings.empty());
}

TEST(LandlockConfig, AnyFsFieldHandlesEveryFsRightOfTheAbi) {
    Policy policy;
    policy.fs_denied = {"/secret"};
    for (int abi : {1, 3, 5, 7}) {
        auto config = make_config(policy, abi);
        EXPECT_TRUE(config.active());
        EXPECT_EQ(config.ruleset_attr().handled_access_fs, fs_rights(abi));
        EXPECT_EQ(config.ruleset_attr().handled_access_net, 0u);
    }
}

TEST(LandlockConfig, NetAndScopesAreHandledOnlyWhenAsked) {
    Policy policy;
    policy.net_connect = {{443, 443}};
    policy.isolate_signals = true;
    auto attr = make_config(policy, 7).ruleset_attr();
    EXPECT_EQ(attr.handled_access_fs, 0u);
    EXPECT_EQ(attr.handled_access_net, LANDLOCK_ACCESS_NET_CONNECT_TCP);
    EXPECT_EQ(attr.scoped, LANDLOCK_SCOPE_SIGNAL);

    policy.isolate_ipc = true;
    EXPECT_EQ(make_config(policy, 6).ruleset_attr().scoped,
              LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET);
}

TEST(LandlockConfig, StrictRefusesNamingFieldAndAbi) {
    Policy fs;
    fs.fs_readable = {"/usr"};
    auto message = refusal(fs, 0);
    EXPECT_TRUE(contains(message, "fs_readable") && contains(message, "ABI 1")) << message;

    Policy net;
    net.net_bind = {{8080, 8080}};
    message = refusal(net, 3);
    EXPECT_TRUE(contains(message, "net_bind") && contains(message, "ABI 4") && contains(message, "ABI 3"))
        << message;
    EXPECT_EQ(refusal(net, 4), "");

    Policy scope;
    scope.isolate_ipc = true;
    message = refusal(scope, 5);
    EXPECT_TRUE(contains(message, "isolate_ipc") && contains(message, "ABI 6")) << message;
    EXPECT_EQ(refusal(scope, 6), "");
}

TEST(LandlockConfig, NonStrictDegradesWithOneWarningPerFeature) {
    Policy policy;
    policy.strict = false;
    policy.fs_writable = {"/tmp"};
    policy.net_bind = {{8080, 8080}};
    policy.net_connect = {{443, 443}};
    policy.isolate_ipc = true;
    policy.isolate_signals = true;

    auto config = make_config(policy, 3);
    ASSERT_EQ(config.warnings.size(), 2u);
    EXPECT_TRUE(contains(config.warnings[0], "net_bind, net_connect") && contains(config.warnings[0], "ABI 4"));
    EXPECT_TRUE(contains(config.warnings[1], "isolate_ipc, isolate_signals"));
    EXPECT_TRUE(config.restrict_fs);
    EXPECT_EQ(config.ruleset_attr().handled_access_net, 0u);
    EXPECT_EQ(config.ruleset_attr().scoped, 0u);

    auto none = make_config(policy, 0);
    EXPECT_EQ(none.warnings.size(), 3u);
    EXPECT_FALSE(none.active());
}

TEST(LandlockConfig, RelativePathsAreRefused) {
    Policy policy;
    policy.fs_writable = {"/tmp", "work"};
    auto message = refusal(policy, 7);
    EXPECT_TRUE(contains(message, "fs_writable") && contains(message, "\"work\"")) << message;

    Policy empty_path;
    empty_path.fs_denied = {""};
    EXPECT_TRUE(contains(refusal(empty_path, 7), "fs_denied"));
}

TEST(LandlockConfig, InvalidInputIsRefusedEvenWithoutLandlock) {
    Policy policy;
    policy.strict = false;
    policy.net_connect = {{0, 0}};
    EXPECT_TRUE(contains(refusal(policy, 0), "net_connect"));
}

}  // namespace
}  // namespace sandlock::landlock
