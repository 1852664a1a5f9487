#include "session.hpp"

#include "checkpoint_channel.hpp"
#include "child_plan.hpp"
#include "exec_diagnosis.hpp"
#include "launcher.hpp"
#include "logging.hpp"
#include "sandbox_census.hpp"
#include "spawn_protocol.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

extern char** environ;

namespace sandlock {
namespace {

constexpr std::size_t kCaptureLimit = 64u << 20;  // per captured stream, as run()'s
// How long the spawner may take to take a request and to start a command. It answers at once
// unless a process of the sandbox stopped or starved it; then the sandbox is ended.
constexpr auto kSpawnerAnswer = std::chrono::seconds(10);
// How long a process may take to die of SIGKILL before its sandbox is ended instead.
constexpr auto kKillAnswer = std::chrono::seconds(5);
// The ended commands kept for status() and wait() (each Process keeps its own result).
constexpr std::size_t kEndedKept = 8;

std::string errno_text(int error) { return std::strerror(error); }

Fd make_eventfd() {
    Fd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd) throw ConfinementError("eventfd failed: " + errno_text(errno));
    return fd;
}

void signal_event(const Fd& fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd.get(), &one, sizeof one);
}

void set_result_status(Result& result, int status) {
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.term_signal = WTERMSIG(status);
        result.exit_code = 128 + WTERMSIG(status);
    }
}

// The request's strings, laid out as the spawner reads them (spawn_protocol.hpp), then a
// nested sandbox's confinement.
std::string spawn_message(const spawn::Request& header, const std::vector<std::string>& paths,
                          const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                          const NestedSpawn* nested) {
    std::string message(reinterpret_cast<const char*>(&header), sizeof header);
    for (const auto* list : {&paths, &argv, &envp})
        for (const auto& s : *list) {
            message += s;
            message += '\0';
        }
    if (nested == nullptr) return message;
    auto align = [&] { message.resize((message.size() + 7) & ~std::size_t{7}, '\0'); };
    for (const auto& [access, path] : nested->late_rules) {
        align();
        message.append(reinterpret_cast<const char*>(&access), sizeof access);
        message += path;
        message += '\0';
    }
    for (const auto& program : nested->programs) {
        align();
        const std::uint32_t head[2] = {static_cast<std::uint32_t>(program.size()), 0};
        message.append(reinterpret_cast<const char*>(head), sizeof head);
        message.append(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter));
    }
    return message;
}

const char* nest_step_name(int step) {
    switch (step) {
        case 1: return "adding a Landlock path rule";
        case 2: return "restricting with the Landlock ruleset";
        case 3: return "installing a seccomp program";
        default: return "confining";
    }
}

}  // namespace

Session::Session(const Policy& policy, const SandboxOptions& options)
    : policy_(policy), plugin_path_(options.plugin_path), wake_(make_eventfd()), cancel_fd_(options.cancel_fd) {
    devnull_ = open_fd("/dev/null", O_RDONLY);
    // The name first: a clash is refused before anything runs.
    std::unique_ptr<NameRegistration> registration;
    if (!options.name.empty()) registration = std::make_unique<NameRegistration>(options.name);
    LaunchSpec spec;
    spec.spawner = true;
    spec.stdio = StdioMode::Inherit;  // the spawner's own stdio: nothing reads or writes it
    run_ = start_sandbox(policy_, options, std::move(spec));
    try {
        run_->finish_setup();
    } catch (...) {
        run_->abort();  // kills and reaps what started, and runs the on_exit hooks, as launch() does
        run_.reset();
        throw;
    }
    env_ = build_environment(policy_, environ);
    monitor_ = std::thread([this] { monitor(); });
    if (registration) server_ = std::make_unique<ControlServer>(*this, std::move(registration));
}

Session::~Session() {
    try {
        close();
    } catch (const std::exception& e) {
        logging::warning("sandlock", e.what());
    }
}

std::shared_ptr<ProcessState> Session::exec(const std::vector<std::string>& argv, const ExecIo& io,
                                            const NestedSpawn* nested, const std::function<void(pid_t)>& before_exec) {
    if (argv.empty() || argv[0].empty()) throw PolicyError("command: nothing to run (give a command)");
    auto process = std::make_shared<ProcessState>();
    process->argv = argv;
    process->nested = nested != nullptr;
    Fd stdout_write, stderr_write, go_read, go_write;
    std::vector<int> fds = {io.stdin_fd >= 0 ? io.stdin_fd : devnull_.get(), io.stdout_fd, io.stderr_fd};
    if (io.stdout_fd < 0) {
        std::tie(process->stdout_read, stdout_write) = pipe_pair();
        fds[1] = stdout_write.get();
    }
    if (io.stderr_fd < 0) {
        std::tie(process->stderr_read, stderr_write) = pipe_pair();
        fds[2] = stderr_write.get();
    }
    for (const Fd* fd : {&process->stdout_read, &process->stderr_read})
        if (*fd) ::fcntl(fd->get(), F_SETFL, O_NONBLOCK);
    spawn::Request header{};
    header.kind = spawn::RequestKind::Spawn;
    // The go pipe holds the new process right before its exec (the spawner passes the fds in
    // this order: stdio, go pipe, ruleset).
    if (before_exec || (nested != nullptr && !nested->nest_request.empty())) {
        std::tie(go_read, go_write) = pipe_pair();
        header.flags |= spawn::kWaitForGo;
        fds.push_back(go_read.get());
    }
    if (before_exec) header.flags |= spawn::kTraced;
    if (nested != nullptr) {
        ran_nested_ = true;
        header.flags |= spawn::kOwnGroup;
        if (nested->ruleset_fd >= 0) {
            header.flags |= spawn::kHasRuleset;
            fds.push_back(nested->ruleset_fd);
        }
        header.late_rules = static_cast<std::uint32_t>(nested->late_rules.size());
        header.programs = static_cast<std::uint32_t>(nested->programs.size());
    }
    Fd channel_theirs;
    std::vector<std::string> env_with_channel;
    if (io.checkpoint_channel) {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
            throw SandboxError(std::string("exec: cannot make a checkpoint channel: ") + std::strerror(errno));
        process->checkpoint_channel = Fd(pair[0]);
        channel_theirs = Fd(pair[1]);
        header.flags |= spawn::kCheckpointChannel;
        fds.push_back(channel_theirs.get());
        env_with_channel = nested != nullptr ? nested->env : env_;
        env_with_channel.push_back("SANDLOCK_CHECKPOINT_FD=" + std::to_string(spawn::kCheckpointChannelFd));
    }
    const std::vector<std::string>& env = io.checkpoint_channel ? env_with_channel : nested != nullptr ? nested->env : env_;

    std::unique_lock lock(mutex_);
    if (ended_) throw SandboxError("exec: the sandbox has ended" + (end_reason_.empty() ? "" : " (" + end_reason_ + ")"));
    if (run_->paused()) throw SandboxError("exec: the sandbox is paused; resume it first");
    // A traced start (a restore) holds a copy of the spawner's memory and is dumpable until its
    // exec: no other process of the sandbox may be there to read it, and no checkpoint may
    // take it meanwhile.
    if (before_exec && next_id_ > 1)
        throw SandboxError("restore: restore into a new sandbox (nothing may have been exec'd into it yet)");
    if (traced_start_) throw SandboxError("exec: a restore is starting in the sandbox; exec once it runs");
    struct TracedStart {
        bool& flag;
        ~TracedStart() { flag = false; }  // under the lock: the unique_lock is declared first
    };
    std::optional<TracedStart> traced;
    if (before_exec) {
        traced_start_ = true;
        traced.emplace(TracedStart{traced_start_});
    }
    process->exec_paths = exec_candidates(argv[0], env);
    process->id = next_id_++;
    header.id = process->id;
    header.paths = static_cast<std::uint32_t>(process->exec_paths.size());
    header.argc = static_cast<std::uint32_t>(argv.size());
    header.envc = static_cast<std::uint32_t>(env.size());
    const std::string message = spawn_message(header, process->exec_paths, argv, env, nested);
    if (message.size() > sizeof header + spawn::kMaxRequest ||
        process->exec_paths.size() + argv.size() + env.size() + 3 > spawn::kMaxStrings)
        throw PolicyError("command: its arguments and environment take " + std::to_string(message.size()) +
                          " bytes; exec into a running sandbox takes at most " +
                          std::to_string(spawn::kMaxRequest >> 10) + " KiB (use run() for longer command lines)");
    process->started_at = Clock::now();
    processes_.push_back(process);
    auto forget = [&] {
        if (auto it = std::find(processes_.begin(), processes_.end(), process); it != processes_.end()) processes_.erase(it);
    };
    try {
        send_request_locked(message.data(), message.size(), fds.data(), fds.size());
    } catch (...) {
        forget();
        throw;
    }
    wake_monitor();  // its new pipes
    if (go_write) {
        // The new process waits on the go pipe: a nested one's subtree joins the scope's
        // supervised rules before it can fork or allocate anything under them.
        await_spawner_locked(lock, [&] { return process->pid != 0 || process->spawned || ended_; }, argv[0]);
        if (process->pid != 0) {
            try {
                if (nested != nullptr && !nested->nest_request.empty()) {
                    boost::json::object request = boost::json::parse(nested->nest_request).as_object();
                    request["root"] = process->pid;
                    run_->control(boost::json::serialize(request), nested->nest_plugins);
                }
                if (before_exec) before_exec(process->pid);
            } catch (...) {
                go_write.reset();  // end-of-file: it exits without running the command
                changed_.wait(lock, [&] { return process->spawned || ended_; });
                forget();
                throw;
            }
            const char go = 1;
            [[maybe_unused]] ssize_t n = ::write(go_write.get(), &go, 1);
        }
    }
    await_spawner_locked(lock, [&] { return process->spawned || ended_; }, argv[0]);
    stdout_write.reset();
    stderr_write.reset();
    if (!process->spawned) {
        forget();
        throw SandboxError("exec: the sandbox ended before " + argv[0] + " started" +
                           (end_reason_.empty() ? "" : " (" + end_reason_ + ")"));
    }
    if (process->spawn_error != 0) {
        forget();
        std::string why = errno_text(process->spawn_error);
        if (process->spawn_error == EAGAIN && policy_.max_processes)
            why = "max_processes (" + std::to_string(*policy_.max_processes) + ") is reached";
        else if (process->spawn_error == ENOMEM && policy_.max_memory)
            why = "max_memory is reached";
        throw SandboxError("exec: cannot start " + argv[0] + ": " + why);
    }
    return process;
}

void Session::send_request_locked(const void* request, std::size_t size, const int* fds, std::size_t fd_count) {
    iovec iov{const_cast<void*>(request), size};
    alignas(cmsghdr) char control[CMSG_SPACE(spawn::kMaxFds * sizeof(int))]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd_count > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(fd_count * sizeof(int));
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(fd_count * sizeof(int));
        std::memcpy(CMSG_DATA(c), fds, fd_count * sizeof(int));
    }
    run_->wake_spawner();
    const auto deadline = Clock::now() + kSpawnerAnswer;
    ssize_t n;
    for (;;) {
        n = ::sendmsg(run_->fds().spawn_parent.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0 || (errno != EINTR && errno != EAGAIN)) break;
        if (errno == EAGAIN) {
            // Its queue is full: never block here, with the session locked.
            if (Clock::now() >= deadline) {
                end_locked("its spawner stopped taking requests");
                throw SandboxError("exec: the sandbox's spawner stopped taking requests (a process of the sandbox "
                                   "stopped it?); the sandbox was ended");
            }
            pollfd writable{run_->fds().spawn_parent.get(), POLLOUT, 0};
            ::poll(&writable, 1, 100);
            run_->wake_spawner();
        }
    }
    if (n != static_cast<ssize_t>(size))
        throw SandboxError("exec: the sandbox's spawner is gone (" + errno_text(n < 0 ? errno : EPIPE) + ")");
}

void Session::signal(const std::shared_ptr<ProcessState>& process, int sig) {
    std::lock_guard lock(mutex_);
    if (!process->running || ended_) return;
    // A paused spawner cannot pass it on; its stopped child cannot be reaped meanwhile, so its
    // pid still names it.
    if (run_->paused()) {
        ::kill(process->nested ? -process->pid : process->pid, sig);
        return;
    }
    spawn::Request request{};
    request.kind = spawn::RequestKind::Signal;
    // A nested sandbox's command leads a group: its children go with it.
    request.pid = process->nested ? -process->sandbox_pid : process->sandbox_pid;
    request.signal = sig;
    try {
        send_request_locked(&request, sizeof request, nullptr, 0);
    } catch (const SandboxError&) {
        // The spawner is gone, and with it the sandbox: nothing is left to signal.
    }
}

bool Session::running(const std::shared_ptr<ProcessState>& process) {
    std::lock_guard lock(mutex_);
    return process->running;
}

Result Session::wait_for(const std::shared_ptr<ProcessState>& process, Timeout timeout) {
    std::unique_lock lock(mutex_);
    auto done = [&] { return !process->running; };
    if (timeout && !changed_.wait_for(lock, *timeout, done)) {
        process->timed_out = true;
        lock.unlock();
        signal(process, SIGKILL);
        lock.lock();
        // SIGKILL goes through the spawner, which the sandbox may have stopped: then the whole
        // sandbox ends, which ends this process too.
        if (!changed_.wait_for(lock, kKillAnswer, done)) end_locked("a timed-out command did not end on SIGKILL");
    }
    changed_.wait(lock, done);
    return process->result;
}

std::optional<Result> Session::try_wait(const std::shared_ptr<ProcessState>& process, std::chrono::milliseconds within) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, within, [&] { return !process->running; })) return std::nullopt;
    return process->result;
}

Result Session::wait_all(Timeout timeout) {
    std::unique_lock lock(mutex_);
    if (processes_.empty()) throw SandboxError("wait: nothing was exec'd in this sandbox");
    auto done = [&] {
        return std::none_of(processes_.begin(), processes_.end(), [](const auto& p) { return p->running; });
    };
    if (timeout && !changed_.wait_for(lock, *timeout, done)) {
        for (const auto& p : processes_)
            if (p->running) p->timed_out = true;
        lock.unlock();
        close();  // as run()'s timeout: the whole sandbox ends
        lock.lock();
    }
    changed_.wait(lock, done);
    return processes_.back()->result;
}

void Session::pause() {
    std::lock_guard lock(mutex_);
    if (ended_ || std::none_of(processes_.begin(), processes_.end(), [](const auto& p) { return p->running; }))
        throw SandboxError("pause: no running process in the sandbox");
    run_->set_paused(true);
}

void Session::resume() {
    std::lock_guard lock(mutex_);
    if (ended_) throw SandboxError("resume: the sandbox has ended");
    if (!run_->paused()) throw SandboxError("resume: the sandbox is not paused");
    run_->set_paused(false);
}

bool Session::paused() {
    std::lock_guard lock(mutex_);
    return run_->paused();
}

void Session::update(const Limits& limits) {
    std::lock_guard lock(mutex_);
    if (ended_) throw SandboxError("update: the sandbox has ended");
    Policy updated = policy_;
    std::vector<std::string> fields;
    if (limits.max_memory) {
        if (*limits.max_memory == 0) throw PolicyError("max_memory: 0 is not a limit (give a size, e.g. 256M)");
        updated.max_memory = limits.max_memory;
        fields.emplace_back("max_memory");
    }
    if (limits.max_processes) {
        if (*limits.max_processes == 0) throw PolicyError("max_processes: 0 is not a limit (give at least 1)");
        updated.max_processes = limits.max_processes;
        fields.emplace_back("max_processes");
    }
    if (limits.max_cpu) {
        if (*limits.max_cpu < 1 || *limits.max_cpu > 100)
            throw PolicyError("max_cpu: " + std::to_string(*limits.max_cpu) + " is not a percentage of one core (give 1 to 100)");
        updated.max_cpu = limits.max_cpu;
        fields.emplace_back("max_cpu");
    }
    if (fields.empty()) return;
    // Each field goes to the plugin that enforces it; a field nobody enforces cannot be set.
    std::vector<std::string> owners;
    for (const auto& field : fields) {
        std::string owner;
        for (const auto& plugin : run_->plugins().plugins()) {
            const auto& owned = plugin->owned_fields();
            if (std::find(owned.begin(), owned.end(), field) != owned.end()) owner = plugin->name();
        }
        if (owner.empty())
            throw PolicyError(field + ": this sandbox runs without the layer that enforces it, so it cannot be set "
                              "while it runs (start the sandbox with a " + field + ")");
        if (std::find(owners.begin(), owners.end(), owner) == owners.end()) owners.push_back(owner);
    }
    boost::json::object request;
    request["command"] = "update";
    request["policy"] = boost::json::parse(policy_to_json(updated));
    std::vector<std::pair<std::string, std::string>> answers;
    try {
        answers = run_->control(boost::json::serialize(request), owners);
    } catch (const PluginError& e) {
        throw PolicyError(e.what());  // the layer refused the value: bad input, nothing changed
    }
    for (const auto& owner : owners)
        if (std::none_of(answers.begin(), answers.end(), [&](const auto& a) { return a.first == owner; }))
            throw PolicyError("plugin " + owner + " cannot change its limits while the sandbox runs");
    policy_ = std::move(updated);
}

boost::json::object Session::status() {
    std::lock_guard lock(mutex_);
    boost::json::object out;
    out["uptime_seconds"] = std::chrono::duration<double>(Clock::now() - started_at_).count();
    out["paused"] = run_->paused();
    out["ended"] = ended_;
    // The commands still running, and the last few that ended.
    constexpr std::size_t kEndedShown = 8;
    std::size_t ended_shown = 0;
    std::vector<const ProcessState*> shown;
    for (auto it = processes_.rbegin(); it != processes_.rend(); ++it)
        if ((*it)->running || ended_shown++ < kEndedShown) shown.insert(shown.begin(), it->get());
    boost::json::array commands;
    for (const ProcessState* p : shown) {
        boost::json::object c;
        boost::json::array argv;
        for (const auto& a : p->argv) argv.emplace_back(a);
        c["argv"] = std::move(argv);
        c["pid"] = p->pid;
        c["running"] = p->running;
        if (!p->running) c["exit_code"] = p->result.exit_code;
        commands.emplace_back(std::move(c));
    }
    out["commands"] = std::move(commands);
    boost::json::object limits;
    if (policy_.max_memory) limits["max_memory"] = *policy_.max_memory;
    if (policy_.max_processes) limits["max_processes"] = *policy_.max_processes;
    if (policy_.max_cpu) limits["max_cpu"] = *policy_.max_cpu;
    out["limits"] = std::move(limits);
    if (!ended_ && run_->namespaced()) {
        const SandboxCensus census = take_census(run_->pid(), run_->spawner_pid(), run_->sandbox_pid_namespace());
        out["processes"] = census.to_json();
        out["process_count"] = census.processes.size();
        out["private_bytes"] = census.private_bytes;
        // CPU use since the previous look (or the start), in percent of one core.
        const Clock::time_point now = Clock::now();
        const double elapsed = std::chrono::duration<double>(now - last_sample_at_).count();
        const double used = std::max(0.0, census.cpu_seconds - last_cpu_seconds_);
        out["cpu_percent"] = elapsed > 0 ? 100.0 * used / elapsed : 0.0;
        last_sample_at_ = now;
        last_cpu_seconds_ = census.cpu_seconds;
    }
    boost::json::object layers;
    if (!ended_) {
        for (auto& [name, answer] : run_->control(R"({"command":"status"})")) {
            if (answer.empty()) continue;
            boost::system::error_code ec;
            boost::json::value parsed = boost::json::parse(answer, ec);
            if (!ec && parsed.is_object()) layers[name] = std::move(parsed);
        }
    }
    out["layers"] = std::move(layers);
    return out;
}

Policy Session::policy() {
    std::lock_guard lock(mutex_);
    return policy_;
}

void Session::with_processes(const std::function<void(const std::vector<pid_t>&)>& work) {
    std::lock_guard lock(mutex_);
    if (ended_) throw SandboxError("checkpoint: the sandbox has ended" + (end_reason_.empty() ? "" : " (" + end_reason_ + ")"));
    if (run_->paused())
        throw SandboxError("checkpoint: the sandbox is paused; resume it first (a checkpoint stops its processes itself)");
    if (traced_start_) throw SandboxError("checkpoint: a restore is starting in the sandbox; try again when it runs");
    if (!run_->namespaced())
        throw SandboxError("checkpoint: the sandbox has no PID namespace of its own, so its processes cannot be told "
                           "apart (sandlock check: pid namespace)");
    std::vector<pid_t> pids;
    for (const CensusEntry& entry : take_census(run_->pid(), run_->spawner_pid(), run_->sandbox_pid_namespace()).processes)
        pids.push_back(entry.pid);
    if (pids.empty()) throw SandboxError("checkpoint: no process runs in the sandbox");
    work(pids);
}

std::optional<std::string> Session::app_state() {
    Fd channel;
    {
        std::unique_lock lock(mutex_);
        // A command whose start the spawner has not reported yet may be the one with a channel
        // (and may already run): its report comes within moments.
        changed_.wait_for(lock, kAppStateTimeout, [&] {
            return ended_ || std::none_of(processes_.begin(), processes_.end(),
                                          [](const auto& p) { return p->checkpoint_channel && !p->spawned; });
        });
        for (auto it = processes_.rbegin(); it != processes_.rend() && !channel; ++it)
            if ((*it)->running && (*it)->checkpoint_channel) channel = Fd(::fcntl((*it)->checkpoint_channel.get(), F_DUPFD_CLOEXEC, 0));
    }
    // Asked unlocked: the program may print a lot while it prepares its state.
    if (!channel) return std::nullopt;
    return ask_app_state(channel.get());
}

std::vector<std::pair<std::string, std::string>> Session::control_held(const std::string& request_json,
                                                                       const std::vector<std::string>& only) {
    return run_->control(request_json, only);
}

std::vector<std::pair<std::string, std::vector<std::string>>> Session::supervised_fields() {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& plugin : run_->plugins().plugins())
        if (plugin->flags() & sdk::kPluginServesNotifications) out.emplace_back(plugin->name(), plugin->owned_fields());
    return out;
}

std::vector<std::string> Session::plugin_names() {
    std::vector<std::string> names;
    for (const auto& plugin : run_->plugins().plugins()) names.emplace_back(plugin->name());
    return names;
}

bool Session::closed() {
    std::lock_guard lock(mutex_);
    return closed_;
}

void Session::terminate(const std::string& reason) {
    std::lock_guard lock(mutex_);
    end_locked(reason);
    changed_.notify_all();
}

// Without the lock: the server's thread may be answering a request that takes it.
void Session::stop_server() {
    std::unique_ptr<ControlServer> server;
    {
        std::lock_guard lock(mutex_);
        server = std::move(server_);
    }
}

void Session::close() {
    stop_server();
    std::unique_lock lock(mutex_);
    if (closed_) return;
    closed_ = true;
    // The exit the layers judge: the last command's, when everything had ended by itself.
    const bool all_exited = std::none_of(processes_.begin(), processes_.end(), [](const auto& p) { return p->running; });
    sdk::ExitInfo info{-1, SIGKILL, 0};
    if (all_exited && !ended_ && !processes_.empty()) {
        const Result& last = processes_.back()->result;
        info = {last.term_signal ? -1 : last.exit_code, last.term_signal, last.timed_out ? 1u : 0u};
    }
    if (std::any_of(processes_.begin(), processes_.end(), [](const auto& p) { return p->timed_out; })) info.timed_out = 1;
    if (run_->paused()) {
        try {
            run_->set_paused(false);
        } catch (const SandboxError&) {
            // Ending it is all that is left; stopped processes die on SIGKILL too.
        }
    }
    end_locked("closed");
    stopping_ = true;
    lock.unlock();
    wake_monitor();
    if (monitor_.joinable()) monitor_.join();
    lock.lock();
    run_->run_on_exit(info);
    const std::string reason = run_->abort_reason_text();
    if (!reason.empty()) throw SandboxError("the sandbox was killed: " + reason);
    if (!run_->exit_failure().empty()) throw SandboxError(run_->exit_failure());
}

void Session::wake_monitor() { signal_event(wake_); }

// ---- The monitor thread ----------------------------------------------------------------

void Session::monitor() noexcept {
    for (;;) {
        std::vector<pollfd> polled;
        std::vector<std::shared_ptr<ProcessState>> readers;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            polled.push_back({wake_.get(), POLLIN, 0});
            if (!ended_) {
                polled.push_back({run_->fds().spawn_parent.get(), POLLIN, 0});
                polled.push_back({run_->pidfd(), POLLIN, 0});
                polled.push_back({run_->plugins().abort_fd(), POLLIN, 0});
                if (cancel_fd_ >= 0) polled.push_back({cancel_fd_, POLLIN, 0});
            }
            for (const auto& p : processes_)
                if (p->stdout_read || p->stderr_read) {
                    readers.push_back(p);
                    if (p->stdout_read) polled.push_back({p->stdout_read.get(), POLLIN, 0});
                    if (p->stderr_read) polled.push_back({p->stderr_read.get(), POLLIN, 0});
                }
        }
        if (::poll(polled.data(), polled.size(), -1) < 0 && errno != EINTR) {
            std::lock_guard lock(mutex_);
            end_locked("its monitor failed: " + errno_text(errno));
            changed_.notify_all();
            return;
        }
        std::uint64_t count;
        while (::read(wake_.get(), &count, sizeof count) > 0) {
        }
        try {
            std::lock_guard lock(mutex_);
            for (const auto& p : readers) drain(*p, false);
            if (!ended_ && cancel_fd_ >= 0) {
                pollfd cancel{cancel_fd_, POLLIN, 0};
                signalfd_siginfo info{};
                if (::poll(&cancel, 1, 0) == 1 && ::read(cancel_fd_, &info, sizeof info) == sizeof info) {
                    cancel_signal_ = static_cast<int>(info.ssi_signo);
                    read_events();
                    end_locked("cancelled by signal " + std::to_string(cancel_signal_));
                }
            }
            if (!ended_) {
                read_events();
                pollfd died[2] = {{run_->pidfd(), POLLIN, 0}, {run_->plugins().abort_fd(), POLLIN, 0}};
                if (::poll(died, 2, 0) > 0) {
                    read_events();  // what the spawner said before the end
                    const std::string abort = run_->abort_reason_text();
                    end_locked(abort.empty() ? "its spawner or init died" : abort);
                }
            }
            changed_.notify_all();
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex_);
            end_locked(std::string("its monitor failed: ") + e.what());
            changed_.notify_all();
        }
    }
}

// Every event the spawner socket holds now.
void Session::read_events() {
    for (;;) {
        spawn::Event event{};
        iovec iov{&event, sizeof event};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(run_->fds().spawn_parent.get(), &msg, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        if (n != static_cast<ssize_t>(sizeof event)) continue;
        pid_t sender = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred cred{};
                std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                sender = cred.pid;
            }
        auto by_id = [&]() -> ProcessState* {
            for (const auto& p : processes_)
                if (p->id == event.id) return p.get();
            return nullptr;
        };
        switch (event.kind) {
            case spawn::EventKind::Started:
                if (ProcessState* p = by_id()) {
                    p->pid = sender;
                    p->sandbox_pid = event.pid;
                    p->running = true;
                }
                break;
            case spawn::EventKind::ExecFailed:
                if (ProcessState* p = by_id()) {
                    const std::string& command = p->argv[0];
                    if (event.value == ENOENT && event.candidate >= 0 &&
                        static_cast<std::size_t>(event.candidate) < p->exec_paths.size())
                        p->result.error = missing_interpreter(command, policy_.chroot.value_or("") + p->exec_paths[event.candidate]);
                    else
                        p->result.error = event.value == ENOENT ? command + ": command not found"
                                                                : "cannot run " + command + ": " + errno_text(event.value);
                }
                break;
            case spawn::EventKind::NestFailed:
                if (ProcessState* p = by_id())
                    p->result.error = std::string("the nested sandbox's confinement failed (") +
                                      nest_step_name(event.candidate) + "): " + errno_text(event.value);
                break;
            case spawn::EventKind::Spawned:
                if (ProcessState* p = by_id()) {
                    p->spawned = true;
                    p->spawn_error = event.value;
                    if (event.value != 0) p->running = false;
                }
                break;
            case spawn::EventKind::Exited:
                if (ProcessState* p = find_locked(event.pid)) finish_locked(*p, event.value);
                break;
        }
    }
}

ProcessState* Session::find_locked(pid_t sandbox_pid) {
    for (const auto& p : processes_)
        if (p->running && p->sandbox_pid == sandbox_pid) return p.get();
    return nullptr;
}

void Session::await_spawner_locked(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done,
                                   const std::string& command) {
    // The command it just started may stop it (SIGSTOP to its parent) before it reported: it
    // is woken while we wait, as before each request.
    const auto deadline = Clock::now() + kSpawnerAnswer;
    while (!changed_.wait_for(lock, std::chrono::milliseconds(100), done)) {
        if (Clock::now() >= deadline) spawner_silent_locked(command);
        run_->wake_spawner();
    }
}

void Session::spawner_silent_locked(const std::string& command) {
    end_locked("its spawner did not answer");
    throw SandboxError("exec: the sandbox's spawner did not start " + command + " within " +
                       std::to_string(kSpawnerAnswer.count()) + " s (a process of the sandbox stopped it?); the "
                       "sandbox was ended");
}

// Forgets ended commands beyond the last few: each Process keeps its own result, so a sandbox
// that runs commands for days does not grow with them.
void Session::prune_locked() {
    std::size_t ended = 0;
    for (auto it = processes_.rbegin(); it != processes_.rend();) {
        const bool keep = (*it)->running || !(*it)->spawned || it == processes_.rbegin() || ended++ < kEndedKept;
        if (keep) {
            ++it;
        } else {
            it = std::make_reverse_iterator(processes_.erase(std::next(it).base()));
        }
    }
}

void Session::finish_locked(ProcessState& process, int wait_status) {
    set_result_status(process.result, wait_status);
    if (process.timed_out) {
        process.result.timed_out = true;
        process.result.exit_code = 124;
    }
    drain(process, true);
    process.running = false;
    prune_locked();
}

// Reads what a captured stream holds (to its end when `to_end`: the writer is gone, or what is
// left of its output now is all the result gets).
void Session::drain(ProcessState& process, bool to_end) {
    for (auto [fd, into] : {std::pair{&process.stdout_read, &process.result.stdout_text},
                            std::pair{&process.stderr_read, &process.result.stderr_text}}) {
        while (*fd) {
            char buffer[65536];
            const ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
            if (n > 0) {
                const std::size_t room = into->size() < kCaptureLimit ? kCaptureLimit - into->size() : 0;
                into->append(buffer, std::min(room, static_cast<std::size_t>(n)));
                if (static_cast<std::size_t>(n) > room) process.result.output_truncated = true;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            // End of file, or nothing more now: a process that exited leaves its pipe to its
            // children (a daemon), whose later output is not its result.
            if (n == 0 || errno != EAGAIN || to_end) fd->reset();
            break;
        }
    }
}

void Session::end_locked(const std::string& why) {
    if (ended_) return;
    ended_ = true;
    end_reason_ = why;
    run_->end_tree();
    read_events();  // the exits the spawner reported before it died
    for (const auto& p : processes_) {
        if (!p->running && p->spawned) continue;
        p->spawned = true;
        if (p->running) {
            // Killed with the sandbox; its status died with the spawner that was its parent.
            p->result.term_signal = cancel_signal_ != 0 ? cancel_signal_ : SIGKILL;
            p->result.exit_code = 128 + p->result.term_signal;
            if (p->timed_out) {
                p->result.timed_out = true;
                p->result.exit_code = 124;
            }
            drain(*p, true);
            p->running = false;
        }
    }
}

}  // namespace sandlock
