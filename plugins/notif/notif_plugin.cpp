// The notif plugin: the seccomp user-notification supervisor and the features built on it —
// memory, process and CPU limits, the host allowlist, /proc and /sys rules, path rules — plus
// the handlers third-party plugins register through the host, which run after the built-ins.
#include "supervisor/builtin_module.hpp"
#include "cpu/cpu_throttle.hpp"
#include "supervisor/handler_chain.hpp"
#include "memory/memory_limit.hpp"
#include "net/listen_guard.hpp"
#include "net/net_allow.hpp"
#include "paths/path_rules.hpp"
#include "processes/process_limit.hpp"
#include "processes/process_table.hpp"
#include "procfs/procfs.hpp"
#include "supervisor/supervisor.hpp"

#include <sandlock/sdk/export.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sandlock::notif {
namespace {

constexpr std::string_view kOwnedFields[] = {"max_memory", "max_processes", "max_cpu", "net_allow_hosts"};

constexpr sdk::Manifest kManifest{
    .name = "notif",
    .description = "seccomp user-notification supervisor: memory, process and CPU limits, host allowlist, "
                   "/proc and path rules, third-party handlers",
    .owned_fields = kOwnedFields,
    .child_stages = sdk::stage_bit(sdk::Stage::Rlimits),
    .flags = sdk::kPluginServesNotifications,
};

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

class NotifPlugin final : public sdk::Plugin {
public:
    explicit NotifPlugin(const sdk::HostApi* api) : Plugin(api, kManifest.name) {
        // The order of the built-in handlers. The limits first: they only refuse or pass. Then
        // the user's path rules, which come before the host allowlist's /etc/hosts and the
        // /proc rules so a profile can override what those show.
        modules_.push_back(std::make_unique<MemoryLimit>(processes_));
        modules_.push_back(std::make_unique<ProcessLimit>(processes_));
        modules_.push_back(std::make_unique<CpuThrottle>(processes_));
        modules_.push_back(std::make_unique<PathRulesModule>());
        modules_.push_back(std::make_unique<NetAllowModule>());
        modules_.push_back(std::make_unique<ListenGuardModule>());
        modules_.push_back(std::make_unique<ProcFsModule>());
    }
    ~NotifPlugin() override { shut_down(); }

    void configure(const Policy& policy, const boost::json::object& options) override {
        refuse_unknown_options(options);
        strict_ = policy.strict;
        // Only the limits need to know the sandbox's processes; the rest pays nothing for it.
        track_processes_ = policy.max_memory || policy.max_processes || policy.max_cpu;
        const ModuleSetup setup{policy, options, host(), builtin_handlers_};
        for (const auto& module : modules_) {
            builtin_handlers_.set_rule(module->rule());
            module->configure(setup);
        }
    }

    int child_stage(sdk::Stage stage, sdk::ChildContext&) noexcept override {
        if (stage != sdk::Stage::Rlimits) return 0;
        for (const auto& module : modules_)
            if (int rc = module->apply_rlimits(); rc != 0) return rc;
        return 0;
    }

    void after_fork(const sdk::ParentContext& ctx) override {
        if (track_processes_) processes_.start(ctx.child_pid, ctx.spawner_pid);
        HandlerChain chain = build_chain();
        if (!chain.empty()) {
            if (ctx.listener_fd >= 0) {
                supervisor_.emplace(host(), std::move(chain));
                supervisor_->start(ctx.listener_fd, ctx.child_pidfd);
            } else {
                no_listener();
            }
        }
        for (const auto& module : modules_) module->after_fork(ctx);
    }

    void on_exit(const sdk::ExitInfo&) noexcept override { shut_down(); }

    // The limits (max_memory, max_processes, max_cpu) change, in every module or in none.
    void update(const Policy& policy) override { update_modules(modules_, policy); }

    void paused(bool frozen) override {
        for (const auto& module : modules_) module->paused(frozen);
    }

    // "notifications" and "denied" (by rule) from the supervisor, "processes" (the live members,
    // when tracked), and each module's limits and use.
    void status(boost::json::object& out) override {
        if (supervisor_) supervisor_->counters().write(out);
        if (track_processes_) {
            processes_.refresh();
            out["processes"] = processes_.live_count();
        }
        for (const auto& module : modules_) module->status(out);
    }

private:
    // Every key of [plugins.notif] must belong to a module: a typo is refused, not ignored.
    void refuse_unknown_options(const boost::json::object& options) const {
        std::vector<std::string> known, unknown;
        for (const auto& module : modules_)
            for (std::string_view key : module->option_keys()) known.emplace_back(key);
        for (const auto& [key, value] : options)
            if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) unknown.emplace_back(key);
        if (unknown.empty()) return;
        throw sdk::Error("[plugins.notif]: unknown option" + std::string(unknown.size() > 1 ? "s " : " ") +
                         join(unknown) + (known.empty() ? " (the notif plugin has no options)"
                                                        : " (the options are: " + join(known) + ")"));
    }

    // The built-in handlers first, then those of third-party plugins in registration order.
    HandlerChain build_chain() const {
        HandlerChain chain;
        const auto& builtins = builtin_handlers_.entries();
        for (std::size_t i = 0; i < builtins.size(); ++i) chain.add(builtins[i], builtin_handlers_.rules()[i]);
        for (const auto& entry : host().notif_handlers()) {
            if (!chain.add(entry))
                throw sdk::Error("plugin " + std::string(sdk::view(entry.plugin)) + " registered a notification handler for " +
                                 std::to_string(entry.syscall_nr) +
                                 ", which is not a syscall number; fix the plugin or leave it out");
        }
        // Third-party handlers always run on the supervisor thread (the SDK promises no
        // concurrency): a syscall they also handle is answered inline.
        for (int nr : builtin_handlers_.waiting_syscalls()) {
            const auto entries = chain.handlers_for(nr);
            if (std::all_of(entries.begin(), entries.end(),
                            [](const sdk::NotifHandlerEntry& e) { return sdk::view(e.plugin) == "notif"; }))
                chain.set_may_wait(nr);
        }
        return chain;
    }

    // The seccomp layer made no listener: missing (not enabled) or degraded (strict = false).
    void no_listener() const {
        const std::string lost = "the supervised syscalls (limits, host allowlist, /proc and path rules, "
                                 "third-party handlers) would go unenforced";
        if (strict_)
            throw sdk::Error("notif: no seccomp listener reached the supervisor, so " + lost +
                             "; enable the seccomp plugin, e.g. --plugins=landlock,seccomp,notif");
        host().warning("no seccomp listener: " + lost + "; running anyway because strict = false");
    }

    void shut_down() noexcept {
        if (supervisor_) supervisor_->stop();  // first: its handlers use the modules
        for (const auto& module : modules_) module->on_exit();
        processes_.stop();
    }

    // Declared in dependency order: members are destroyed bottom-up.
    ProcessTable processes_;
    HandlerTable builtin_handlers_;
    std::vector<std::unique_ptr<BuiltinModule>> modules_;
    std::optional<Supervisor> supervisor_;
    bool strict_ = true;
    bool track_processes_ = false;
};

}  // namespace
}  // namespace sandlock::notif

SANDLOCK_EXPORT_PLUGIN(sandlock::notif::NotifPlugin, sandlock::notif::kManifest)
