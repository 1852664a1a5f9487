#include "checkpoint_commands.hpp"
#include "launcher.hpp"
#include "logging.hpp"
#include "nested_scope.hpp"
#include "session.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <sandlock/checkpoint.hpp>
#include <sandlock/errors.hpp>
#include <sandlock/profile.hpp>
#include <sandlock/sandbox.hpp>

namespace sandlock {
namespace {

[[noreturn]] void only_in_parent(const char* what) {
    throw SandboxError(std::string(what) + ": a nested sandbox is " + what + "d with its parent (call it on the parent)");
}

Result run_command(const Policy& policy, const SandboxOptions& options, const std::vector<std::string>& argv,
                   StdioMode stdio, Timeout timeout) {
    LaunchSpec spec;
    spec.argv = argv;
    spec.stdio = stdio;
    spec.timeout = timeout;
    spec.cancel_fd = options.cancel_fd;
    spec.init_in_our_memory = options.process_runs_one_sandbox;
    return launch(policy, options, spec).result;
}

// A killed group's members die when the kernel next runs them, and the sandbox's init reaps
// those whose leader went first: close() returns once none is left (bounded, should the parent
// be frozen meanwhile).
void wait_until_group_ends(pid_t leader) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::kill(-leader, 0) == 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace

Sandbox::Sandbox(Policy policy, SandboxOptions options) : policy_(std::move(policy)), options_(std::move(options)) {}

Sandbox::~Sandbox() {
    try {
        close();
    } catch (const std::exception& e) {
        logging::warning("sandlock", std::string("closing the sandbox: ") + e.what());
    }
}

Sandbox::Sandbox(Sandbox&&) noexcept = default;

Sandbox& Sandbox::operator=(Sandbox&& other) noexcept {
    if (this != &other) {
        try {
            close();
        } catch (const std::exception& e) {
            logging::warning("sandlock", std::string("closing the sandbox: ") + e.what());
        }
        policy_ = std::move(other.policy_);
        options_ = std::move(other.options_);
        session_ = std::move(other.session_);
        nested_ = std::move(other.nested_);
        processes_ = std::move(other.processes_);
    }
    return *this;
}

Sandbox Sandbox::from_profile(const std::string& name, SandboxOptions options) {
    return Sandbox(load_profile(name), std::move(options));
}

Result Sandbox::run(const std::vector<std::string>& argv, Timeout timeout) const {
    if (nested_) {
        // In its parent, like exec: a Process of its own, waited for here.
        const NestedSpawn spawn = nested_->spawn();
        Process process(nested_->session_ptr(), nested_->session().exec(argv, {}, &spawn));
        return process.wait(timeout);
    }
    return run_command(policy_, options_, argv, StdioMode::Capture, timeout);
}

Result Sandbox::run_interactive(const std::vector<std::string>& argv, Timeout timeout) const {
    return run_command(policy_, options_, argv, StdioMode::Terminal, timeout);
}

Result Sandbox::run_inherit(const std::vector<std::string>& argv, Timeout timeout) const {
    return run_command(policy_, options_, argv, StdioMode::Inherit, timeout);
}

CallResult Sandbox::call(const std::function<std::string()>& fn, Timeout timeout, const ForkHooks& hooks) const {
    if (nested_)
        throw SandboxError("call: a function cannot start inside a sandbox that is already running, so a nested "
                           "sandbox runs commands only (exec, run); call() a Sandbox of the narrowed policy instead");
    LaunchSpec spec;
    spec.function = &fn;
    spec.fork_hooks = &hooks;
    spec.stdio = StdioMode::Capture;
    spec.timeout = timeout;
    spec.cancel_fd = options_.cancel_fd;
    LaunchOutcome outcome = launch(policy_, options_, spec);

    CallResult call;
    call.process = std::move(outcome.result);
    const std::optional<std::string>& bytes = outcome.function_output;
    if (bytes && !bytes->empty() && bytes->front() == 'V') {
        call.value = bytes->substr(1);
    } else if (bytes && !bytes->empty() && bytes->front() == 'E') {
        call.error = bytes->substr(1);
    } else if (call.process.timed_out) {
        call.error = "timed out";
    } else if (call.process.term_signal != 0) {
        call.error = "the sandboxed function was killed by signal " + std::to_string(call.process.term_signal);
    } else {
        call.error = "the sandboxed function exited with status " + std::to_string(call.process.exit_code) +
                     " before returning";
    }
    return call;
}

// ---- Long-lived ----------------------------------------------------------------------------

Process& Sandbox::exec(const std::vector<std::string>& argv, ExecIo io) {
    if (nested_) {
        const NestedSpawn spawn = nested_->spawn();
        return processes_.emplace_back(nested_->session_ptr(), nested_->session().exec(argv, io, &spawn));
    }
    // A sandbox a wait() timeout ended is over: the next exec starts a fresh one, as after close().
    if (session_ && session_->closed()) session_.reset();
    if (!session_) session_ = std::make_shared<Session>(policy_, options_);
    return processes_.emplace_back(session_, session_->exec(argv, io));
}

Process& Sandbox::exec(const std::vector<std::string>& argv, ExecIo io, std::function<std::string()> save_fn) {
    Process& process = exec(argv, io);
    if (save_fn) save_fn_ = std::move(save_fn);
    return process;
}

Checkpoint Sandbox::checkpoint() {
    if (nested_) throw SandboxError("checkpoint: a nested sandbox is checkpointed with its parent (checkpoint the parent)");
    if (!session_ || session_->closed()) throw SandboxError("checkpoint: nothing runs in this sandbox (exec a command first)");
    const std::shared_ptr<Session> session = session_;  // a save_fn may close() this sandbox
    std::optional<std::string> app_state = save_fn_ ? std::optional(save_fn_()) : session->app_state();
    return CheckpointAccess::take(*session, app_state, options_.checkpoint_store);
}

Process& Sandbox::restore(const Checkpoint& checkpoint, ExecIo io, RestoreOptions options) {
    if (nested_) throw SandboxError("restore: restore into the parent sandbox, not a nested one");
    if (session_ && session_->closed()) session_.reset();
    if (!session_) session_ = std::make_shared<Session>(policy_, options_);
    return processes_.emplace_back(session_, CheckpointAccess::restore(*session_, checkpoint, io, options));
}

CallResult Sandbox::from_checkpoint(const Checkpoint& checkpoint, const std::function<void(const std::string&)>& restore_fn,
                                    Timeout timeout, SandboxOptions options) {
    const std::string state = checkpoint.app_state().value_or("");
    return Sandbox(checkpoint.policy(), std::move(options)).call([&] {
        restore_fn(state);
        return std::string();
    }, timeout);
}

Result Sandbox::wait(Timeout timeout) {
    if (nested_) {
        // Its own commands; a timeout kills those still running (their groups).
        if (processes_.empty()) throw SandboxError("wait: nothing was exec'd in this sandbox");
        const auto deadline = timeout ? std::optional(std::chrono::steady_clock::now() + *timeout) : std::nullopt;
        Result last;
        for (Process& p : processes_) {
            Timeout left;
            if (deadline)
                left = std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                  *deadline - std::chrono::steady_clock::now()));
            last = p.wait(left);
        }
        return last;
    }
    if (!session_) throw SandboxError("wait: nothing was exec'd in this sandbox");
    return session_->wait_all(timeout);
}

void Sandbox::pause() {
    if (nested_) only_in_parent("pause");
    if (!session_) throw SandboxError("pause: no running process in the sandbox");
    session_->pause();
}

void Sandbox::resume() {
    if (nested_) only_in_parent("resume");
    if (!session_) throw SandboxError("resume: no running process in the sandbox");
    session_->resume();
}

void Sandbox::update(const Limits& limits) {
    if (nested_) only_in_parent("update");
    if (!session_) throw SandboxError("update: the sandbox is not running (exec a command first)");
    session_->update(limits);
}

Sandbox Sandbox::sandbox(Policy child) {
    if (nested_) throw SandboxError("sandbox: a nested sandbox cannot nest another one yet (nest it in the outermost)");
    if (!session_) session_ = std::make_shared<Session>(policy_, options_);
    Sandbox nested(child, options_);
    nested.nested_ = std::make_shared<NestedScope>(session_, nullptr, std::move(child), options_);
    return nested;
}

bool Sandbox::running() const {
    if (!session_ && !nested_) return false;
    for (const auto& p : processes_)
        if (p.running()) return true;
    return false;
}

void Sandbox::close() {
    if (nested_) {
        // Its commands and their process groups; the parent goes on.
        std::vector<pid_t> groups;
        for (Process& p : processes_)
            if (p.running()) groups.push_back(p.pid());
        for (Process& p : processes_) p.kill();
        for (Process& p : processes_) p.wait();
        for (pid_t leader : groups) wait_until_group_ends(leader);
        nested_.reset();
        return;
    }
    if (!session_) return;
    // Its Process objects keep the closed session, and so their results.
    std::shared_ptr<Session> session = std::move(session_);
    session->close();
}

Policy Sandbox::policy() const { return session_ ? session_->policy() : policy_; }


Process::Process(std::shared_ptr<Session> session, std::shared_ptr<ProcessState> state)
    : session_(std::move(session)), state_(std::move(state)) {}

pid_t Process::pid() const { return state_->pid; }

bool Process::running() const { return session_->running(state_); }

Result Process::wait(Timeout timeout) { return session_->wait_for(state_, timeout); }

std::optional<Result> Process::try_wait(std::chrono::milliseconds within) { return session_->try_wait(state_, within); }

void Process::kill(int signal) { session_->signal(state_, signal); }

}  // namespace sandlock
