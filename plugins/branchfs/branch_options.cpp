#include "branch_options.hpp"

#include "store/branch_store.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sandlock::branchfs {
namespace fs = std::filesystem;
namespace {

std::optional<std::string> id_option(const boost::json::object& options, std::string_view key) {
    const auto* value = options.if_contains(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string() || !valid_branch_id(std::string(value->as_string())))
        throw sdk::Error("[plugins.branchfs] " + std::string(key) + ": " + boost::json::serialize(*value) +
                         " is not a branch id (12 hex digits; see `sandlock branch list`)");
    return std::string(value->as_string());
}

// The first line of a sysctl file, or empty when it does not exist.
std::string sysctl(const char* path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// The overlay is mounted in a user namespace: say which setting forbids one, before anything runs.
void check_user_namespaces() {
    if (::geteuid() == 0) return;
    if (sysctl("/proc/sys/kernel/unprivileged_userns_clone") == "0")
        throw sdk::Error("fs_isolation = branchfs needs unprivileged user namespaces, which this system disables: "
                         "set sysctl kernel.unprivileged_userns_clone=1 (or run as root)");
    if (sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
        throw sdk::Error("fs_isolation = branchfs needs unprivileged user namespaces, which AppArmor restricts: "
                         "set sysctl kernel.apparmor_restrict_unprivileged_userns=0 or give sandlock an AppArmor "
                         "profile with `userns,` (or run as root)");
    if (sysctl("/proc/sys/user/max_user_namespaces") == "0")
        throw sdk::Error("fs_isolation = branchfs needs user namespaces: set sysctl user.max_user_namespaces above 0");
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount_path(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size()) {
            out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

// overlayfs takes the workspace's own filesystem only: what is mounted below it would vanish
// from the branch (the kernel refuses with a bare EINVAL in a user namespace). Say so first.
void refuse_mounts_inside(const std::string& workspace) {
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        const std::string path = unescape_mount_path(mount_point);
        if (path.starts_with(workspace + "/"))
            throw sdk::Error("fs_mount: " + workspace + " has a filesystem mounted inside it (" + path +
                             "); a branch covers one filesystem: give a workspace without mounts below it");
    }
}

std::string resolved_workspace(const std::string& fs_mount) {
    if (fs_mount.empty() || fs_mount[0] != '/')
        throw sdk::Error("fs_mount: \"" + fs_mount + "\" is not an absolute path; give the workspace directory, "
                         "e.g. --fs-mount /home/me/project");
    std::error_code ec;
    const fs::path real = fs::canonical(fs_mount, ec);
    if (ec || !fs::is_directory(real))
        throw sdk::Error("fs_mount: \"" + fs_mount + "\" is not an existing directory; give the workspace to branch");
    if (real == "/") throw sdk::Error("fs_mount: \"/\" cannot be branched; give the project directory");
    refuse_mounts_inside(real.string());
    return real.string();
}

}  // namespace

void check_storage_outside(const fs::path& storage, const std::string& workspace,
                           const std::vector<std::string>& writable) {
    const std::string root = storage.string();
    auto inside = [](const std::string& path, const std::string& dir) {
        return path == dir || dir == "/" || path.starts_with(dir + "/");
    };
    if (inside(root, workspace) || inside(workspace, root))
        throw sdk::Error("fs_storage: " + root + " overlaps the workspace " + workspace +
                         "; keep branch data outside the directory it branches (--fs-storage DIR)");
    // A sandbox that can write the store could rewrite another branch's layer or journal,
    // which a later commit applies outside any sandbox.
    for (const std::string& path : writable) {
        std::error_code ec;
        fs::path tree = fs::weakly_canonical(path, ec);
        if (!ec && inside(root, tree.string()))
            throw sdk::Error("fs_storage: " + root + " is inside fs_writable " + path +
                             ", so the sandbox could rewrite branch data; give --fs-storage outside it");
    }
}

std::optional<RunConfig> make_run_config(const Policy& policy, const boost::json::object& options) {
    const bool branchfs = policy.fs_isolation == FsIsolation::BranchFs;
    if (!branchfs) {
        const char* stray = policy.fs_mount ? "fs_mount" : policy.fs_storage ? "fs_storage"
                          : policy.max_disk ? "max_disk" : policy.on_exit ? "on_exit"
                          : policy.on_error ? "on_error" : nullptr;
        if (stray != nullptr)
            throw sdk::Error(std::string(stray) + " is set but fs_isolation is not branchfs; add "
                             "--fs-isolation branchfs (fs_isolation = \"branchfs\") or drop " + stray);
        if (!options.empty()) throw sdk::Error("[plugins.branchfs] options need fs_isolation = branchfs");
        return std::nullopt;
    }
    if (!policy.fs_mount)
        throw sdk::Error("fs_isolation = branchfs needs fs_mount, the workspace directory (--fs-mount DIR)");
    if (policy.chroot)
        throw sdk::Error("fs_isolation = branchfs cannot be combined with chroot yet; drop one of them");
    RunConfig config;
    config.workspace = resolved_workspace(*policy.fs_mount);
    config.storage = policy.fs_storage;
    if (policy.max_disk) {
        if (*policy.max_disk < 4096) throw sdk::Error("max_disk: " + std::to_string(*policy.max_disk) +
                                                      " bytes is too small; give at least 4K, e.g. 1G");
        config.max_disk = policy.max_disk;
    }
    config.on_exit = policy.on_exit.value_or(BranchAction::Commit);
    config.on_error = policy.on_error.value_or(BranchAction::Abort);
    for (const auto& [key, value] : options) {
        if (key != "branch" && key != "branch_from" && key != "dry_run")
            throw sdk::Error("[plugins.branchfs]: unknown option \"" + std::string(key) +
                             "\" (known: branch, branch_from, dry_run)");
    }
    config.branch = id_option(options, "branch");
    config.branch_from = id_option(options, "branch_from");
    if (config.branch && config.branch_from)
        throw sdk::Error("--branch and --branch-from exclude each other: run on a kept branch, or nest a new one on it");
    if (const auto* dry = options.if_contains("dry_run")) {
        if (!dry->is_string() || (dry->as_string() != "text" && dry->as_string() != "json"))
            throw sdk::Error("[plugins.branchfs] dry_run: " + boost::json::serialize(*dry) + " must be \"text\" or \"json\"");
        config.dry_run = true;
        config.dry_run_json = dry->as_string() == "json";
        if (config.branch)
            throw sdk::Error("--dry-run discards what the run writes, so it runs on a new branch: drop --branch "
                             "(or use --branch-from to try changes on top of a kept branch)");
    }
    check_user_namespaces();
    return config;
}

}  // namespace sandlock::branchfs
