// A long-lived sandbox, running: its init and spawner (spawner.hpp), the commands exec'd into
// it, and a monitor thread that reads their output and exits while the caller does other
// things. Sandbox (sandbox.hpp) owns one while it is open; the control server of a named
// sandbox (control_server.hpp) drives the same object.
//
// Thread-safe: every public method may be called from any thread. The monitor thread only
// records what happened; whatever changes the sandbox runs on the caller's thread.
#pragma once

#include "control_server.hpp"
#include "fd.hpp"
#include "nested_scope.hpp"
#include "running_sandbox.hpp"

#include <sandlock/policy.hpp>
#include <sandlock/result.hpp>
#include <sandlock/sandbox.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sandlock {

// One exec'd command, as the monitor thread keeps it.
struct ProcessState {
    std::uint32_t id = 0;
    std::vector<std::string> argv;
    std::vector<std::string> exec_paths;  // its exec candidates, to explain an ENOENT
    pid_t pid = 0;                         // as sandlock sees it
    pid_t sandbox_pid = 0;                 // inside the sandbox (the spawner's child)
    bool spawned = false;                  // the spawner answered
    int spawn_error = 0;                   // clone(2) failed with this
    bool running = false;
    bool timed_out = false;
    Result result;
    Fd stdout_read, stderr_read;           // captured streams, read by the monitor thread
    std::chrono::steady_clock::time_point started_at;
    bool nested = false;
    Fd checkpoint_channel;                 // our end of its checkpoint channel (ExecIo)
};

class Session {
public:
    using Clock = std::chrono::steady_clock;

    // Starts the sandbox (init, spawner, plugins' after_fork) and its monitor thread.
    Session(const Policy& policy, const SandboxOptions& options);
    // close(), reporting instead of throwing.
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // `nested`: a nested sandbox's process (nested_scope.hpp). `before_exec`: called with the
    // new process's pid (as sandlock sees it) while it waits right before its exec (to trace
    // it, say); what it throws ends that process and is rethrown.
    std::shared_ptr<ProcessState> exec(const std::vector<std::string>& argv, const ExecIo& io,
                                       const NestedSpawn* nested = nullptr,
                                       const std::function<void(pid_t)>& before_exec = {});
    // Until `process` exited; a timeout kills it (SIGKILL) and marks the result timed out.
    Result wait_for(const std::shared_ptr<ProcessState>& process, Timeout timeout);
    std::optional<Result> try_wait(const std::shared_ptr<ProcessState>& process, std::chrono::milliseconds within);
    // Until every exec'd command exited; returns the last one's result. A timeout ends the
    // whole sandbox (as run()'s does) and marks that result timed out.
    Result wait_all(Timeout timeout);
    void signal(const std::shared_ptr<ProcessState>& process, int sig);
    bool running(const std::shared_ptr<ProcessState>& process);

    void pause();
    void resume();
    bool paused();
    void update(const Limits& limits);
    // What `sandlock ps` / `inspect` show: uptime, processes (pid, ppid, command), use,
    // limits and each plugin's counters.
    boost::json::object status();
    Policy policy();
    std::vector<std::string> plugin_names();
    // Runs `work` with every process of the sandbox (as sandlock sees them; not the init and
    // spawner) while nothing can be exec'd, paused or ended. Throws SandboxError when the
    // sandbox ended, is paused, or has no PID namespace of its own to tell its processes by.
    void with_processes(const std::function<void(const std::vector<pid_t>&)>& work);
    // The state the latest exec'd command with a checkpoint channel that still runs gives
    // (checkpoint_channel.hpp), or nothing when there is none.
    std::optional<std::string> app_state();
    // Whether a nested sandbox ever ran commands in it.
    bool ran_nested() const { return ran_nested_; }
    pid_t spawner_pid() const { return run_->spawner_pid(); }
    pid_t init_pid() const { return run_->pid(); }
    std::uint64_t pid_namespace() { return run_->sandbox_pid_namespace(); }
    // RunningSandbox::control, for `work` of with_processes only (which holds the session).
    std::vector<std::pair<std::string, std::string>> control_held(const std::string& request_json,
                                                                  const std::vector<std::string>& only);
    // Where the plugins were found (SandboxOptions::plugin_path): for plugin commands.
    const std::vector<std::string>& plugin_path() const { return plugin_path_; }
    // The environment its commands get (policy env over the caller's, built when it started).
    std::vector<std::string> environment() const { return env_; }
    // The plugins that serve notifications, each with the fields it owns: what they enforce for
    // a nested sandbox's subtree.
    std::vector<std::pair<std::string, std::vector<std::string>>> supervised_fields();

    // Kills every process of the sandbox now (`sandlock kill`); close() does the rest.
    void terminate(const std::string& reason);
    // Ends the sandbox: kills what is left, then the plugins' end-of-run work (a branch commit
    // when the last command exited 0 and nothing was killed). Throws SandboxError when that
    // work failed. Later calls do nothing.
    void close();
    bool closed();

private:
    void monitor() noexcept;
    void read_events();
    void drain(ProcessState& process, bool to_end);
    ProcessState* find_locked(pid_t sandbox_pid);
    void finish_locked(ProcessState& process, int wait_status);
    // The sandbox ended (by itself, a plugin's abort or close()): every command is over.
    void end_locked(const std::string& why);
    void send_request_locked(const void* request, std::size_t size, const int* fds, std::size_t fd_count);
    void wake_monitor();
    void stop_server();
    // Waits until `done` for the spawner to report on `command` (ends the sandbox after
    // kSpawnerAnswer).
    void await_spawner_locked(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done,
                              const std::string& command);
    [[noreturn]] void spawner_silent_locked(const std::string& command);
    void prune_locked();

    std::mutex mutex_;
    std::condition_variable changed_;
    std::unique_ptr<RunningSandbox> run_;
    Policy policy_;
    std::vector<std::string> plugin_path_;
    std::vector<std::string> env_;
    std::deque<std::shared_ptr<ProcessState>> processes_;
    std::uint32_t next_id_ = 1;
    bool ended_ = false;
    bool closed_ = false;
    std::string end_reason_;
    Clock::time_point started_at_ = Clock::now();
    Clock::time_point last_sample_at_ = started_at_;  // status(): CPU % since the previous look
    double last_cpu_seconds_ = 0;
    Fd wake_;          // eventfd: the monitor re-reads its set of fds
    Fd devnull_;
    int cancel_fd_ = -1;     // SandboxOptions::cancel_fd
    int cancel_signal_ = 0;  // the signal read from it: what the commands' results show
    bool stopping_ = false;
    std::atomic<bool> ran_nested_ = false;
    bool traced_start_ = false;  // a restore's process is between its start and its exec
    std::thread monitor_;
    std::unique_ptr<ControlServer> server_;  // a named sandbox's control socket
};

}  // namespace sandlock
