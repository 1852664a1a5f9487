#include <sandlock/errors.hpp>
#include <sandlock/profile.hpp>

#include <gtest/gtest.h>

namespace sandlock {
namespace {

std::string error_of(const std::string& toml) {
    try {
        parse_profile(toml, "p.toml");
    } catch (const PolicyError& e) {
        return e.what();
    }
    return "no error";
}

TEST(Profile, EveryFieldKind) {
    Policy p = parse_profile(R"(
fs_writable = ["/tmp/work"]
fs_readable = ["/usr", "/lib"]
fs_denied = ["/usr/secret"]
deny_syscalls = ["@default", "socket"]
allow_syscalls = ["@default"]
net_allow_hosts = ["example.org"]
net_bind = [8080]
net_connect = [443, "8000-8100"]
isolate_ipc = true
isolate_signals = true
max_memory = "512M"
max_processes = 50
max_cpu = "25%"
clean_env = true
close_fds = false
strict = false
privileged = true
chroot = "/srv/root"
fs_isolation = "branchfs"
fs_mount = "/mnt/ws"
fs_storage = "/var/ws"
max_disk = 1073741824
on_exit = "keep"
on_error = "abort"
plugins = ["landlock", "seccomp"]
[env]
CC = "gcc"
)", "p.toml");
    EXPECT_EQ(p.fs_writable, std::vector<std::string>{"/tmp/work"});
    EXPECT_EQ(p.fs_readable.size(), 2u);
    EXPECT_EQ(p.fs_denied, std::vector<std::string>{"/usr/secret"});
    EXPECT_EQ(p.deny_syscalls->size(), 2u);
    EXPECT_EQ(p.allow_syscalls->front(), "@default");
    EXPECT_EQ(p.net_bind, (std::vector<PortRange>{{8080, 8080}}));
    EXPECT_EQ(p.net_connect, (std::vector<PortRange>{{443, 443}, {8000, 8100}}));
    EXPECT_TRUE(p.isolate_ipc && p.isolate_signals && p.clean_env && p.privileged);
    EXPECT_FALSE(p.close_fds || p.strict);
    EXPECT_EQ(*p.max_memory, 512u << 20);
    EXPECT_EQ(*p.max_processes, 50u);
    EXPECT_EQ(*p.max_cpu, 25u);
    EXPECT_EQ(*p.chroot, "/srv/root");
    EXPECT_EQ(*p.fs_isolation, FsIsolation::BranchFs);
    EXPECT_EQ(*p.max_disk, 1u << 30);
    EXPECT_EQ(*p.on_exit, BranchAction::Keep);
    EXPECT_EQ(*p.on_error, BranchAction::Abort);
    EXPECT_EQ(p.env.at("CC"), "gcc");
    EXPECT_EQ(p.plugins, (std::vector<std::string>{"landlock", "seccomp"}));
}

TEST(Profile, PluginTablesBecomeJsonAndEnabledListsLayers) {
    Policy p = parse_profile(R"(
[plugins]
enabled = ["landlock", "seccomp", "notif"]
[plugins.notif]
path_rules = [{ path = "/etc/motd", action = "deny" }]
)", "p.toml");
    EXPECT_EQ(p.plugins.size(), 3u);
    EXPECT_EQ(p.plugin_options.at("notif"), R"({"path_rules":[{"action":"deny","path":"/etc/motd"}]})");
}

TEST(Profile, UnknownFieldNamesFileLineAndField) {
    EXPECT_EQ(error_of("clean_env = true\nmax_memroy = \"1G\"\n"),
              "p.toml:2: unknown field \"max_memroy\" (fields are named like the Policy: fs_readable, max_memory, ...)");
}

TEST(Profile, WrongTypesNameTheExpectedType) {
    EXPECT_EQ(error_of("clean_env = 1\n"), "p.toml:1: field 'clean_env' expects a boolean (true or false), got integer");
    EXPECT_EQ(error_of("fs_readable = \"/usr\"\n"), "p.toml:1: field 'fs_readable' expects an array of strings, got string");
    EXPECT_EQ(error_of("fs_readable = [\"/usr\", 3]\n"), "p.toml:1: field 'fs_readable' expects an array of strings, got integer");
    EXPECT_EQ(error_of("env = [\"A=B\"]\n"), "p.toml:1: field 'env' expects a table of strings ([env]), got array");
    EXPECT_EQ(error_of("on_exit = \"later\"\n"), "p.toml:1: field 'on_exit' is \"later\", expected one of: commit, abort, keep");
}

TEST(Profile, BadValuesNameTheField) {
    EXPECT_EQ(error_of("max_memory = \"lots\"\n").rfind("p.toml:1: max_memory: invalid value \"lots\"", 0), 0u);
    EXPECT_EQ(error_of("net_bind = [70000]\n").rfind("p.toml:1: net_bind: invalid value \"70000\"", 0), 0u);
    EXPECT_EQ(error_of("max_processes = -1\n").rfind("p.toml:1: max_processes: invalid value \"-1\"", 0), 0u);
}

TEST(Profile, SyntaxErrorsNameTheLine) {
    EXPECT_EQ(error_of("clean_env = true\nfs_readable = [\n").rfind("p.toml:", 0), 0u);
}

TEST(Profile, NamesWithSlashesAreRefused) {
    EXPECT_THROW(find_profile("../etc/passwd"), PolicyError);
    EXPECT_THROW(find_profile(".hidden"), PolicyError);
}

}  // namespace
}  // namespace sandlock
