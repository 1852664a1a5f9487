// The parent's side of one started sandbox: its plugins, the descriptors shared with the
// child, the listener hand-off and after_fork hooks, waiting on a pidfd, killing the whole
// tree, on_exit hooks — and, for a long-lived sandbox, pausing it and changing its limits.
// launcher.cpp builds and starts it; a one-shot run then wait()s, a Session drives it.
#pragma once

#include "child_report.hpp"
#include "fd.hpp"
#include "guarded_stack.hpp"
#include "init_record.hpp"
#include "plugin_set.hpp"
#include "policy_reach.hpp"
#include "process_tree.hpp"
#include "sandbox_cgroup.hpp"

#include <sandlock/policy.hpp>
#include <sandlock/result.hpp>
#include <sandlock/sandbox.hpp>

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sandlock {

enum class StdioMode {
    Capture,   // stdout/stderr into Result, stdin from /dev/null
    Inherit,   // the caller's stdio; a terminal stdin becomes /dev/null
    Terminal,  // the caller's stdio, and the child owns the terminal's foreground
};

struct LaunchSpec {
    std::vector<std::string> argv;                            // exec mode
    const std::function<std::string()>* function = nullptr;  // call mode
    const ForkHooks* fork_hooks = nullptr;                    // call mode: around its fork
    bool spawner = false;                                     // a long-lived sandbox (spawner.hpp)
    StdioMode stdio = StdioMode::Capture;
    Timeout timeout;
    int cancel_fd = -1;
    bool init_in_our_memory = false;  // allowed (SandboxOptions::process_runs_one_sandbox)
    bool took_terminal = false;  // set by launch(): the child was given the terminal
    std::vector<std::string> exec_paths;  // set by launch(): where the child looks for argv[0]
    std::string exec_root;                // set by launch(): the chroot those paths are in, or ""
};

struct LaunchOutcome {
    Result result;
    std::optional<std::string> function_output;  // call mode: the raw result bytes, if any
};

// The descriptors of one run; the child's ends are closed in the parent right after fork.
struct RunFds {
    Fd channel_parent, channel_child;
    Fd stdout_read, stdout_write, stderr_read, stderr_write;
    Fd result_read, result_write;
    Fd status_read, status_write;  // namespaced: the init's records (init_record.hpp)
    Fd spawn_parent, spawn_child;  // a long-lived sandbox's spawner socket
    Fd devnull;
    Fd self_pidfd;                 // namespaced: how the init knows sandlock is still alive
};

class RunningSandbox {
public:
    // Chooses, configures and prepares the plugins (PluginSet); nothing runs yet.
    RunningSandbox(Policy policy, const SandboxOptions& options, LaunchSpec spec);
    ~RunningSandbox();
    RunningSandbox(const RunningSandbox&) = delete;
    RunningSandbox& operator=(const RunningSandbox&) = delete;

    PluginSet& plugins() { return plugins_; }
    const PolicyReach& reach() const { return reach_; }
    LaunchSpec& spec() { return spec_; }
    RunFds& fds() { return fds_; }
    ProcessTree& tree() { return tree_; }
    const Policy& policy() const { return policy_; }

    // For an init that runs in our memory (launcher.cpp): its stack, kept until that init was
    // reaped (returns the top), and room for the reports that may come before a listener.
    char* prepare_init_in_our_memory(std::size_t stack_size);
    // An init in our memory (launcher.cpp), cloned as `init`, with our end of its status pipe
    // closed: returns once it no longer reads the launcher's ChildPlan, having taken the
    // listener on the way if one comes (a failure then is rethrown by started()). The plugins'
    // hooks run with the caller's signal mask, `caller_mask`, as they do after started().
    void await_main_started_in_our_memory(pid_t init, const sigset_t& caller_mask) noexcept;
    // The child `pid` exists and the child's ends of the descriptors are closed.
    void started(pid_t pid);
    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_.get(); }
    // Why a plugin aborted the sandbox (HostApi::abort_run), or empty.
    std::string abort_reason_text() { return plugins_.abort_reason(); }
    bool namespaced() const { return tree_.namespaced(); }

    // One-shot: until the child (and its tree) ended, then on_exit hooks and the result.
    LaunchOutcome wait();
    // Long-lived: until the spawner has gone through every stage (its setup channel closed).
    // Throws ConfinementError (a stage failed, the sandbox died or was aborted), killing the tree.
    void finish_setup();
    pid_t spawner_pid() const { return spawner_pid_; }
    // The sandbox's own PID namespace (nsfs inode), as its init reported it; 0 without one.
    std::uint64_t sandbox_pid_namespace();
    // Continues the spawner unless the sandbox is paused: its commands share its uid and its
    // Landlock domain, so one of them may have stopped it.
    void wake_spawner() const;

    // A long-lived sandbox's own cgroup (sandbox_cgroup.hpp), when it has one.
    void set_cgroup(std::unique_ptr<SandboxCgroup> cgroup) { cgroup_ = std::move(cgroup); }
    void drop_cgroup() { cgroup_.reset(); }
    const SandboxCgroup* cgroup() const { return cgroup_.get(); }

    // Freezes (true) or thaws every process of the sandbox (its cgroup, else its init's
    // SIGSTOP / SIGCONT); throws
    // SandboxError when that cannot be done. Plugins hear of it first (pause) or last (resume).
    void set_paused(bool paused);
    bool paused() const { return paused_; }
    // Each plugin's answer to a control request (PluginVTable::control), by plugin name; a
    // plugin without live state is left out. Throws PluginError naming the plugin that refused.
    std::vector<std::pair<std::string, std::string>> control(const std::string& request_json,
                                                             const std::vector<std::string>& only = {});

    // Kills every process, reaps the child, returns its wait status (once; later calls return it).
    int end_tree();
    bool ended() const { return reaped_; }
    // on_exit hooks (once); the first failure is kept as "plugin: reason".
    void run_on_exit(const sdk::ExitInfo& info) noexcept;
    const std::string& exit_failure() const { return exit_failure_; }
    // Kills whatever is left and runs the on_exit hooks (used when the parent fails half-way).
    void abort() noexcept;

private:
    // A report from the setup channel and what rode along: its sender (credentials) and an fd
    // (SCM_RIGHTS, owned; -1 without one).
    struct ReceivedReport {
        ChildReport report;
        pid_t sender;
        int fd;
    };
    // One report, by a raw recvmsg (no errno, no allocation): its size, 0 at end of file, or -errno.
    static long receive_report(int channel, int flags, ReceivedReport& out) noexcept;
    bool read_channel();
    void handle_report(const ReceivedReport& received);
    void handle_early_reports();
    void take_listener(int child_fd, pid_t sender);
    void seal_and_release();
    void run_after_fork(int listener_fd);
    int read_cancel_signal();
    void record_status(int status);
    void restore_terminal();
    void drain(Fd& fd, std::string& into);
    void finish_output();
    void report_failures();
    // Reads the init's records until one of `kind` arrived (or `wait_ms` passed); false if not.
    bool await_init_record(int kind, int wait_ms);
    void note_init_record(const InitRecord& record);

    Policy policy_;
    LaunchSpec spec_;
    PolicyReach reach_;  // before plugins_, which it is given to
    PluginSet plugins_;
    // When a timeout ends the run: counted from here, once the plugins are ready.
    std::chrono::steady_clock::time_point deadline_;
    RunFds fds_;
    std::unique_ptr<SandboxCgroup> cgroup_;  // removed after the tree is gone (declared before it)
    ProcessTree tree_;
    pid_t pid_ = -1;
    pid_t spawner_pid_ = 0;
    Fd spawner_pidfd_;
    Fd pidfd_;
    Fd listener_;
    std::optional<ChildReport> failure_;
    std::string exit_failure_;  // "plugin: reason" of the first on_exit hook that failed
    std::string function_bytes_;
    LaunchOutcome outcome_;
    std::optional<int> relayed_status_;  // the init's MainStatus record, once read
    int status_ = 0;
    bool reaped_ = false;
    bool main_started_ = false;  // the init said so (InitRecordKind::MainStarted)
    std::unique_ptr<GuardedStack> init_stack_;  // an init in our memory runs on it until reaped
    pid_t init_in_our_memory_ = 0;               // that init, once cloned
    // Reports that came before the listener while that init read the plan (capacity reserved
    // beforehand), and what went wrong taking the listener then.
    std::vector<ReceivedReport> early_reports_;
    std::exception_ptr handoff_error_;
    const sigset_t* caller_mask_ = nullptr;  // during that wait
    bool listener_refused_ = false;  // that wait ended without the hand-off: a late report is stale
    bool on_exit_done_ = false;
    bool after_fork_done_ = false;
    bool paused_ = false;
    std::uint64_t pid_namespace_ = 0;
};

}  // namespace sandlock
