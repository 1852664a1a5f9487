// From deny_syscalls / allow_syscalls and notify requests to a per-syscall action.
#include "syscall_plan.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <gtest/gtest.h>

#include <sys/syscall.h>

#include <vector>

namespace sandlock::seccomp {
namespace {

Policy deny(std::vector<std::string> names) {
    Policy p;
    p.deny_syscalls = std::move(names);
    return p;
}

Policy allow(std::vector<std::string> names) {
    Policy p;
    p.allow_syscalls = std::move(names);
    return p;
}

TEST(SeccompPlan, UnsetMeansTheDefaultDenyList) {
    const SyscallPlan plan = plan_syscalls(Policy{});
    EXPECT_FALSE(plan.allowlist);
    EXPECT_EQ(plan.action_for(SYS_ptrace), Action::Deny);
    EXPECT_EQ(plan.action_for(SYS_mount), Action::Deny);
    EXPECT_EQ(plan.action_for(SYS_getpid), Action::Allow);
    EXPECT_EQ(plan.action_for(SYS_clone), Action::Allow);  // its flags are the argument program's job
}

TEST(SeccompPlan, Clone3IsAlwaysNoSys) {
    for (const Policy& policy : {Policy{}, deny({"clone3"}), allow({"@default", "clone3"})})
        EXPECT_EQ(plan_syscalls(policy).action_for(SYS_clone3), Action::NoSys);
}

TEST(SeccompPlan, ADenyListReplacesTheDefault) {
    const SyscallPlan plan = plan_syscalls(deny({"getpid"}));
    EXPECT_EQ(plan.action_for(SYS_getpid), Action::Deny);
    EXPECT_EQ(plan.action_for(SYS_ptrace), Action::Allow);
}

TEST(SeccompPlan, DefaultGroupExtendsTheDenyList) {
    const SyscallPlan plan = plan_syscalls(deny({"@default", "getpid"}));
    EXPECT_EQ(plan.action_for(SYS_getpid), Action::Deny);
    EXPECT_EQ(plan.action_for(SYS_ptrace), Action::Deny);
    EXPECT_EQ(plan.action_for(SYS_getppid), Action::Allow);
}

TEST(SeccompPlan, AllowlistDeniesEverythingElse) {
    const SyscallPlan plan = plan_syscalls(allow({"@default"}));
    EXPECT_TRUE(plan.allowlist);
    EXPECT_EQ(plan.action_for(SYS_read), Action::Allow);
    EXPECT_EQ(plan.action_for(SYS_execve), Action::Allow);
    EXPECT_EQ(plan.action_for(SYS_syncfs), Action::Deny);
    EXPECT_EQ(plan.action_for(SYS_ptrace), Action::Deny);
}

TEST(SeccompPlan, DenyWinsOverAllow) {
    const SyscallPlan explicit_deny = plan_syscalls([] {
        Policy p = allow({"read", "getpid"});
        p.deny_syscalls = std::vector<std::string>{"getpid"};
        return p;
    }());
    EXPECT_EQ(explicit_deny.action_for(SYS_read), Action::Allow);
    EXPECT_EQ(explicit_deny.action_for(SYS_getpid), Action::Deny);
    // With deny_syscalls unset the default deny list still subtracts from an allowlist.
    EXPECT_EQ(plan_syscalls(allow({"read", "ptrace"})).action_for(SYS_ptrace), Action::Deny);
}

TEST(SeccompPlan, UnknownNamesAreRefusedInEitherList) {
    EXPECT_THROW(plan_syscalls(deny({"nosuchcall"})), sdk::Error);
    EXPECT_THROW(plan_syscalls(allow({"@default", "nosuchcall"})), sdk::Error);
}

TEST(SeccompPlan, NotifyRefinesOnlyWhatIsAllowed) {
    SyscallPlan plan = plan_syscalls(Policy{});
    const int requested[] = {SYS_getppid, SYS_ptrace, SYS_clone3};
    EXPECT_EQ(route_to_listener(plan, requested), 1u);
    EXPECT_EQ(plan.action_for(SYS_getppid), Action::Notify);
    EXPECT_EQ(plan.action_for(SYS_ptrace), Action::Deny);
    EXPECT_EQ(plan.action_for(SYS_clone3), Action::NoSys);

    SyscallPlan strict = plan_syscalls(allow({"read", "openat"}));
    const int wanted[] = {SYS_openat, SYS_connect};
    EXPECT_EQ(route_to_listener(strict, wanted), 1u);
    EXPECT_EQ(strict.action_for(SYS_openat), Action::Notify);
    EXPECT_EQ(strict.action_for(SYS_connect), Action::Deny);
}

}  // namespace
}  // namespace sandlock::seccomp
