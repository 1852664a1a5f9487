// The plugins one run uses: chosen, loaded, checked against the policy's fields, configured
// and prepared — everything that happens before fork.
#pragma once

#include "plugin_host.hpp"
#include "policy_reach.hpp"

#include <sandlock/policy.hpp>
#include <sandlock/sandbox.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock {

// Each policy field and the plugin whose manifest owns it, over every plugin in the search
// path (read from the files' notes; nothing is loaded). Throws PluginError when two plugins
// own one field, naming both.
std::map<std::string, std::string> field_owners(const std::vector<std::filesystem::path>& search_path);

// The layer that serves notifications (plugins/notif), which the core names in its advice and
// trusts to route only what its own modules answer.
inline constexpr std::string_view kNotifLayer = "notif";

class PluginSet {
public:
    // Chooses the plugins (options.plugins, else policy.plugins, else the owners of every
    // field set, seccomp always), loads them, refuses a set field whose owner is not enabled,
    // then configures and prepares each. Throws PolicyError, PluginError or ConfinementError.
    // `nested`: the plugins of a nested sandbox (nested_scope.hpp), whose supervised rules the
    // parent's supervisor serves: a readable /proc needs no notif layer of its own. `reach`:
    // the policy's paths, resolved.
    PluginSet(const Policy& policy, const PolicyReach& reach, const SandboxOptions& options, bool nested = false);

    const std::vector<std::unique_ptr<LoadedPlugin>>& plugins() const { return plugins_; }
    bool routes_notifications() const { return host_.routes_notifications(); }
    // Whether any of `syscalls` is routed to the listener, always or under conditions.
    bool routes_any_of(std::span<const int> syscalls) const;
    // Whether a plugin runs a child stage after the listener was handed over.
    bool runs_child_stages_after_listener() const;
    // Whether every route is the notif layer's own: no other plugin routed a syscall or
    // registered a handler (HostServices::routed_outside_notif_layer).
    bool routes_only_through_notif_layer() const {
        return !host_.routed_outside_notif_layer() && host_.notif_handlers().empty();
    }
    // Readable once a plugin aborted the run (HostApi::abort_run), and why.
    int abort_fd() const { return host_.abort_fd(); }
    std::string abort_reason() { return host_.abort_reason(); }
    bool needs_user_namespace() const;
    bool serves_notifications() const;

private:
    bool has_flag(std::uint32_t flag) const;

    HostServices host_;
    std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
};

}  // namespace sandlock
