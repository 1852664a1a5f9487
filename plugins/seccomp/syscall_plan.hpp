// What the syscall program does with each syscall, decided from the Policy before anything
// is built: a default action plus the syscalls that differ from it.
#pragma once

#include <sandlock/sdk/abi.hpp>
#include <sandlock/sdk/policy.hpp>

#include <map>
#include <span>
#include <vector>

namespace sandlock::seccomp {

enum class Action {
    Allow,
    Deny,    // fails with EPERM
    NoSys,   // fails with ENOSYS, so libc falls back to an older call
    Notify,  // routed to the user-notification listener
};

// Argument rules that keep the network fields from being gone around.
struct NetworkGuards {
    // net_connect: sendto/sendmsg/sendmmsg with MSG_FASTOPEN fail with EACCES (the implicit
    // TCP Fast Open connect has no Landlock hook, so it would reach any port).
    bool fast_open = false;
    // net_connect, net_bind, net_allow_hosts: IPv4/IPv6 sockets of MPTCP, SCTP and DCCP fail
    // with EPROTONOSUPPORT (they connect and listen outside Landlock's TCP hooks, and SCTP
    // associates through setsockopt, never calling connect).
    bool other_transports = false;
    // net_allow_hosts: setsockopt of an IPv6 routing header or IPv4 options fails with EACCES
    // (a packet addressed to an allowed host would be routed on to any other).
    bool source_routing = false;

    bool any() const { return fast_open || other_transports || source_routing; }
};

struct SyscallPlan {
    bool allowlist = false;              // true: default Deny, else default Allow
    std::map<int, Action> exceptions;    // syscalls whose action is not the default
    // Syscalls routed to the listener only when a rule's conditions hold (any rule of the
    // syscall), else left to the default action (Allow: they are never exceptions).
    std::map<int, std::vector<sdk::NotifyRule>> notify_when;
    NetworkGuards net;

    Action default_action() const { return allowlist ? Action::Deny : Action::Allow; }
    Action action_for(int syscall_nr) const;
};

// Reads deny_syscalls / allow_syscalls; throws sdk::Error on an unknown name.
//  - deny_syscalls unset: the default deny list; set: exactly its names ("@default" expands).
//  - allow_syscalls set: allowlist mode, its names minus the denied ones (deny wins).
//  - clone3 always fails with ENOSYS: its flags live in memory the filter cannot read, and
//    on ENOSYS libc falls back to clone, whose flags the argument program checks.
SyscallPlan plan_syscalls(const Policy& policy);

// Routes the requested syscalls to the listener when the plan lets them run, and those of
// `conditional` (request_notify_when) when their conditions hold; a denied syscall stays denied
// (notification refines what is allowed, it never opens anything), and a syscall requested
// both ways is always routed. Returns how many syscalls are now routed, always or sometimes.
std::size_t route_to_listener(SyscallPlan& plan, std::span<const int> requested,
                              std::span<const sdk::NotifyRule> conditional = {});

}  // namespace sandlock::seccomp
