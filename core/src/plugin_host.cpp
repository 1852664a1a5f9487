#include "plugin_host.hpp"

#include "plugin_manifest.hpp"

#include "elf_check.hpp"
#include "logging.hpp"

#include <sandlock/errors.hpp>

#include <boost/dll/runtime_symbol_info.hpp>

#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#ifndef SANDLOCK_SYSTEM_PLUGIN_DIR
#define SANDLOCK_SYSTEM_PLUGIN_DIR "/usr/local/lib/sandlock/plugins"
#endif

namespace sandlock {
namespace fs = std::filesystem;

std::vector<fs::path> plugin_search_path(const std::vector<std::string>& explicit_dirs) {
    std::vector<fs::path> dirs(explicit_dirs.begin(), explicit_dirs.end());
    if (const char* env = std::getenv("SANDLOCK_PLUGIN_PATH")) {
        std::stringstream list(env);
        for (std::string dir; std::getline(list, dir, ':');)
            if (!dir.empty()) dirs.emplace_back(dir);
    }
    boost::dll::fs::error_code ec;
    fs::path exe = boost::dll::program_location(ec);
    // Next to the executable: ../lib/sandlock/plugins (the build tree, `cmake --install`), then
    // the prefix's libdir (/usr/lib/<multiarch>/... in the packages), wherever it was unpacked.
    if (!ec)
        for (const char* sub : {"../lib/sandlock/plugins", "../" SANDLOCK_INSTALL_PLUGIN_SUBDIR})
            dirs.push_back((exe.parent_path() / sub).lexically_normal());
    dirs.emplace_back(SANDLOCK_SYSTEM_PLUGIN_DIR);
    std::vector<fs::path> unique;
    for (auto& dir : dirs)
        if (std::find(unique.begin(), unique.end(), dir) == unique.end()) unique.push_back(dir);
    return unique;
}

namespace {

std::shared_ptr<const PluginLibrary> load_uncached(const fs::path& path) {
    const std::string file = path.string();
    auto loaded = std::make_shared<PluginLibrary>();
    // The manifest is read from the file first: a plugin refused here never runs a constructor.
    loaded->manifest = read_plugin_manifest(path);
    boost::dll::shared_library& library = loaded->library;
    try {
        library.load(path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        throw PluginError("plugin " + file + ": cannot load: " + e.what());
    }
    if (!library.has(SANDLOCK_PLUGIN_ABI_SYMBOL) || !library.has(SANDLOCK_PLUGIN_FACTORY_SYMBOL))
        throw PluginError("plugin " + file + ": not a sandlock plugin (missing symbol " +
                          (library.has(SANDLOCK_PLUGIN_ABI_SYMBOL) ? SANDLOCK_PLUGIN_FACTORY_SYMBOL
                                                                   : SANDLOCK_PLUGIN_ABI_SYMBOL) +
                          ")");
    // The ABI number is read before the factory is touched: a mismatched vtable is never used.
    const std::uint32_t abi = library.get_alias<const std::uint32_t>(SANDLOCK_PLUGIN_ABI_SYMBOL);
    if (abi != sdk::kAbiVersion)
        throw PluginError("plugin " + file + ": built for plugin ABI " + std::to_string(abi) +
                          ", this sandlock speaks ABI " + std::to_string(sdk::kAbiVersion) +
                          "; rebuild it against this SDK");
    loaded->vtable = library.get_alias<const sdk::PluginVTable*()>(SANDLOCK_PLUGIN_FACTORY_SYMBOL)();
    if (loaded->vtable == nullptr || loaded->vtable->abi_version != sdk::kAbiVersion)
        throw PluginError("plugin " + file + ": its factory returned no valid hooks");
    return loaded;
}

}  // namespace

std::shared_ptr<const PluginLibrary> load_plugin_library(const fs::path& path) {
    static std::mutex mutex;
    // By file (device and inode: one stat, where resolving the path walks every component).
    using FileId = std::pair<dev_t, ino_t>;
    static auto* cache = new std::map<FileId, std::shared_ptr<const PluginLibrary>>();  // never destroyed:
    // plugin code may still run from static destructors of other objects at exit.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw PluginError("plugin " + path.string() + ": cannot load: " + std::strerror(errno));
    const FileId key{st.st_dev, st.st_ino};
    std::lock_guard lock(mutex);
    if (auto it = cache->find(key); it != cache->end()) return it->second;
    auto loaded = load_uncached(path);  // a refused file is not cached: it may be fixed and retried
    cache->emplace(key, loaded);
    return loaded;
}

std::vector<std::string> plugin_files(const std::vector<fs::path>& search_path) {
    std::vector<std::string> names;
    for (const auto& dir : search_path) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            std::string name = entry.path().stem().string();
            if (entry.path().extension() == ".so" && entry.is_regular_file(ec) &&
                std::find(names.begin(), names.end(), name) == names.end())
                names.push_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<PluginInfo> discover_plugins(const std::vector<fs::path>& search_path) {
    std::vector<PluginInfo> found;
    std::set<std::string> seen;
    for (const auto& dir : search_path) {
        std::error_code ec;
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".so") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            PluginInfo m;
            m.name = file.stem().string();
            if (!seen.insert(m.name).second) continue;
            m.path = file;
            try {
                PluginManifest manifest = read_plugin_manifest(file);  // from the note: nothing is loaded
                m.abi = manifest.abi;
                m.description = std::move(manifest.description);
                m.owned_fields = std::move(manifest.owned_fields);
            } catch (const std::exception& e) {
                m.error = e.what();
            }
            found.push_back(std::move(m));
        }
    }
    return found;
}

// HostApi callbacks: `host` is the HostServices::State of the run. They never throw (abi.h):
// 0 or -errno, -ENOMEM when an allocation failed.
namespace {
HostServices::State& state_of(void* host) { return *static_cast<HostServices::State*>(host); }

std::int32_t host_log(void*, sandlock_log_level level, sdk::Str plugin, sdk::Str message) noexcept {
    if (level > SANDLOCK_LOG_ERROR) level = SANDLOCK_LOG_ERROR;
    try {
        logging::write(static_cast<sdk::LogLevel>(level), sdk::view(plugin), sdk::view(message));
        return 0;
    } catch (...) {
        return -ENOMEM;
    }
}
std::int32_t host_request_notify(void* host, std::int32_t syscall_nr) noexcept {
    // The child hands the listener over with write() and waits for the ack with read(): those
    // two must never wait for a supervisor that is not running yet.
    HostServices::State& state = state_of(host);
    if (!state.configuring || syscall_nr == SYS_read || syscall_nr == SYS_write) return -EINVAL;
    auto& requests = state.notify_requests;
    try {
        if (std::find(requests.begin(), requests.end(), syscall_nr) == requests.end()) requests.push_back(syscall_nr);
    } catch (...) {
        return -ENOMEM;
    }
    state.routed_outside_notif_layer = state.routed_outside_notif_layer || !state.configuring_notif_layer;
    return 0;
}
bool well_formed(const sdk::NotifyRule& rule) {
    if (rule.condition_count == 0 || rule.condition_count > SANDLOCK_NOTIFY_MAX_CONDITIONS) return false;
    for (std::uint32_t i = 0; i < rule.condition_count; ++i) {
        const sdk::NotifyCondition& c = rule.conditions[i];
        if (c.arg > 5 || (c.op != SANDLOCK_NOTIFY_MASKED_EQ && c.op != SANDLOCK_NOTIFY_NOT_ZERO)) return false;
        if (c.op == SANDLOCK_NOTIFY_MASKED_EQ && (c.value & ~c.mask) != 0) return false;  // never true
    }
    return true;
}
std::int32_t host_request_notify_when(void* host, const sdk::NotifyRule* rule) noexcept {
    if (!state_of(host).configuring || rule == nullptr || rule->syscall_nr == SYS_read ||
        rule->syscall_nr == SYS_write || !well_formed(*rule))
        return -EINVAL;
    HostServices::State& state = state_of(host);
    try {
        state.notify_rules.push_back(*rule);
    } catch (...) {
        return -ENOMEM;
    }
    state.routed_outside_notif_layer = state.routed_outside_notif_layer || !state.configuring_notif_layer;
    return 0;
}
std::size_t host_notify_rules(void* host, const sdk::NotifyRule** rules) noexcept {
    auto& all = state_of(host).notify_rules;
    *rules = all.data();
    return all.size();
}
std::size_t host_notify_requests(void* host, const std::int32_t** syscalls) noexcept {
    auto& requests = state_of(host).notify_requests;
    *syscalls = requests.data();
    return requests.size();
}
std::int32_t host_register_notif_handler(void* host, sdk::Str plugin, std::int32_t syscall_nr,
                                         sdk::NotifHandlerFn fn, void* user) noexcept {
    if (std::int32_t rc = host_request_notify(host, syscall_nr); rc != 0) return rc;
    HostServices::State& state = state_of(host);
    try {
        // The name is copied: the entry outlives the call, and every reader gets it from here.
        state.handler_plugins.emplace_back(sdk::view(plugin));
        state.handlers.push_back({syscall_nr, fn, user, sdk::str(state.handler_plugins.back())});
    } catch (...) {
        return -ENOMEM;
    }
    return 0;
}
std::size_t host_notif_handlers(void* host, const sdk::NotifHandlerEntry** entries) noexcept {
    auto& handlers = state_of(host).handlers;
    *entries = handlers.data();
    return handlers.size();
}
std::int32_t host_abort_run(void* host, sdk::Str plugin, sdk::Str reason) noexcept {
    HostServices::State& state = state_of(host);
    std::int32_t rc = 0;
    try {
        std::lock_guard lock(state.abort_mutex);
        if (state.abort_reason.empty())
            state.abort_reason = std::string(sdk::view(plugin)) + ": " + std::string(sdk::view(reason));
    } catch (...) {  // out of memory: the run still ends, with a generic reason
        rc = -ENOMEM;
    }
    const std::uint64_t one = 1;
    while (::write(state.abort_event.get(), &one, sizeof one) < 0 && errno == EINTR) {
    }
    return rc;
}
}  // namespace

HostServices::HostServices()
    : api_{sdk::kAbiVersion,          &state_,          &host_log,           &host_request_notify,
           &host_notify_requests,     &host_register_notif_handler, &host_notif_handlers, &host_abort_run,
           &host_request_notify_when, &host_notify_rules} {
    state_.abort_event = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!state_.abort_event) throw ConfinementError("cannot create an eventfd: " + std::string(std::strerror(errno)));
}

bool HostServices::routes(int syscall_nr) const {
    const auto& rules = state_.notify_rules;
    return std::find(state_.notify_requests.begin(), state_.notify_requests.end(), syscall_nr) !=
               state_.notify_requests.end() ||
           std::any_of(rules.begin(), rules.end(), [&](const sdk::NotifyRule& r) { return r.syscall_nr == syscall_nr; });
}

std::string HostServices::abort_reason() {
    std::lock_guard lock(state_.abort_mutex);
    return state_.abort_reason;
}

LoadedPlugin::LoadedPlugin(const fs::path& path, const HostServices& host) : path_(path) {
    library_ = load_plugin_library(path);
    vtable_ = library_->vtable;
    child_stages_ = library_->manifest.child_stages;
    sdk::ErrorSink err{};
    instance_ = vtable_->create != nullptr ? vtable_->create(host.api(), &err) : nullptr;
    if (instance_ == nullptr)
        throw PluginError("plugin " + library_->manifest.name + " (" + path.string() +
                          "): could not be created: " + err.message);
}

LoadedPlugin::~LoadedPlugin() {
    if (instance_ != nullptr && vtable_->destroy != nullptr) vtable_->destroy(instance_);
}

const std::vector<std::string>& LoadedPlugin::owned_fields() const { return library_->manifest.owned_fields; }

void LoadedPlugin::configure(std::string_view policy_json, std::string_view options_json) {
    sdk::ErrorSink err{};
    if (vtable_->configure && vtable_->configure(instance_, sdk::str(policy_json), sdk::str(options_json), &err) != 0)
        throw PolicyError(err.message);
}

void LoadedPlugin::prepare() {
    sdk::ErrorSink err{};
    if (vtable_->prepare && vtable_->prepare(instance_, &err) != 0)
        throw ConfinementError(std::string(name()) + ": " + err.message);
}

void LoadedPlugin::after_fork(const sdk::ParentContext& ctx) {
    sdk::ErrorSink err{};
    if (vtable_->after_fork && vtable_->after_fork(instance_, &ctx, &err) != 0)
        throw ConfinementError(std::string(name()) + ": " + err.message);
}

std::string LoadedPlugin::on_exit(const sdk::ExitInfo& info) noexcept {
    sdk::ErrorSink err{};
    if (vtable_->on_exit && vtable_->on_exit(instance_, &info, &err) != 0) return err.message;
    return {};
}

void LoadedPlugin::receive_fd(int fd) noexcept {
    if (vtable_->receive_fd) vtable_->receive_fd(instance_, fd);
    else ::close(fd);
}

namespace {

// Calls a hook that writes to an OutputSink; returns what it wrote, or throws PluginError.
template <class Hook>
std::string collect_output(Hook&& hook) {
    std::string output;
    auto append = [](void* host, const char* data, std::size_t size) noexcept -> std::int32_t {
        try {
            static_cast<std::string*>(host)->append(data, size);
            return 0;
        } catch (...) {  // out of memory: the output is cut short, nothing crosses the waist
            return -ENOMEM;
        }
    };
    const sdk::OutputSink sink{&output, append};
    sdk::ErrorSink err{};
    if (hook(&sink, &err) != 0) throw PluginError(err.message);
    return output;
}

}  // namespace

std::string LoadedPlugin::command(std::string_view request_json) {
    if (vtable_->command == nullptr) throw PluginError("plugin " + std::string(name()) + " has no commands");
    return collect_output([&](const sdk::OutputSink* sink, sdk::ErrorSink* err) {
        return vtable_->command(instance_, sdk::str(request_json), sink, err);
    });
}

std::optional<std::string> LoadedPlugin::control(std::string_view request_json) {
    if (vtable_->control == nullptr) return std::nullopt;
    return collect_output([&](const sdk::OutputSink* sink, sdk::ErrorSink* err) {
        return vtable_->control(instance_, sdk::str(request_json), sink, err);
    });
}

bool LoadedPlugin::nested(sdk::NestedConfinement& out) {
    out = {};
    out.landlock_ruleset_fd = -1;
    if (vtable_->nested == nullptr) return false;
    sdk::ErrorSink err{};
    if (vtable_->nested(instance_, &out, &err) != 0) throw PluginError(std::string(name()) + ": " + err.message);
    return true;
}

int LoadedPlugin::child_stage(sdk::Stage stage, sdk::ChildContext* ctx) noexcept {
    return vtable_->child_stage ? vtable_->child_stage(instance_, static_cast<sandlock_stage>(stage), ctx) : 0;
}

}  // namespace sandlock
