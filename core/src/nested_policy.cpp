#include "nested_policy.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace sandlock {
namespace {

std::string canonical(const std::string& path) {
    std::error_code ec;
    std::string out = std::filesystem::weakly_canonical(path, ec).string();
    if (ec || out.empty()) out = std::filesystem::path(path).lexically_normal().string();
    if (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

bool at_or_under(const std::string& path, const std::string& root) {
    return path == root || root == "/" || (path.starts_with(root) && path[root.size()] == '/');
}

bool under_any(const std::string& path, const std::vector<std::string>& roots) {
    return std::any_of(roots.begin(), roots.end(), [&](const std::string& root) { return at_or_under(path, canonical(root)); });
}

[[noreturn]] void refuse(const std::string& field, const std::string& value, const std::string& why) {
    throw PolicyError(field + ": " + quote_value(value) + " " + why +
                      " (a nested sandbox can only narrow its parent's policy)");
}

void check_paths(const Policy& parent, const Policy& child) {
    const bool parent_restricts = !parent.fs_readable.empty() || !parent.fs_writable.empty() || !parent.fs_denied.empty();
    if (!parent_restricts) return;
    std::vector<std::string> parent_reachable = parent.fs_readable;
    parent_reachable.insert(parent_reachable.end(), parent.fs_writable.begin(), parent.fs_writable.end());
    for (const auto& path : child.fs_writable) {
        const std::string p = canonical(path);
        if (!under_any(p, parent.fs_writable)) refuse("fs_writable", path, "is not writable in the parent sandbox");
        if (under_any(p, parent.fs_denied)) refuse("fs_writable", path, "is denied in the parent sandbox");
    }
    for (const auto& path : child.fs_readable) {
        const std::string p = canonical(path);
        if (!under_any(p, parent_reachable)) refuse("fs_readable", path, "is not readable in the parent sandbox");
        if (under_any(p, parent.fs_denied)) refuse("fs_readable", path, "is denied in the parent sandbox");
    }
}

bool port_within(const PortRange& port, const std::vector<PortRange>& allowed) {
    return std::any_of(allowed.begin(), allowed.end(),
                       [&](const PortRange& a) { return a.first <= port.first && port.last <= a.last; });
}

std::string port_text(const PortRange& r) {
    return r.first == r.last ? std::to_string(r.first) : std::to_string(r.first) + "-" + std::to_string(r.last);
}

void check_ports(const char* field, const std::vector<PortRange>& parent, const std::vector<PortRange>& child) {
    if (parent.empty()) return;  // the parent does not restrict these ports
    for (const auto& port : child)
        if (!port_within(port, parent)) refuse(field, port_text(port), "is not allowed in the parent sandbox");
}

template <class T>
void check_limit(const char* field, const std::optional<T>& parent, const std::optional<T>& child, const char* unit) {
    if (parent && child && *child > *parent)
        refuse(field, std::to_string(*child) + unit, "is above the parent sandbox's " + std::to_string(*parent) + unit);
}

}  // namespace

void check_nested_policy(const Policy& parent, const Policy& child) {
    if (child.chroot) refuse("chroot", *child.chroot, "cannot be set: the nested sandbox shares its parent's root");
    if (child.privileged && !parent.privileged) refuse("privileged", "true", "is not granted to the parent sandbox");
    if (child.fs_isolation == FsIsolation::BranchFs || child.fs_mount || child.max_disk)
        throw PolicyError("fs_isolation: a nested sandbox cannot have a branch of its own yet; it works in its "
                          "parent's branch (set fs_isolation on the parent)");
    check_paths(parent, child);
    check_ports("net_bind", parent.net_bind, child.net_bind);
    check_ports("net_connect", parent.net_connect, child.net_connect);
    if (!parent.net_allow_hosts.empty())
        for (const auto& host : child.net_allow_hosts)
            if (std::find(parent.net_allow_hosts.begin(), parent.net_allow_hosts.end(), host) == parent.net_allow_hosts.end())
                refuse("net_allow_hosts", host, "is not in the parent sandbox's host allowlist");
    check_limit("max_memory", parent.max_memory, child.max_memory, " bytes");
    check_limit("max_processes", parent.max_processes, child.max_processes, "");
    check_limit("max_cpu", parent.max_cpu, child.max_cpu, "%");
}

}  // namespace sandlock
