// The child side of the pipeline: stages 1-9 between fork and exec. Everything here is
// async-signal-safe: it reads the prepared ChildPlan and makes raw system calls only.
#include "child_plan.hpp"
#include "child_report.hpp"

#include <sandlock/sdk/abi.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>

namespace sandlock {
namespace {

using sdk::Stage;

constexpr int kCoreIndex = -1;

void send_report(const ChildPlan& plan, ReportKind kind, Stage stage, int plugin, int value) noexcept {
    ChildReport report{kind, static_cast<std::uint32_t>(stage), plugin, value};
    while (::write(plan.channel_fd, &report, sizeof report) < 0 && errno == EINTR) {
    }
}

[[noreturn]] void fail(const ChildPlan& plan, Stage stage, int plugin, int error) noexcept {
    send_report(plan, ReportKind::StageFailed, stage, plugin, error);
    ::_exit(125);
}

// Runs the plugins registered for `stage`; the first failure ends the child.
void run_plugins(const ChildPlan& plan, Stage stage, sdk::ChildContext& ctx) noexcept {
    for (std::size_t i = 0; i < plan.plugins.size(); ++i) {
        LoadedPlugin* plugin = plan.plugins[i];
        if (!plugin->runs_in(stage)) continue;
        int rc = plugin->child_stage(stage, &ctx);
        if (rc != 0) fail(plan, stage, static_cast<int>(i), rc < 0 ? -rc : rc);
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
    for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTTOU, SIGTTIN, SIGTSTP, SIGCHLD})
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

void stage_process_group(const ChildPlan& plan) noexcept {
    if (::setpgid(0, 0) < 0) fail(plan, Stage::ProcessGroup, kCoreIndex, errno);
    // Interactive runs own the terminal; SIGTTOU is still blocked (inherited mask) here.
    if (plan.terminal_fd >= 0 && ::tcsetpgrp(plan.terminal_fd, ::getpid()) < 0)
        fail(plan, Stage::ProcessGroup, kCoreIndex, errno);
}

void stage_user_namespace(const ChildPlan& plan) noexcept {
    if (!plan.new_user_namespace) return;
    if (::unshare(CLONE_NEWUSER) < 0) fail(plan, Stage::UserNamespace, kCoreIndex, errno);
    // A process may map its own ids into the namespace it just created: no parent round trip.
    int rc = write_file("/proc/self/setgroups", "deny");
    if (rc == 0) rc = write_file("/proc/self/uid_map", plan.uid_map.data());
    if (rc == 0) rc = write_file("/proc/self/gid_map", plan.gid_map.data());
    if (rc != 0) fail(plan, Stage::UserNamespace, kCoreIndex, rc);
}

void stage_chroot(const ChildPlan& plan) noexcept {
    if (plan.chroot_dir == nullptr) return;
    if (::chroot(plan.chroot_dir) < 0 || ::chdir("/") < 0) fail(plan, Stage::Filesystem, kCoreIndex, errno);
}

// The seccomp layer left a listener fd: the parent copies it with pidfd_getfd and acks, so
// nothing here depends on a syscall a plugin may route to the listener (sendmsg, say).
void hand_over_listener(const ChildPlan& plan, sdk::ChildContext& ctx) noexcept {
    if (ctx.listener_fd < 0) return;
    send_report(plan, ReportKind::Listener, Stage::Seccomp, kCoreIndex, ctx.listener_fd);
    char ack = 0;
    ssize_t n;
    while ((n = ::read(plan.channel_fd, &ack, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) ::_exit(125);  // the parent is gone or refused: nothing to report to
    ::close(ctx.listener_fd);
    ctx.listener_fd = -1;
}

void close_range_checked(const ChildPlan& plan, unsigned first, unsigned last) noexcept {
    if (first <= last && ::syscall(SYS_close_range, first, last, 0) < 0) fail(plan, Stage::CloseFds, kCoreIndex, errno);
}

void stage_close_fds(const ChildPlan& plan) noexcept {
    if (!plan.close_fds) return;
    // Keep the setup channel (close-on-exec, it tells the parent we reached exec) and the
    // result pipe of call(); close everything else from 3 up.
    int keep[2] = {plan.channel_fd, plan.result_fd};
    if (keep[0] > keep[1]) std::swap(keep[0], keep[1]);
    unsigned next = 3;
    for (int fd : keep) {
        if (fd < static_cast<int>(next)) continue;
        close_range_checked(plan, next, static_cast<unsigned>(fd) - 1);
        next = static_cast<unsigned>(fd) + 1;
    }
    close_range_checked(plan, next, ~0u);
}

[[noreturn]] void stage_exec(const ChildPlan& plan) noexcept {
    int error = ENOENT;
    bool denied = false;
    int missing_interpreter = -1;  // a candidate that exists although exec said ENOENT
    for (std::size_t i = 0; i < plan.exec_paths.size(); ++i) {
        ::execve(plan.exec_paths.data()[i], plan.argv.data(), plan.envp.data());
        switch (errno) {
            case ENOENT:
                // The file is there, so what is missing is its interpreter ('#!' line or ELF
                // loader): the parent names it from the candidate's index.
                if (missing_interpreter < 0 && ::faccessat(AT_FDCWD, plan.exec_paths.data()[i], F_OK, 0) == 0)
                    missing_interpreter = static_cast<int>(i);
                continue;
            case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: continue;
            case EACCES:
                // Like a shell: a PATH directory we may not search hides nothing worth
                // reporting; "permission denied" is for a file that exists.
                if (::faccessat(AT_FDCWD, plan.exec_paths.data()[i], F_OK, 0) == 0) denied = true;
                continue;
            default: error = errno; break;
        }
        break;
    }
    if (error == ENOENT && denied) error = EACCES;
    send_report(plan, ReportKind::ExecFailed, Stage::Exec, error == ENOENT ? missing_interpreter : kCoreIndex, error);
    ::_exit(error == ENOENT ? 127 : 126);
}

// call(): the function runs in place of exec; its outcome goes through result_fd as a tag
// byte ('V' value, 'E' error) followed by the text.
[[noreturn]] void run_function(const ChildPlan& plan) noexcept {
    ::close(plan.channel_fd);  // setup is over: end-of-file for the parent
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

}  // namespace

void run_child(const ChildPlan& plan) noexcept {
    // Die with the parent; if it is already gone, stop before doing anything.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != plan.parent_pid) ::_exit(125);

    sdk::ChildContext ctx{-1, plan.landlock_abi};
    setup_stdio(plan);

    stage_process_group(plan);
    reset_signals();
    run_plugins(plan, Stage::ProcessGroup, ctx);

    stage_user_namespace(plan);
    run_plugins(plan, Stage::UserNamespace, ctx);

    run_plugins(plan, Stage::Rlimits, ctx);

    stage_chroot(plan);
    run_plugins(plan, Stage::Filesystem, ctx);

    run_plugins(plan, Stage::Landlock, ctx);

    run_plugins(plan, Stage::Seccomp, ctx);
    hand_over_listener(plan, ctx);

    stage_close_fds(plan);
    run_plugins(plan, Stage::CloseFds, ctx);

    run_plugins(plan, Stage::Environment, ctx);  // envp itself was built before fork

    run_plugins(plan, Stage::Exec, ctx);
    if (plan.function != nullptr) run_function(plan);
    stage_exec(plan);
}

}  // namespace sandlock
