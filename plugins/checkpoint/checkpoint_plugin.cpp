// The checkpoint plugin: takes checkpoints of a running sandbox's processes (capture/), keeps
// them in the user's store (store/, image/) and rebuilds a process from one (restore/). It owns
// no policy field and has no child stages: the host asks it through plugin commands
// (`sandlock checkpoint ...`, Sandbox::checkpoint, Checkpoint::load, Sandbox::restore).
#include "capture/capture.hpp"
#include "capture/confinement.hpp"
#include "image/checkpoint_file.hpp"
#include "image/manifest.hpp"
#include "image/page_file.hpp"
#include "restore/restorer.hpp"
#include "store/checkpoint_store.hpp"

#include <sandlock/sdk/export.hpp>
#include <sandlock/sdk/hex.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace sandlock::checkpoint {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr sdk::Manifest kManifest{
    .name = "checkpoint",
    .description = "checkpoint a running sandbox's processes, save/load/list/delete, restore them",
    .owned_fields = {},
    .child_stages = 0,
    .flags = 0,
};

constexpr const char* kAppStateFile = "app_state.bin";

std::string text_field(const json::object& request, const char* field) {
    const json::value* v = request.if_contains(field);
    if (v == nullptr || !v->is_string()) throw sdk::Error(std::string("checkpoint: the request has no \"") + field + "\"");
    return std::string(v->as_string());
}

bool flag_field(const json::object& request, const char* field) {
    const json::value* v = request.if_contains(field);
    return v != nullptr && v->is_bool() && v->as_bool();
}

std::string now_utc() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

void write_whole(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) throw sdk::Error("checkpoint: cannot write " + path.string());
    ::chmod(path.c_str(), 0600);
}

// Every file the manifest names is there, whole and unchanged.
void verify(const fs::path& directory, const Manifest& manifest) {
    for (const ProcessImage& p : manifest.processes) verify_file(directory / p.page_file, p.page_bytes, p.page_hash);
    if (manifest.app_state) verify_file(directory / manifest.app_state->file, manifest.app_state->size, manifest.app_state->hash);
}

std::uint64_t page_bytes(const Manifest& m) {
    std::uint64_t total = 0;
    for (const ProcessImage& p : m.processes) total += p.page_bytes;
    return total;
}

json::object summary(const std::string& name, const fs::path& directory, const Manifest& m) {
    json::array processes;
    for (const ProcessImage& p : m.processes)
        processes.push_back(json::object{{"pid", p.pid},
                                         {"ppid", p.ppid},
                                         {"exe", p.exe},
                                         {"argv", json::array(p.argv.begin(), p.argv.end())},
                                         {"cwd", p.cwd},
                                         {"threads", p.threads.size()},
                                         {"mappings", p.vmas.size()},
                                         {"files", p.fds.size()},
                                         {"page_bytes", p.page_bytes}});
    const auto why = unrestorable(m);
    return {{"name", name},
            {"directory", directory.string()},
            {"created", m.created},
            {"kernel", m.kernel},
            {"page_bytes", page_bytes(m)},
            {"processes", std::move(processes)},
            {"branch", m.branch ? json::value(*m.branch) : json::value(nullptr)},
            {"app_state", m.app_state ? json::value(m.app_state->size) : json::value(nullptr)},
            {"unrestorable", json::array(why.begin(), why.end())}};
}

// Where a sandbox under `policy` can write: its writable paths, and the workspace a branch of
// it commits into.
std::vector<std::string> writable_paths(const json::object& policy) {
    std::vector<std::string> paths;
    if (const json::value* list = policy.if_contains("fs_writable"); list != nullptr && list->is_array())
        for (const json::value& path : list->as_array())
            if (path.is_string()) paths.emplace_back(path.as_string());
    if (const json::value* mount = policy.if_contains("fs_mount"); mount != nullptr && mount->is_string())
        paths.emplace_back(mount->as_string());
    return paths;
}

// The summary with what the core needs to hold the checkpoint: its policy and why each process
// could not be restored in place at all.
json::object described(const std::string& name, const fs::path& directory, const Manifest& m) {
    json::object answer = summary(name, directory, m);
    answer["policy"] = m.policy;
    json::array refusals;
    for (const ProcessImage& p : m.processes) refusals.push_back(json::string(restore_refusal(p, {.skip_unrestorable = true})));
    answer["restore_refusals"] = std::move(refusals);
    return answer;
}

// What a sandboxed program chose (its command line, file names) as the terminal may show it:
// control characters escaped, so none of its escape sequences reaches the user's terminal.
std::string printable(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f || c == '\\') {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string mib(std::uint64_t bytes) {
    std::ostringstream out;
    out.precision(1);
    out << std::fixed << static_cast<double>(bytes) / (1u << 20) << " MiB";
    return out.str();
}

class CheckpointPlugin : public sdk::Plugin {
public:
    explicit CheckpointPlugin(const sdk::HostApi* api) : Plugin(api, kManifest.name) {}

    void command(const json::object& request, sdk::Output& out) override {
        const std::string command = text_field(request, "command");
        const CheckpointStore store(request.contains("store") ? fs::path(text_field(request, "store"))
                                                              : CheckpointStore::default_root());
        if (command == "stop")
            stop(store, request, out);
        else if (command == "dump")
            dump(store, request, out);
        else if (command == "release")
            release_processes(stopped_from(request));
        else if (command == "save")
            save(store, request, out);
        else if (command == "discard")
            store.discard(store.staging(text_field(request, "directory")));
        else if (command == "load")
            load(store, request, out);
        else if (command == "list")
            list(store, flag_field(request, "json"), out);
        else if (command == "show")
            show(store, text_field(request, "name"), flag_field(request, "json"), out);
        else if (command == "delete")
            store.remove(text_field(request, "name"));
        else if (command == "restore")
            restore(store, request);
        else
            throw sdk::Error("checkpoint: unknown command \"" + command + "\"");
    }

private:
    fs::path directory_of(const CheckpointStore& store, const json::object& request) const {
        if (request.contains("name")) return store.saved(text_field(request, "name"));
        return store.staging(text_field(request, "directory"));
    }

    // {"pids": [...], "policy": {...}}: the store is checked first (a checkpoint that could not
    // be kept stops nothing), then every process is stopped and left stopped for "dump".
    void stop(const CheckpointStore& store, const json::object& request, sdk::Output& out) {
        std::vector<pid_t> pids;
        const json::value* list = request.if_contains("pids");
        if (list == nullptr || !list->is_array()) throw sdk::Error("checkpoint: the request has no \"pids\"");
        for (const json::value& pid : list->as_array()) pids.push_back(static_cast<pid_t>(pid.to_number<std::int64_t>()));
        if (const json::value* policy = request.if_contains("policy"); policy != nullptr && policy->is_object())
            store.refuse_writable_by(writable_paths(policy->as_object()));
        json::object stopped;
        struct stat ours {};
        if (::stat("/proc/self/ns/pid", &ours) != 0) throw sdk::Error("checkpoint: cannot read this process's PID namespace");
        const SandboxIdentity sandbox{
            {ours.st_dev, static_cast<ino_t>(request.at("pid_namespace").to_number<std::uint64_t>())},
            static_cast<pid_t>(request.at("init").to_number<std::int64_t>()),
            static_cast<pid_t>(request.at("spawner").to_number<std::int64_t>())};
        for (const auto& [pid, tids] : stop_processes(std::move(pids), sandbox))
            stopped[std::to_string(pid)] = json::array(tids.begin(), tids.end());
        out << json::serialize(json::object{{"stopped", std::move(stopped)}});
    }

    // {"stopped": what "stop" answered, "policy", "app_state_hex", "branch"}: captures the
    // stopped processes into a new staging directory and lets them go on.
    void dump(const CheckpointStore& store, const json::object& request, sdk::Output& out) {
        const StoppedProcesses stopped = stopped_from(request);
        fs::path directory;
        Manifest manifest;
        try {
            directory = store.make_staging();
            manifest.created = now_utc();
            utsname uts{};
            ::uname(&uts);
            manifest.kernel = uts.release;
            manifest.machine = uts.machine;
            if (const json::value* policy = request.if_contains("policy"); policy != nullptr && policy->is_object())
                manifest.policy = policy->as_object();
            if (request.contains("branch")) manifest.branch = text_field(request, "branch");
            if (request.contains("app_state_hex")) {
                const auto state = sdk::hex_decode(text_field(request, "app_state_hex"));
                if (!state) throw sdk::Error("checkpoint: the app state is not hex");
                write_whole(directory / kAppStateFile, *state);
                manifest.app_state = AppState{kAppStateFile, state->size(), hash_bytes(state->data(), state->size())};
            }
        } catch (...) {
            release_processes(stopped);
            if (!directory.empty()) store.discard(directory);
            throw;
        }
        try {
            manifest.processes = capture_processes(stopped, directory);  // lets them go, whatever happens
            const auto spawner = static_cast<pid_t>(request.at("spawner").to_number<std::int64_t>());
            for (ProcessImage& p : manifest.processes)
                p.refusal = confinement_refusal(p.pid, spawner, flag_field(request, "nested"));
            write_manifest(directory, manifest);
            out << json::serialize(described("", directory, manifest));
        } catch (...) {
            store.discard(directory);
            throw;
        }
    }

    StoppedProcesses stopped_from(const json::object& request) const {
        StoppedProcesses stopped;
        const json::value* list = request.if_contains("stopped");
        if (list == nullptr || !list->is_object()) throw sdk::Error("checkpoint: the request has no \"stopped\"");
        for (const auto& [pid, tids] : list->as_object())
            for (const json::value& tid : tids.as_array())
                stopped[static_cast<pid_t>(std::stol(std::string(pid)))].push_back(static_cast<pid_t>(tid.to_number<std::int64_t>()));
        return stopped;
    }

    // {"directory": a staged one | "from": a saved name, "name", "to_store": another store}.
    void save(const CheckpointStore& store, const json::object& request, sdk::Output& out) {
        const std::string name = text_field(request, "name");
        const fs::path source = request.contains("from") ? store.saved(text_field(request, "from"))
                                                         : store.staging(text_field(request, "directory"));
        if (request.contains("to_store")) {
            const CheckpointStore target(text_field(request, "to_store"));
            target.import(source, name);
            out << json::serialize(json::object{{"directory", target.saved(name).string()}});
            return;
        }
        if (request.contains("from"))
            store.import(source, name);
        else
            store.publish(source, name);
        out << json::serialize(json::object{{"directory", store.saved(name).string()}});
    }

    void load(const CheckpointStore& store, const json::object& request, sdk::Output& out) {
        const fs::path directory = directory_of(store, request);
        const Manifest manifest = read_manifest(directory);
        // A sandbox that could write the store could have rewritten this checkpoint's policy.
        store.refuse_writable_by(writable_paths(manifest.policy));
        verify(directory, manifest);
        json::object answer = described(request.contains("name") ? text_field(request, "name") : "", directory, manifest);
        if (manifest.app_state)
            answer["app_state_hex"] = sdk::hex_encode(read_checkpoint_file(directory / manifest.app_state->file));
        out << json::serialize(answer);
    }

    void list(const CheckpointStore& store, bool as_json, sdk::Output& out) {
        json::array all;
        std::ostringstream text;
        for (const std::string& name : store.names()) {
            try {
                const Manifest m = read_manifest(store.saved(name));
                all.push_back(summary(name, store.saved(name), m));
                text << name << "\t" << printable(m.created) << "\t" << m.processes.size() << " process"
                     << (m.processes.size() == 1 ? "" : "es") << "\t" << mib(page_bytes(m)) << "\n";
            } catch (const sdk::Error& e) {
                all.push_back(json::object{{"name", name}, {"error", e.what()}});
                text << name << "\tunreadable: " << printable(e.what()) << "\n";
            }
        }
        out << (as_json ? json::serialize(all) + "\n" : text.str());
    }

    void show(const CheckpointStore& store, const std::string& name, bool as_json, sdk::Output& out) {
        const fs::path directory = store.saved(name);
        const Manifest m = read_manifest(directory);
        const json::object s = summary(name, directory, m);
        if (as_json) {
            out << json::serialize(s) << "\n";
            return;
        }
        std::ostringstream text;
        text << "checkpoint " << name << "\n  taken " << printable(m.created) << " on kernel " << printable(m.kernel)
             << "\n  memory "
             << mib(page_bytes(m)) << "\n";
        if (m.branch) text << "  branch snapshot " << printable(*m.branch) << "\n";
        if (m.app_state) text << "  app state " << m.app_state->size << " bytes\n";
        for (const ProcessImage& p : m.processes) {
            text << "  process " << p.pid << " (" << printable(p.exe) << "), " << p.threads.size() << " thread"
                 << (p.threads.size() == 1 ? "" : "s") << ", " << p.vmas.size() << " mappings, " << p.fds.size()
                 << " files, " << mib(p.page_bytes) << "\n   ";
            for (const std::string& arg : p.argv) text << " " << printable(arg);
            text << "\n";
        }
        const auto why = unrestorable(m);
        text << (why.empty() ? "  restorable: yes\n" : "  cannot be restored as it was:\n");
        for (const std::string& reason : why) text << "    " << printable(reason) << "\n";
        out << text.str();
    }

    void restore(const CheckpointStore& store, const json::object& request) {
        const fs::path directory = directory_of(store, request);
        const Manifest manifest = read_manifest(directory);
        store.refuse_writable_by(writable_paths(manifest.policy));
        const auto index = request.at("process").to_number<std::size_t>();
        if (index >= manifest.processes.size()) throw sdk::Error("restore: the checkpoint has no process " + std::to_string(index));
        const auto pid = static_cast<pid_t>(request.at("pid").to_number<std::int64_t>());
        restore_process(pid, manifest.processes[index], directory, {.skip_unrestorable = flag_field(request, "skip_unrestorable")});
    }
};

}  // namespace
}  // namespace sandlock::checkpoint

SANDLOCK_EXPORT_PLUGIN(sandlock::checkpoint::CheckpointPlugin, sandlock::checkpoint::kManifest)
