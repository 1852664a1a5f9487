// Policy -> profile TOML (profile.hpp): what `sandlock inspect --toml` prints, written so that
// load_profile() reads the same policy back.
#include <sandlock/profile.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <boost/json.hpp>

#include <toml++/toml.h>

#include <sstream>

namespace sandlock {
namespace {

toml::array string_array(const std::vector<std::string>& items) {
    toml::array out;
    for (const auto& item : items) out.push_back(item);
    return out;
}

toml::array port_array(const std::vector<PortRange>& ranges) {
    toml::array out;
    for (const auto& r : ranges) {
        if (r.first == r.last) out.push_back(static_cast<std::int64_t>(r.first));
        else out.push_back(std::to_string(r.first) + "-" + std::to_string(r.last));
    }
    return out;
}

// A plugin's options (JSON) as the [plugins.NAME] table they came from; JSON null has no TOML
// form and is left out.
void insert_json(toml::table& table, std::string_view key, const boost::json::value& value);

void push_json(toml::array& array, const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::object: {
            toml::table t;
            for (const auto& [k, v] : value.as_object()) insert_json(t, k, v);
            array.push_back(std::move(t));
            break;
        }
        case boost::json::kind::array: {
            toml::array a;
            for (const auto& v : value.as_array()) push_json(a, v);
            array.push_back(std::move(a));
            break;
        }
        case boost::json::kind::string: array.push_back(std::string(value.as_string())); break;
        case boost::json::kind::int64: array.push_back(value.as_int64()); break;
        case boost::json::kind::uint64: array.push_back(static_cast<std::int64_t>(value.as_uint64())); break;
        case boost::json::kind::double_: array.push_back(value.as_double()); break;
        case boost::json::kind::bool_: array.push_back(value.as_bool()); break;
        case boost::json::kind::null: break;
    }
}

void insert_json(toml::table& table, std::string_view key, const boost::json::value& value) {
    toml::array holder;
    push_json(holder, value);
    if (!holder.empty()) table.insert(key, std::move(*holder.get(0)));
}

}  // namespace

std::string policy_to_toml(const Policy& p) {
    toml::table t;
    auto list = [&](const char* key, const std::vector<std::string>& v) {
        if (!v.empty()) t.insert(key, string_array(v));
    };
    list("fs_writable", p.fs_writable);
    list("fs_readable", p.fs_readable);
    list("fs_denied", p.fs_denied);
    if (p.deny_syscalls) t.insert("deny_syscalls", string_array(*p.deny_syscalls));
    if (p.allow_syscalls) t.insert("allow_syscalls", string_array(*p.allow_syscalls));
    list("net_allow_hosts", p.net_allow_hosts);
    if (!p.net_bind.empty()) t.insert("net_bind", port_array(p.net_bind));
    if (!p.net_connect.empty()) t.insert("net_connect", port_array(p.net_connect));
    if (p.isolate_ipc) t.insert("isolate_ipc", true);
    if (p.isolate_signals) t.insert("isolate_signals", true);
    if (p.max_memory) t.insert("max_memory", static_cast<std::int64_t>(*p.max_memory));
    if (p.max_processes) t.insert("max_processes", static_cast<std::int64_t>(*p.max_processes));
    if (p.max_cpu) t.insert("max_cpu", std::to_string(*p.max_cpu) + "%");
    if (p.clean_env) t.insert("clean_env", true);
    if (p.fs_isolation) t.insert("fs_isolation", std::string(json_detail::to_name(*p.fs_isolation)));
    if (p.fs_mount) t.insert("fs_mount", *p.fs_mount);
    if (p.fs_storage) t.insert("fs_storage", *p.fs_storage);
    if (p.max_disk) t.insert("max_disk", static_cast<std::int64_t>(*p.max_disk));
    if (p.on_exit) t.insert("on_exit", std::string(json_detail::to_name(*p.on_exit)));
    if (p.on_error) t.insert("on_error", std::string(json_detail::to_name(*p.on_error)));
    if (p.chroot) t.insert("chroot", *p.chroot);
    if (!p.close_fds) t.insert("close_fds", false);
    if (!p.strict) t.insert("strict", false);
    if (p.privileged) t.insert("privileged", true);
    if (!p.env.empty()) {
        toml::table env;
        for (const auto& [name, value] : p.env) env.insert(name, value);
        t.insert("env", std::move(env));
    }
    if (!p.plugin_options.empty()) {
        toml::table plugins;
        if (!p.plugins.empty()) plugins.insert("enabled", string_array(p.plugins));
        for (const auto& [name, options] : p.plugin_options) insert_json(plugins, name, boost::json::parse(options));
        t.insert("plugins", std::move(plugins));
    } else if (!p.plugins.empty()) {
        t.insert("plugins", string_array(p.plugins));
    }
    std::ostringstream out;
    out << t << "\n";
    return out.str();
}

}  // namespace sandlock
