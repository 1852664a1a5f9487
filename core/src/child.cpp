// The child side of the pipeline: stages 1-9 between fork and exec. Everything here is
// async-signal-safe: it reads the prepared ChildPlan and makes raw system calls only.
#include "child_mounts.hpp"
#include "child_plan.hpp"
#include "child_report.hpp"
#include "exec_attempt.hpp"
#include "init_record.hpp"
#include "raw_syscall.hpp"
#include "spawner.hpp"

#include <sandlock/sdk/abi.hpp>

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <iterator>

namespace sandlock {
namespace {

using sdk::Stage;

constexpr int kCoreIndex = -1;

// Whether the report went out (a filter denying write, say, would keep it back). Raw: the
// listener's report is the moment sandlock starts running its own code beside this process,
// in the same memory if the init shares sandlock's (hand_over_listener).
bool send_report(const ChildPlan& plan, ReportKind kind, Stage stage, int plugin, int value) noexcept {
    ChildReport report{kind, static_cast<std::uint32_t>(stage), plugin, value};
    long n;
    while ((n = raw::call(SYS_write, plan.channel_fd, reinterpret_cast<long>(&report), sizeof report)) == -EINTR) {
    }
    return n == static_cast<long>(sizeof report);
}

[[noreturn]] void fail(const ChildPlan& plan, Stage stage, int plugin, int error) noexcept {
    send_report(plan, ReportKind::StageFailed, stage, plugin, error);
    ::_exit(125);
}

// The fd a plugin's stage left for its parent side travels with the report (SCM_RIGHTS).
void hand_over_plugin_fd(const ChildPlan& plan, Stage stage, int plugin, sdk::ChildContext& ctx) noexcept {
    ChildReport report{ReportKind::PluginFd, static_cast<std::uint32_t>(stage), plugin, 0};
    iovec iov{&report, sizeof report};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &ctx.handover_fd, sizeof(int));
    ssize_t n;
    while ((n = ::sendmsg(plan.channel_fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    const int error = n < 0 ? errno : 0;
    ::close(ctx.handover_fd);
    ctx.handover_fd = -1;
    if (error != 0) fail(plan, stage, plugin, error);
}

// Runs the plugins registered for `stage`; the first failure ends the child.
void run_plugins(const ChildPlan& plan, Stage stage, sdk::ChildContext& ctx) noexcept {
    for (std::size_t i = 0; i < plan.plugins.size(); ++i) {
        LoadedPlugin* plugin = plan.plugins[i];
        if (!plugin->runs_in(stage)) continue;
        int rc = plugin->child_stage(stage, &ctx);
        if (rc != 0) fail(plan, stage, static_cast<int>(i), rc < 0 ? -rc : rc);
        if (ctx.handover_fd >= 0) hand_over_plugin_fd(plan, stage, static_cast<int>(i), ctx);
    }
}

int write_file(const char* path, const char* text) noexcept {
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t len = static_cast<ssize_t>(std::strlen(text));
    int rc = ::write(fd, text, len) == len ? 0 : errno;
    ::close(fd);
    return rc;
}

void reset_signals() noexcept {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTTOU, SIGTTIN, SIGTSTP, SIGCHLD, SIGUSR1, SIGUSR2})
        ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void setup_stdio(const ChildPlan& plan) noexcept {
    const int from[] = {plan.stdin_fd, plan.stdout_fd, plan.stderr_fd};
    for (int target = 0; target < 3; ++target)
        if (from[target] >= 0 && ::dup2(from[target], target) < 0) fail(plan, Stage::ProcessGroup, kCoreIndex, errno);
}

// The main process of a namespaced sandbox stays in its init's group, which owns the terminal.
void stage_process_group(const ChildPlan& plan) noexcept {
    if (::setpgid(0, 0) < 0) fail(plan, Stage::ProcessGroup, kCoreIndex, errno);
    // Interactive runs own the terminal; SIGTTOU is still blocked (inherited mask) here.
    if (plan.terminal_fd >= 0 && ::tcsetpgrp(plan.terminal_fd, ::getpid()) < 0)
        fail(plan, Stage::ProcessGroup, kCoreIndex, errno);
}

void write_id_maps(const ChildPlan& plan) noexcept {
    // A process may map its own ids into the namespace it just created: no parent round trip.
    int rc = write_file("/proc/self/setgroups", "deny");
    if (rc == 0) rc = write_file("/proc/self/uid_map", plan.uid_map.data());
    if (rc == 0) rc = write_file("/proc/self/gid_map", plan.gid_map.data());
    if (rc != 0) fail(plan, Stage::UserNamespace, kCoreIndex, rc);
}

void stage_user_namespace(const ChildPlan& plan) noexcept {
    if (!plan.new_user_namespace || plan.pid_namespace) return;  // the init made one already
    if (::unshare(CLONE_NEWUSER) < 0) fail(plan, Stage::UserNamespace, kCoreIndex, errno);
    write_id_maps(plan);
}

// Bounding, ambient, inheritable, permitted and effective sets all empty: a root caller's
// program can reconfigure nothing (netlink, mknod, the kernel log), and no exec regains any.
// Without CAP_SETPCAP (an unprivileged caller outside a namespace) the bounding set cannot
// shrink, but there is nothing to regain either: no_new_privs stops set-user-ID programs.
void stage_drop_capabilities(const ChildPlan& plan) noexcept {
    if (!plan.drop_capabilities) return;
    // One call per capability until the kernel knows no more (EINVAL); EPERM means no
    // CAP_SETPCAP, so none can be dropped (the kernel checks that first).
    for (unsigned long cap = 0;; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        if (errno == EINVAL || errno == EPERM) break;
        fail(plan, Stage::Filesystem, kCoreIndex, errno);
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        fail(plan, Stage::Filesystem, kCoreIndex, errno);
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capset, &header, none) < 0) fail(plan, Stage::Filesystem, kCoreIndex, errno);
}

// Where the init is dumpable until the main process has exec'd (sandlock takes a listener from
// it, or forks a function or a spawner from it), and without namespaces (where sandlock itself
// is the parent), the main process enters a Landlock domain of the core's own: a process in a
// domain may not trace, or read the memory, environment or fds of, a process outside it,
// whatever the dumpable flags and capabilities. Only there: each domain is one of the 16
// layers Landlock allows. Returns the sandbox's root, opened before any chroot, or -1.
int open_root_for_core_domain(const ChildPlan& plan) noexcept {
    const bool needed = !plan.pid_namespace || !plan.seal_before_main;
    return needed && plan.landlock_abi >= 2 ? ::open("/", O_PATH | O_CLOEXEC) : -1;
}

// The domain handles only moving files between directories and allows that beneath the root
// (a chroot's outside too), so it refuses nothing but what any filesystem domain does: mounts,
// which seccomp's deny list refuses too. (An ABI 1 domain would refuse every such move.) After
// the layers' own domains, which come first; with no room left (E2BIG) it is left out, and the
// dumpable flag and the capabilities guard the init alone, as before.
void stage_core_domain(const ChildPlan& plan, int root) noexcept {
    if (root < 0) return;
    landlock_ruleset_attr attr{};
    attr.handled_access_fs = LANDLOCK_ACCESS_FS_REFER;
    const int ruleset = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
    landlock_path_beneath_attr beneath{};
    beneath.allowed_access = LANDLOCK_ACCESS_FS_REFER;
    beneath.parent_fd = root;
    const bool applied = ruleset >= 0 &&
                         ::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) == 0 &&
                         ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
                         ::syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
    const int error = errno;
    ::close(root);
    if (ruleset >= 0) ::close(ruleset);
    if (!applied && error != E2BIG) fail(plan, Stage::Landlock, kCoreIndex, error);
}

void stage_chroot(const ChildPlan& plan) noexcept {
    if (plan.chroot_dir == nullptr) return;
    if (::chroot(plan.chroot_dir) < 0 || ::chdir("/") < 0) fail(plan, Stage::Filesystem, kCoreIndex, errno);
}

// Reports `kind` and waits for the parent's ack. Raw from the report to the ack: sandlock runs
// its hooks meanwhile, in this memory if the init shares sandlock's, and this process must not
// touch errno, the thread block or the lazily bound symbol table they share until then.
void report_and_await_ack(const ChildPlan& plan, ReportKind kind, int value) noexcept {
    if (!send_report(plan, kind, Stage::Seccomp, kCoreIndex, value)) ::_exit(125);  // no ack would come
    char ack = 0;
    long n;
    while ((n = raw::call(SYS_read, plan.channel_fd, reinterpret_cast<long>(&ack), 1)) == -EINTR) {
    }
    if (n != 1) ::_exit(125);  // the parent is gone or refused: nothing to report to
}

// The seccomp layer left a listener fd: the parent copies it with pidfd_getfd and acks, so
// nothing here depends on a syscall a plugin may route to the listener (sendmsg, say). Where
// the init shares sandlock's memory, sandlock seals that memory before it acks, also when no
// listener came after all (seccomp or its notifications unavailable, and best effort).
void hand_over_listener(const ChildPlan& plan, sdk::ChildContext& ctx) noexcept {
    if (ctx.listener_fd < 0) {
        if (plan.seal_at_listener) report_and_await_ack(plan, ReportKind::NoListener, 0);
        return;
    }
    report_and_await_ack(plan, ReportKind::Listener, ctx.listener_fd);
    ::close(ctx.listener_fd);
    ctx.listener_fd = -1;
}

void close_range_checked(const ChildPlan& plan, unsigned first, unsigned last) noexcept {
    if (first <= last && ::syscall(SYS_close_range, first, last, 0) < 0) fail(plan, Stage::CloseFds, kCoreIndex, errno);
}

void stage_close_fds(const ChildPlan& plan) noexcept {
    if (!plan.close_fds) return;
    // Keep the setup channel (close-on-exec, it tells the parent we reached exec), the result
    // pipe of call() and the spawner's socket; close everything else from 3 up.
    int keep[3] = {plan.channel_fd, plan.result_fd, plan.spawn_fd};
    std::sort(std::begin(keep), std::end(keep));
    unsigned next = 3;
    for (int fd : keep) {
        if (fd < static_cast<int>(next)) continue;
        close_range_checked(plan, next, static_cast<unsigned>(fd) - 1);
        next = static_cast<unsigned>(fd) + 1;
    }
    close_range_checked(plan, next, ~0u);
}

[[noreturn]] void stage_exec(const ChildPlan& plan) noexcept {
    const ExecFailure f = exec_in_turn(plan.exec_paths.data(), plan.exec_paths.size(), plan.argv.data(), plan.envp.data());
    send_report(plan, ReportKind::ExecFailed, Stage::Exec, f.error == ENOENT ? f.candidate : kCoreIndex, f.error);
    ::_exit(f.error == ENOENT ? 127 : 126);
}

// call(): the function runs in place of exec; its outcome goes through result_fd as a tag
// byte ('V' value, 'E' error) followed by the text.
[[noreturn]] void run_function(const ChildPlan& plan) noexcept {
    ::close(plan.channel_fd);  // setup is over: end-of-file for the parent
    // The sandbox's environment (clean_env, env), as exec would have given it.
    environ = const_cast<char**>(plan.envp.data());
    char tag = 'V';
    std::string text;
    try {
        text = (*plan.function)();
    } catch (const std::exception& e) {
        tag = 'E';
        text = e.what();
    } catch (...) {
        tag = 'E';
        text = "unknown exception";
    }
    auto write_all = [&](const char* data, std::size_t size) {
        while (size > 0) {
            ssize_t n = ::write(plan.result_fd, data, size);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) ::_exit(125);
            data += n;
            size -= static_cast<std::size_t>(n);
        }
    };
    write_all(&tag, 1);
    write_all(text.data(), text.size());
    ::_exit(0);
}

[[noreturn]] void run_main(const ChildPlan& plan) noexcept {
    // Die with the parent; if it is already gone, stop before doing anything. (A namespaced
    // main process's parent is its init, suspended until this process execs.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!plan.pid_namespace && ::getppid() != plan.parent_pid) ::_exit(125);
    if (plan.pid_namespace) ::close(plan.status_fd);  // the init's line to sandlock, not ours

    sdk::ChildContext ctx{-1, plan.landlock_abi, -1};
    setup_stdio(plan);

    if (!plan.pid_namespace) stage_process_group(plan);
    reset_signals();
    run_plugins(plan, Stage::ProcessGroup, ctx);

    stage_user_namespace(plan);
    run_plugins(plan, Stage::UserNamespace, ctx);

    run_plugins(plan, Stage::Rlimits, ctx);

    const int root = open_root_for_core_domain(plan);
    stage_chroot(plan);
    run_plugins(plan, Stage::Filesystem, ctx);
    stage_drop_capabilities(plan);

    run_plugins(plan, Stage::Landlock, ctx);
    stage_core_domain(plan, root);

    run_plugins(plan, Stage::Seccomp, ctx);
    hand_over_listener(plan, ctx);

    stage_close_fds(plan);
    run_plugins(plan, Stage::CloseFds, ctx);

    run_plugins(plan, Stage::Environment, ctx);  // envp itself was built before fork

    run_plugins(plan, Stage::Exec, ctx);
    if (plan.function != nullptr) run_function(plan);
    if (plan.spawner) run_spawner(plan);
    stage_exec(plan);
}

int main_entry(void* plan) { run_main(*static_cast<const ChildPlan*>(plan)); }

void write_init_record(int fd, InitRecordKind kind, int value) noexcept {
    const InitRecord record{kind, value};
    while (raw::call(SYS_write, fd, reinterpret_cast<long>(&record), sizeof record) == -EINTR) {
    }
}

[[noreturn]] void init_exit(int code) noexcept {
    for (;;) raw::call(SYS_exit_group, code);
}

// Kills what is left and reaps it all, so the CPU time of every process reaches sandlock's
// RUSAGE_CHILDREN (the kernel's own clean-up when an init dies reaps without accounting).
// kill(-1) from a PID namespace's init reaches exactly the namespace, and a process being
// forked by a killed parent is never created.
void reap_everything() noexcept {
    for (;;) {
        raw::call(SYS_kill, -1, SIGKILL);
        if (raw::call(SYS_wait4, -1, 0, __WALL, 0) == -ECHILD) return;
    }
}

// The init once its main process runs: raw system calls on its own stack only, since it may be
// sharing sandlock's memory (launcher.cpp). Signals arrive blocked, on `signal_fd`:
// - SIGCHLD: reap; when the main process ended, kill and reap the rest, relay its status, exit;
// - SIGTERM, from sandlock or from the sandbox itself (which may only end itself): end it all;
// - SIGUSR1 / SIGUSR2 from sandlock: stop / continue every other process of the namespace at
//   once (a fork under way is restarted rather than leaving an unstopped child), then say so.
//   Only sandlock, outside the namespace, is obeyed (its pid reads as 0 here): a process of the
//   sandbox cannot order a pause or a resume. (The fallback for a sandbox without a cgroup.)
[[noreturn]] void init_loop(int status_fd, int signal_fd, pid_t main) noexcept {
    for (;;) {
        signalfd_siginfo info{};
        const long n = raw::call(SYS_read, signal_fd, reinterpret_cast<long>(&info), sizeof info);
        if (n == -EINTR) continue;
        if (n != static_cast<long>(sizeof info)) init_exit(125);
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGTERM) raw::call(SYS_kill, -1, SIGKILL);
        if ((sig == SIGUSR1 || sig == SIGUSR2) && info.ssi_pid == 0 && info.ssi_code == SI_USER) {
            const bool pause = sig == SIGUSR1;
            raw::call(SYS_kill, -1, pause ? SIGSTOP : SIGCONT);
            write_init_record(status_fd, pause ? InitRecordKind::Paused : InitRecordKind::Resumed, 0);
        }
        // Whatever woke us: SIGCHLDs of several exits arrive as one.
        for (;;) {
            int status = 0;
            const long pid = raw::call(SYS_wait4, -1, reinterpret_cast<long>(&status), WNOHANG | __WALL, 0);
            if (pid == -EINTR) continue;
            if (pid == 0) break;
            if (pid < 0) init_exit(125);
            if (pid != main) continue;  // an orphan, reaped
            reap_everything();
            write_init_record(status_fd, InitRecordKind::MainStatus, status);
            init_exit(0);
        }
    }
}

// Closes every fd but `a` and `b`.
void close_all_but(int a, int b) noexcept {
    const unsigned low = static_cast<unsigned>(a < b ? a : b);
    const unsigned high = static_cast<unsigned>(a < b ? b : a);
    if (low > 0) raw::call(SYS_close_range, 0, low - 1, 0);
    if (high > low + 1) raw::call(SYS_close_range, low + 1, high - 1, 0);
    raw::call(SYS_close_range, high + 1, ~0u, 0);
}

// pid 1 of the sandbox. It holds capabilities only inside the sandbox's user namespace, is
// neither landlocked nor filtered, and runs nothing but this: the mounts, the main process,
// then reaping until the main process ends. It then kills and reaps the rest, relays the main
// process's status and exits; if it dies any other way, the kernel kills the rest.
// It may run in sandlock's own memory: `plan` is read only until the main process has exec'd
// (sandlock waits in the kernel until then), and nothing of sandlock is written.
[[noreturn]] void run_init(const ChildPlan& plan) noexcept {
    // Every signal stays blocked (the launching thread blocked them around the clone, but for
    // call()'s helper): what the init obeys it reads from a signalfd. The handlers are
    // sandlock's (or a library host's: Python's SIGINT handler writes to its event loop's
    // wakeup fd), not the init's; with default ones a namespace's init ignores what the
    // sandbox sends, and the main process starts from them.
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    pollfd parent{plan.parent_pidfd, POLLIN, 0};
    if (::poll(&parent, 1, 0) != 0) ::_exit(125);  // sandlock died before PDEATHSIG was set
    ::close(plan.parent_pidfd);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // libc's own refuse: fine
    sigset_t obeyed;
    sigemptyset(&obeyed);
    for (int sig : {SIGCHLD, SIGTERM, SIGUSR1, SIGUSR2}) sigaddset(&obeyed, sig);
    const int signal_fd = ::signalfd(-1, &obeyed, SFD_CLOEXEC);
    if (signal_fd < 0) fail(plan, Stage::ProcessGroup, kCoreIndex, errno);
    const int status_fd = plan.status_fd;

    // Its PID namespace, for sandlock: an unprivileged sandlock may not look at a non-dumpable init.
    struct stat own_namespace {};
    if (::stat("/proc/self/ns/pid", &own_namespace) == 0)
        write_init_record(status_fd, InitRecordKind::PidNamespace, static_cast<int>(own_namespace.st_ino));
    stage_process_group(plan);  // with SIGTTOU blocked
    write_id_maps(plan);  // while the memory is dumpable: /proc/self/uid_map is root's after
    // The sandbox may not read or trace its init. Done before the main process exists (or, in
    // sandlock's memory, by sandlock once it took the listener: running_sandbox.cpp), the
    // program it execs never meets a dumpable init (and, sharing sandlock's memory, sandlock).
    if (const long rc = plan.seal_before_main ? raw::call(SYS_prctl, PR_SET_DUMPABLE, 0) : 0; rc != 0)
        fail(plan, Stage::ProcessGroup, kCoreIndex, static_cast<int>(-rc));
    if (int rc = set_up_mounts(plan); rc != 0) fail(plan, Stage::Filesystem, kCoreIndex, rc);

    pid_t main = -1;
    if (plan.function != nullptr) {
        // call(): the function needs its own copy of the heap, which fork(2) leaves consistent.
        main = ::fork();
        if (main == 0) run_main(plan);
    } else if (plan.spawner) {
        // The spawner lives as long as the sandbox: a copy of this address space of its own
        // (raw: it allocates nothing, so fork's atfork handlers are not needed).
        main = static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, 0));
        if (main == 0) run_main(plan);
    } else {
        // Suspended here until the main process has exec'd (or died): like posix_spawn, no
        // copy of this address space is made.
        main = ::clone(main_entry, plan.main_stack->top(), CLONE_VM | CLONE_VFORK | SIGCHLD, const_cast<ChildPlan*>(&plan));
    }
    if (main < 0) fail(plan, Stage::Exec, kCoreIndex, errno);
    // From here on: raw calls, no `plan`. The init needs only the status pipe and its signals:
    // every other fd sandlock had (its stdio, other runs' pipes, a library host's files) goes,
    // so nothing is held open for them. The main process has its own table by now (a
    // vfork-style clone returns once it exec'd).
    close_all_but(status_fd, signal_fd);
    if (raw::call(SYS_prctl, PR_SET_DUMPABLE, 0) != 0) init_exit(125);  // if not yet: after the listener, in a copy
    write_init_record(status_fd, InitRecordKind::MainStarted, 0);
    init_loop(status_fd, signal_fd, main);
}

// call(): a helper forked by sandlock (so its heap is consistent) clones the init as its
// sibling — sandlock's child, pid 1 of the new namespaces — reports the init's pid (or
// -errno) on the status pipe and exits.
[[noreturn]] void run_init_helper(const ChildPlan& plan) noexcept {
    const long init = ::syscall(SYS_clone, CLONE_PARENT | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | SIGCHLD,
                                nullptr, nullptr, nullptr, 0);
    if (init == 0) run_init(plan);
    write_init_record(plan.status_fd, InitRecordKind::InitPid, init > 0 ? static_cast<int>(init) : -errno);
    ::_exit(0);
}

}  // namespace

int child_entry(void* plan) noexcept { run_child(*static_cast<const ChildPlan*>(plan)); }

void run_child(const ChildPlan& plan) noexcept {
    if (plan.pid_namespace && plan.function != nullptr) run_init_helper(plan);
    if (plan.pid_namespace) run_init(plan);
    run_main(plan);
}

}  // namespace sandlock
