// The exported programs, installed for real in a forked child (no sandbox core involved).
#include "filter_builder.hpp"
#include "filter_install.hpp"
#include "syscall_plan.hpp"

#include "foreign_arch.hpp"

#include <gtest/gtest.h>

#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <new>
#include <thread>
#include <vector>

namespace sandlock::seccomp {
namespace {

Policy allowlist_policy() {
    Policy p;
    p.allow_syscalls = std::vector<std::string>{"@default"};
    return p;
}

// The errno a raw syscall left, 0 when it succeeded.
int errno_of(long rc) { return rc < 0 ? errno : 0; }

sock_fprog fprog(Program& program) { return {static_cast<unsigned short>(program.size()), program.data()}; }

// Calls whose unfiltered outcome is not EPERM (ESRCH, EBADF, success), so EPERM means the filter.
int ptrace_attach() { return errno_of(::syscall(SYS_ptrace, PTRACE_ATTACH, 0x3fffffff, 0, 0)); }
int syncfs_bad_fd() { return errno_of(::syscall(SYS_syncfs, -1)); }
int ioctl_bad_fd(unsigned long request) { return errno_of(::syscall(SYS_ioctl, -1, request, 0)); }

// Installs both programs the way the plugin does in a forked child, runs `body` there and
// returns the child's wait status (body's return value is the exit code).
template <class Body>
int run_filtered(const SyscallPlan& plan, Body body) {
    Program arguments = build_argument_program();
    Program syscalls = build_syscall_program(plan);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);  // SIGSYS would dump core otherwise
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(200);
        if (install_filter(fprog(arguments)) != 0) ::_exit(201);
        if (install_filter(fprog(syscalls)) != 0) ::_exit(202);
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

// The exit code of a filtered child, or -1 (with a test failure) if it did not exit.
template <class Body>
int errno_in_child(const SyscallPlan& plan, Body body) {
    const int status = run_filtered(plan, body);
    EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// clone(2) with `flags`, fork-style; the new process exits at once.
int clone_errno(unsigned long flags) {
    const long pid = ::syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) ::_exit(0);
    if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return errno_of(pid);
}

TEST(SeccompProgram, BothProgramsAreNonEmpty) {
    EXPECT_GT(build_argument_program().size(), 4u);
    EXPECT_GT(build_syscall_program(plan_syscalls(Policy{})).size(), 50u);
    EXPECT_GT(build_syscall_program(plan_syscalls(allowlist_policy())).size(), 50u);
}

TEST(SeccompProgram, DefaultListDeniesWithEperm) {
    const SyscallPlan plan = plan_syscalls(Policy{});
    // Unfiltered, these fail with ESRCH / EFAULT / succeed: only the filter gives EPERM.
    EXPECT_EQ(errno_in_child(plan, ptrace_attach), EPERM);
    EXPECT_EQ(errno_in_child(plan, [] { return errno_of(::syscall(SYS_mount, 0, 0, 0, 0, 0)); }), EPERM);
    EXPECT_EQ(errno_in_child(plan, [] { return errno_of(::syscall(SYS_unshare, 0)); }), EPERM);
    EXPECT_EQ(errno_in_child(plan, [] { return errno_of(::syscall(SYS_getpid)); }), 0);
}

TEST(SeccompProgram, Clone3FailsWithEnosys) {
    for (const SyscallPlan& plan : {plan_syscalls(Policy{}), plan_syscalls(allowlist_policy())})
        EXPECT_EQ(errno_in_child(plan, [] { return errno_of(::syscall(SYS_clone3, 0, 0)); }), ENOSYS);
}

TEST(SeccompProgram, CloneWithANamespaceFlagIsDenied) {
    for (const SyscallPlan& plan : {plan_syscalls(Policy{}), plan_syscalls(allowlist_policy())}) {
        EXPECT_EQ(errno_in_child(plan, [] { return clone_errno(CLONE_NEWUSER); }), EPERM);
        EXPECT_EQ(errno_in_child(plan, [] { return clone_errno(CLONE_NEWNET | CLONE_FILES); }), EPERM);
        EXPECT_EQ(errno_in_child(plan, [] { return clone_errno(0); }), 0);
    }
}

TEST(SeccompProgram, TerminalInjectionIsDeniedWhateverTheHighBits) {
    for (const SyscallPlan& plan : {plan_syscalls(Policy{}), plan_syscalls(allowlist_policy())}) {
        // Unfiltered, ioctl on fd -1 fails with EBADF: EPERM proves the filter decided.
        EXPECT_EQ(errno_in_child(plan, [] { return ioctl_bad_fd(TIOCSTI); }), EPERM);
        EXPECT_EQ(errno_in_child(plan, [] { return ioctl_bad_fd(TIOCSTI | (1ul << 32)); }), EPERM);
        EXPECT_EQ(errno_in_child(plan, [] { return ioctl_bad_fd(TIOCLINUX); }), EPERM);
        EXPECT_EQ(errno_in_child(plan, [] { return ioctl_bad_fd(TCGETS); }), EBADF);
    }
}

TEST(SeccompProgram, AllowlistDeniesUnlistedCalls) {
    const SyscallPlan plan = plan_syscalls(allowlist_policy());
    EXPECT_EQ(errno_in_child(plan, syncfs_bad_fd), EPERM);
    EXPECT_EQ(errno_in_child(plan, ptrace_attach), EPERM);
    EXPECT_EQ(errno_in_child(plan, [] { return errno_of(::syscall(SYS_getppid)); }), 0);
    EXPECT_EQ(errno_in_child(plan_syscalls(Policy{}), syncfs_bad_fd), EBADF);
}

TEST(SeccompProgram, ListenerIsCreatedForRoutedSyscalls) {
    SyscallPlan plan = plan_syscalls(Policy{});
    const int requested[] = {SYS_getppid};
    route_to_listener(plan, requested);
    Program syscalls = build_syscall_program(plan);
    const int status = run_filtered(plan_syscalls(Policy{}), [&] {
        const int fd = install_filter_with_listener(fprog(syscalls));
        return fd >= 0 ? 0 : -fd;
    });
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "errno of seccomp(NEW_LISTENER)";
}

// What memory_limit.cpp asks for: mmap private and writable, mprotect adding write, a new break.
const sdk::NotifyRule kMemoryRules[] = {
    {SYS_mmap, 2, {{2, SANDLOCK_NOTIFY_MASKED_EQ, PROT_WRITE, PROT_WRITE}, {3, SANDLOCK_NOTIFY_MASKED_EQ, MAP_TYPE, MAP_PRIVATE}}},
    {SYS_mmap, 2, {{2, SANDLOCK_NOTIFY_MASKED_EQ, PROT_WRITE, PROT_WRITE}, {3, SANDLOCK_NOTIFY_MASKED_EQ, MAP_TYPE, 0x08}}},
    {SYS_mprotect, 1, {{2, SANDLOCK_NOTIFY_MASKED_EQ, PROT_WRITE, PROT_WRITE}}},
    {SYS_brk, 1, {{0, SANDLOCK_NOTIFY_NOT_ZERO, 0, 0}}},
};

// Runs `calls` in a child filtered by `plan` with its listener, a thread of the child answering
// every notification with CONTINUE; returns the bit set of the calls (by index) that were
// notified.
// `split`: the plan's routing as a program of its own (build_routing_program), installed with
// the listener after the plan's programs without it, as the plugin does over baked programs.
template <class Calls>
int notified_calls(const SyscallPlan& plan, Calls calls, const SyscallPlan* split = nullptr) {
    Program arguments = build_argument_program();
    Program syscalls = build_syscall_program(split != nullptr ? *split : plan);
    Program routing = split != nullptr ? build_routing_program(plan) : Program{};
    // The bits the child's answering thread sets, shared with this process.
    void* shared = ::mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return -1;
    auto& seen = *new (shared) std::atomic<int>(0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::atomic<int> listener{-1};
        std::atomic<int> current{-1};  // the index of the call being made
        // Started unfiltered, before the filter: starting a thread maps its stack (notified).
        std::thread answering([&] {
            while (listener.load() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            for (;;) {
                seccomp_notif request{};
                if (::ioctl(listener.load(), SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) return;
                if (current.load() >= 0) seen |= 1 << current.load();
                seccomp_notif_resp response{};
                response.id = request.id;
                response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                ::ioctl(listener.load(), SECCOMP_IOCTL_NOTIF_SEND, &response);
            }
        });
        answering.detach();
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || install_filter(fprog(arguments)) != 0) ::_exit(255);
        if (split != nullptr && install_filter(fprog(syscalls)) != 0) ::_exit(253);
        const int fd = install_filter_with_listener(fprog(split != nullptr ? routing : syscalls));
        if (fd < 0) ::_exit(254);
        listener = fd;
        calls(current);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    const int bits = seen.load();
    ::munmap(shared, sizeof(std::atomic<int>));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    return bits;
}

TEST(SeccompProgram, ConditionalNotificationsRouteExactlyTheCallsThatMeetThem) {
    SyscallPlan plan = plan_syscalls(Policy{});
    EXPECT_EQ(route_to_listener(plan, {}, kMemoryRules), 3u);
    const int notified = notified_calls(plan, [](std::atomic<int>& current) {
        auto map = [](unsigned long prot, unsigned long flags) {
            ::syscall(SYS_mmap, 0, 4096, prot, flags | MAP_ANONYMOUS, -1, 0);
        };
        current = 0, map(PROT_READ, MAP_PRIVATE);                            // no
        current = 1, map(PROT_READ | PROT_WRITE, MAP_PRIVATE);               // yes
        current = 2, map(PROT_READ | PROT_WRITE, MAP_SHARED);                // no
        current = 3, map(PROT_READ | PROT_WRITE, MAP_PRIVATE | (1ul << 40));  // yes: junk the kernel ignores
        current = 4, map(PROT_WRITE | (1ul << 33), MAP_PRIVATE);             // yes
        void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        current = 5, ::syscall(SYS_mprotect, page, 4096, PROT_READ);         // no
        current = 6, ::syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_WRITE);  // yes
        current = 7, ::syscall(SYS_brk, 0);                                  // no
        current = 8, ::syscall(SYS_brk, 1ul << 32);                          // yes: only the high half is set
        current = 9, ::syscall(SYS_getppid);                                 // no
        current = 10, map(PROT_READ | PROT_WRITE, 0x08);                     // yes: MAP_DROPPABLE
        current = 11, map(PROT_READ, 0x08);                                  // no
    });
    EXPECT_EQ(notified, (1 << 1) | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8) | (1 << 10));
}

TEST(SeccompProgram, ARoutingProgramOverTheUnroutedPlanRoutesTheSameCalls) {
    const SyscallPlan unrouted = plan_syscalls(Policy{});
    SyscallPlan plan = unrouted;
    const int always[] = {SYS_getppid, SYS_ptrace};  // ptrace is denied: it stays denied
    route_to_listener(plan, always, kMemoryRules);
    int ptrace_errno = -1;
    const int notified = notified_calls(
        plan,
        [&](std::atomic<int>& current) {
            auto map = [](unsigned long prot, unsigned long flags) {
                ::syscall(SYS_mmap, 0, 4096, prot, flags | MAP_ANONYMOUS, -1, 0);
            };
            current = 0, map(PROT_READ, MAP_PRIVATE);                    // no
            current = 1, map(PROT_READ | PROT_WRITE, MAP_PRIVATE);       // yes
            current = 2, map(PROT_READ | PROT_WRITE, MAP_SHARED);        // no
            current = 3, ::syscall(SYS_brk, 0);                          // no
            current = 4, ::syscall(SYS_brk, 1ul << 32);                  // yes
            current = 5, ::syscall(SYS_getppid);                         // yes: always
            current = 6, ::syscall(SYS_getpid);                          // no
            current = 7, ptrace_errno = ptrace_attach();                 // no: denied
            if (ptrace_errno != EPERM) ::_exit(10);
        },
        &unrouted);
    EXPECT_EQ(notified, (1 << 1) | (1 << 4) | (1 << 5));
}

TEST(SeccompProgram, ConditionsYieldToAnUnconditionalRequestAnAllowlistAndADenial) {
    SyscallPlan plan = plan_syscalls(Policy{});
    const int always[] = {SYS_brk};
    route_to_listener(plan, always, kMemoryRules);
    EXPECT_EQ(plan.action_for(SYS_brk), Action::Notify);
    EXPECT_FALSE(plan.notify_when.contains(SYS_brk));
    EXPECT_TRUE(plan.notify_when.contains(SYS_mmap));
    // An allowlist names mmap unconditionally: every call is routed (libseccomp would let the
    // unconditional rule swallow the conditions).
    SyscallPlan strict = plan_syscalls(allowlist_policy());
    route_to_listener(strict, {}, kMemoryRules);
    EXPECT_EQ(strict.action_for(SYS_mmap), Action::Notify);
    EXPECT_TRUE(strict.notify_when.empty());
    EXPECT_EQ(notified_calls(strict, [&](std::atomic<int>& current) {
                  current = 0, ::syscall(SYS_brk, 0);
                  current = 1, ::syscall(SYS_getppid);
              }),
              1 << 0);
    // A denied syscall stays denied.
    Policy deny_brk;
    deny_brk.deny_syscalls = std::vector<std::string>{"brk"};
    SyscallPlan denied = plan_syscalls(deny_brk);
    route_to_listener(denied, {}, kMemoryRules);
    EXPECT_EQ(denied.action_for(SYS_brk), Action::Deny);
    EXPECT_FALSE(denied.notify_when.contains(SYS_brk));
}

#if defined(__x86_64__)
TEST(SeccompProgram, ForeignArchitecturesAreKilled) {
    const SyscallPlan plan = plan_syscalls(Policy{});
    // i386 getpid through the 32-bit entry point, probed unconfined first (foreign_arch.hpp).
    const int i386 = run_filtered(plan, [] {
        test::ia32_getpid();
        return 0;
    });
    EXPECT_TRUE(WIFSIGNALED(i386) && WTERMSIG(i386) == test::expected_ia32_death())
        << "status " << i386 << ", i386 entry " << (test::ia32_entry_available() ? "present" : "absent");
    // x32 getpid: the x32 bit on an x86_64 syscall number.
    const int x32 = run_filtered(plan, [] { return errno_of(::syscall(0x40000000 | SYS_getpid)); });
    EXPECT_TRUE(WIFSIGNALED(x32) && WTERMSIG(x32) == SIGSYS) << "status " << x32;
}
#endif

}  // namespace
}  // namespace sandlock::seccomp
