#include "landlock_config.hpp"

#include "port_rules.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <initializer_list>
#include <string_view>
#include <utility>

namespace sandlock::landlock {

namespace {

void validate_paths(std::string_view field, const std::vector<std::string>& paths) {
    for (const auto& path : paths) {
        if (!path.empty() && path.front() == '/') continue;
        throw sdk::Error(std::string(field) + ": \"" + path +
                         "\" is not an absolute path; give the full path, starting with /");
    }
}

struct Feature {
    std::string_view what;
    int abi;
    std::string_view kernel;
};

constexpr Feature kFilesystem{"filesystem rules", kAbiFilesystem, "5.13"};
constexpr Feature kTcpPorts{"TCP port rules", kAbiTcpPorts, "6.7"};
constexpr Feature kScoping{"IPC and signal scopes", kAbiScoping, "6.12"};

std::string available(int abi) {
    return abi == 0 ? "this kernel has no Landlock (not built in or not enabled at boot)"
                    : "only Landlock ABI " + std::to_string(abi) + " is available";
}

// True when the feature can be used; otherwise throws (strict) or records one warning.
bool supported(const Feature& feature, const std::string& fields, int abi, bool strict,
               std::vector<std::string>& warnings) {
    if (fields.empty() || abi >= feature.abi) return true;
    std::string need = std::string(feature.what) + " need Landlock ABI " + std::to_string(feature.abi) +
                       " (Linux " + std::string(feature.kernel) + ")";
    if (strict)
        throw sdk::Error(fields + ": " + need + ", but " + available(abi) +
                         "; upgrade the kernel, drop " + fields +
                         ", or set strict = false (--best-effort) to run without them");
    warnings.push_back(need + ", but " + available(abi) + ": " + fields + " not enforced");
    return false;
}

// "a, b" for the fields whose flag is set.
std::string field_list(std::initializer_list<std::pair<std::string_view, bool>> fields) {
    std::string out;
    for (const auto& [name, set] : fields) {
        if (!set) continue;
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

}  // namespace

RulesetAttr LandlockConfig::ruleset_attr() const {
    RulesetAttr attr;
    attr.handled_access_fs = restrict_fs ? fs_rights(abi) : 0;
    attr.handled_access_net = handled_net_rights(net_bind, net_connect);
    attr.scoped = scoped;
    return attr;
}

LandlockConfig make_config(const Policy& policy, int abi) {
    validate_paths("fs_readable", policy.fs_readable);
    validate_paths("fs_writable", policy.fs_writable);
    validate_paths("fs_denied", policy.fs_denied);
    validate_port_ranges("net_bind", policy.net_bind);
    validate_port_ranges("net_connect", policy.net_connect);

    LandlockConfig config;
    config.abi = abi;
    auto& warnings = config.warnings;

    std::string fs_fields = field_list({{"fs_readable", !policy.fs_readable.empty()},
                                        {"fs_writable", !policy.fs_writable.empty()},
                                        {"fs_denied", !policy.fs_denied.empty()}});
    if (!fs_fields.empty() && supported(kFilesystem, fs_fields, abi, policy.strict, warnings)) {
        config.restrict_fs = true;
        config.fs = {policy.fs_readable, policy.fs_writable, policy.fs_denied};
    }

    std::string net_fields = field_list(
        {{"net_bind", !policy.net_bind.empty()}, {"net_connect", !policy.net_connect.empty()}});
    if (supported(kTcpPorts, net_fields, abi, policy.strict, warnings)) {
        config.net_bind = policy.net_bind;
        config.net_connect = policy.net_connect;
    }

    std::string scope_fields =
        field_list({{"isolate_ipc", policy.isolate_ipc}, {"isolate_signals", policy.isolate_signals}});
    if (supported(kScoping, scope_fields, abi, policy.strict, warnings)) {
        if (policy.isolate_ipc) config.scoped |= LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
        if (policy.isolate_signals) config.scoped |= LANDLOCK_SCOPE_SIGNAL;
    }
    return config;
}

}  // namespace sandlock::landlock
