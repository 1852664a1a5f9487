// The C++ side of a plugin: derive from sandlock::sdk::Plugin, override the hooks you need,
// and export the class with SANDLOCK_EXPORT_PLUGIN (export.hpp). Every hook has a safe default.
#pragma once

#include <sandlock/sdk/policy.hpp>
#include <sandlock/sdk/abi.hpp>

#include <boost/json.hpp>

#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sandlock::sdk {

// Throw from configure()/prepare()/after_fork() to refuse; the message reaches the user as
// one line, so name the field, the value and the fix.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The host's services, seen from a plugin.
class Host {
public:
    Host(const HostApi* api, std::string_view plugin) : api_(api), plugin_(plugin) {}

    // Logging never fails the caller: a message the host had no memory for is dropped.
    void log(LogLevel level, std::string_view message) const noexcept {
        api_->log(api_->host, static_cast<sandlock_log_level>(level), str(plugin_), str(message));
    }
    void debug(std::string_view message) const { log(LogLevel::Debug, message); }
    void info(std::string_view message) const { log(LogLevel::Info, message); }
    void warning(std::string_view message) const { log(LogLevel::Warning, message); }

    // Route a syscall (native number) to the seccomp user-notification listener.
    void request_notify(int syscall_nr) const {
        const int rc = api_->request_notify(api_->host, syscall_nr);
        if (rc == -ENOMEM) throw std::bad_alloc();
        if (rc != 0)
            throw Error(std::string(plugin_) + ": syscall " + std::to_string(syscall_nr) +
                        " cannot be supervised (only from configure(), and never read or write)");
    }
    // Route only the calls of `syscall_nr` whose arguments meet every condition (abi.h:
    // request_notify_when); e.g. mmap only when private and writable:
    //   host().request_notify_when(SYS_mmap, {{2, SANDLOCK_NOTIFY_MASKED_EQ, PROT_WRITE, PROT_WRITE},
    //                                        {3, SANDLOCK_NOTIFY_MASKED_EQ, MAP_TYPE, MAP_PRIVATE}});
    void request_notify_when(int syscall_nr, std::initializer_list<NotifyCondition> conditions) const {
        NotifyRule rule{};
        rule.syscall_nr = syscall_nr;
        if (conditions.size() == 0 || conditions.size() > SANDLOCK_NOTIFY_MAX_CONDITIONS)
            throw Error(std::string(plugin_) + ": a conditional notification takes 1 to " +
                        std::to_string(SANDLOCK_NOTIFY_MAX_CONDITIONS) + " conditions");
        for (const NotifyCondition& c : conditions) rule.conditions[rule.condition_count++] = c;
        const int rc = api_->request_notify_when(api_->host, &rule);
        if (rc == -ENOMEM) throw std::bad_alloc();
        if (rc != 0)
            throw Error(std::string(plugin_) + ": syscall " + std::to_string(syscall_nr) +
                        " cannot be supervised under these conditions (only from configure(), never read or "
                        "write, arguments 0 to 5)");
    }
    std::span<const NotifyRule> notify_rules() const {
        const NotifyRule* rules = nullptr;
        std::size_t count = api_->notify_rules(api_->host, &rules);
        return {rules, count};
    }
    std::span<const int> notify_requests() const {
        const int* syscalls = nullptr;
        std::size_t count = api_->notify_requests(api_->host, &syscalls);
        return {syscalls, count};
    }
    // Add a notification handler after the built-in ones (see notif.hpp for typed helpers).
    void register_notif_handler(int syscall_nr, NotifHandlerFn fn, void* user) const {
        const int rc = api_->register_notif_handler(api_->host, str(plugin_), syscall_nr, fn, user);
        if (rc == -ENOMEM) throw std::bad_alloc();
        if (rc != 0)
            throw Error(std::string(plugin_) + ": a handler for syscall " + std::to_string(syscall_nr) +
                        " cannot be added (only from configure(), and never for read or write)");
    }
    // Ends the run: the sandbox is killed and sandlock fails (exit 125) with `reason`. For a
    // layer that can no longer enforce its rules; any thread, never throws.
    void abort_run(std::string_view reason) const noexcept { api_->abort_run(api_->host, str(plugin_), str(reason)); }
    std::string_view plugin_name() const { return plugin_; }
    std::span<const NotifHandlerEntry> notif_handlers() const {
        const NotifHandlerEntry* entries = nullptr;
        std::size_t count = api_->notif_handlers(api_->host, &entries);
        return {entries, count};
    }

private:
    const HostApi* api_;
    std::string_view plugin_;
};

// The description of a plugin that the host reads before creating it.
struct Manifest {
    std::string_view name;
    std::string_view description;
    std::span<const std::string_view> owned_fields;  // Policy fields this plugin enforces
    std::uint32_t child_stages = 0;                  // stage_bit() mask
    std::uint32_t flags = 0;                         // PluginFlags
};

// A plugin command's output, written through to the host.
class Output {
public:
    explicit Output(const OutputSink* sink) : sink_(sink) {}
    Output& operator<<(std::string_view text) {
        if (sink_->write(sink_->host, text.data(), text.size()) != 0) throw std::bad_alloc();
        return *this;
    }

private:
    const OutputSink* sink_;
};

class Plugin {
public:
    Plugin(const HostApi* api, std::string_view name) : host_(api, name) {}
    virtual ~Plugin() = default;
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    // Before fork, once: the policy and this plugin's [plugins.NAME] table (empty if none).
    // Validate here; throw Error to refuse the policy. Ask for notify routing here.
    virtual void configure(const Policy& /*policy*/, const boost::json::object& /*options*/) {}
    // Before fork, after every plugin is configured: allocate, open paths, build rulesets and
    // programs, so the child stages only apply them.
    virtual void prepare() {}
    // In the child, for each stage in the manifest's mask. No allocation, locks, logging or
    // exceptions, no writes to this object or any other memory of sandlock's, and no change of
    // credentials: the child may run in sandlock's own memory until it execs (close your fds,
    // don't forget them; a credential change could make that memory dumpable again).
    // Return 0 or -errno; a failure aborts the run with exit 125.
    virtual int child_stage(Stage /*stage*/, ChildContext& /*ctx*/) noexcept { return 0; }
    // In the parent, once the child exists; ctx.listener_fd is the notify listener or -1.
    virtual void after_fork(const ParentContext& /*ctx*/) {}
    // In the parent, after the whole tree has been killed and reaped. Throw Error when what
    // the plugin must do at the end fails: the run then fails (exit 125) with the message.
    virtual void on_exit(const ExitInfo& /*info*/) {}
    // In the parent: the fd a child stage left in ChildContext::handover_fd; yours to close.
    virtual void receive_fd(int fd) noexcept { ::close(fd); }
    // An action outside a run (`sandlock NAME ...`): request["command"] names it. Throw Error
    // to fail with a one-line message.
    virtual void command(const boost::json::object& /*request*/, Output& /*out*/) {
        throw Error(std::string(host_.plugin_name()) + " has no commands");
    }

    // While the sandbox runs (after after_fork, before on_exit), from the host's controlling
    // thread — possibly not the one that runs the other hooks, never two at once.
    // update: apply the limits this plugin owns as `policy` now has them; throw Error to refuse.
    // Lowering a limit below current use must refuse new allocations or forks, never kill.
    virtual void update(const Policy& /*policy*/) {
        throw Error(std::string(host_.plugin_name()) + " cannot change its limits while the sandbox runs");
    }
    // paused(true): every process of the sandbox is about to be frozen; paused(false): thawed.
    virtual void paused(bool /*frozen*/) {}
    // Counters for `sandlock ps` and `inspect`: add them to `out`.
    virtual void status(boost::json::object& /*out*/) {}
    // A checkpoint is being taken and every process of the sandbox is stopped: save what this
    // plugin holds of the run that must match their memory (a branch snapshot) and describe it
    // in `out`; a restore is then told it. Throw Error when it cannot be saved.
    virtual void snapshot(boost::json::object& /*out*/) {}
    // A nested sandbox's process `root` (blocked until this returns, before it can fork or
    // allocate) and everything it starts belong to `scope`, whose policy narrows the fields
    // this plugin owns: enforce them for the scope's processes, together, on top of the
    // sandbox's own rules. Several roots may join one scope. Throw Error to refuse (the
    // process is then ended before it runs anything).
    virtual void nest(int /*root*/, std::string_view /*scope*/, const Policy& /*policy*/) {
        throw Error(std::string(host_.plugin_name()) + " cannot enforce a nested sandbox's rules");
    }

    // A nested sandbox's plugin set (Sandbox::sandbox), after prepare() and instead of child
    // stages: the kernel objects its processes add to their parent's confinement (abi.h).
    // What `out` points to must stay valid until on_exit. Throw Error when this policy cannot
    // be narrowed so; the default adds nothing.
    virtual void nested(NestedConfinement& /*out*/) {}

protected:
    const Host& host() const { return host_; }

private:
    Host host_;
};

}  // namespace sandlock::sdk
