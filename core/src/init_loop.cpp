#include "init_loop.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace sandlock {
namespace {

// SIGTERM from sandlock (or from the sandbox itself, which may only end itself): every other
// process of the namespace gets SIGKILL. kill(-1) from a PID namespace's init reaches exactly
// the namespace, and a process being forked by a killed parent is never created.
void end_namespace(int) { ::kill(-1, SIGKILL); }

int handlers_status_fd = -1;  // the status pipe, for the signal handlers

// SIGUSR1 / SIGUSR2 from sandlock: stop / continue every other process of the namespace at
// once (kill(-1) from an init reaches exactly the namespace, and a fork under way is restarted
// rather than leaving an unstopped child), then say so. Only sandlock, outside the namespace,
// is obeyed (its pid reads as 0 here): a process of the sandbox cannot order a pause or a
// resume. (This is the fallback: where the sandbox has a cgroup of its own, sandlock freezes it.)
void pause_or_resume(int sig, siginfo_t* info, void*) {
    if (info->si_pid != 0 || info->si_code != SI_USER) return;
    const int saved = errno;
    const bool pause = sig == SIGUSR1;
    ::kill(-1, pause ? SIGSTOP : SIGCONT);
    write_init_record(handlers_status_fd, pause ? InitRecordKind::Paused : InitRecordKind::Resumed, 0);
    errno = saved;
}

// Kills what is left and reaps it all, so the CPU time of every process reaches sandlock's
// RUSAGE_CHILDREN (the kernel's own clean-up when an init dies reaps without accounting).
void reap_everything() noexcept {
    for (;;) {
        ::kill(-1, SIGKILL);
        if (::wait4(-1, nullptr, __WALL, nullptr) < 0 && errno == ECHILD) return;
    }
}

}  // namespace

void write_init_record(int status_fd, InitRecordKind kind, int value) noexcept {
    const InitRecord record{kind, value};
    while (::write(status_fd, &record, sizeof record) < 0 && errno == EINTR) {
    }
}

void install_init_handlers(int status_fd) noexcept {
    struct sigaction end {};
    end.sa_handler = end_namespace;
    ::sigaction(SIGTERM, &end, nullptr);
    handlers_status_fd = status_fd;
    struct sigaction control {};
    control.sa_sigaction = pause_or_resume;
    control.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&control.sa_mask);  // one at a time
    ::sigaction(SIGUSR1, &control, nullptr);
    ::sigaction(SIGUSR2, &control, nullptr);
}

void serve_until_main_ends(int status_fd, pid_t main) noexcept {
    for (;;) {
        int status = 0;
        const pid_t pid = ::wait4(-1, &status, __WALL, nullptr);
        if (pid < 0 && errno == EINTR) continue;
        if (pid < 0) ::_exit(125);
        if (pid != main) continue;  // an orphan, reaped
        reap_everything();
        write_init_record(status_fd, InitRecordKind::MainStatus, status);
        ::_exit(0);
    }
}

}  // namespace sandlock
