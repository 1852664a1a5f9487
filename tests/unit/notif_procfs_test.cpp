// The /proc module, pure parts: which paths are virtual mount tables, when the module is on,
// and the ids a process names itself by (inside its PID namespace).
#include "fake_host.hpp"

#include "supervisor/caller_actions.hpp"
#include "procfs/proc_rules.hpp"
#include "procfs/procfs.hpp"
#include "procfs/proc_files.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <map>

namespace sandlock::notif {
namespace {

TEST(NotifProcRules, MountTablesOfAnyProcessAreVirtual) {
    auto p = mount_table_path("/proc/123/mounts");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->pid, 123);
    EXPECT_EQ(p->file, "mounts");
    p = mount_table_path("/proc/123/task/124/mountinfo");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->file, "mountinfo");
    EXPECT_EQ(mount_table_path("/proc/9/mountstats")->file, "mountstats");
    // A mount table is a file: anything below it, or a name that only looks like one, is not.
    for (const char* path : {"/proc/123/mounts/x", "/proc/123/status", "/proc/mounts", "/proc/0/mounts",
                             "/proc/123/task/mounts", "/procfoo/1/mounts", "/etc/mounts"})
        EXPECT_FALSE(mount_table_path(path)) << path;
}

TEST(NotifProcRules, OwnIdsAreTheInnermostNamespaces) {
    const std::string status = "Name:\tsh\nTgid:\t4242\nPid:\t4243\nNStgid:\t4242\t7\nNSpid:\t4243\t8\n";
    EXPECT_EQ(proc::parse_status_last_number(status, "NStgid"), 7);
    EXPECT_EQ(proc::parse_status_last_number(status, "NSpid"), 8);
    EXPECT_EQ(proc::parse_status_last_number("NSpid:\t12\n", "NSpid"), 12);  // no namespace of its own
    EXPECT_EQ(proc::parse_status_last_number("NSpid:\t12 \n", "NSpid"), 12);
    EXPECT_FALSE(proc::parse_status_last_number("NSpid:\t\n", "NSpid"));
    EXPECT_FALSE(proc::parse_status_last_number(status, "NSsid"));
    auto own = proc::read_own_ids(::getpid());  // as getpid() names it, in whatever namespace we run
    ASSERT_TRUE(own);
    EXPECT_EQ(own->tgid, ::getpid());
}

TEST(NotifProcRules, OnWhenTheSandboxCanReadProc) {
    auto readable = [](std::vector<std::string> r, std::vector<std::string> w = {}, std::vector<std::string> d = {}) {
        Policy p;
        p.fs_readable = std::move(r);
        p.fs_writable = std::move(w);
        p.fs_denied = std::move(d);
        return proc_is_readable(p);
    };
    EXPECT_TRUE(readable({"/usr", "/proc"}));
    EXPECT_TRUE(readable({"/proc/"}));
    EXPECT_TRUE(readable({"/"}));
    EXPECT_TRUE(readable({}, {"/"}));
    EXPECT_FALSE(readable({"/usr", "/etc"}));
    EXPECT_FALSE(readable({"/proc/self"}));
    EXPECT_FALSE(readable({"/procfs"}));
    EXPECT_FALSE(readable({"/"}, {}, {"/proc"}));
    EXPECT_FALSE(readable({}));
}

TEST(NotifProcRules, VirtualMountTablesShowOnlyRootAndProc) {
    const MountDevices devices{8, 1, 0, 22};
    EXPECT_EQ(virtual_mount_file("mounts", devices),
              "rootfs / rootfs rw 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n");
    const std::string info = virtual_mount_file("mountinfo", devices);
    EXPECT_NE(info.find("1 0 8:1 / / rw - rootfs rootfs rw\n"), std::string::npos) << info;
    EXPECT_NE(info.find("2 1 0:22 / /proc "), std::string::npos) << info;
    EXPECT_NE(virtual_mount_file("mountstats", devices).find("mounted on /proc"), std::string::npos);
}

TEST(NotifProcFsModule, RegistersOnlyWhenProcIsReadable) {
    test::FakeHost fake;
    const sdk::Host host = fake.host();
    const boost::json::object options;
    HandlerTable table;
    Policy policy;
    policy.fs_readable = {"/usr"};
    ProcFsModule off;
    off.configure({policy, options, host, table});
    EXPECT_TRUE(table.entries().empty());

    policy.fs_readable.push_back("/proc");
    ProcFsModule on;
    on.configure({policy, options, host, table});
    // openat2's flags are in memory: all routed. open and openat only without O_DIRECTORY (a
    // mount table is no directory: such an open is ENOTDIR in the kernel).
    EXPECT_NE(std::find(fake.notified.begin(), fake.notified.end(), SYS_openat2), fake.notified.end());
    EXPECT_EQ(std::find(fake.notified.begin(), fake.notified.end(), SYS_openat), fake.notified.end());
    for (const auto& [nr, flags_arg] : {std::pair{SYS_openat, 2u}, std::pair{SYS_open, 1u}}) {
        const auto rule = std::find_if(fake.rules.begin(), fake.rules.end(),
                                       [&](const sdk::NotifyRule& r) { return r.syscall_nr == nr; });
        ASSERT_NE(rule, fake.rules.end()) << nr;
        ASSERT_EQ(rule->condition_count, 1u);
        EXPECT_EQ(rule->conditions[0].arg, flags_arg);
        EXPECT_EQ(rule->conditions[0].op, SANDLOCK_NOTIFY_MASKED_EQ);
        EXPECT_EQ(rule->conditions[0].mask, static_cast<std::uint64_t>(O_DIRECTORY));
        EXPECT_EQ(rule->conditions[0].value, 0u);
    }
}

}  // namespace
}  // namespace sandlock::notif
