#include "nested_scope.hpp"

#include "child_plan.hpp"
#include "nested_policy.hpp"
#include "session.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>

namespace sandlock {
namespace {

std::atomic<std::uint64_t> next_scope{1};

bool owns_any(const LoadedPlugin& plugin, const std::vector<std::string_view>& fields) {
    const auto& owned = plugin.owned_fields();
    return std::any_of(fields.begin(), fields.end(),
                       [&](std::string_view f) { return std::find(owned.begin(), owned.end(), f) != owned.end(); });
}

// Unsets a field the parent's supervisor serves for the scope (fields_set() names them).
void clear_field(Policy& p, std::string_view field) {
    if (field == "max_memory") p.max_memory.reset();
    else if (field == "max_processes") p.max_processes.reset();
    else if (field == "max_cpu") p.max_cpu.reset();
    else if (field == "net_allow_hosts") p.net_allow_hosts.clear();
    else throw PolicyError(std::string(field) + ": a nested sandbox cannot have it served by its parent's supervisor");
}

}  // namespace

NestedScope::NestedScope(std::shared_ptr<Session> session, std::shared_ptr<const NestedScope> outer, Policy policy,
                         const SandboxOptions& options)
    : session_(std::move(session)), outer_(std::move(outer)), policy_(std::move(policy)),
      id_("nested-" + std::to_string(next_scope++)) {
    if (outer_) throw SandboxError("a nested sandbox cannot nest another one yet (nest it in the outermost sandbox)");
    check_nested_policy(session_->policy(), policy_);

    // The fields the parent's supervising plugin owns are served for this scope's subtree by
    // that plugin; the rest go to this scope's own plugins.
    const auto set = fields_set(policy_);
    auto is_set = [&](std::string_view field) { return std::find(set.begin(), set.end(), field) != set.end(); };
    Policy layered = policy_;
    layered.plugins.clear();
    for (const auto& [plugin, fields] : session_->supervised_fields()) {
        for (const auto& field : fields) {
            if (!is_set(field)) continue;
            has_subtree_rules_ = true;
            if (std::find(supervisors_.begin(), supervisors_.end(), plugin) == supervisors_.end()) supervisors_.push_back(plugin);
            clear_field(layered, field);
        }
    }

    SandboxOptions nested_options;
    nested_options.plugin_path = options.plugin_path;
    plugins_ = std::make_unique<PluginSet>(layered, PolicyReach(layered), nested_options, /*nested=*/true);
    const auto layered_set = fields_set(layered);
    for (const auto& plugin : plugins_->plugins()) {
        if (!owns_any(*plugin, layered_set)) continue;  // nothing of its own to add: the parent's rules hold
        // One listener per filter chain: only the parent's supervisor can serve the subtree.
        if (plugin->flags() & sdk::kPluginServesNotifications) {
            std::string fields;
            for (std::string_view f : layered_set)
                if (owns_any(*plugin, {f})) fields += (fields.empty() ? "" : ", ") + std::string(f);
            throw PolicyError(fields + ": the parent sandbox runs without the " + std::string(plugin->name()) +
                              " layer, whose supervisor would enforce it for a nested sandbox (give the parent a " +
                              "limit or host allowlist of its own, so that it runs that layer)");
        }
        sdk::NestedConfinement out{};
        if (!plugin->nested(out))
            throw PolicyError("plugin " + std::string(plugin->name()) + " cannot narrow a nested sandbox, so the "
                              "fields it owns cannot be set on one");
        if (out.landlock_ruleset_fd >= 0) {
            if (ruleset_fd_ >= 0) throw PluginError("two plugins give a nested sandbox a Landlock ruleset");
            ruleset_fd_ = out.landlock_ruleset_fd;
        }
        for (std::uint32_t i = 0; i < out.late_rule_count; ++i)
            late_rules_.emplace_back(out.late_rules[i].access, std::string(sdk::view(out.late_rules[i].path)));
        for (std::uint32_t i = 0; i < out.seccomp_program_count; ++i) {
            const auto* filter = static_cast<const sock_filter*>(out.seccomp_programs[i].filter);
            programs_.emplace_back(filter, filter + out.seccomp_programs[i].length);
        }
    }
}

NestedSpawn NestedScope::spawn() const {
    NestedSpawn spawn;
    // The parent's environment, narrowed: a nested sandbox can drop variables (clean_env) and
    // set its own, never bring back what its parent removed.
    CStringArray parent_env(session_->environment());
    spawn.env = build_environment(policy_, const_cast<char**>(parent_env.data()));
    spawn.ruleset_fd = ruleset_fd_;
    spawn.late_rules = late_rules_;
    spawn.programs = programs_;
    if (has_subtree_rules_) {
        boost::json::object scope;
        scope["id"] = id_;
        scope["policy"] = boost::json::parse(policy_to_json(policy_));
        boost::json::object request;
        request["command"] = "nest";
        request["scopes"] = boost::json::array{scope};
        spawn.nest_request = boost::json::serialize(request);
        spawn.nest_plugins = supervisors_;
    }
    return spawn;
}

}  // namespace sandlock
