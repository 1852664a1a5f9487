#include "checkpoint_commands.hpp"

#include "fd.hpp"
#include "tracer_thread.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/plugins.hpp>
#include <sandlock/sdk/hex.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <boost/json.hpp>

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstring>
#include <thread>

namespace sandlock {
namespace json = boost::json;
namespace {

// The new process waits right before its exec: traced from here on by this thread, it stops at
// the exec (and dies with sandlock, should sandlock die while rebuilding it).
void trace_until_exec(pid_t pid) {
    const long options = PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
    if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(options)) != 0)
        throw CheckpointError(std::string("restore: cannot trace the new process: ") + std::strerror(errno));
}

// Until the new process stopped at its exec (10 s at most).
void wait_for_exec(pid_t pid, const std::string& exe) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        int status = 0;
        const pid_t got = ::waitpid(pid, &status, __WALL | WNOHANG);
        if (got < 0 && errno != EINTR) throw CheckpointError("restore: lost the new process: " + std::string(std::strerror(errno)));
        if (got != pid) {
            if (std::chrono::steady_clock::now() > deadline) throw CheckpointError("restore: " + exe + " did not start within 10 s");
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            continue;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status))
            throw CheckpointError("restore: " + exe + " did not start in the sandbox (is it readable and executable there?)");
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) return;
        const int event = status >> 16;
        const long sig = event == 0 ? WSTOPSIG(status) : 0;  // a signal on its way is delivered
        ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(sig));
    }
}

// A branch snapshot no checkpoint came to name (best effort: else it stays a kept branch).
void abort_snapshot(const std::string& id, const Policy& policy, const std::vector<std::string>& plugin_path) noexcept {
    try {
        json::object abort{{"command", "abort"}, {"id", id}};
        if (policy.fs_storage) abort["fs_storage"] = *policy.fs_storage;
        run_plugin_command("branchfs", json::serialize(abort), plugin_path);
    } catch (...) {
    }
}

}  // namespace

Checkpoint CheckpointAccess::take(Session& session, const std::optional<std::string>& app_state, const std::string& store) {
    const CheckpointOptions options{store, session.plugin_path()};
    const Policy current = session.policy();  // read now: the session is held below
    const json::value policy = json::parse(policy_to_json(current));
    std::string answer;
    session.with_processes([&](const std::vector<pid_t>& pids) {
        on_tracer_thread([&] {
            // First every process stops (and stays stopped); then what must match their
            // memory is saved — the branch — and only then are they captured and let go.
            const json::object stopped =
                json::parse(checkpoint_command({{"command", "stop"},
                                                {"pids", json::array(pids.begin(), pids.end())},
                                                {"policy", policy},
                                                {"init", session.init_pid()},
                                                {"spawner", session.spawner_pid()},
                                                {"pid_namespace", session.pid_namespace()}},
                                               options))
                    .as_object();
            json::object dump{{"command", "dump"}, {"stopped", stopped.at("stopped")}, {"policy", policy},
                              {"spawner", session.spawner_pid()}, {"nested", session.ran_nested()}};
            if (app_state) dump["app_state_hex"] = sdk::hex_encode(*app_state);
            try {
                for (const auto& [plugin, saved] : session.control_held(R"({"command":"snapshot"})", {"branchfs"})) {
                    if (saved.empty()) continue;
                    const json::value described = json::parse(saved);
                    const json::value* branch = described.as_object().if_contains("branch");
                    if (branch != nullptr && branch->is_string()) dump["branch"] = *branch;
                }
            } catch (...) {
                checkpoint_command({{"command", "release"}, {"stopped", stopped.at("stopped")}}, options);
                throw;
            }
            try {
                answer = checkpoint_command(dump, options);
            } catch (...) {
                if (const json::value* branch = dump.if_contains("branch"))
                    abort_snapshot(std::string(branch->as_string()), current, options.plugin_path);
                throw;
            }
        });
    });
    Checkpoint checkpoint = Checkpoint::from_answer(answer, options, true);
    checkpoint.app_state_ = app_state;
    return checkpoint;
}

std::shared_ptr<ProcessState> CheckpointAccess::restore(Session& session, const Checkpoint& checkpoint, const ExecIo& io,
                                                        const RestoreOptions& options) {
    const auto& processes = checkpoint.processes();
    if (processes.size() != 1)
        throw CheckpointError("restore: the checkpoint holds " + std::to_string(processes.size()) +
                              " processes; restoring more than one is not built yet");
    const CheckpointProcess& process = processes.front();
    if (!process.restore_refusal.empty()) throw CheckpointError("restore: " + process.restore_refusal);
    if (!options.skip_unrestorable && !checkpoint.unrestorable().empty())
        throw CheckpointError("restore: " + checkpoint.unrestorable().front() +
                              " cannot be recreated (skip_unrestorable / --skip-unrestorable restores the rest)");
    std::shared_ptr<ProcessState> state;
    on_tracer_thread([&] {
        state = session.exec({process.exe}, io, nullptr, trace_until_exec);
        // Held while it is pinned (traced, not yet waited for): a kill below can never reach
        // another process that got its pid.
        const Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, state->pid, 0)));
        try {
            wait_for_exec(state->pid, process.exe);
            json::object request{{"command", "restore"},
                                 {"process", 0},
                                 {"pid", state->pid},
                                 {"skip_unrestorable", options.skip_unrestorable}};
            if (checkpoint.staged_)
                request["directory"] = checkpoint.directory_;
            else
                request["name"] = checkpoint.name_;
            checkpoint_command(request, checkpoint.options_);
        } catch (...) {
            // Never let it run as a fresh start of the program.
            if (pidfd) ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
            throw;
        }
    });
    return state;
}

}  // namespace sandlock
