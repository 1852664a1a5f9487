// Finds, loads and drives plugins across the waist (sdk/abi.hpp).
#pragma once

#include "fd.hpp"
#include "plugin_manifest.hpp"

#include <sandlock/plugins.hpp>
#include <sandlock/sdk/abi.hpp>

#include <boost/dll/shared_library.hpp>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sandlock {

// The host side of HostApi: logging, notify routing, notification handlers and aborting the
// run, shared by all plugins of a run.
class HostServices {
public:
    struct State {
        std::vector<int> notify_requests;
        std::vector<sdk::NotifyRule> notify_rules;  // conditional requests (request_notify_when)
        std::vector<sdk::NotifHandlerEntry> handlers;
        std::deque<std::string> handler_plugins;  // the names handlers' entries point to (stable)
        bool configuring = true;  // routing requests are taken only while plugins configure
        bool configuring_notif_layer = false;  // the plugin configuring now is the notif layer
        bool routed_outside_notif_layer = false;  // a route (or handler) of another plugin
        Fd abort_event;           // an eventfd, readable once a plugin aborted the run
        std::mutex abort_mutex;
        std::string abort_reason;  // "plugin: reason" of the first abort_run
    };

    HostServices();
    HostServices(const HostServices&) = delete;  // api_ points into this object
    HostServices& operator=(const HostServices&) = delete;
    const sdk::HostApi* api() const { return &api_; }
    const std::vector<int>& notify_requests() const { return state_.notify_requests; }
    const std::vector<sdk::NotifyRule>& notify_rules() const { return state_.notify_rules; }
    // Whether any syscall is routed to the listener, always or under conditions.
    bool routes_notifications() const { return !state_.notify_requests.empty() || !state_.notify_rules.empty(); }
    // Whether `syscall_nr` is routed to the listener, always or under conditions.
    bool routes(int syscall_nr) const;
    // Set before each plugin's configure(): whether that plugin is the notif layer.
    void configuring_notif_layer(bool is_it) { state_.configuring_notif_layer = is_it; }
    // Whether a plugin other than the notif layer routed a syscall or registered a handler: one
    // served by code the core knows nothing of (a third-party handler, or a plugin reading the
    // listener itself).
    bool routed_outside_notif_layer() const { return state_.routed_outside_notif_layer; }
    const std::vector<sdk::NotifHandlerEntry>& notif_handlers() const { return state_.handlers; }
    // After this, request_notify and register_notif_handler refuse: the filter is being built.
    void end_configuration() { state_.configuring = false; }
    // Readable once a plugin called abort_run (the launcher polls it while the sandbox runs).
    int abort_fd() const { return state_.abort_event.get(); }
    // Why the run was aborted; empty when it was not.
    std::string abort_reason();

private:
    State state_;
    sdk::HostApi api_;
};

// A plugin's shared object, loaded once and kept for the life of the process: each load of a
// plugin with a static libstdc++ allocates its emergency exception pool (~71 KB), which an
// unload never gives back, so a long-lived caller of Sandbox::run would grow with every run.
struct PluginLibrary {
    PluginManifest manifest;  // read from the file's note before it was loaded
    boost::dll::shared_library library;
    const sdk::PluginVTable* vtable = nullptr;
};

// The library at `path` (resolved, so two spellings share one load), from the process-wide
// cache or loaded now after its ELF headers and ABI number were checked. Thread-safe; throws
// PluginError naming the file.
std::shared_ptr<const PluginLibrary> load_plugin_library(const std::filesystem::path& path);

// One loaded plugin instance. The library outlives the instance it created.
class LoadedPlugin {
public:
    LoadedPlugin(const std::filesystem::path& path, const HostServices& host);
    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;

    std::string_view name() const { return library_->manifest.name; }
    const std::filesystem::path& path() const { return path_; }
    const std::vector<std::string>& owned_fields() const;
    std::uint32_t flags() const { return library_->manifest.flags; }
    bool runs_in(sdk::Stage stage) const { return (child_stages_ & sdk::stage_bit(stage)) != 0; }

    // Throw PolicyError (configure) or ConfinementError (prepare, after_fork) with the reason.
    void configure(std::string_view policy_json, std::string_view options_json);
    void prepare();
    void after_fork(const sdk::ParentContext& ctx);
    // The reason the plugin's end-of-run work failed, or empty.
    std::string on_exit(const sdk::ExitInfo& info) noexcept;
    void receive_fd(int fd) noexcept;
    // A plugin command (sdk::PluginVTable::command); throws PluginError with its reason.
    std::string command(std::string_view request_json);
    // A request to the running instance (sdk::PluginVTable::control): its output, nullopt when
    // the plugin has no live state; throws PluginError with its reason.
    std::optional<std::string> control(std::string_view request_json);
    // For a nested sandbox's plugin set, after prepare(): what the plugin adds to its processes
    // (false: it has no nested hook). Throws PluginError with its reason.
    bool nested(sdk::NestedConfinement& out);
    // In the child: no allocation. Returns 0 or -errno.
    int child_stage(sdk::Stage stage, sdk::ChildContext* ctx) noexcept;

private:
    std::filesystem::path path_;
    std::shared_ptr<const PluginLibrary> library_;
    const sdk::PluginVTable* vtable_ = nullptr;
    std::uint32_t child_stages_ = 0;  // a copy: read in the child, where nothing may be chased far
    void* instance_ = nullptr;
};

// The names of the NAME.so files in the search path, in search order, without loading any.
std::vector<std::string> plugin_files(const std::vector<std::filesystem::path>& search_path);

}  // namespace sandlock
