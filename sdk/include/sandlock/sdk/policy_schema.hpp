// The policy schema: Policy <-> JSON, header-only. The host and every plugin compile it on their
// own side of the waist, so a Policy crosses as text and never as an object. The document
// carries "schema": kPolicySchemaVersion; a plugin refuses another version, an unknown enum
// string, or a value of the wrong type (std::exception with the field's name).
#pragma once

#include <sandlock/sdk/policy.hpp>

#include <boost/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace sandlock {

// Bump when a field changes meaning or type (adding an optional field does not need it).
inline constexpr int kPolicySchemaVersion = 1;

// How deep a plugin's options may nest: the policy JSON wraps them in two more levels
// ({"plugin_options": {"NAME": ...}}) and Boost.JSON refuses documents deeper than 32.
inline constexpr std::size_t kPluginOptionsMaxDepth = 30;

namespace json_detail {

namespace json = boost::json;

inline std::string_view to_name(FsIsolation v) { return v == FsIsolation::BranchFs ? "branchfs" : "none"; }
inline std::string_view to_name(BranchAction v) {
    switch (v) {
        case BranchAction::Commit: return "commit";
        case BranchAction::Abort: return "abort";
        case BranchAction::Keep: return "keep";
    }
    return "commit";
}
inline FsIsolation fs_isolation_from(std::string_view s) {
    if (s == "branchfs") return FsIsolation::BranchFs;
    if (s == "none") return FsIsolation::None;
    throw std::invalid_argument("policy schema: fs_isolation: unknown value \"" + std::string(s) + "\"");
}
inline BranchAction branch_action_from(std::string_view key, std::string_view s) {
    if (s == "commit") return BranchAction::Commit;
    if (s == "abort") return BranchAction::Abort;
    if (s == "keep") return BranchAction::Keep;
    throw std::invalid_argument("policy schema: " + std::string(key) + ": unknown value \"" + std::string(s) + "\"");
}

inline json::array strings(const std::vector<std::string>& v) {
    json::array out;
    for (const auto& s : v) out.emplace_back(s);
    return out;
}
inline std::vector<std::string> strings(const json::value& v) {
    std::vector<std::string> out;
    for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
    return out;
}
inline json::array ports(const std::vector<PortRange>& v) {
    json::array out;
    for (const auto& p : v) out.push_back(json::array{p.first, p.last});
    return out;
}
inline std::vector<PortRange> ports(const json::value& v) {
    std::vector<PortRange> out;
    for (const auto& p : v.as_array()) {
        const auto& pair = p.as_array();
        out.push_back({static_cast<std::uint16_t>(pair.at(0).to_number<std::uint64_t>()),
                       static_cast<std::uint16_t>(pair.at(1).to_number<std::uint64_t>())});
    }
    return out;
}

template <class T, class F>
void put_optional(json::object& o, std::string_view key, const std::optional<T>& v, F convert) {
    if (v) o[key] = convert(*v);
}

}  // namespace json_detail

inline std::string policy_to_json(const Policy& p) {
    using namespace json_detail;
    json::object o;
    o["schema"] = kPolicySchemaVersion;
    o["fs_writable"] = strings(p.fs_writable);
    o["fs_readable"] = strings(p.fs_readable);
    o["fs_denied"] = strings(p.fs_denied);
    put_optional(o, "deny_syscalls", p.deny_syscalls, [](const auto& v) { return strings(v); });
    put_optional(o, "allow_syscalls", p.allow_syscalls, [](const auto& v) { return strings(v); });
    o["net_allow_hosts"] = strings(p.net_allow_hosts);
    o["net_bind"] = ports(p.net_bind);
    o["net_connect"] = ports(p.net_connect);
    o["isolate_ipc"] = p.isolate_ipc;
    o["isolate_signals"] = p.isolate_signals;
    put_optional(o, "max_memory", p.max_memory, [](auto v) { return json::value(v); });
    put_optional(o, "max_processes", p.max_processes, [](auto v) { return json::value(v); });
    put_optional(o, "max_cpu", p.max_cpu, [](auto v) { return json::value(v); });
    o["clean_env"] = p.clean_env;
    json::object env;
    for (const auto& [k, v] : p.env) env[k] = v;
    o["env"] = std::move(env);
    put_optional(o, "fs_isolation", p.fs_isolation, [](auto v) { return json::value(to_name(v)); });
    put_optional(o, "fs_mount", p.fs_mount, [](const auto& v) { return json::value(v); });
    put_optional(o, "fs_storage", p.fs_storage, [](const auto& v) { return json::value(v); });
    put_optional(o, "max_disk", p.max_disk, [](auto v) { return json::value(v); });
    put_optional(o, "on_exit", p.on_exit, [](auto v) { return json::value(to_name(v)); });
    put_optional(o, "on_error", p.on_error, [](auto v) { return json::value(to_name(v)); });
    put_optional(o, "chroot", p.chroot, [](const auto& v) { return json::value(v); });
    o["close_fds"] = p.close_fds;
    o["strict"] = p.strict;
    o["privileged"] = p.privileged;
    o["plugins"] = strings(p.plugins);
    json::object options;
    for (const auto& [name, text] : p.plugin_options) options[name] = json::parse(text);
    o["plugin_options"] = std::move(options);
    return json::serialize(o);
}

inline Policy policy_from_json(std::string_view text) {
    using namespace json_detail;
    const json::object o = json::parse(text).as_object();
    if (!o.contains("schema") || o.at("schema").to_number<int>() != kPolicySchemaVersion)
        throw std::invalid_argument("policy schema: this plugin reads schema " + std::to_string(kPolicySchemaVersion) +
                                    ", the host sent " + (o.contains("schema") ? json::serialize(o.at("schema")) : "none"));
    Policy p;
    auto has = [&](std::string_view key) { return o.contains(key) && !o.at(key).is_null(); };
    auto str = [&](std::string_view key) { return std::string(o.at(key).as_string()); };
    auto u64 = [&](std::string_view key) { return o.at(key).to_number<std::uint64_t>(); };
    if (has("fs_writable")) p.fs_writable = strings(o.at("fs_writable"));
    if (has("fs_readable")) p.fs_readable = strings(o.at("fs_readable"));
    if (has("fs_denied")) p.fs_denied = strings(o.at("fs_denied"));
    if (has("deny_syscalls")) p.deny_syscalls = strings(o.at("deny_syscalls"));
    if (has("allow_syscalls")) p.allow_syscalls = strings(o.at("allow_syscalls"));
    if (has("net_allow_hosts")) p.net_allow_hosts = strings(o.at("net_allow_hosts"));
    if (has("net_bind")) p.net_bind = ports(o.at("net_bind"));
    if (has("net_connect")) p.net_connect = ports(o.at("net_connect"));
    if (has("isolate_ipc")) p.isolate_ipc = o.at("isolate_ipc").as_bool();
    if (has("isolate_signals")) p.isolate_signals = o.at("isolate_signals").as_bool();
    if (has("max_memory")) p.max_memory = u64("max_memory");
    if (has("max_processes")) p.max_processes = static_cast<std::uint32_t>(u64("max_processes"));
    if (has("max_cpu")) p.max_cpu = static_cast<std::uint32_t>(u64("max_cpu"));
    if (has("clean_env")) p.clean_env = o.at("clean_env").as_bool();
    if (has("env"))
        for (const auto& kv : o.at("env").as_object())
            p.env[std::string(kv.key())] = std::string(kv.value().as_string());
    if (has("fs_isolation")) p.fs_isolation = fs_isolation_from(str("fs_isolation"));
    if (has("fs_mount")) p.fs_mount = str("fs_mount");
    if (has("fs_storage")) p.fs_storage = str("fs_storage");
    if (has("max_disk")) p.max_disk = u64("max_disk");
    if (has("on_exit")) p.on_exit = branch_action_from("on_exit", str("on_exit"));
    if (has("on_error")) p.on_error = branch_action_from("on_error", str("on_error"));
    if (has("chroot")) p.chroot = str("chroot");
    if (has("close_fds")) p.close_fds = o.at("close_fds").as_bool();
    if (has("strict")) p.strict = o.at("strict").as_bool();
    if (has("privileged")) p.privileged = o.at("privileged").as_bool();
    if (has("plugins")) p.plugins = strings(o.at("plugins"));
    if (has("plugin_options"))
        for (const auto& kv : o.at("plugin_options").as_object())
            p.plugin_options[std::string(kv.key())] = json::serialize(kv.value());
    return p;
}

}  // namespace sandlock
