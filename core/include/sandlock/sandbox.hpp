// Sandbox: runs a command or a function under a Policy — once (run, call), or as a long-lived
// sandbox that commands are exec'd into, paused, tightened and waited for.
//
//   sandlock::Policy policy;
//   policy.fs_readable = {"/usr", "/lib", "/lib64", "/bin", "/etc"};
//   auto result = sandlock::Sandbox(policy).run({"ls", "/usr"});
//
//   sandlock::Sandbox sb(policy);
//   sandlock::Process& server = sb.exec({"python3", "server.py"});
//   sb.pause();                      // every process of the sandbox stops at once
//   sb.resume();
//   sb.update({.max_memory = 128u << 20});
//   sandlock::Result r = sb.wait(std::chrono::seconds(30));
#pragma once

#include <sandlock/policy.hpp>
#include <sandlock/result.hpp>

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sandlock {

struct SandboxOptions {
    std::vector<std::string> plugins;      // overrides policy.plugins when not empty
    std::vector<std::string> plugin_path;  // searched before SANDLOCK_PLUGIN_PATH and defaults
    // When readable (e.g. a signalfd), the whole tree is killed and the run ends with the
    // signal read from it (the CLI passes its SIGINT/SIGTERM/SIGHUP signalfd here).
    int cancel_fd = -1;
    // Long-lived sandboxes (exec): register it under this name while it runs, so that `sandlock
    // ps`, `inspect`, `pause`, `resume`, `kill` and `update` reach it (sandlock/named.hpp).
    std::string name;
    // Where checkpoint() keeps its checkpoints (sandlock/checkpoint.hpp); empty: the default store.
    std::string checkpoint_store;
    // For a process that exists to run one sandbox (the CLI): its first one-shot run (run,
    // run_inherit, run_interactive) may start the sandbox's init in this process's memory
    // instead of a copy of it, a faster start (not where a plugin routes execve, say: README,
    // "The CLI's init shares sandlock's memory"). The process is then
    // non-dumpable for good (no core dump, no ptrace by its own user): that keeps the sandbox
    // out of the shared memory, and an unprivileged process cannot start another sandbox (its
    // init could not map its user ids).
    bool process_runs_one_sandbox = false;
};

using Timeout = std::optional<std::chrono::milliseconds>;

// For a language runtime whose state must be made safe around fork(2) (CPython's
// PyOS_BeforeFork / PyOS_AfterFork_Parent / PyOS_AfterFork_Child): call() runs them around the
// fork that starts the function's process. `before` and `in_parent` run in the calling thread,
// paired, once per fork attempt (in_parent also when the fork failed); `in_child` runs first
// thing in the forked child, before any confinement step.
struct ForkHooks {
    std::function<void()> before;
    std::function<void()> in_parent;
    std::function<void()> in_child;
};

// Where an exec'd command's standard streams go: a descriptor of the caller's (the command
// gets a copy), or -1: stdin from /dev/null, stdout and stderr captured into its Result.
struct ExecIo {
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    // The command gets a checkpoint channel: fd 3, named by SANDLOCK_CHECKPOINT_FD=3 in its
    // environment. checkpoint() writes one byte ('C') to it; the program answers with an
    // 8-byte little-endian length and that many bytes (at most 16 MiB, within 10 s), which
    // become the checkpoint's app state (a save_fn, if given, is asked instead).
    bool checkpoint_channel = false;
    static ExecIo inherit() { return {0, 1, 2}; }
};

// The limits a running sandbox can change (Sandbox::update); unset ones stay as they are.
struct Limits {
    std::optional<std::uint64_t> max_memory;     // bytes
    std::optional<std::uint32_t> max_processes;
    std::optional<std::uint32_t> max_cpu;        // percent of one core, 1..100
};

// How Sandbox::restore treats what a checkpoint cannot recreate.
struct RestoreOptions {
    // Leave out sockets, pipes to other processes, devices and deleted files (the
    // process finds those fds closed) instead of refusing to restore.
    bool skip_unrestorable = false;
};

class Checkpoint;
class Session;
class NestedScope;
struct ProcessState;

// A command exec'd into a long-lived sandbox. Valid as long as its Sandbox; its result stays
// readable after the sandbox closed.
class Process {
public:
    Process(std::shared_ptr<Session> session, std::shared_ptr<ProcessState> state);
    pid_t pid() const;     // as the caller sees it
    bool running() const;
    // Until it exited, then its Result (captured output included). A timeout kills it with
    // SIGKILL and marks the Result timed out (exit code 124).
    Result wait(Timeout timeout = {});
    // Its Result if it exits within `within`; else nothing, and it keeps running.
    std::optional<Result> try_wait(std::chrono::milliseconds within);
    // Sends `signal` to it, if it still runs (not to its children).
    void kill(int signal = SIGKILL);

private:
    std::shared_ptr<Session> session_;
    std::shared_ptr<ProcessState> state_;
};

class Sandbox {
public:
    explicit Sandbox(Policy policy, SandboxOptions options = {});
    // A running long-lived sandbox is closed: see close().
    ~Sandbox();
    Sandbox(Sandbox&&) noexcept;
    Sandbox& operator=(Sandbox&&) noexcept;
    // A saved profile by name (see profile.hpp for the search path).
    static Sandbox from_profile(const std::string& name, SandboxOptions options = {});

    // Runs argv (PATH lookup as the child sees it), capturing stdout and stderr.
    // Throws PolicyError/PluginError/ConfinementError before anything runs.
    Result run(const std::vector<std::string>& argv, Timeout timeout = {}) const;
    // Same, with the caller's stdin/stdout/stderr; the child owns the terminal while it runs.
    Result run_interactive(const std::vector<std::string>& argv, Timeout timeout = {}) const;
    // Same, with the caller's stdio but without taking the terminal (stdin that is a terminal
    // is replaced by /dev/null so the child cannot stop on SIGTTIN).
    Result run_inherit(const std::vector<std::string>& argv, Timeout timeout = {}) const;
    // Runs fn in the confined child, with the sandbox's environment (clean_env, env); its
    // return value (any serialization you like) or the message of the exception it threw
    // comes back. `hooks`: see ForkHooks.
    CallResult call(const std::function<std::string()>& fn, Timeout timeout = {}, const ForkHooks& hooks = {}) const;

    // ---- Long-lived: the sandbox starts with the first exec and runs until close() ----

    // Starts argv (PATH lookup as the sandbox sees it) in the sandbox, which starts now if it
    // is not running yet. Every command exec'd shares the sandbox's confinement and limits
    // (max_processes counts them together, max_memory sums them). Throws SandboxError when it
    // cannot start (the sandbox ended or is paused, max_processes is reached), and
    // PolicyError/PluginError/ConfinementError when the sandbox itself cannot start.
    Process& exec(const std::vector<std::string>& argv, ExecIo io = {});
    // Same; checkpoint() then calls save_fn (in this process, before the sandbox's processes
    // are stopped; ask your program for its state there) and keeps what it returns as the
    // checkpoint's app state. The last exec with a save_fn sets it.
    Process& exec(const std::vector<std::string>& argv, ExecIo io, std::function<std::string()> save_fn);
    // Until every exec'd command exited; the last one's Result. A timeout ends the whole
    // sandbox, as run()'s does. Throws SandboxError when nothing was exec'd.
    Result wait(Timeout timeout = {});
    // Freeze / thaw every process of the sandbox at once (daemons that left their process
    // group included); CPU time stops while paused. Throws SandboxError when nothing runs.
    void pause();
    void resume();
    // Changes max_memory, max_processes or max_cpu while the sandbox runs. Lowering a limit
    // below current use refuses new allocations or forks; nothing is killed. Throws
    // PolicyError for a value out of range or a limit the sandbox started without.
    void update(const Limits& limits);
    // Whether exec'd commands still run (daemons they left behind do not count).
    bool running() const;
    // Ends a long-lived sandbox: kills what is left, then the layers' end-of-run work (a branch
    // is committed when the last command exited 0 and nothing had to be killed, else handled
    // by on_error). Throws SandboxError when that work failed. The destructor does the same
    // and logs the failure instead.
    void close();

    // A nested sandbox: its commands run inside this sandbox (which starts now if it is not
    // running) under every rule of this one, plus `child`'s. `child` may only narrow: a path,
    // port, host or limit this sandbox does not have is refused with a PolicyError naming the
    // field and value. Its limits and host allowlist are enforced for its commands' subtree by
    // this sandbox's supervisor (the kernel allows one listener per filter chain); its
    // Landlock rules and syscall lists are added by each of its processes. A nested sandbox
    // has exec, wait, run and close; call() and pause/resume/update are this sandbox's (see
    // the README). It must not outlive this Sandbox's running sandbox.
    Sandbox sandbox(Policy child);

    // The policy as the sandbox now enforces it (updated limits included).
    Policy policy() const;

    // ---- Checkpoints (sandlock/checkpoint.hpp; the plugin `checkpoint`) ----
    // Stops every process of the running sandbox (ptrace; no cooperation needed), saves each
    // one's registers, memory and files, and lets them go on. Throws SandboxError when nothing
    // runs or the sandbox is paused, CheckpointError when a process cannot be captured.
    Checkpoint checkpoint();
    // Starts the checkpoint's process in this sandbox (which starts now if it is not running;
    // build it from checkpoint.policy()) and continues it where it stopped: same memory,
    // registers, files and offsets, working directory and handlers. Its standard streams are
    // `io`'s. One single-threaded process per checkpoint for now; throws CheckpointError when
    // the checkpoint cannot be restored (see Checkpoint::unrestorable and RestoreOptions).
    Process& restore(const Checkpoint& checkpoint, ExecIo io = {}, RestoreOptions options = {});
    // A sandbox with the checkpoint's policy runs restore_fn(app state) through call() and
    // returns its result (the reference's from_checkpoint).
    static CallResult from_checkpoint(const Checkpoint& checkpoint, const std::function<void(const std::string&)>& restore_fn,
                                      Timeout timeout = {}, SandboxOptions options = {});

private:
    Policy policy_;
    SandboxOptions options_;
    std::shared_ptr<NestedScope> nested_;  // set for a nested sandbox
    std::shared_ptr<Session> session_;
    std::deque<Process> processes_;
    std::function<std::string()> save_fn_;
};

}  // namespace sandlock
