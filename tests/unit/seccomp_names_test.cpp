// Syscall name resolution and the built-in lists behind "@default".
#include "syscall_lists.hpp"
#include "syscall_names.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <gtest/gtest.h>

#include <sys/syscall.h>

#include <set>
#include <string>

namespace sandlock::seccomp {
namespace {

TEST(SeccompNames, ResolvesNativeNames) {
    EXPECT_EQ(resolve_syscall("ptrace").kind, NameKind::Native);
    EXPECT_EQ(resolve_syscall("ptrace").number, SYS_ptrace);
    EXPECT_EQ(resolve_syscall("getppid").number, SYS_getppid);
    EXPECT_EQ(syscall_name(SYS_getppid), "getppid");
}

TEST(SeccompNames, TellsOtherArchitecturesFromTypos) {
    // socketcall exists on i386, s390 and others, but on neither x86_64 nor aarch64.
    EXPECT_EQ(resolve_syscall("socketcall").kind, NameKind::OtherArch);
    EXPECT_EQ(resolve_syscall("ptarce").kind, NameKind::Unknown);
    EXPECT_EQ(resolve_syscall("").kind, NameKind::Unknown);
}

TEST(SeccompNames, UnknownNameErrorNamesFieldAndName) {
    try {
        resolve_policy_list("deny_syscalls", {"getpid", "foo"}, default_deny_list());
        FAIL() << "an unknown name was accepted";
    } catch (const sdk::Error& e) {
        EXPECT_STREQ(e.what(), "deny_syscalls: unknown syscall 'foo' (see 'ausyscall --dump' for names)");
    }
    try {
        resolve_policy_list("allow_syscalls", {"@defaults"}, default_allow_list());
        FAIL() << "an unknown group was accepted";
    } catch (const sdk::Error& e) {
        EXPECT_STREQ(e.what(), "allow_syscalls: unknown group '@defaults' (the only group is '@default')");
    }
}

TEST(SeccompNames, DefaultGroupExpandsToTheBuiltinList) {
    const std::set<int> builtin = resolve_builtin(default_deny_list());
    std::set<int> expected = builtin;
    expected.insert(SYS_getpid);
    EXPECT_EQ(resolve_policy_list("deny_syscalls", {"@default", "getpid"}, default_deny_list()), expected);
    EXPECT_EQ(resolve_policy_list("deny_syscalls", {"getpid"}, default_deny_list()),
              std::set<int>{SYS_getpid});
    EXPECT_TRUE(resolve_policy_list("deny_syscalls", {}, default_deny_list()).empty());
}

TEST(SeccompNames, OtherArchitectureNamesAreSkippedNotRefused) {
    EXPECT_TRUE(resolve_policy_list("allow_syscalls", {"socketcall"}, default_allow_list()).empty());
}

TEST(SeccompLists, EveryBuiltinNameIsARealSyscall) {
    for (auto list : {default_deny_list(), default_allow_list()})
        for (std::string_view name : list)
            EXPECT_NE(resolve_syscall(name).kind, NameKind::Unknown) << name;
}

TEST(SeccompLists, DenyListHasTheDangerousCalls) {
    const std::set<int> denied = resolve_builtin(default_deny_list());
    for (const char* name : {"ptrace", "mount", "umount2", "unshare", "setns", "bpf", "perf_event_open",
                             "kexec_load", "init_module", "io_uring_setup", "fsopen", "open_tree",
                             "process_vm_writev", "pidfd_getfd", "userfaultfd", "keyctl", "chroot"})
        EXPECT_TRUE(denied.contains(resolve_syscall(name).number)) << name;
}

TEST(SeccompLists, ListsAreDisjoint) {
    const std::set<int> denied = resolve_builtin(default_deny_list());
    for (int nr : resolve_builtin(default_allow_list()))
        EXPECT_FALSE(denied.contains(nr)) << syscall_name(nr);
}

TEST(SeccompLists, AllowListCoversWhatTheCoreDoesAfterStageSix) {
    const std::set<int> allowed = resolve_builtin(default_allow_list());
    for (const char* name : {"close_range", "close", "read", "write", "execve", "exit_group", "exit",
                             "rt_sigprocmask", "clone", "futex", "mmap", "brk"})
        EXPECT_TRUE(allowed.contains(resolve_syscall(name).number)) << name;
    EXPECT_FALSE(allowed.contains(resolve_syscall("clone3").number)) << "clone3 must stay ENOSYS";
}

}  // namespace
}  // namespace sandlock::seccomp
