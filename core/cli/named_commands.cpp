// The commands that reach named sandboxes (`sandlock run --name NAME ...`) through their
// control sockets: ps, inspect, pause, resume, kill, update.
#include "commands.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/named.hpp>
#include <sandlock/units.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace sandlock::cli {
namespace {

namespace json = boost::json;

json::object ask(const std::string& name, const std::string& command, json::object extra = {}) {
    extra["command"] = command;
    return json::parse(control_named_sandbox(name, json::serialize(extra))).as_object();
}

// Anything a sandbox wrote (its command lines) goes to the terminal through one_line(), which
// escapes control characters: no escape sequence of the sandbox's reaches the user's terminal.
std::string text(const json::value* v) {
    if (v == nullptr) return "-";
    if (v->is_string()) return one_line(std::string(v->as_string()), 200);
    return one_line(json::serialize(*v), 200);
}

double real(const json::object& o, const char* key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return 0;
    if (v->is_double()) return v->as_double();
    if (v->is_int64()) return static_cast<double>(v->as_int64());
    if (v->is_uint64()) return static_cast<double>(v->as_uint64());
    return 0;
}

std::string bytes_text(double bytes) {
    const char* units[] = {"B", "K", "M", "G", "T"};
    int unit = 0;
    while (bytes >= 1024 && unit < 4) {
        bytes /= 1024;
        ++unit;
    }
    char out[32];
    std::snprintf(out, sizeof out, unit == 0 ? "%.0f%s" : "%.1f%s", bytes, units[unit]);
    return out;
}

std::string duration_text(double seconds) {
    const long s = static_cast<long>(seconds);
    char out[32];
    if (s < 60) std::snprintf(out, sizeof out, "%lds", s);
    else if (s < 3600) std::snprintf(out, sizeof out, "%ldm%02lds", s / 60, s % 60);
    else std::snprintf(out, sizeof out, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    return out;
}

std::string limits_text(const json::object& status) {
    std::string out;
    if (const auto* limits = status.if_contains("limits"); limits != nullptr && limits->is_object()) {
        const json::object& l = limits->as_object();
        if (l.contains("max_memory")) out += "-m " + bytes_text(real(l, "max_memory")) + " ";
        if (l.contains("max_processes")) out += "-P " + text(l.if_contains("max_processes")) + " ";
        if (l.contains("max_cpu")) out += "-c " + text(l.if_contains("max_cpu")) + "% ";
    }
    if (!out.empty()) out.pop_back();
    return out.empty() ? "-" : out;
}

// The first command exec'd: what the sandbox was started for.
std::string command_text(const json::object& status) {
    const auto* commands = status.if_contains("commands");
    if (commands == nullptr || !commands->is_array() || commands->as_array().empty()) return "-";
    std::string out;
    for (const auto& arg : commands->as_array().front().as_object().at("argv").as_array())
        out += (out.empty() ? "" : " ") + std::string(arg.as_string());
    return one_line(out, 200);
}

std::string plugins_text(const json::object& status) {
    std::string out;
    if (const auto* plugins = status.if_contains("plugins"); plugins != nullptr && plugins->is_array())
        for (const auto& p : plugins->as_array()) out += (out.empty() ? "" : ",") + std::string(p.as_string());
    return out.empty() ? "-" : out;
}

int run_ps(bool as_json) {
    json::array all;
    for (const auto& name : list_named_sandboxes()) {
        try {
            json::object status = ask(name, "status");
            if (!status.contains("paused") || !status.contains("name")) continue;  // not an answer of ours
            all.push_back(std::move(status));
        } catch (const std::exception&) {
            // It ended while we listed, or it is not a sandbox of ours: not listed.
        }
    }
    if (as_json) {
        std::cout << json::serialize(all) << "\n";
        return 0;
    }
    std::printf("%-16s %-8s %-8s %-6s %-6s %-9s %-6s %-22s %-24s %s\n", "NAME", "PID", "UPTIME", "STATE", "PROCS",
                "MEMORY", "CPU%", "LIMITS", "PLUGINS", "COMMAND");
    for (const auto& entry : all) {
        const json::object& s = entry.as_object();
        char cpu[16];
        std::snprintf(cpu, sizeof cpu, "%.1f", real(s, "cpu_percent"));
        std::printf("%-16s %-8s %-8s %-6s %-6s %-9s %-6s %-22s %-24s %s\n", text(s.if_contains("name")).c_str(),
                    text(s.if_contains("sandlock_pid")).c_str(), duration_text(real(s, "uptime_seconds")).c_str(),
                    s.at("paused").as_bool() ? "paused" : "up", text(s.if_contains("process_count")).c_str(),
                    bytes_text(real(s, "private_bytes")).c_str(), cpu, limits_text(s).c_str(), plugins_text(s).c_str(),
                    command_text(s).c_str());
    }
    return 0;
}

// The processes as a tree: each under its parent, the roots (the spawner's children and
// orphans) at the top.
void print_tree(const json::array& processes) {
    std::map<std::int64_t, std::vector<const json::object*>> children;
    std::map<std::int64_t, bool> present;
    for (const auto& p : processes) present[p.as_object().at("pid").to_number<std::int64_t>()] = true;
    std::vector<const json::object*> roots;
    for (const auto& p : processes) {
        const json::object& o = p.as_object();
        const auto ppid = o.at("ppid").to_number<std::int64_t>();
        if (present.contains(ppid)) children[ppid].push_back(&o);
        else roots.push_back(&o);
    }
    auto print = [&](auto&& self, const json::object& o, int depth) -> void {
        std::printf("  %*s%-8s %-9s %6.2fs  %s\n", depth * 2, "", text(o.if_contains("pid")).c_str(),
                    bytes_text(real(o, "private_bytes")).c_str(), real(o, "cpu_seconds"), text(o.if_contains("command")).c_str());
        for (const json::object* child : children[o.at("pid").to_number<std::int64_t>()]) self(self, *child, depth + 1);
    };
    for (const json::object* root : roots) print(print, *root, 0);
}

int run_inspect(const std::string& name, bool as_json, bool as_toml) {
    json::object status = ask(name, "status");
    json::object policy = ask(name, "policy");
    if (as_toml) {
        std::cout << policy.at("toml").as_string().c_str();
        return 0;
    }
    if (as_json) {
        status["policy"] = policy.at("policy");
        std::cout << json::serialize(status) << "\n";
        return 0;
    }
    std::printf("name:      %s\n", text(status.if_contains("name")).c_str());
    std::printf("sandlock:  pid %s, up %s, %s\n", text(status.if_contains("sandlock_pid")).c_str(),
                duration_text(real(status, "uptime_seconds")).c_str(), status.at("paused").as_bool() ? "paused" : "running");
    std::printf("plugins:   %s\n", plugins_text(status).c_str());
    std::printf("limits:    %s\n", limits_text(status).c_str());
    std::printf("use:       %s processes, %s private memory, %.1f%% CPU\n", text(status.if_contains("process_count")).c_str(),
                bytes_text(real(status, "private_bytes")).c_str(), real(status, "cpu_percent"));
    std::printf("processes: (pid, private memory, CPU time, command)\n");
    if (const auto* processes = status.if_contains("processes"); processes != nullptr && processes->is_array())
        print_tree(processes->as_array());
    if (const auto* layers = status.if_contains("layers"); layers != nullptr && layers->is_object())
        for (const auto& [layer, counters] : layers->as_object())
            std::printf("%s:%*s%s\n", std::string(layer).c_str(), static_cast<int>(10 - std::min<std::size_t>(layer.size(), 9)),
                        "", json::serialize(counters).c_str());
    std::printf("policy:\n");
    std::istringstream toml(std::string(policy.at("toml").as_string()));
    for (std::string line; std::getline(toml, line);) std::printf("  %s\n", line.c_str());
    return 0;
}

struct UpdateFlags {
    std::string name;
    std::optional<std::string> max_memory, max_processes, max_cpu;
};

}  // namespace

std::function<int()> add_ps_command(CLI::App& ps, const GlobalOptions&) {
    auto as_json = std::make_shared<bool>(false);
    ps.add_flag("--json", *as_json, "One JSON array of the sandboxes' status");
    return [as_json] { return run_ps(*as_json); };
}

std::function<int()> add_inspect_command(CLI::App& inspect, const GlobalOptions&) {
    auto name = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    auto as_toml = std::make_shared<bool>(false);
    inspect.add_option("name", *name, "The sandbox's name (sandlock run --name)")->required();
    inspect.add_flag("--json", *as_json, "Status, process tree, counters and policy as one JSON object");
    inspect.add_flag("--toml", *as_toml, "Only the effective policy, as a profile (sandlock run -p reloads it)");
    return [name, as_json, as_toml] { return run_inspect(*name, *as_json, *as_toml); };
}

// pause, resume and kill: a name and nothing else.
std::function<int()> add_simple_control_command(CLI::App& command, const char* request) {
    auto name = std::make_shared<std::string>();
    command.add_option("name", *name, "The sandbox's name (sandlock run --name)")->required();
    return [name, request] {
        ask(*name, request);
        return 0;
    };
}

std::function<int()> add_pause_command(CLI::App& pause, const GlobalOptions&) {
    return add_simple_control_command(pause, "pause");
}
std::function<int()> add_resume_command(CLI::App& resume, const GlobalOptions&) {
    return add_simple_control_command(resume, "resume");
}
std::function<int()> add_kill_command(CLI::App& kill, const GlobalOptions&) {
    return add_simple_control_command(kill, "kill");
}

std::function<int()> add_update_command(CLI::App& update_app, const GlobalOptions&) {
    auto flags = std::make_shared<UpdateFlags>();
    CLI::App* update = &update_app;
    update->add_option("name", flags->name, "The sandbox's name (sandlock run --name)")->required();
    update->add_option("-m,--max-memory", flags->max_memory, "New memory limit, e.g. 256M");
    update->add_option("-P,--max-processes", flags->max_processes, "New process limit");
    update->add_option("-c,--max-cpu", flags->max_cpu, "New CPU share of one core, e.g. 50%");
    return [flags, update] {
        refuse_empty_values(*update);
        json::object limits;
        if (flags->max_memory) limits["max_memory"] = parse_size("--max-memory", *flags->max_memory);
        if (flags->max_processes) limits["max_processes"] = parse_count("--max-processes", *flags->max_processes);
        if (flags->max_cpu) limits["max_cpu"] = parse_cpu_percent("--max-cpu", *flags->max_cpu);
        if (limits.empty()) throw PolicyError("update: no limit given (use -m, -P or -c)");
        ask(flags->name, "update", std::move(limits));
        return 0;
    };
}

}  // namespace sandlock::cli
