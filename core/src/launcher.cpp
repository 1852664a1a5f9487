#include "launcher.hpp"

#include "child_plan.hpp"
#include "child_report.hpp"
#include "exec_diagnosis.hpp"
#include "fd.hpp"
#include "kernel.hpp"
#include "logging.hpp"
#include "plugin_set.hpp"
#include "policy_reach.hpp"
#include "process_tree.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <atomic>

extern char** environ;

namespace sandlock {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kCaptureLimit = 64u << 20;  // per captured stream

constexpr const char* kStageNames[] = {"",          "process group", "user namespace", "rlimits", "filesystem",
                                       "landlock", "seccomp",       "close fds",      "environment", "exec"};

std::string errno_text(int error) { return std::strerror(error); }

// The descriptors of one run; the child's ends are closed in the parent right after fork.
struct RunFds {
    Fd channel_parent, channel_child;
    Fd stdout_read, stdout_write, stderr_read, stderr_write;
    Fd result_read, result_write;
    Fd status_read, status_write;  // namespaced: the init's report of the main process's status
    Fd devnull;
    Fd self_pidfd;                 // namespaced: how the init knows sandlock is still alive
};

constexpr std::size_t kMainStackSize = 1u << 20;

void open_fds(const LaunchSpec& spec, RunFds& fds) {
    std::tie(fds.channel_parent, fds.channel_child) = socket_pair(SOCK_SEQPACKET);
    if (spec.stdio == StdioMode::Capture) {
        std::tie(fds.stdout_read, fds.stdout_write) = pipe_pair();
        std::tie(fds.stderr_read, fds.stderr_write) = pipe_pair();
    }
    if (spec.function != nullptr) std::tie(fds.result_read, fds.result_write) = pipe_pair();
    // Every record carries its sender's pid, translated into our PID namespace: the listener
    // is taken from the process that sent it (the main process, not the init).
    int on = 1;
    if (::setsockopt(fds.channel_parent.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
        throw ConfinementError("cannot set up the child's report channel: " + errno_text(errno));
    if (spec.stdio == StdioMode::Capture || (spec.stdio == StdioMode::Inherit && ::isatty(0)))
        fds.devnull = open_fd("/dev/null", O_RDONLY);
}

void plan_user_namespace(const Policy& policy, const PluginSet& plugins, ChildPlan& plan) {
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    plan.new_user_namespace =
        policy.privileged || (policy.chroot.has_value() && uid != 0) || plugins.needs_user_namespace();
    // privileged: uid 0 inside; otherwise the same ids inside as outside.
    const uid_t inside_uid = policy.privileged ? 0 : uid;
    const gid_t inside_gid = policy.privileged ? 0 : gid;
    std::snprintf(plan.uid_map.data(), plan.uid_map.size(), "%u %u 1\n", inside_uid, uid);
    std::snprintf(plan.gid_map.data(), plan.gid_map.size(), "%u %u 1\n", inside_gid, gid);
}

// The mount namespace's side of item "metadata outside the writable trees": which trees stay
// writable once everything else is remounted read-only (child_mounts.hpp).
void plan_mounts(const Policy& policy, ChildPlan& plan) {
    std::vector<std::string> trees;
    bool whole_root = false;
    for (const auto& entry : policy.fs_writable) {
        std::error_code ec;
        std::string tree = std::filesystem::weakly_canonical(entry, ec).string();
        if (ec || tree.empty()) tree = std::filesystem::path(entry).lexically_normal().string();
        if (tree == "/") whole_root = true;
        trees.push_back(std::move(tree));
    }
    plan.read_only_outside_writable = restricts_filesystem(policy) && !whole_root;
    plan.writable_trees = CStringArray(std::move(trees));
    // What the sandbox cannot reach needs no fresh proc, masks or read-only settings: Landlock
    // already refuses all of it (and each mount costs start-up time).
    plan.set_up_proc = reaches(policy, "/proc");
    plan.set_up_sys = reaches(policy, "/sys");
}

// Said once per process: what a sandbox without its own namespaces does not guarantee.
void warn_without_namespaces(int error) {
    static std::once_flag once;
    std::call_once(once, [error] {
        logging::warning("sandlock", "this system refuses new user/PID/mount namespaces (" + errno_text(error) +
                                     "): the sandbox runs in a process group instead, so a SIGKILLed sandlock "
                                     "can leave processes behind, and chmod/chown/utimes/xattrs outside "
                                     "fs_writable are not refused (see `sandlock check`)");
    });
}

std::atomic<bool> namespaces_unavailable{false};

void check_chroot(const Policy& policy) {
    if (!policy.chroot) return;
    struct stat st {};
    if (::stat(policy.chroot->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw PolicyError("chroot: " + quote_value(*policy.chroot) + " is not a directory (give an existing directory)");
}

// The parent's view of a running child.
class ParentSide {
public:
    ParentSide(PluginSet& plugins, const LaunchSpec& spec, RunFds& fds, pid_t pid, ProcessTree& tree)
        : plugins_(plugins), spec_(spec), fds_(fds), pid_(pid), tree_(tree) {}

    // The channel's records carry credentials: the setup is over when the channel closes.

    // Without a listener to wait for, the after_fork hooks run at once.
    void start() {
        pidfd_ = Fd(pidfd_open(pid_));
        if (!pidfd_) throw ConfinementError("pidfd_open failed: " + errno_text(errno) + " (sandlock needs Linux 5.3+)");
        if (plugins_.notify_requests().empty()) run_after_fork(-1);
    }

    LaunchOutcome wait() {
        const auto deadline = spec_.timeout ? Clock::now() + *spec_.timeout : Clock::time_point::max();
        bool exited = false;
        while (!exited) {
            std::vector<pollfd> polled;
            auto watch = [&](const Fd& fd) {
                if (fd) polled.push_back({fd.get(), POLLIN, 0});
            };
            watch(fds_.channel_parent);
            watch(fds_.stdout_read);
            watch(fds_.stderr_read);
            watch(fds_.result_read);
            polled.push_back({pidfd_.get(), POLLIN, 0});
            if (spec_.cancel_fd >= 0) polled.push_back({spec_.cancel_fd, POLLIN, 0});
            polled.push_back({plugins_.abort_fd(), POLLIN, 0});

            int wait_ms = -1;
            if (spec_.timeout) {
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
                wait_ms = static_cast<int>(std::clamp<long long>(left, 0, 60'000));
            }
            int ready = ::poll(polled.data(), polled.size(), wait_ms);
            if (ready < 0 && errno == EINTR) continue;
            if (ready < 0) throw ConfinementError("poll failed: " + errno_text(errno));
            // Checked after every wake-up: a child that never stops writing must still time out.
            if (Clock::now() >= deadline) {
                end_tree();
                outcome_.result.timed_out = true;
                outcome_.result.exit_code = 124;
                break;
            }
            for (const auto& p : polled) {
                if (exited) break;  // the first of an exit and a cancelling signal decides
                if (p.revents == 0) continue;
                if (p.fd == fds_.channel_parent.get()) read_channel();
                else if (p.fd == fds_.stdout_read.get()) drain(fds_.stdout_read, outcome_.result.stdout_text);
                else if (p.fd == fds_.stderr_read.get()) drain(fds_.stderr_read, outcome_.result.stderr_text);
                else if (p.fd == fds_.result_read.get()) drain(fds_.result_read, function_bytes_);
                else if (p.fd == spec_.cancel_fd) {
                    int sig = read_cancel_signal();
                    end_tree();
                    outcome_.result.term_signal = sig;
                    outcome_.result.exit_code = 128 + sig;
                    exited = true;
                } else if (p.fd == plugins_.abort_fd()) {
                    // A layer can no longer enforce its rules: nothing of the sandbox may go on.
                    record_status(end_tree());
                    exited = true;
                } else if (p.fd == pidfd_.get()) {
                    // Read what the child said before it died, then end the rest of the tree.
                    while (fds_.channel_parent && read_channel()) {
                    }
                    record_status(end_tree());
                    exited = true;
                }
            }
        }
        finish_output();
        run_on_exit({outcome_.result.term_signal ? -1 : outcome_.result.exit_code, outcome_.result.term_signal,
                     outcome_.result.timed_out});
        report_failures();
        if (spec_.function != nullptr && !function_bytes_.empty()) outcome_.function_output = function_bytes_;
        return std::move(outcome_);
    }

    // Kills whatever is left of the tree (used when the parent fails half-way).
    void abort() noexcept {
        try {
            end_tree();
        } catch (...) {
        }
        run_on_exit({-1, SIGKILL, false});
    }

private:
    // Reads one record or end-of-file; returns false once the channel is closed.
    bool read_channel() {
        ChildReport report{};
        iovec iov{&report, sizeof report};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(fds_.channel_parent.get(), &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) return true;
        pid_t sender = 0;
        Fd passed;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred cred{};
                std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                sender = cred.pid;
            } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
                passed = Fd(fd);
            }
        }
        if (n != static_cast<ssize_t>(sizeof report)) {
            fds_.channel_parent.reset();  // end-of-file: the child reached exec (or died)
            // Notify was asked for but no listener came (a layer degraded): the hooks still run.
            if (!after_fork_done_ && !failure_) run_after_fork(-1);
            return false;
        }
        switch (report.kind) {
            case ReportKind::Listener: take_listener(report.value, sender); break;
            case ReportKind::PluginFd:
                if (passed && report.plugin >= 0 && static_cast<std::size_t>(report.plugin) < plugins_.plugins().size())
                    plugins_.plugins()[report.plugin]->receive_fd(passed.release());
                break;
            case ReportKind::StageFailed:
            case ReportKind::ExecFailed: failure_ = report; break;
        }
        return true;
    }

    // `sender` is blocked until we ack, so its pid cannot be reused in between.
    void take_listener(int child_fd, pid_t sender) {
        Fd sender_pidfd;
        int from = pidfd_.get();
        if (tree_.namespaced()) {
            sender_pidfd = Fd(sender > 0 ? pidfd_open(sender) : -1);
            if (!sender_pidfd) throw ConfinementError("cannot find the process that holds the seccomp listener: " +
                                                      errno_text(sender > 0 ? errno : ESRCH));
            from = sender_pidfd.get();
        }
        Fd listener(pidfd_getfd(from, child_fd));
        if (!listener)
            throw ConfinementError("cannot take the seccomp listener from the child (pidfd_getfd: " +
                                   errno_text(errno) + "; is kernel.yama.ptrace_scope above 1?)");
        listener_ = std::move(listener);
        run_after_fork(listener_.get());
        char ack = 1;
        // MSG_NOSIGNAL: a child that died meanwhile must not take sandlock down with SIGPIPE.
        if (::send(fds_.channel_parent.get(), &ack, 1, MSG_NOSIGNAL) != 1)
            throw ConfinementError("cannot release the child after the listener hand-off: " + errno_text(errno));
    }

    void run_after_fork(int listener_fd) {
        after_fork_done_ = true;
        sdk::ParentContext ctx{pid_, pidfd_.get(), listener_fd};
        for (const auto& plugin : plugins_.plugins()) plugin->after_fork(ctx);
    }

    void run_on_exit(const sdk::ExitInfo& info) noexcept {
        if (on_exit_done_) return;
        on_exit_done_ = true;
        for (const auto& plugin : plugins_.plugins()) {
            std::string error = plugin->on_exit(info);
            if (!error.empty() && exit_failure_.empty()) exit_failure_ = std::string(plugin->name()) + ": " + error;
        }
    }

    int read_cancel_signal() {
        signalfd_siginfo info{};
        ssize_t n = ::read(spec_.cancel_fd, &info, sizeof info);
        return n == static_cast<ssize_t>(sizeof info) ? static_cast<int>(info.ssi_signo) : SIGTERM;
    }

    // Kills every process of the sandbox, reaps the main child and returns its wait status.
    int end_tree() {
        if (reaped_) return status_;
        // The main child stays a zombie until the group is gone, so its pid (the group id)
        // cannot be reused by an unrelated process in between.
        // The setup is over once the channel is closed: the init is then in its reaping loop.
        tree_.kill_all(pid_, !fds_.channel_parent);
        while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
        // A namespaced run: the init relayed the main process's status before it exited.
        int relayed = 0;
        if (fds_.status_read && ::read(fds_.status_read.get(), &relayed, sizeof relayed) == sizeof relayed)
            status_ = relayed;
        restore_terminal();
        return status_;
    }

    void record_status(int status) {
        if (WIFEXITED(status)) {
            outcome_.result.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            outcome_.result.term_signal = WTERMSIG(status);
            outcome_.result.exit_code = 128 + WTERMSIG(status);
        }
    }

    void restore_terminal() {
        if (!spec_.took_terminal) return;
        // We are in the background now: without blocking SIGTTOU, tcsetpgrp would stop us.
        sigset_t ttou, old;
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        ::pthread_sigmask(SIG_BLOCK, &ttou, &old);
        ::tcsetpgrp(0, ::getpgrp());
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }

    // Past the cap the pipe is still read (a blocked writer would hang the run) but the bytes
    // are dropped: a sandbox must not be able to exhaust the caller's memory through its output.
    void drain(Fd& fd, std::string& into) {
        char buffer[65536];
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n > 0) {
            std::size_t room = into.size() < kCaptureLimit ? kCaptureLimit - into.size() : 0;
            into.append(buffer, std::min(room, static_cast<std::size_t>(n)));
            if (static_cast<std::size_t>(n) > room) outcome_.result.output_truncated = true;
        } else if (n == 0 || errno != EINTR) {
            fd.reset();
        }
    }

    // Every writer is dead now: read the pipes to their end.
    void finish_output() {
        for (auto [fd, into] : {std::pair{&fds_.stdout_read, &outcome_.result.stdout_text},
                                std::pair{&fds_.stderr_read, &outcome_.result.stderr_text},
                                std::pair{&fds_.result_read, &function_bytes_}}) {
            while (*fd) drain(*fd, *into);
        }
    }

    void report_failures() {
        // An aborted run fails whatever its command did: part of the policy stopped holding.
        if (std::string reason = plugins_.abort_reason(); !reason.empty())
            throw ConfinementError("the sandbox was killed: " + reason);
        if (!failure_) {
            // The command ran, but what a layer does at its end (a branch commit) did not.
            if (!exit_failure_.empty()) {
                outcome_.result.error = exit_failure_;
                outcome_.result.exit_code = 125;
            }
            return;
        }
        const ChildReport& f = *failure_;
        if (f.kind == ReportKind::ExecFailed) {
            const std::string& command = spec_.argv.at(0);
            outcome_.result.exit_code = f.value == ENOENT ? 127 : 126;
            outcome_.result.term_signal = 0;
            if (f.value == ENOENT && f.plugin >= 0 && static_cast<std::size_t>(f.plugin) < spec_.exec_paths.size())
                outcome_.result.error = missing_interpreter(command, spec_.exec_root + spec_.exec_paths[f.plugin]);
            else
                outcome_.result.error = f.value == ENOENT ? command + ": command not found"
                                                          : "cannot run " + command + ": " + errno_text(f.value);
            return;
        }
        std::string where = f.plugin < 0 ? std::string("core")
                                         : "plugin " + std::string(plugins_.plugins().at(f.plugin)->name());
        const char* stage = f.stage <= sdk::kLastStage ? kStageNames[f.stage] : "?";
        throw ConfinementError("stage " + std::to_string(f.stage) + " (" + stage + ") failed in " + where + ": " +
                               errno_text(f.value));
    }

    PluginSet& plugins_;
    const LaunchSpec& spec_;
    RunFds& fds_;
    pid_t pid_;
    ProcessTree& tree_;
    Fd pidfd_;
    Fd listener_;
    std::optional<ChildReport> failure_;
    std::string exit_failure_;  // "plugin: reason" of the first on_exit hook that failed
    std::string function_bytes_;
    LaunchOutcome outcome_;
    int status_ = 0;
    bool reaped_ = false;
    bool on_exit_done_ = false;
    bool after_fork_done_ = false;
};

}  // namespace

LaunchOutcome launch(const Policy& policy, const SandboxOptions& options, LaunchSpec spec) {
    check_chroot(policy);
    PluginSet plugins(policy, options);

    ChildPlan plan;
    std::vector<std::string> env = build_environment(policy, environ);
    if (spec.function == nullptr) {
        if (spec.argv.empty() || spec.argv[0].empty()) throw PolicyError("command: nothing to run (give a command after --)");
        spec.exec_paths = exec_candidates(spec.argv[0], env);
        spec.exec_root = policy.chroot.value_or("");
        plan.exec_paths = CStringArray(spec.exec_paths);
        plan.argv = CStringArray(spec.argv);
    }
    plan.envp = CStringArray(std::move(env));
    plan.function = spec.function;
    plan_user_namespace(policy, plugins, plan);
    plan.chroot_dir = policy.chroot ? policy.chroot->c_str() : nullptr;
    plan.close_fds = policy.close_fds;
    plan.drop_capabilities = !policy.privileged;
    plan.pid_namespace = !namespaces_unavailable.load();
    if (!plan.pid_namespace) warn_without_namespaces(EPERM);
    if (plan.pid_namespace) plan_mounts(policy, plan);
    if (plan.pid_namespace && spec.function == nullptr) {
        plan.main_stack.reset(new char[kMainStackSize]);
        plan.main_stack_size = kMainStackSize;
    }
    plan.landlock_abi = landlock_abi();
    plan.parent_pid = ::getpid();
    for (const auto& plugin : plugins.plugins()) plan.plugins.push_back(plugin.get());

    RunFds fds;
    open_fds(spec, fds);
    plan.channel_fd = fds.channel_child.get();
    plan.result_fd = fds.result_write ? fds.result_write.get() : -1;
    if (plan.pid_namespace) {
        std::tie(fds.status_read, fds.status_write) = pipe_pair();
        if (::fcntl(fds.status_read.get(), F_SETFL, O_NONBLOCK) != 0 || !(fds.self_pidfd = Fd(pidfd_open(::getpid()))))
            throw ConfinementError("cannot prepare the sandbox's init: " + errno_text(errno));
        plan.status_fd = fds.status_write.get();
        plan.parent_pidfd = fds.self_pidfd.get();
    }
    plan.stdin_fd = fds.devnull ? fds.devnull.get() : -1;
    plan.stdout_fd = fds.stdout_write ? fds.stdout_write.get() : -1;
    plan.stderr_fd = fds.stderr_write ? fds.stderr_write.get() : -1;
    // Only from the foreground: a backgrounded `run -i` must not steal the terminal.
    spec.took_terminal = spec.stdio == StdioMode::Terminal && ::isatty(0) && ::tcgetpgrp(0) == ::getpgrp();
    plan.terminal_fd = spec.took_terminal ? 0 : -1;

    ProcessTree tree;
    // The child takes the terminal with SIGTTOU blocked (it inherits this mask, then resets it).
    sigset_t block_ttou, old_mask;
    sigemptyset(&block_ttou);
    sigaddset(&block_ttou, SIGTTOU);
    ::pthread_sigmask(SIG_BLOCK, &block_ttou, &old_mask);
    pid_t pid = -1;
    int fork_error = 0;
    if (plan.pid_namespace) {
        // call() forks a helper first (its function needs the heap fork(2) leaves consistent).
        pid = spec.function != nullptr ? tree.fork_namespaced(fds.status_read.get()) : tree.clone_namespaced();
        if (pid == 0) run_child(plan);
        fork_error = errno;
        if (pid < 0 && namespaces_refused(fork_error)) {
            namespaces_unavailable = true;
            plan.pid_namespace = false;
            warn_without_namespaces(fork_error);
        }
    }
    if (!plan.pid_namespace && lists_under(policy, "/proc")) {
        ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
        throw PolicyError("fs_readable: /proc is granted, but this system refuses the PID namespace that hides "
                          "other processes and the kernel's secrets under it (" + errno_text(fork_error) +
                          "); grant only the paths you need instead of / or /proc, or enable unprivileged "
                          "user namespaces (see `sandlock check`)");
    }
    if (!plan.pid_namespace) {
        pid = tree.fork_main();
        if (pid == 0) run_child(plan);
        fork_error = errno;
    }
    if (pid > 0 && !plan.pid_namespace) ::setpgid(pid, pid);  // also done by the child; whichever runs first wins
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (pid < 0) throw ConfinementError("fork failed: " + errno_text(fork_error));
    fds.status_write.reset();
    fds.self_pidfd.reset();

    fds.channel_child.reset();
    fds.stdout_write.reset();
    fds.stderr_write.reset();
    fds.result_write.reset();
    fds.devnull.reset();

    ParentSide parent(plugins, spec, fds, pid, tree);
    try {
        parent.start();
        return parent.wait();
    } catch (...) {
        parent.abort();
        throw;
    }
}

}  // namespace sandlock
