#include "running_sandbox.hpp"

#include "exec_diagnosis.hpp"
#include "init_record.hpp"
#include "kernel.hpp"
#include "raw_syscall.hpp"

#include <sandlock/errors.hpp>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

namespace sandlock {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kCaptureLimit = 64u << 20;  // per captured stream
// How long the init may take to confirm a pause or resume (it does so at once).
constexpr int kInitAnswerMs = 5000;

constexpr const char* kStageNames[] = {"",          "process group", "user namespace", "rlimits", "filesystem",
                                       "landlock", "seccomp",       "close fds",      "environment", "exec"};

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

RunningSandbox::RunningSandbox(Policy policy, const SandboxOptions& options, LaunchSpec spec)
    : policy_(std::move(policy)),
      spec_(std::move(spec)),
      reach_(policy_),
      plugins_(policy_, reach_, options),
      deadline_(spec_.timeout ? Clock::now() + *spec_.timeout : Clock::time_point::max()) {}

RunningSandbox::~RunningSandbox() {
    // Its stack must not be freed under a live init: end it first (its death ends the sandbox).
    if (init_in_our_memory_ > 0 && !reaped_) {
        ::kill(init_in_our_memory_, SIGKILL);
        while (::waitpid(init_in_our_memory_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
}

char* RunningSandbox::prepare_init_in_our_memory(std::size_t stack_size) {
    init_stack_ = std::make_unique<GuardedStack>(stack_size);
    // At most a handed-over fd per plugin and stage before the listener, and a failure.
    early_reports_.reserve(plugins_.plugins().size() * std::size(kStageNames) + 1);
    return init_stack_->top();
}

// Raw calls only: the init shares this thread's errno (and the main process, on its way to
// exec, too), and both branch on it. A timeout or a cancelling signal ends the init, and with
// it the sandbox; wait() then reports it. Returns once the init no longer reads the launcher's
// ChildPlan: it said so, or it is a zombie, which it becomes only once its namespace is empty
// (its pidfd says when; the pipe's end of file comes before, or never if a forked host thread
// kept a copy).
// One exception: the listener hand-off, which runs the plugins' after_fork hooks. The main
// process then waits in the kernel for our ack (raw calls on its side too) and the init for
// its exec, so neither touches errno or anything else of ours until the ack, which we send
// raw once our memory is sealed (take_listener); after it we are back to raw calls. The
// reports before it (a plugin's handed-over fd, say) are kept as they come, and handled first.
void RunningSandbox::await_main_started_in_our_memory(pid_t init, const sigset_t& caller_mask) noexcept {
    init_in_our_memory_ = init;
    pid_ = init;
    caller_mask_ = &caller_mask;
    const long pidfd = raw::call(SYS_pidfd_open, init, 0);
    if (pidfd >= 0) pidfd_ = Fd(static_cast<int>(pidfd));
    bool ending = false;
    bool overflowed = false;
    bool channel_open = plugins_.routes_notifications();  // the only report we wait for is the listener
    for (;;) {
        pollfd polled[4] = {{static_cast<int>(pidfd), POLLIN, 0}, {fds_.status_read.get(), POLLIN, 0},
                            {ending ? -1 : spec_.cancel_fd, POLLIN, 0},
                            {channel_open && !ending ? fds_.channel_parent.get() : -1, POLLIN, 0}};
        timespec left{};
        timespec* timeout = nullptr;
        if (!ending && deadline_ != Clock::time_point::max()) {
            const auto ns = std::max<long long>(
                0, std::chrono::duration_cast<std::chrono::nanoseconds>(deadline_ - Clock::now()).count());
            left = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
            timeout = &left;
        }
        const long ready = raw::call(SYS_ppoll, reinterpret_cast<long>(polled), 4, reinterpret_cast<long>(timeout), 0, 0);
        if (ready == -EINTR) continue;
        if (!ending && (ready <= 0 || polled[2].revents != 0)) {
            raw::call(SYS_kill, init, SIGKILL);
            ending = true;
            continue;
        }
        if (ready <= 0 || polled[0].revents != 0) break;  // no pidfd (an old kernel), or a zombie
        if (polled[1].revents != 0) {
            InitRecord record{};
            const long n = raw::call(SYS_read, fds_.status_read.get(), reinterpret_cast<long>(&record), sizeof record);
            if (n == static_cast<long>(sizeof record)) {
                note_init_record(record);
                if (record.kind == InitRecordKind::MainStarted) break;
            } else if (n != -EAGAIN && n != -EINTR) {
                break;  // end of file: the init is exiting
            }
        }
        if (polled[3].revents == 0) continue;
        ReceivedReport received{};
        const long n = receive_report(fds_.channel_parent.get(), MSG_DONTWAIT, received);
        if (n == -EAGAIN || n == -EINTR) continue;
        if (n != static_cast<long>(sizeof(ChildReport))) {
            if (received.fd >= 0) raw::call(SYS_close, received.fd);
            channel_open = false;  // the main process exec'd or died: wait() reads the rest
        } else if (received.report.kind != ReportKind::Listener && received.report.kind != ReportKind::NoListener) {
            if (early_reports_.size() < early_reports_.capacity()) {
                early_reports_.push_back(received);
                continue;
            }
            if (received.fd >= 0) raw::call(SYS_close, received.fd);
            raw::call(SYS_kill, init, SIGKILL);  // more than the stages can send
            ending = overflowed = true;
        } else {  // the main process waits for our ack
            if (received.fd >= 0) raw::call(SYS_close, received.fd);  // none belongs to these reports
            try {
                if (received.report.kind == ReportKind::NoListener) {
                    seal_and_release();  // raw: nothing runs beside us
                } else {
                    handle_early_reports();
                    take_listener(received.report.value, received.sender);
                }
            } catch (...) {
                handoff_error_ = std::current_exception();
                raw::call(SYS_kill, init, SIGKILL);
                ending = true;
            }
            channel_open = false;
        }
    }
    caller_mask_ = nullptr;
    listener_refused_ = !after_fork_done_ && plugins_.routes_notifications();
    if (main_started_) return;
    // Zombie only once its namespace is empty: the main process no longer runs on the plan.
    siginfo_t info{};
    while (raw::call(SYS_waitid, P_PID, init, reinterpret_cast<long>(&info), WEXITED | WNOWAIT, 0) == -EINTR) {
    }
    if (overflowed) {
        for (const ReceivedReport& early : std::exchange(early_reports_, {}))
            if (early.fd >= 0) ::close(early.fd);
        handoff_error_ = std::make_exception_ptr(ConfinementError("the sandbox's setup sent more reports than its stages can"));
    }
}

// The reports await_main_started_in_our_memory kept, in their order.
void RunningSandbox::handle_early_reports() {
    std::vector<ReceivedReport> reports = std::exchange(early_reports_, {});
    for (auto it = reports.begin(); it != reports.end(); ++it) {
        try {
            handle_report(*it);
        } catch (...) {
            for (auto rest = it + 1; rest != reports.end(); ++rest)
                if (rest->fd >= 0) ::close(rest->fd);
            throw;
        }
    }
}

void RunningSandbox::started(pid_t pid) {
    pid_ = pid;
    if (handoff_error_) std::rethrow_exception(std::exchange(handoff_error_, nullptr));
    for (const InitRecord& record : tree_.init_records_read()) note_init_record(record);
    handle_early_reports();
    if (!pidfd_) pidfd_ = Fd(pidfd_open(pid_));
    if (!pidfd_) throw ConfinementError("pidfd_open failed: " + errno_text(errno) + " (sandlock needs Linux 5.3+)");
    // Without a listener to wait for, the after_fork hooks run at once (a spawner's, once it
    // said who it is).
    if (!plugins_.routes_notifications() && !spec_.spawner) run_after_fork(-1);
}

LaunchOutcome RunningSandbox::wait() {
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
        // A cancelling signal before the exit it may have caused (an init ended while in our
        // memory, for one: await_main_started_in_our_memory).
        if (spec_.cancel_fd >= 0) polled.push_back({spec_.cancel_fd, POLLIN, 0});
        polled.push_back({pidfd_.get(), POLLIN, 0});
        polled.push_back({plugins_.abort_fd(), POLLIN, 0});

        int wait_ms = -1;
        if (spec_.timeout) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
            wait_ms = static_cast<int>(std::clamp<long long>(left, 0, 60'000));
        }
        int ready = ::poll(polled.data(), polled.size(), wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw ConfinementError("poll failed: " + errno_text(errno));
        // Checked after every wake-up: a child that never stops writing must still time out.
        if (Clock::now() >= deadline_) {
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

void RunningSandbox::finish_setup() {
    while (fds_.channel_parent) {
        pollfd polled[3] = {{fds_.channel_parent.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0},
                            {plugins_.abort_fd(), POLLIN, 0}};
        if (::poll(polled, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw ConfinementError("poll failed: " + errno_text(errno));
        }
        if (polled[0].revents != 0) read_channel();
        if (polled[1].revents != 0 || polled[2].revents != 0) {
            while (fds_.channel_parent && read_channel()) {
            }
            break;
        }
    }
    if (spawner_pid_ > 0) spawner_pidfd_ = Fd(pidfd_open(spawner_pid_));  // it cannot exit before its init
    if (failure_ || !spawner_pidfd_ || !plugins_.abort_reason().empty()) {
        end_tree();
        run_on_exit({-1, SIGKILL, false});
        report_failures();  // throws for a failed stage or an abort
        throw ConfinementError("the sandbox ended before it was ready (its init or spawner died)");
    }
}

std::uint64_t RunningSandbox::sandbox_pid_namespace() {
    if (!tree_.namespaced()) return 0;
    // The init's first record, written before anything else it does.
    if (pid_namespace_ == 0) await_init_record(static_cast<int>(InitRecordKind::PidNamespace), kInitAnswerMs);
    return pid_namespace_;
}

void RunningSandbox::wake_spawner() const {
    if (!paused_ && spawner_pidfd_) ::syscall(SYS_pidfd_send_signal, spawner_pidfd_.get(), SIGCONT, nullptr, 0);
}

void RunningSandbox::abort() noexcept {
    try {
        end_tree();
    } catch (...) {
    }
    run_on_exit({-1, SIGKILL, false});
}

long RunningSandbox::receive_report(int channel, int flags, ReceivedReport& out) noexcept {
    out.sender = 0;
    out.fd = -1;
    iovec iov{&out.report, sizeof out.report};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const long n = raw::call(SYS_recvmsg, channel, reinterpret_cast<long>(&msg), flags | MSG_CMSG_CLOEXEC);
    if (n < 0) return n;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            ucred cred{};
            std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
            out.sender = cred.pid;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
            std::memcpy(&out.fd, CMSG_DATA(c), sizeof out.fd);
        }
    }
    return n;
}

// Reads one record or end-of-file; returns false once the channel is closed.
bool RunningSandbox::read_channel() {
    ReceivedReport received{};
    const long n = receive_report(fds_.channel_parent.get(), 0, received);
    if (n == -EINTR) return true;
    if (n != static_cast<long>(sizeof(ChildReport))) {
        Fd passed(received.fd);
        fds_.channel_parent.reset();  // end-of-file: the child reached exec (or died)
        // Notify was asked for but no listener came (a layer degraded): the hooks still run.
        if (!after_fork_done_ && !failure_) run_after_fork(-1);
        return false;
    }
    handle_report(received);
    return true;
}

void RunningSandbox::handle_report(const ReceivedReport& received) {
    Fd passed(received.fd);
    const ChildReport& report = received.report;
    switch (report.kind) {
        // One that came as the wait above ended the sandbox is stale: its sender is gone.
        case ReportKind::Listener:
            if (!listener_refused_) take_listener(report.value, received.sender);
            break;
        case ReportKind::NoListener:  // its sender waits for the ack
            if (!listener_refused_) seal_and_release();
            break;
        case ReportKind::PluginFd:
            if (passed && report.plugin >= 0 && static_cast<std::size_t>(report.plugin) < plugins_.plugins().size())
                plugins_.plugins()[report.plugin]->receive_fd(passed.release());
            break;
        case ReportKind::Spawner: spawner_pid_ = received.sender; break;
        case ReportKind::StageFailed:
        case ReportKind::ExecFailed: failure_ = report; break;
    }
}

// `sender` is blocked until we ack, so its pid cannot be reused in between.
void RunningSandbox::take_listener(int child_fd, pid_t sender) {
    {
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
    }
    if (spec_.spawner) spawner_pid_ = sender > 0 ? sender : pid_;  // the main process is the spawner
    if (caller_mask_ == nullptr) {
        run_after_fork(listener_.get());
    } else {
        // The launching thread blocks every signal while an init runs in our memory; the
        // threads the hooks start inherit the caller's mask instead, as they do elsewhere.
        sigset_t ours;
        ::pthread_sigmask(SIG_SETMASK, caller_mask_, &ours);
        try {
            run_after_fork(listener_.get());
        } catch (...) {
            ::pthread_sigmask(SIG_SETMASK, &ours, nullptr);
            throw;
        }
        ::pthread_sigmask(SIG_SETMASK, &ours, nullptr);
    }
    seal_and_release();
}

// An init in our memory (await_main_started_in_our_memory): our memory is sealed before the
// command runs (see the init's own seal), here, after the hooks, by us: nothing of the sandbox
// can refuse or fake it. Then the ack. Raw: the main process runs once acked.
void RunningSandbox::seal_and_release() {
    if (init_in_our_memory_ > 0)
        if (const long rc = raw::call(SYS_prctl, PR_SET_DUMPABLE, 0); rc != 0)
            throw ConfinementError("cannot make sandlock's memory non-dumpable: " + errno_text(static_cast<int>(-rc)));
    const char ack = 1;
    // MSG_NOSIGNAL: a child that died meanwhile must not take sandlock down with SIGPIPE.
    const long sent = raw::call(SYS_sendto, fds_.channel_parent.get(), reinterpret_cast<long>(&ack), 1, MSG_NOSIGNAL, 0);
    if (sent != 1) throw ConfinementError("cannot release the child after the listener hand-off: " +
                                          errno_text(sent < 0 ? static_cast<int>(-sent) : EIO));
}

void RunningSandbox::run_after_fork(int listener_fd) {
    after_fork_done_ = true;
    sdk::ParentContext ctx{pid_, pidfd_.get(), listener_fd, spawner_pid_, sandbox_pid_namespace()};
    for (const auto& plugin : plugins_.plugins()) {
        // With an init in our memory only the notif layer serves notifications (launcher.cpp):
        // another plugin's code must not answer them there.
        ctx.listener_fd = init_in_our_memory_ > 0 && plugin->name() != kNotifLayer ? -1 : listener_fd;
        plugin->after_fork(ctx);
    }
}

void RunningSandbox::run_on_exit(const sdk::ExitInfo& info) noexcept {
    if (on_exit_done_) return;
    on_exit_done_ = true;
    for (const auto& plugin : plugins_.plugins()) {
        std::string error = plugin->on_exit(info);
        if (!error.empty() && exit_failure_.empty()) exit_failure_ = std::string(plugin->name()) + ": " + error;
    }
}

int RunningSandbox::read_cancel_signal() {
    signalfd_siginfo info{};
    ssize_t n = ::read(spec_.cancel_fd, &info, sizeof info);
    return n == static_cast<ssize_t>(sizeof info) ? static_cast<int>(info.ssi_signo) : SIGTERM;
}

void RunningSandbox::note_init_record(const InitRecord& record) {
    if (record.kind == InitRecordKind::MainStatus) relayed_status_ = record.value;
    if (record.kind == InitRecordKind::PidNamespace) pid_namespace_ = static_cast<std::uint32_t>(record.value);
    if (record.kind == InitRecordKind::MainStarted) main_started_ = true;
}

bool RunningSandbox::await_init_record(int kind, int wait_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
    while (fds_.status_read) {
        InitRecord record{};
        const ssize_t n = ::read(fds_.status_read.get(), &record, sizeof record);
        if (n == static_cast<ssize_t>(sizeof record)) {
            note_init_record(record);
            if (static_cast<int>(record.kind) == kind) return true;
            continue;
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;  // the init is gone
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd readable{fds_.status_read.get(), POLLIN, 0};
        ::poll(&readable, 1, static_cast<int>(left));
    }
    return false;
}

void RunningSandbox::set_paused(bool paused) {
    if (paused == paused_) return;
    if (!tree_.namespaced())
        throw SandboxError("pause and resume need the sandbox's own PID namespace, which this system refuses "
                           "(see `sandlock check`)");
    if (reaped_) throw SandboxError("the sandbox has ended");
    if (paused) control(R"({"command":"pause"})");
    if (cgroup_) {
        // Frozen processes stay frozen whatever signal reaches them.
        if (!cgroup_->set_frozen(paused, kInitAnswerMs)) {
            cgroup_->set_frozen(false, kInitAnswerMs);  // all or nothing
            if (paused) control(R"({"command":"resume"})");
            throw SandboxError(std::string("the sandbox's cgroup did not ") + (paused ? "freeze" : "thaw") +
                               " in time (the sandbox may have ended)");
        }
        paused_ = paused;
        if (!paused) control(R"({"command":"resume"})");
        return;
    }
    const int sig = paused ? SIGUSR1 : SIGUSR2;
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0 ||
        !await_init_record(static_cast<int>(paused ? InitRecordKind::Paused : InitRecordKind::Resumed), kInitAnswerMs)) {
        if (paused) {
            // All or nothing: a pause the init carries out late must not stay behind while we
            // report it failed (and would refuse to resume what we believe runs).
            ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGUSR2, nullptr, 0);
            await_init_record(static_cast<int>(InitRecordKind::Resumed), kInitAnswerMs);
            control(R"({"command":"resume"})");
        }
        throw SandboxError(std::string("the sandbox's init did not confirm the ") + (paused ? "pause" : "resume") +
                           " (the sandbox may have ended)");
    }
    paused_ = paused;
    if (!paused) control(R"({"command":"resume"})");
}

std::vector<std::pair<std::string, std::string>> RunningSandbox::control(const std::string& request_json,
                                                                         const std::vector<std::string>& only) {
    std::vector<std::pair<std::string, std::string>> answers;
    for (const auto& plugin : plugins_.plugins()) {
        const std::string name(plugin->name());
        if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
        std::optional<std::string> answer;
        try {
            answer = plugin->control(request_json);
        } catch (const PluginError& e) {
            throw PluginError(name + ": " + e.what());
        }
        if (answer) answers.emplace_back(name, std::move(*answer));
    }
    return answers;
}

// Kills every process of the sandbox, reaps the main child and returns its wait status.
int RunningSandbox::end_tree() {
    if (reaped_) return status_;
    // The main child stays a zombie until the group is gone, so its pid (the group id)
    // cannot be reused by an unrelated process in between.
    // The setup is over once the channel is closed: the init is then in its reaping loop.
    tree_.kill_all(pid_, !fds_.channel_parent);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    // A namespaced run: the init relayed the main process's status before it exited.
    if (!relayed_status_) await_init_record(static_cast<int>(InitRecordKind::MainStatus), 0);
    if (relayed_status_) status_ = *relayed_status_;
    restore_terminal();
    return status_;
}

void RunningSandbox::record_status(int status) {
    if (WIFEXITED(status)) {
        outcome_.result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        outcome_.result.term_signal = WTERMSIG(status);
        outcome_.result.exit_code = 128 + WTERMSIG(status);
    }
}

void RunningSandbox::restore_terminal() {
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
void RunningSandbox::drain(Fd& fd, std::string& into) {
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
void RunningSandbox::finish_output() {
    for (auto [fd, into] : {std::pair{&fds_.stdout_read, &outcome_.result.stdout_text},
                            std::pair{&fds_.stderr_read, &outcome_.result.stderr_text},
                            std::pair{&fds_.result_read, &function_bytes_}}) {
        while (*fd) drain(*fd, *into);
    }
}

void RunningSandbox::report_failures() {
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

}  // namespace sandlock
