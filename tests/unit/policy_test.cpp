#include <sandlock/policy.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <gtest/gtest.h>

namespace sandlock {
namespace {

TEST(Policy, DefaultPolicySetsNothing) { EXPECT_TRUE(fields_set(Policy{}).empty()); }

TEST(Policy, FieldsSetNamesWhatDiffersFromTheDefault) {
    Policy p;
    p.fs_readable = {"/usr"};
    p.max_memory = 1;
    p.close_fds = false;
    p.strict = false;
    EXPECT_EQ(fields_set(p), (std::vector<std::string_view>{"fs_readable", "max_memory", "close_fds", "strict"}));
}

TEST(PolicyJson, RoundTripsEveryField) {
    Policy p;
    p.fs_writable = {"/w"};
    p.fs_readable = {"/r"};
    p.fs_denied = {"/d"};
    p.deny_syscalls = std::vector<std::string>{"@default"};
    p.allow_syscalls = std::vector<std::string>{};
    p.net_allow_hosts = {"h"};
    p.net_bind = {{1, 2}};
    p.net_connect = {{443, 443}};
    p.isolate_ipc = p.isolate_signals = p.clean_env = p.privileged = true;
    p.close_fds = p.strict = false;
    p.max_memory = 5;
    p.max_processes = 6;
    p.max_cpu = 7;
    p.env = {{"A", "B"}};
    p.fs_isolation = FsIsolation::BranchFs;
    p.fs_mount = "/m";
    p.fs_storage = "/s";
    p.max_disk = 8;
    p.on_exit = BranchAction::Keep;
    p.on_error = BranchAction::Abort;
    p.chroot = "/c";
    p.plugins = {"x"};
    p.plugin_options = {{"x", R"({"k":1})"}};
    Policy q = policy_from_json(policy_to_json(p));
    EXPECT_EQ(policy_to_json(q), policy_to_json(p));
    EXPECT_EQ(q.allow_syscalls->size(), 0u);  // an empty allowlist is still an allowlist
    EXPECT_EQ(q.net_bind, p.net_bind);
    EXPECT_EQ(*q.on_error, BranchAction::Abort);
}

TEST(PolicyJson, UnsetOptionalsStayUnset) {
    Policy q = policy_from_json(policy_to_json(Policy{}));
    EXPECT_FALSE(q.deny_syscalls || q.allow_syscalls || q.max_memory || q.chroot || q.on_exit);
    EXPECT_TRUE(q.close_fds && q.strict);
}

TEST(PolicyJson, UnknownEnumStringsAndOtherSchemasAreErrors) {
    EXPECT_THROW(policy_from_json(R"({"schema": 1, "fs_isolation": "zfs"})"), std::invalid_argument);
    EXPECT_THROW(policy_from_json(R"({"schema": 1, "on_exit": "later"})"), std::invalid_argument);
    EXPECT_THROW(policy_from_json(R"({"schema": 99})"), std::invalid_argument);
    EXPECT_THROW(policy_from_json(R"({"fs_readable": []})"), std::invalid_argument) << "no schema at all";
    EXPECT_EQ(policy_from_json(R"({"schema": 1, "fs_isolation": "none"})").fs_isolation, FsIsolation::None);
}

}  // namespace
}  // namespace sandlock
