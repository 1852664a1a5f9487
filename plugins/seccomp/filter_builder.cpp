#include "filter_builder.hpp"

#include "syscall_names.hpp"

#include <sandlock/sdk/owned_fd.hpp>
#include <sandlock/sdk/plugin.hpp>

#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace sandlock::seccomp {
namespace {

// Namespace flags clone(2) accepts (CLONE_NEWTIME only works through clone3/unshare).
constexpr std::uint64_t kCloneNamespaceFlags[] = {
    CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};
// Ioctls that push input into a terminal another process reads.
constexpr std::uint64_t kDeniedIoctls[] = {TIOCSTI, TIOCLINUX};
// The send calls and the index of their flags argument, for the MSG_FASTOPEN rule.
constexpr std::pair<int, unsigned> kSendFlagsArgument[] = {
    {SCMP_SYS(sendto), 3}, {SCMP_SYS(sendmsg), 2}, {SCMP_SYS(sendmmsg), 3}};
// Transports that reach ports outside Landlock's TCP hooks: MPTCP, SCTP, DCCP.
constexpr std::uint64_t kUnguardedProtocols[] = {262, 132, 33};
constexpr std::uint64_t kInetFamilies[] = {AF_INET, AF_INET6};
// {level, optname} of the socket options that route a packet past its destination: the IPv6
// routing header (RFC 3542 and RFC 2292 numbers) and IPv4 options (source routing).
constexpr std::pair<std::uint64_t, std::uint64_t> kSourceRoutingOptions[] = {
    {41 /* IPPROTO_IPV6 */, 57 /* IPV6_RTHDR */}, {41, 5 /* IPV6_2292RTHDR */}, {0 /* IPPROTO_IP */, 4 /* IP_OPTIONS */}};
// The kernel reads these arguments as int: compare only the low half.
constexpr std::uint64_t kIntMask = 0xffffffffu;
// The kernel reads an ioctl request as an unsigned int: compare only those bits, or a request
// with junk in the high half would slip past the filter and still reach the ioctl.
constexpr std::uint64_t kIoctlRequestMask = 0xffffffffu;

struct ContextDeleter {
    void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

void check(int rc, const std::string& what) {
    if (rc < 0) throw sdk::Error(what + " failed: " + std::strerror(-rc));
}


Context new_context(std::uint32_t default_action) {
    Context ctx(seccomp_init(default_action));
    if (!ctx) throw sdk::Error("cannot create a libseccomp filter context");
    check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
          "setting the bad-architecture action");
    return ctx;
}

std::uint32_t to_libseccomp(Action action) {
    switch (action) {
        case Action::Allow: return SCMP_ACT_ALLOW;
        case Action::Deny: return SCMP_ACT_ERRNO(EPERM);
        case Action::NoSys: return SCMP_ACT_ERRNO(ENOSYS);
        case Action::Notify: return SCMP_ACT_NOTIFY;
    }
    return SCMP_ACT_ERRNO(EPERM);
}

// libseccomp 2.5 exports only to a file descriptor: go through a memfd and read it back.
Program export_program(const Context& ctx) {
    sdk::OwnedFd memfd(::memfd_create("sandlock-seccomp", MFD_CLOEXEC));
    if (memfd.get() < 0)
        throw sdk::Error(std::string("memfd_create for the BPF export: ") + std::strerror(errno));
    check(seccomp_export_bpf(ctx.get(), memfd.get()), "exporting the BPF program");

    const off_t size = ::lseek(memfd.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        throw sdk::Error("libseccomp exported a malformed program");
    Program program(static_cast<std::size_t>(size) / sizeof(sock_filter));
    const ssize_t got = ::pread(memfd.get(), program.data(), static_cast<std::size_t>(size), 0);
    if (got != size) throw sdk::Error("cannot read back the exported BPF program");
    return program;
}

void add_argument_rules(const Context& ctx, const NetworkGuards& net) {
    const std::uint32_t deny = SCMP_ACT_ERRNO(EPERM);
    for (std::uint64_t flag : kCloneNamespaceFlags)
        check(seccomp_rule_add(ctx.get(), deny, SCMP_SYS(clone), 1,
                               SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
              "adding the clone namespace-flag rule");
    for (std::uint64_t request : kDeniedIoctls)
        check(seccomp_rule_add(ctx.get(), deny, SCMP_SYS(ioctl), 1,
                               SCMP_A1(SCMP_CMP_MASKED_EQ, kIoctlRequestMask, request)),
              "adding the ioctl rule");
    // One bit of the flags: the high half of the register and every other flag do not matter.
    if (net.fast_open)
        for (const auto& [nr, index] : kSendFlagsArgument) {
            const scmp_arg_cmp fast_open{index, SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN};
            check(seccomp_rule_add_array(ctx.get(), SCMP_ACT_ERRNO(EACCES), nr, 1, &fast_open),
                  "adding the MSG_FASTOPEN rule");
        }
    if (net.other_transports)
        for (std::uint64_t family : kInetFamilies)
            for (std::uint64_t protocol : kUnguardedProtocols)
                check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPROTONOSUPPORT), SCMP_SYS(socket), 2,
                                       SCMP_A0(SCMP_CMP_MASKED_EQ, kIntMask, family),
                                       SCMP_A2(SCMP_CMP_MASKED_EQ, kIntMask, protocol)),
                      "adding the socket protocol rule");
    if (net.source_routing)
        for (const auto& [level, option] : kSourceRoutingOptions)
            check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), SCMP_SYS(setsockopt), 2,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, kIntMask, level),
                                   SCMP_A2(SCMP_CMP_MASKED_EQ, kIntMask, option)),
                  "adding the source-routing rule");
}

// The syscalls the argument rules look at: a plan that routes one of them elsewhere needs the
// argument rules in a program of their own (see filter_builder.hpp).
bool plan_touches_argument_rules(const SyscallPlan& plan) {
    auto touched = [&](int nr) { return plan.exceptions.contains(nr) || plan.notify_when.contains(nr); };
    if (touched(SCMP_SYS(clone)) || touched(SCMP_SYS(ioctl))) return true;
    if (plan.net.fast_open)
        for (const auto& [nr, index] : kSendFlagsArgument)
            if (touched(nr)) return true;
    if (plan.net.other_transports && touched(SCMP_SYS(socket))) return true;
    if (plan.net.source_routing && touched(SCMP_SYS(setsockopt))) return true;
    return false;
}

scmp_arg_cmp comparison_of(const sdk::NotifyCondition& c) {
    if (c.op == SANDLOCK_NOTIFY_NOT_ZERO) return SCMP_CMP(c.arg, SCMP_CMP_NE, 0);  // all 64 bits
    return SCMP_CMP(c.arg, SCMP_CMP_MASKED_EQ, c.mask, c.value);
}

// Conditional routing: the syscall's default action otherwise (allow; never an exception).
void add_conditional_routing(const Context& ctx, const SyscallPlan& plan) {
    for (const auto& [nr, rules] : plan.notify_when) {
        for (const sdk::NotifyRule& rule : rules) {
            scmp_arg_cmp comparisons[SANDLOCK_NOTIFY_MAX_CONDITIONS];
            for (std::uint32_t i = 0; i < rule.condition_count; ++i) comparisons[i] = comparison_of(rule.conditions[i]);
            check(seccomp_rule_add_exact_array(ctx.get(), SCMP_ACT_NOTIFY, nr, rule.condition_count, comparisons),
                  "adding the conditional notification of " + syscall_name(nr));
        }
    }
}

void add_plan_rules(const Context& ctx, const SyscallPlan& plan) {
    for (const auto& [nr, action] : plan.exceptions) {
        if (action == plan.default_action()) continue;  // libseccomp refuses redundant rules
        check(seccomp_rule_add(ctx.get(), to_libseccomp(action), nr, 0),
              "adding the rule for " + syscall_name(nr));
    }
    add_conditional_routing(ctx, plan);
}

// Binary-tree layout: shorter paths through the program, but it costs libseccomp more time to
// build than it saves at run time for a program built on every start (since Linux 5.11 the
// kernel skips the program for always-allowed syscalls) — worth it only for baked programs.
void set_optimize(const Context& ctx, bool optimize) {
    if (optimize) check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "setting the optimization level");
}

}  // namespace

Program build_argument_program(const NetworkGuards& net) {
    Context ctx = new_context(SCMP_ACT_ALLOW);
    add_argument_rules(ctx, net);
    return export_program(ctx);
}

Program build_syscall_program(const SyscallPlan& plan, bool optimize) {
    Context ctx = new_context(to_libseccomp(plan.default_action()));
    set_optimize(ctx, optimize);
    add_plan_rules(ctx, plan);
    return export_program(ctx);
}

Program build_routing_program(const SyscallPlan& plan) {
    Context ctx = new_context(SCMP_ACT_ALLOW);
    for (const auto& [nr, action] : plan.exceptions)
        if (action == Action::Notify)
            check(seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, nr, 0), "adding the notification of " + syscall_name(nr));
    add_conditional_routing(ctx, plan);
    return export_program(ctx);
}

std::vector<Program> build_programs(const SyscallPlan& plan, bool optimize) {
    const bool arguments_fit = !plan.allowlist && !plan_touches_argument_rules(plan);
    if (!arguments_fit) return {build_argument_program(plan.net), build_syscall_program(plan, optimize)};
    Context ctx = new_context(SCMP_ACT_ALLOW);
    set_optimize(ctx, optimize);
    add_argument_rules(ctx, plan.net);
    add_plan_rules(ctx, plan);
    return {export_program(ctx)};
}

}  // namespace sandlock::seccomp
