#include "procfs/proc_rules.hpp"

#include "paths/open_path.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace sandlock::notif {
namespace {

constexpr std::string_view kMountFiles[] = {"mounts", "mountinfo", "mountstats"};

std::optional<pid_t> as_pid(std::string_view text) {
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (ec != std::errc{} || end != text.data() + text.size() || pid <= 0) return std::nullopt;
    return pid;
}

// The next component of `rest` (which starts after a '/'), advancing it.
std::string_view next_component(std::string_view& rest) {
    std::size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    return part;
}

bool is_mount_file(std::string_view name) {
    return std::find(std::begin(kMountFiles), std::end(kMountFiles), name) != std::end(kMountFiles);
}

}  // namespace

bool path_is_within(std::string_view path, std::string_view entry) {
    if (entry == "/") return true;
    return path.starts_with(entry) && (path.size() == entry.size() || path[entry.size()] == '/');
}

std::optional<MountTablePath> mount_table_path(std::string_view path) {
    if (!path.starts_with("/proc/")) return std::nullopt;
    std::string_view rest = path.substr(6);
    auto pid = as_pid(next_component(rest));
    if (!pid) return std::nullopt;
    std::string_view leaf = next_component(rest);
    if (leaf == "task" && as_pid(next_component(rest))) leaf = next_component(rest);
    if (!rest.empty() || !is_mount_file(leaf)) return std::nullopt;
    return MountTablePath{*pid, *std::find(std::begin(kMountFiles), std::end(kMountFiles), leaf)};
}

bool proc_is_readable(const Policy& policy) {
    auto covers_proc = [](const std::string& entry) { return path_is_within("/proc", normalize_lexically(entry)); };
    const bool readable = std::any_of(policy.fs_readable.begin(), policy.fs_readable.end(), covers_proc) ||
                          std::any_of(policy.fs_writable.begin(), policy.fs_writable.end(), covers_proc);
    const bool denied = std::any_of(policy.fs_denied.begin(), policy.fs_denied.end(), covers_proc);
    return readable && !denied;
}

std::string virtual_mount_file(std::string_view which, const MountDevices& d) {
    const std::string root_dev = std::to_string(d.root_major) + ":" + std::to_string(d.root_minor);
    const std::string proc_dev = std::to_string(d.proc_major) + ":" + std::to_string(d.proc_minor);
    if (which == "mounts")
        return "rootfs / rootfs rw 0 0\n"
               "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n";
    if (which == "mountinfo")
        return "1 0 " + root_dev + " / / rw - rootfs rootfs rw\n" + "2 1 " + proc_dev +
               " / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n";
    return "device rootfs mounted on / with fstype rootfs\n"
           "device proc mounted on /proc with fstype proc\n";
}

}  // namespace sandlock::notif
