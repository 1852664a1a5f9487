// The spawner: a confined process that starts commands on request (spawn_protocol.hpp). Its
// new processes inherit everything it went through — Landlock domain, seccomp filter (and so
// the supervisor's listener), mount namespace, rlimits — so a command exec'd into a running
// sandbox is confined exactly like the first. Each starts like posix_spawn: on a stack of its
// own in the spawner's memory, which waits until it exec'd.
#include "spawner.hpp"

#include "child_report.hpp"
#include "exec_attempt.hpp"
#include "spawn_protocol.hpp"

#include <sandlock/sdk/abi.hpp>
#include <sandlock/sdk/resolved_path.hpp>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace sandlock {
namespace {

// One command being started, shared with its process until it exec'd.
struct Job {
    const ChildPlan* plan;
    std::uint32_t id;
    std::uint32_t flags;  // spawn::SpawnFlags
    char* const* paths;
    std::size_t path_count;
    char* const* argv;
    char* const* envp;
    int stdio[3];
    int go_fd;
    int ruleset_fd;
    int channel_fd;  // the checkpoint channel, or -1
    // A nested sandbox's confinement, checked to lie within the request (spawn_protocol.hpp).
    const char* late_rules;
    std::uint32_t late_rule_count;
    const char* programs;
    std::uint32_t program_count;
};

constexpr std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

// Walks `count` late rules from `at`; the end of the last, or nullptr when one does not fit.
const char* walk_late_rules(const char* begin, const char* at, const char* end, std::uint32_t count) noexcept {
    for (std::uint32_t i = 0; i < count; ++i) {
        at = begin + align8(static_cast<std::size_t>(at - begin));
        if (end - at < 9) return nullptr;
        if (std::memchr(at + 8, '\0', static_cast<std::size_t>(end - at - 8)) == nullptr) return nullptr;
        at += 8 + std::strlen(at + 8) + 1;
    }
    return at;
}

const char* walk_programs(const char* begin, const char* at, const char* end, std::uint32_t count) noexcept {
    for (std::uint32_t i = 0; i < count; ++i) {
        at = begin + align8(static_cast<std::size_t>(at - begin));
        std::uint32_t length = 0;
        if (end - at < 8) return nullptr;
        std::memcpy(&length, at, sizeof length);
        if (length == 0 || length > BPF_MAXINSNS || static_cast<std::size_t>(end - at - 8) < length * sizeof(sock_filter))
            return nullptr;
        at += 8 + length * sizeof(sock_filter);
    }
    return at;
}

// What a nested sandbox adds to the confinement this process inherited: the late Landlock
// rules on its own view of the filesystem, the ruleset, the seccomp programs. 0, or the step
// that failed (errno in `error`).
int confine_nested(const Job& job, const char* begin, int& error) noexcept {
    const char* at = job.late_rules;
    for (std::uint32_t i = 0; i < job.late_rule_count; ++i) {
        at = begin + align8(static_cast<std::size_t>(at - begin));
        landlock_path_beneath_attr rule{};
        std::memcpy(&rule.allowed_access, at, sizeof rule.allowed_access);
        const char* path = at + 8;
        at = path + std::strlen(path) + 1;
        // The paths were resolved when the rules were planned: a symlink on the way now is one a
        // process of the sandbox swapped in to widen the rule (within its parent's bounds).
        const int fd = sdk::open_resolved_path(path);
        if (fd < 0 && errno == ENOENT) continue;  // gone: nothing to allow
        rule.parent_fd = fd;
        if (fd < 0 || ::syscall(SYS_landlock_add_rule, job.ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
            error = errno;
            if (fd >= 0) ::close(fd);
            return 1;
        }
        ::close(fd);
    }
    if ((job.flags & spawn::kHasRuleset) && ::syscall(SYS_landlock_restrict_self, job.ruleset_fd, 0) != 0) {
        error = errno;
        return 2;
    }
    at = job.programs;
    for (std::uint32_t i = 0; i < job.program_count; ++i) {
        at = begin + align8(static_cast<std::size_t>(at - begin));
        std::uint32_t length = 0;
        std::memcpy(&length, at, sizeof length);
        sock_fprog program{static_cast<unsigned short>(length),
                           reinterpret_cast<sock_filter*>(const_cast<char*>(at + 8))};
        at += 8 + length * sizeof(sock_filter);
        if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
            error = errno;
            return 3;
        }
    }
    return 0;
}

void send_event(int fd, const spawn::Event& event) noexcept {
    while (::write(fd, &event, sizeof event) < 0 && errno == EINTR) {
    }
}

// The new process: its stdio, then exec. Runs in the spawner's memory (CLONE_VM), so it only
// makes system calls.
int start_command(void* arg) {
    const Job& job = *static_cast<const Job*>(arg);
    const int socket = job.plan->spawn_fd;
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the spawner blocks SIGCHLD; commands do not
    int error = 0;
    if ((job.flags & spawn::kOwnGroup) && ::setpgid(0, 0) != 0) error = errno;
    if ((job.flags & spawn::kTraced) && error == 0 && ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) error = errno;
    for (int target = 0; target < 3 && error == 0; ++target)
        if (::dup2(job.stdio[target], target) < 0) error = errno;  // the originals close at exec
    send_event(socket, {spawn::EventKind::Started, job.id, ::getpid(), 0, -1, 0});
    if (error != 0) {
        send_event(socket, {spawn::EventKind::ExecFailed, job.id, ::getpid(), error, -1, 0});
        ::_exit(126);
    }
    if (job.flags & spawn::kWaitForGo) {
        char go = 0;
        ssize_t n;
        while ((n = ::read(job.go_fd, &go, 1)) < 0 && errno == EINTR) {
        }
        if (n != 1) ::_exit(125);  // sandlock could not register the nested sandbox's processes
    }
    if (int step = confine_nested(job, job.plan->spawn_buffer.get(), error); step != 0) {
        send_event(socket, {spawn::EventKind::NestFailed, job.id, ::getpid(), error, step, 0});
        ::_exit(125);
    }
    if (job.channel_fd >= 0) {
        // Last: the go pipe and the ruleset may have had that number in the spawner.
        const int fd = spawn::kCheckpointChannelFd;
        if ((job.channel_fd == fd ? ::fcntl(fd, F_SETFD, 0) : ::dup2(job.channel_fd, fd)) < 0) {
            send_event(socket, {spawn::EventKind::ExecFailed, job.id, ::getpid(), errno, -1, 0});
            ::_exit(126);
        }
    }
    const ExecFailure f = exec_in_turn(job.paths, job.path_count, job.argv, job.envp);
    send_event(socket, {spawn::EventKind::ExecFailed, job.id, ::getpid(), f.error, f.candidate, 0});
    ::_exit(f.error == ENOENT ? 127 : 126);
}

// Points `out[0..count)` at the NUL-terminated strings from `*at` on, null-terminated; false
// when the message ends first.
bool take_strings(char*& at, const char* end, char** out, std::size_t count) noexcept {
    for (std::size_t i = 0; i < count; ++i) {
        const void* nul = std::memchr(at, '\0', static_cast<std::size_t>(end - at));
        if (nul == nullptr) return false;
        out[i] = at;
        at = static_cast<char*>(const_cast<void*>(nul)) + 1;
    }
    out[count] = nullptr;
    return true;
}

void spawn(const ChildPlan& plan, const spawn::Request& request, char* strings, const char* end, const int* fds,
           int fd_count) noexcept {
    spawn::Event done{spawn::EventKind::Spawned, request.id, 0, EINVAL, -1, 0};
    const std::size_t needed = std::size_t{request.paths} + request.argc + request.envc + 3;
    char** slots = plan.spawn_strings.get();
    const bool wait_for_go = request.flags & spawn::kWaitForGo;
    const bool has_ruleset = request.flags & spawn::kHasRuleset;
    const bool has_channel = request.flags & spawn::kCheckpointChannel;
    const int expected_fds = 3 + (wait_for_go ? 1 : 0) + (has_ruleset ? 1 : 0) + (has_channel ? 1 : 0);
    if (needed <= spawn::kMaxStrings && request.argc > 0 && fd_count == expected_fds &&
        (request.late_rules == 0 || has_ruleset)) {
        char** paths = slots;
        char** argv = paths + request.paths + 1;
        char** envp = argv + request.argc + 1;
        const char* begin = plan.spawn_buffer.get();
        const char* late_rules = nullptr;
        const char* programs = nullptr;
        if (take_strings(strings, end, paths, request.paths) && take_strings(strings, end, argv, request.argc) &&
            take_strings(strings, end, envp, request.envc) &&
            (late_rules = strings, programs = walk_late_rules(begin, late_rules, end, request.late_rules)) != nullptr &&
            walk_programs(begin, programs, end, request.programs) != nullptr) {
            Job job{&plan,   request.id, request.flags, paths,      request.paths,
                    argv,    envp,       {fds[0], fds[1], fds[2]},  wait_for_go ? fds[3] : -1,
                    has_ruleset ? fds[wait_for_go ? 4 : 3] : -1,   has_channel ? fds[expected_fds - 1] : -1,
                    late_rules, request.late_rules,
                    programs, request.programs};
            char* stack_top = plan.spawn_stack.get() + plan.spawn_stack_size;
            // A traced one must not share the spawner's memory: it becomes dumpable.
            const int memory = (request.flags & spawn::kTraced) ? 0 : CLONE_VM;
            const int pid = ::clone(start_command, stack_top, memory | CLONE_VFORK | SIGCHLD, &job);
            done.pid = pid;
            done.value = pid < 0 ? errno : 0;
        }
    }
    send_event(plan.spawn_fd, done);
}

// Only the spawner's own children, not yet reaped: a pid that exited is never someone else's
// (a negative pid names the group such a child leads).
void signal_child(const spawn::Request& request) noexcept {
    const pid_t child = request.pid < 0 ? -request.pid : request.pid;
    siginfo_t info{};
    if (child > 0 && ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == 0)
        ::kill(request.pid, request.signal);
}

// One request; false once sandlock has closed its end.
bool serve_request(const ChildPlan& plan) noexcept {
    char* buffer = plan.spawn_buffer.get();
    iovec iov{buffer, sizeof(spawn::Request) + spawn::kMaxRequest};
    alignas(cmsghdr) char control[CMSG_SPACE(spawn::kMaxFds * sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(plan.spawn_fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) return false;
    int fds[spawn::kMaxFds] = {-1, -1, -1, -1, -1, -1};
    int fd_count = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && fd_count == 0) {
            fd_count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            if (fd_count > static_cast<int>(spawn::kMaxFds)) fd_count = static_cast<int>(spawn::kMaxFds);
            std::memcpy(fds, CMSG_DATA(c), static_cast<std::size_t>(fd_count) * sizeof(int));
        }
    spawn::Request request{};
    if (static_cast<std::size_t>(n) >= sizeof request && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0) {
        std::memcpy(&request, buffer, sizeof request);
        if (request.kind == spawn::RequestKind::Spawn)
            spawn(plan, request, buffer + sizeof request, buffer + n, fds, fd_count);
        else if (request.kind == spawn::RequestKind::Signal)
            signal_child(request);
    }
    for (int fd : fds)
        if (fd >= 0) ::close(fd);
    return true;
}

void reap_children(const ChildPlan& plan, int signals) noexcept {
    signalfd_siginfo info;
    while (::read(signals, &info, sizeof info) > 0) {
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
        send_event(plan.spawn_fd, {spawn::EventKind::Exited, 0, pid, status, -1, 0});
}

}  // namespace

void run_spawner(const ChildPlan& plan) noexcept {
    const ChildReport ready{ReportKind::Spawner, static_cast<std::uint32_t>(sdk::Stage::Exec), -1, 0};
    while (::write(plan.channel_fd, &ready, sizeof ready) < 0 && errno == EINTR) {
    }
    ::close(plan.channel_fd);  // the setup is over: end-of-file for sandlock
    // The sandbox may not read, write or trace the process that starts its commands (/proc/PID/mem
    // of a same-uid process in the same Landlock domain): its commands are dumpable again once
    // they exec.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    sigset_t child_exits;
    sigemptyset(&child_exits);
    sigaddset(&child_exits, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &child_exits, nullptr);
    const int signals = ::signalfd(-1, &child_exits, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) ::_exit(125);
    for (;;) {
        pollfd polled[2] = {{plan.spawn_fd, POLLIN, 0}, {signals, POLLIN, 0}};
        if (::poll(polled, 2, -1) < 0) {
            if (errno == EINTR) continue;
            ::_exit(125);
        }
        if (polled[1].revents != 0) reap_children(plan, signals);
        if (polled[0].revents & POLLIN) {
            if (!serve_request(plan)) ::_exit(0);
        } else if (polled[0].revents != 0) {
            ::_exit(0);  // sandlock closed its end: the sandbox is ending
        }
    }
}

}  // namespace sandlock
