#include "plugin_set.hpp"

#include "logging.hpp"
#include "policy_reach.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <utility>

namespace sandlock {
namespace fs = std::filesystem;
namespace {

using FieldOwners = std::map<std::string, std::string>;  // field -> plugin name

// The policy fields the core enforces itself; every other field is owned by the plugin whose
// manifest names it (the manifests are the one source of truth).
constexpr std::array<std::string_view, 6> kCoreFields{"clean_env", "env", "chroot", "close_fds", "strict", "privileged"};

std::string join(const auto& items, std::string_view separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += separator;
        if constexpr (requires { item.string(); }) out += item.string();
        else out += item;
    }
    return out;
}

bool valid_plugin_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

fs::path find_plugin(std::string_view name, const std::vector<fs::path>& search_path);

// Whether the policy makes /proc readable (directly, through "/", or through a symlink: Landlock
// follows it, so the path is judged where it leads).
bool exposes_proc(const PolicyReach& reach) { return reach.lists_under("/proc"); }

// Why the policy needs the notif layer beyond the fields it owns, or nullptr. A readable /proc:
// the core's namespaces hold its secrets and foreign pids, notif serves the mount tables
// without the host's mounts. net_bind: Landlock holds bind(2) only, and listen() on an unbound
// socket takes a port without it; notif refuses that.
const char* needs_notif(const Policy& policy, const PolicyReach& reach) {
    if (exposes_proc(reach))
        return "a readable /proc (fs_readable or fs_writable holds / or /proc) needs plugin 'notif' too";
    if (!policy.net_bind.empty())
        return "net_bind needs plugin 'notif' too (listen() on an unbound socket takes a port without bind())";
    return nullptr;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// Explicit choice, else the owners of every field set. seccomp is always in: the default
// /dev/tty grant and chroot rely on its denials (TIOCSTI, chroot(2)), so no list drops it. An
// owner that is not installed is left out here so the field check names the field that needs it.
std::vector<std::string> chosen_names(const Policy& policy, const PolicyReach& reach, const SandboxOptions& options,
                                      const std::vector<fs::path>& search_path,
                                      const std::function<const FieldOwners&()>& owners) {
    std::vector<std::string> names{"seccomp"};
    const std::vector<std::string>& explicit_names = !options.plugins.empty() ? options.plugins : policy.plugins;
    for (const auto& name : explicit_names)
        if (!contains(names, name)) names.push_back(name);
    if (!explicit_names.empty()) return names;
    for (std::string_view field : fields_set(policy)) {
        auto owner = owners().find(std::string(field));
        if (owner != owners().end() && !contains(names, owner->second)) names.push_back(owner->second);
    }
    if (needs_notif(policy, reach) && !contains(names, kNotifLayer) && !find_plugin(kNotifLayer, search_path).empty())
        names.emplace_back(kNotifLayer);
    return names;
}

fs::path find_plugin(std::string_view name, const std::vector<fs::path>& search_path) {
    if (!valid_plugin_name(name))
        throw PluginError("plugins: invalid plugin name " + quote_value(name) +
                          " (use lowercase letters, digits, '-' and '_')");
    for (const auto& dir : search_path) {
        fs::path candidate = dir / (std::string(name) + ".so");
        std::error_code ec;
        const fs::file_status status = fs::status(candidate, ec);
        if (fs::is_regular_file(status)) return candidate;
        if (fs::exists(status))
            throw PluginError("plugin " + std::string(name) + ": " + candidate.string() +
                              " is not a regular file; remove or rename it");
    }
    return {};
}

}  // namespace

FieldOwners field_owners(const std::vector<fs::path>& search_path) {
    FieldOwners owners;
    for (const PluginInfo& plugin : discover_plugins(search_path)) {
        if (!plugin.error.empty()) continue;
        for (const std::string& field : plugin.owned_fields) {
            auto [it, inserted] = owners.emplace(field, plugin.name);
            if (!inserted && it->second != plugin.name)
                throw PluginError("policy field " + field + " is owned by two plugins, " + it->second + " and " +
                                  plugin.name + " (" + plugin.path.string() + "); remove one of them");
        }
    }
    return owners;
}

static bool core_field(std::string_view field) {
    return std::find(kCoreFields.begin(), kCoreFields.end(), field) != kCoreFields.end();
}

std::string run_plugin_command(std::string_view plugin, const std::string& request_json,
                               const std::vector<std::string>& plugin_path) {
    const std::vector<fs::path> search_path = plugin_search_path(plugin_path);
    const fs::path file = find_plugin(plugin, search_path);
    if (file.empty())
        throw PluginError("plugin " + std::string(plugin) + " is not installed (searched: " + join(search_path, ", ") +
                          ")");
    HostServices host;
    LoadedPlugin loaded(file, host);
    return loaded.command(request_json);
}

PluginSet::PluginSet(const Policy& policy, const PolicyReach& reach, const SandboxOptions& options, bool nested) {
    check_policy_text(policy);  // library callers too: a NUL would cut a path short in a plugin
    const std::vector<fs::path> search_path = plugin_search_path(options.plugin_path);
    // Every plugin's manifest is read only when needed: to choose the plugins, or to name the
    // one a field needs (an explicit list loads just its own).
    std::optional<FieldOwners> owners_found;
    const std::function<const FieldOwners&()> owners = [&]() -> const FieldOwners& {
        if (!owners_found) owners_found = field_owners(search_path);
        return *owners_found;
    };
    const std::vector<std::string> names = chosen_names(policy, reach, options, search_path, owners);

    for (const auto& name : names) {
        if (std::any_of(plugins_.begin(), plugins_.end(), [&](const auto& p) { return p->name() == name; }))
            continue;
        fs::path file = find_plugin(name, search_path);
        if (file.empty()) {
            std::vector<std::string> found = plugin_files(search_path);  // named, never loaded
            throw PluginError("unknown plugin '" + name + "' (found: " +
                              (found.empty() ? "none" : join(found, ", ")) +
                              "; searched: " + join(search_path, ", ") + ")");
        }
        plugins_.push_back(std::make_unique<LoadedPlugin>(file, host_));
        if (plugins_.back()->name() != name)
            throw PluginError("plugin " + file.string() + " calls itself '" + std::string(plugins_.back()->name()) +
                              "'; a plugin's file must be named after it (" + std::string(plugins_.back()->name()) +
                              ".so)");
        logging::debug("core", "loaded plugin " + name + " from " + file.string());
    }

    // Nothing the user asked for may go silently unenforced.
    for (std::string_view field : fields_set(policy)) {
        bool owned = std::any_of(plugins_.begin(), plugins_.end(), [&](const auto& p) {
            return contains(p->owned_fields(), field);
        });
        if (owned || core_field(field)) continue;
        auto owner = owners().find(std::string(field));
        if (owner == owners().end())
            throw PolicyError(std::string(field) + ": no installed plugin enforces it (searched: " +
                              join(search_path, ", ") + "); install the layer that owns it");
        throw PolicyError(std::string(field) + " needs plugin '" + owner->second +
                          "', which is not enabled; add it: --plugins=" + join(names, ",") + "," + owner->second);
    }
    if (const char* why = needs_notif(policy, reach); !nested && why != nullptr && !contains(names, kNotifLayer))
        throw PolicyError(std::string(why) + "; add it: --plugins=" +
                          join(names, ",") + ",notif");
    for (const auto& entry : policy.plugin_options) {
        const std::string& name = entry.first;  // a named variable: clang 14 cannot capture a binding
        if (std::none_of(plugins_.begin(), plugins_.end(), [&](const auto& p) { return p->name() == name; }))
            throw PolicyError("[plugins." + name + "] configures plugin '" + name +
                              "', which is not enabled (enabled: " + join(names, ", ") + ")");
    }

    const std::string policy_json = policy_to_json(policy);
    for (const auto& plugin : plugins_) {
        auto it = policy.plugin_options.find(std::string(plugin->name()));
        host_.configuring_notif_layer(plugin->name() == kNotifLayer);
        plugin->configure(policy_json, it == policy.plugin_options.end() ? std::string_view{} : it->second);
    }
    host_.end_configuration();
    // Checked before fork: without a listener the command would run unsupervised.
    if (host_.routes_notifications() && !has_flag(sdk::kPluginProvidesListener))
        throw PolicyError("supervised syscalls need the seccomp layer, which makes the listener; add it: --plugins=" +
                          join(names, ",") + ",seccomp");
    // In a user namespace the command holds CAP_SYS_CHROOT: only the seccomp layer's chroot(2)
    // denial keeps it inside the new root.
    if (policy.chroot && !has_flag(sdk::kPluginProvidesListener))
        throw PolicyError("chroot needs plugin 'seccomp' (it denies chroot(2) inside); add it: --plugins=" +
                          join(names, ",") + ",seccomp");
    if (!host_.notif_handlers().empty() && !serves_notifications()) {
        std::string registrant(sdk::view(host_.notif_handlers().front().plugin));
        throw PolicyError("plugin " + registrant +
                          " registers notification handlers, which need plugin 'notif'; add it: --plugins=" +
                          join(names, ",") + ",notif");
    }
    for (const auto& plugin : plugins_) plugin->prepare();
}

bool PluginSet::routes_any_of(std::span<const int> syscalls) const {
    return std::any_of(syscalls.begin(), syscalls.end(), [this](int nr) { return host_.routes(nr); });
}

bool PluginSet::runs_child_stages_after_listener() const {
    return std::any_of(plugins_.begin(), plugins_.end(), [](const auto& plugin) {
        return plugin->runs_in(sdk::Stage::CloseFds) || plugin->runs_in(sdk::Stage::Environment) ||
               plugin->runs_in(sdk::Stage::Exec);
    });
}

bool PluginSet::serves_notifications() const { return has_flag(sdk::kPluginServesNotifications); }

bool PluginSet::has_flag(std::uint32_t flag) const {
    return std::any_of(plugins_.begin(), plugins_.end(), [flag](const auto& p) { return (p->flags() & flag) != 0; });
}

bool PluginSet::needs_user_namespace() const { return has_flag(sdk::kPluginNeedsUserNamespace); }

}  // namespace sandlock
