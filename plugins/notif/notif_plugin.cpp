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
#include <unordered_map>
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
        if (track_processes_) processes_.start(ctx.child_pid, ctx.spawner_pid, sdk::sandbox_pid_namespace(ctx));
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
    // when tracked), and each module's limits and use; "scopes": each nested sandbox's
    // "members" and its modules' limits, use and "denied".
    void status(boost::json::object& out) override {
        if (supervisor_) supervisor_->counters().write(out);
        if (track_processes_) {
            processes_.refresh();
            out["processes"] = processes_.live_count();
        }
        for (const auto& module : modules_) module->status(out);
        forget_empty_scopes();
        if (scope_ids_.empty()) return;
        boost::json::object scopes;
        for (const auto& [name, scope] : scope_ids_) {
            boost::json::object entry;
            entry["members"] = processes_.scope_size(scope);
            for (const auto& module : modules_) module->scope_status(scope, entry);
            scopes[name] = std::move(entry);
        }
        out["scopes"] = std::move(scopes);
    }

    // A nested sandbox's process `root` joins scope `name`, whose limits every module that owns
    // one enforces for the scope's members on top of the sandbox's; all modules agree first.
    void nest(int root, std::string_view name, const Policy& policy) override {
        for (const auto& module : modules_) module->check_nest(policy);
        if (!track_processes_)
            throw sdk::Error("notif: this sandbox tracks no processes (it has no limit of its own), so it cannot "
                             "serve a nested sandbox's limits; give the parent the same limit");
        forget_empty_scopes();
        const auto [it, added] = scope_ids_.try_emplace(std::string(name), next_scope_);
        if (added) ++next_scope_;
        const ScopeId scope = it->second;
        try {
            for (const auto& module : modules_) module->nest(scope, static_cast<pid_t>(root), policy);
            if (!processes_.join(static_cast<pid_t>(root), scope))
                throw sdk::Error("notif: process " + std::to_string(root) + " of the nested sandbox is gone");
        } catch (...) {
            forget_empty_scopes();  // a new scope its first root could not join
            throw;
        }
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

    // Scopes without a process left (control thread only, like scope_ids_).
    void forget_empty_scopes() noexcept {
        for (auto it = scope_ids_.begin(); it != scope_ids_.end();) {
            if (!processes_.forget_scope_if_empty(it->second)) {
                ++it;
                continue;
            }
            for (const auto& module : modules_) module->forget_scope(it->second);
            it = scope_ids_.erase(it);
        }
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
    // Nested sandboxes by the host's name for them (control thread only); numbers never reused.
    std::unordered_map<std::string, ScopeId> scope_ids_;
    ScopeId next_scope_ = 1;
};

}  // namespace
}  // namespace sandlock::notif

SANDLOCK_EXPORT_PLUGIN(sandlock::notif::NotifPlugin, sandlock::notif::kManifest)
