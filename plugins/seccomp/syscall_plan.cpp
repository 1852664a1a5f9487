#include "syscall_plan.hpp"

#include "syscall_lists.hpp"
#include "syscall_names.hpp"

#include <algorithm>

namespace sandlock::seccomp {

Action SyscallPlan::action_for(int syscall_nr) const {
    auto found = exceptions.find(syscall_nr);
    return found == exceptions.end() ? default_action() : found->second;
}

namespace {
// Changes to the filesystem view the sandbox was given: its masks over kernel secrets, its
// read-only mounts and its root. A `privileged` sandbox (or one in a chroot) holds capabilities
// in its own user namespace, where these mounts are not locked.
constexpr std::string_view kViewChanges[] = {"chroot",    "pivot_root", "mount",  "umount2", "move_mount",
                                             "open_tree", "fsopen",     "fsmount", "fspick", "mount_setattr",
                                             "unshare",   "setns"};
}  // namespace

SyscallPlan plan_syscalls(const Policy& policy) {
    const std::set<int> denied =
        policy.deny_syscalls
            ? resolve_policy_list("deny_syscalls", *policy.deny_syscalls, default_deny_list())
            : resolve_builtin(default_deny_list());

    SyscallPlan plan;
    if (policy.allow_syscalls) {
        plan.allowlist = true;
        const std::set<int> allowed =
            resolve_policy_list("allow_syscalls", *policy.allow_syscalls, default_allow_list());
        for (int nr : allowed)
            if (!denied.contains(nr)) plan.exceptions[nr] = Action::Allow;
    } else {
        for (int nr : denied) plan.exceptions[nr] = Action::Deny;
    }

    // They stay denied whatever deny_syscalls and allow_syscalls say.
    for (int nr : resolve_builtin(kViewChanges)) plan.exceptions[nr] = Action::Deny;

    const ResolvedName clone3 = resolve_syscall("clone3");
    if (clone3.kind == NameKind::Native) plan.exceptions[clone3.number] = Action::NoSys;
    return plan;
}

std::size_t route_to_listener(SyscallPlan& plan, std::span<const int> requested,
                              std::span<const sdk::NotifyRule> conditional) {
    for (int nr : requested)
        if (nr >= 0 && plan.action_for(nr) == Action::Allow) plan.exceptions[nr] = Action::Notify;
    for (const sdk::NotifyRule& rule : conditional) {
        const int nr = rule.syscall_nr;
        if (nr < 0 || plan.action_for(nr) != Action::Allow) continue;  // denied, or already always routed
        // An allowlist names the syscall in an unconditional rule, which would swallow the
        // conditions in libseccomp (filter_builder.hpp): every call is routed instead.
        if (plan.exceptions.contains(nr)) {
            plan.exceptions[nr] = Action::Notify;
            continue;
        }
        plan.notify_when[nr].push_back(rule);
    }
    return plan.notify_when.size() +
           static_cast<std::size_t>(std::ranges::count(plan.exceptions, Action::Notify,
                                                       [](const auto& entry) { return entry.second; }));
}

}  // namespace sandlock::seccomp
