// The /proc and /sys rules, pure parts: which paths are denied, virtualized or per-process,
// when the rules are on, which pids belong to the sandbox, and /proc listing filtering.
#include "fake_host.hpp"

#include "supervisor/caller_actions.hpp"
#include "procfs/dirent_filter.hpp"
#include "procfs/proc_rules.hpp"
#include "procfs/procfs.hpp"
#include "procfs/sandbox_pids.hpp"

#include <gtest/gtest.h>

#include <sys/syscall.h>

#include <cstring>
#include <map>

namespace sandlock::notif {
namespace {

ProcPathKind kind(const char* path) { return classify_proc_path(path).kind; }

TEST(NotifProcRules, KernelSecretsAreDenied) {
    for (const char* path : {"/proc/kcore", "/proc/kallsyms", "/proc/keys", "/proc/key-users", "/proc/config.gz",
                             "/proc/sched_debug", "/proc/timer_list", "/proc/modules", "/sys/kernel",
                             "/sys/kernel/debug/tracing", "/sys/firmware/acpi/tables", "/sys/fs/cgroup",
                             "/sys/fs/cgroup/memory.max"})
        EXPECT_EQ(kind(path), ProcPathKind::Denied) << path;
    // Component-wise: neighbours of a denied name are not denied.
    EXPECT_EQ(kind("/proc/kcorex"), ProcPathKind::Global);
    EXPECT_EQ(kind("/sys/kernelx"), ProcPathKind::Outside);
    EXPECT_EQ(kind("/sys/fs/cgroupfoo"), ProcPathKind::Outside);
    EXPECT_EQ(kind("/sys/class/net"), ProcPathKind::Outside);
}

TEST(NotifProcRules, MountTablesOfAnyProcessAreVirtual) {
    ProcPath p = classify_proc_path("/proc/123/mounts");
    EXPECT_EQ(p.kind, ProcPathKind::MountTable);
    EXPECT_EQ(p.pid, 123);
    EXPECT_EQ(p.mount_file, "mounts");
    p = classify_proc_path("/proc/123/task/124/mountinfo");
    EXPECT_EQ(p.kind, ProcPathKind::MountTable);
    EXPECT_EQ(p.mount_file, "mountinfo");
    EXPECT_EQ(classify_proc_path("/proc/9/mountstats").mount_file, "mountstats");
    // A mount table is a file: anything below it is not one.
    EXPECT_EQ(kind("/proc/123/mounts/x"), ProcPathKind::ProcessEntry);
}

TEST(NotifProcRules, ProcessEntriesCarryTheirPid) {
    ProcPath p = classify_proc_path("/proc/4242/status");
    EXPECT_EQ(p.kind, ProcPathKind::ProcessEntry);
    EXPECT_EQ(p.pid, 4242);
    EXPECT_EQ(classify_proc_path("/proc/4242").pid, 4242);
    EXPECT_EQ(kind("/proc/4242/task/4243/stat"), ProcPathKind::ProcessEntry);
    EXPECT_EQ(kind("/proc/cpuinfo"), ProcPathKind::Global);
    EXPECT_EQ(kind("/proc"), ProcPathKind::Global);
    EXPECT_EQ(kind("/proc/sys/kernel/ostype"), ProcPathKind::Global);
    EXPECT_EQ(kind("/proc/0/status"), ProcPathKind::Global);  // no such pid
    EXPECT_EQ(kind("/etc/hosts"), ProcPathKind::Outside);
    EXPECT_EQ(kind("/procfoo/1"), ProcPathKind::Outside);
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

TEST(NotifSandboxPids, ParsesStatEvenWithAHostileName) {
    auto links = parse_pid_links("42 (a) (b) S 7 ) 9 10 11 12) R 3 5 5 0 -1");
    ASSERT_TRUE(links);
    EXPECT_EQ(links->ppid, 3);
    EXPECT_EQ(links->pgrp, 5);
    EXPECT_FALSE(parse_pid_links("garbage"));
    EXPECT_FALSE(parse_pid_links("1 (x) S"));
}

// A process tree: 1 -> 50 (launcher) -> 100 (sandbox root, pgrp 100) -> 101 -> 102;
// 50 -> 200 (someone else); 103: an orphan of the sandbox re-parented to 50, still in pgrp 100;
// 104: an orphan that called setsid.
std::optional<PidLinks> tree(pid_t pid) {
    static const std::map<pid_t, PidLinks> links = {
        {1, {0, 1}},     {50, {1, 50}},   {100, {50, 100}}, {101, {100, 100}}, {102, {101, 100}},
        {200, {50, 50}}, {103, {50, 100}}, {104, {50, 104}},
    };
    auto it = links.find(pid);
    if (it == links.end()) return std::nullopt;
    return it->second;
}

TEST(NotifSandboxPids, DescendantsAndGroupMembersBelong) {
    PidMemo memo;
    for (pid_t pid : {100, 101, 102, 103}) EXPECT_TRUE(descends_from(pid, 100, tree, memo)) << pid;
    for (pid_t pid : {1, 50, 200, 104, 999}) EXPECT_FALSE(descends_from(pid, 100, tree, memo)) << pid;
    EXPECT_TRUE(memo.at(101));
    EXPECT_FALSE(memo.at(50));
}

TEST(NotifSandboxPids, TheCallerAlwaysBelongs) {
    SandboxPids pids;  // no root yet
    EXPECT_TRUE(pids.contains(77, 77));
    EXPECT_FALSE(pids.contains(1, 77));
}

TEST(NotifSandboxPids, RealProcessesAreJudgedFromProc) {
    SandboxPids pids;
    pids.start(::getpid());
    EXPECT_TRUE(pids.contains(::getpid(), 0));
    EXPECT_FALSE(pids.contains(1, 0));            // init is nobody's descendant
    EXPECT_FALSE(pids.contains(::getppid(), 0));  // our parent is not under us
}

// A getdents64 buffer with one record per name.
std::vector<std::uint8_t> dirents64(const std::vector<std::string>& names, std::size_t name_offset = 19) {
    std::vector<std::uint8_t> buffer;
    std::uint64_t ino = 1;
    for (const std::string& name : names) {
        const std::size_t reclen = (name_offset + name.size() + 1 + 7) & ~std::size_t{7};
        std::vector<std::uint8_t> record(reclen, 0);
        std::memcpy(record.data(), &ino, 8);
        const std::uint16_t len16 = static_cast<std::uint16_t>(reclen);
        std::memcpy(record.data() + 16, &len16, 2);
        std::memcpy(record.data() + name_offset, name.data(), name.size());
        buffer.insert(buffer.end(), record.begin(), record.end());
        ++ino;
    }
    return buffer;
}

std::vector<std::string> names_in(const std::uint8_t* data, std::size_t size, std::size_t name_offset = 19) {
    std::vector<std::string> names;
    for (std::size_t at = 0; at < size;) {
        std::uint16_t reclen;
        std::memcpy(&reclen, data + at + 16, 2);
        names.emplace_back(reinterpret_cast<const char*>(data + at + name_offset));
        at += reclen;
    }
    return names;
}

TEST(NotifDirents, FilteringKeepsTheOrderAndCompacts) {
    auto buffer = dirents64({".", "..", "1", "cpuinfo", "100", "self", "200", "101"});
    auto keep = [](std::string_view name) { return name != "1" && name != "200"; };
    const std::size_t kept = filter_dirents(buffer, DirentFormat::Dirent64, keep);
    EXPECT_EQ(names_in(buffer.data(), kept), (std::vector<std::string>{".", "..", "cpuinfo", "100", "self", "101"}));
}

TEST(NotifDirents, LegacyRecordsHaveTheNameOneByteEarlier) {
    auto buffer = dirents64({"1", "2", "3"}, 18);
    const std::size_t kept =
        filter_dirents(buffer, DirentFormat::Legacy, [](std::string_view name) { return name == "2"; });
    EXPECT_EQ(names_in(buffer.data(), kept, 18), std::vector<std::string>{"2"});
}

TEST(NotifDirents, DroppingEverythingLeavesNothingAndMalformedRecordsStop) {
    auto buffer = dirents64({"1", "2"});
    EXPECT_EQ(filter_dirents(buffer, DirentFormat::Dirent64, [](std::string_view) { return false; }), 0u);
    auto broken = dirents64({"ok", "bad"});
    const std::uint16_t huge = 60000;
    std::memcpy(broken.data() + 24 + 16, &huge, 2);  // the second record claims to run past the end
    EXPECT_EQ(filter_dirents(broken, DirentFormat::Dirent64, [](std::string_view) { return true; }), 24u);
}

TEST(NotifCaller, CredentialLinesAreWhatDecidesFileAccess) {
    const std::string status =
        "Name:\tcat\nUmask:\t0022\nTgid:\t5\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n"
        "Groups:\t100 27 \nNoNewPrivs:\t1\nCapInh:\t0000000000000000\nCapEff:\t0000000000000000\n";
    EXPECT_EQ(caller::credential_lines(status),
              "Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\nGroups:\t100 27 \nCapEff:\t0000000000000000\n");
    EXPECT_TRUE(caller::has_our_credentials(static_cast<pid_t>(::syscall(SYS_gettid))));
    EXPECT_FALSE(caller::has_our_credentials(0x3fffffff));
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
    for (int nr : {static_cast<int>(SYS_openat), static_cast<int>(SYS_openat2), static_cast<int>(SYS_getdents64)})
        EXPECT_NE(std::find(fake.notified.begin(), fake.notified.end(), nr), fake.notified.end()) << nr;
}

}  // namespace
}  // namespace sandlock::notif
