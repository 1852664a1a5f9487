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
#include "raw_syscall.hpp"
#include "spawn_protocol.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
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

std::string errno_text(int error) { return std::strerror(error); }

constexpr std::size_t kMainStackSize = 1u << 20;
constexpr std::size_t kInitStackSize = 128u << 10;  // an init in our memory: its mounts and clone

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

// The spawner's socket and the memory it works in, allocated here (spawner.hpp). Its end of
// the socket may hold a whole request (spawn::kMaxRequest); every record to us carries the
// sender's pid (SO_PASSCRED), which names each new command.
void plan_spawner(RunFds& fds, ChildPlan& plan) {
    std::tie(fds.spawn_parent, fds.spawn_child) = socket_pair(SOCK_SEQPACKET);
    int on = 1;
    int size = static_cast<int>(2 * spawn::kMaxRequest);
    for (int fd : {fds.spawn_parent.get(), fds.spawn_child.get()})
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);  // best effort: requests are checked
    if (::setsockopt(fds.spawn_parent.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
        throw ConfinementError("cannot set up the sandbox's spawner socket: " + errno_text(errno));
    plan.spawner = true;
    plan.spawn_fd = fds.spawn_child.get();
    plan.spawn_buffer.reset(new char[sizeof(spawn::Request) + spawn::kMaxRequest]);
    plan.spawn_strings.reset(new char*[spawn::kMaxStrings]);
    plan.spawn_stack_size = kMainStackSize / 4;
    plan.spawn_stack.reset(new char[plan.spawn_stack_size]);
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
void plan_mounts(const Policy& policy, const PolicyReach& reach, ChildPlan& plan) {
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
    plan.set_up_proc = reach.reaches("/proc");
    plan.set_up_sys = reach.reaches("/sys");
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

// Where sandlock takes a listener from the main process in its memory, it seals that memory
// before the main process goes on (running_sandbox.cpp). What the main process does after that
// must need no supervisor, which could then not inspect it (its fds, cwd and root: the ptrace
// checks); and only the notif layer's own modules may serve notifications, since a handler
// acting for a caller (open_for_caller of /proc/1/maps, say) would act in this memory, where
// the kernel skips those checks for a process of the same memory (and only it gets the listener:
// RunningSandbox::run_after_fork).
bool nothing_supervised_after_sealing(const PluginSet& plugins) {
    return !plugins.routes_notifications() ||
           (plugins.routes_only_through_notif_layer() && !plugins.routes_any_of(kCallsAfterSealing) &&
            !plugins.runs_child_stages_after_listener());
}

// An init in our memory (SandboxOptions::process_runs_one_sandbox): for the one run of a
// process that is dumpable, since the init must write its id maps before the memory is sealed,
// for good. What keeps the sandbox out of that memory then: a non-dumpable process may be read
// or traced only with CAP_SYS_PTRACE over its memory's user namespace, ours, which no process
// of the sandbox has (even `privileged` holds its capabilities in the sandbox's own namespace).
// The init seals it before the main process exists, or sandlock at the listener hand-off
// (nothing_supervised_after_sealing). Only an exec'd command, never a function or a spawner
// (copies of their own). Not for root: a non-dumpable process's /proc files belong to root,
// which the sandbox's uid then is, and some of them act on every process of the memory
// (oom_score_adj, clear_refs, coredump_filter), which would then be ours.
bool may_lend_our_memory(const LaunchSpec& spec, const PluginSet& plugins) {
    static std::atomic<bool> lent{false};
    return spec.init_in_our_memory && spec.function == nullptr && !spec.spawner && raw::kAvailable &&
           nothing_supervised_after_sealing(plugins) && ::geteuid() != 0 && ::prctl(PR_GET_DUMPABLE) == 1 &&
           !lent.exchange(true);
}

void check_chroot(const Policy& policy) {
    if (!policy.chroot) return;
    struct stat st {};
    if (::stat(policy.chroot->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw PolicyError("chroot: " + quote_value(*policy.chroot) + " is not a directory (give an existing directory)");
}

}  // namespace

std::unique_ptr<RunningSandbox> start_sandbox(const Policy& policy, const SandboxOptions& options, LaunchSpec spec_in) {
    check_chroot(policy);
    auto run = std::make_unique<RunningSandbox>(policy, options, std::move(spec_in));
    PluginSet& plugins = run->plugins();
    LaunchSpec& spec = run->spec();
    RunFds& fds = run->fds();

    ChildPlan plan;
    std::vector<std::string> env = build_environment(policy, environ);
    if (spec.function == nullptr && !spec.spawner) {
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
    if (plan.pid_namespace) plan_mounts(policy, run->reach(), plan);
    if (plan.pid_namespace && spec.function == nullptr && !spec.spawner) {
        plan.main_stack = std::make_unique<GuardedStack>(kMainStackSize);
    }
    plan.landlock_abi = landlock_abi();
    plan.parent_pid = ::getpid();
    for (const auto& plugin : plugins.plugins()) plan.plugins.push_back(plugin.get());

    open_fds(spec, fds);
    plan.channel_fd = fds.channel_child.get();
    plan.result_fd = fds.result_write ? fds.result_write.get() : -1;
    if (spec.spawner) {
        plan_spawner(fds, plan);
        if (plan.pid_namespace) run->set_cgroup(SandboxCgroup::create());  // what pause() freezes, if it can be had
    }
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

    ProcessTree& tree = run->tree();
    plan.seal_before_main = spec.function == nullptr && !spec.spawner && !plugins.routes_notifications();
    const bool init_in_our_memory = plan.pid_namespace && may_lend_our_memory(spec, plugins);
    plan.seal_at_listener = init_in_our_memory && !plan.seal_before_main;
    char* init_stack_top = init_in_our_memory ? run->prepare_init_in_our_memory(kInitStackSize) : nullptr;
    // The child starts with every signal blocked (it inherits this mask): no handler of ours
    // runs in it, and it takes the terminal with SIGTTOU blocked. The init keeps them blocked
    // (it reads what it obeys from a signalfd); the main process resets them. call()'s fork
    // hooks (the caller's code) run with SIGTTOU blocked only, as before.
    sigset_t blocked, old_mask;
    sigfillset(&blocked);
    if (spec.function != nullptr) {
        sigemptyset(&blocked);
        sigaddset(&blocked, SIGTTOU);
    }
    ::pthread_sigmask(SIG_BLOCK, &blocked, &old_mask);
    pid_t pid = -1;
    int fork_error = 0;
    if (init_in_our_memory) {
        pid = tree.clone_namespaced_in_our_memory(child_entry, init_stack_top, &plan);
        if (pid > 0) {
            fds.status_write.reset();  // its end of file is how the init's death shows
            run->await_main_started_in_our_memory(pid, old_mask);
        }
    } else if (plan.pid_namespace) {
        // call() forks a helper first (its function needs the heap fork(2) leaves consistent).
        int cgroup_fd = run->cgroup() != nullptr ? run->cgroup()->dir_fd() : -1;
        pid = spec.function != nullptr ? tree.fork_namespaced(fds.status_read.get(), spec.fork_hooks) : tree.clone_namespaced(cgroup_fd);
        if (pid > 0 && cgroup_fd < 0) run->drop_cgroup();
    }
    if (plan.pid_namespace) {
        if (pid == 0) run_child(plan);
        fork_error = errno;
        if (pid < 0 && namespaces_refused(fork_error)) {
            namespaces_unavailable = true;
            plan.pid_namespace = false;
            plan.seal_at_listener = false;  // no init, in our memory or not
            warn_without_namespaces(fork_error);
        }
    }
    if (!plan.pid_namespace && run->reach().lists_under("/proc")) {
        ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
        throw PolicyError("fs_readable: /proc is granted, but this system refuses the PID namespace that hides "
                          "other processes and the kernel's secrets under it (" + errno_text(fork_error) +
                          "); grant only the paths you need instead of / or /proc, or enable unprivileged "
                          "user namespaces (see `sandlock check`)");
    }
    if (!plan.pid_namespace) {
        pid = tree.fork_main(spec.function != nullptr ? spec.fork_hooks : nullptr);
        if (pid == 0) run_child(plan);
        fork_error = errno;
    }
    if (pid > 0 && !plan.pid_namespace) ::setpgid(pid, pid);  // also done by the child; whichever runs first wins
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (pid < 0) throw ConfinementError("fork failed: " + errno_text(fork_error));
    fds.status_write.reset();
    fds.self_pidfd.reset();

    fds.channel_child.reset();
    fds.spawn_child.reset();
    fds.stdout_write.reset();
    fds.stderr_write.reset();
    fds.result_write.reset();
    fds.devnull.reset();

    try {
        run->started(pid);
    } catch (...) {
        run->abort();
        throw;
    }
    return run;
}

LaunchOutcome launch(const Policy& policy, const SandboxOptions& options, LaunchSpec spec) {
    std::unique_ptr<RunningSandbox> run = start_sandbox(policy, options, std::move(spec));
    try {
        return run->wait();
    } catch (...) {
        run->abort();
        throw;
    }
}

}  // namespace sandlock
