// `sandlock check`: probes the kernel for each feature a layer relies on.
#include "kernel.hpp"
#include "sandbox_cgroup.hpp"

#include <sandlock/check.hpp>

#include <boost/json.hpp>

#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace sandlock {
namespace {

bool seccomp_action_available(std::uint32_t action) {
    return ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

// Only a real attempt tells: sysctls, LSMs and container runtimes can each forbid it.
bool user_namespaces_available() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    if (pid < 0) return false;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// What every sandbox gets when it works: its own user + PID + mount namespaces with a fresh
// /proc (process_tree.hpp, child_mounts.hpp). Without them the fallback applies.
bool sandbox_namespaces_available() {
    const long pid = ::syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, nullptr, nullptr,
                               nullptr, 0);
    if (pid == 0) {
        // As the sandbox's init does: private mounts, then a proc of its own.
        const bool ok = ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
                        ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0;
        ::_exit(ok ? 0 : 1);
    }
    if (pid < 0) return false;
    int status = 0;
    while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// What the branchfs layer mounts: an overlay in a user + mount namespace, userxattr, one
// lower layer per fsconfig call ("lowerdir+"), its layers on a tmpfs of the namespace's own.
bool branch_overlay_available() {
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    const long pid = ::syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid == 0) {
        // Our own ids mapped, as in a sandbox: files made on the tmpfs need an owner.
        auto write_map = [](const char* path, const std::string& text) {
            std::ofstream out(path);
            out << text;
            out.close();
            return out.good();
        };
        bool ok = write_map("/proc/self/setgroups", "deny") &&
                  write_map("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1\n") &&
                  write_map("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1\n");
        ok = ok && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
                  ::mount("tmpfs", "/tmp", "tmpfs", 0, "size=64k") == 0;
        for (const char* dir : {"/tmp/lower", "/tmp/upper", "/tmp/work", "/tmp/merged"}) ok = ok && ::mkdir(dir, 0700) == 0;
        const int fs = ok ? static_cast<int>(::syscall(SYS_fsopen, "overlay", 0)) : -1;
        ok = fs >= 0 && ::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", "/tmp/lower", 0) == 0 &&
             ::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", "/tmp/upper", 0) == 0 &&
             ::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", "/tmp/work", 0) == 0 &&
             ::syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) == 0 &&
             ::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0 &&
             ::syscall(SYS_fsmount, fs, 0, 0) >= 0;
        ::_exit(ok ? 0 : 1);
    }
    if (pid < 0) return false;
    int status = 0;
    while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Feature landlock_feature(int abi, std::string name, int needed) {
    return {std::move(name), abi >= needed, "Landlock ABI " + std::to_string(needed)};
}

}  // namespace

SystemReport check_system(const std::vector<std::string>& plugin_path) {
    SystemReport report;
    const int abi = landlock_abi();
    report.landlock_abi = abi;
    report.features = {
        landlock_feature(abi, "landlock filesystem rules", 1),
        landlock_feature(abi, "landlock file re-parenting (refer)", 2),
        landlock_feature(abi, "landlock truncate", 3),
        landlock_feature(abi, "landlock TCP bind/connect ports", 4),
        landlock_feature(abi, "landlock device ioctl", 5),
        landlock_feature(abi, "landlock IPC and signal scoping", 6),
        {"seccomp filter", ::prctl(PR_GET_SECCOMP) >= 0 && seccomp_action_available(SECCOMP_RET_ERRNO), "Linux 3.5"},
        {"seccomp user notification", seccomp_action_available(SECCOMP_RET_USER_NOTIF), "Linux 5.6"},
        {"pidfd", [] {
             int fd = pidfd_open(::getpid());
             if (fd >= 0) ::close(fd);
             return fd >= 0;
         }(), "Linux 5.3"},
        {"user namespaces", user_namespaces_available(), "unprivileged user namespaces enabled"},
        {"sandbox namespaces",
         sandbox_namespaces_available(),
         "user + PID + mount namespaces and a proc mount: the tree dies with sandlock, own /proc, read-only "
         "mounts; without them a SIGKILLed sandlock can leave "
         "processes behind, metadata calls outside fs_writable are not refused, and /proc cannot be granted"},
        {"branch overlay", branch_overlay_available(),
         "overlayfs in a user namespace with userxattr and lowerdir+ (Linux 6.8): fs_isolation = branchfs"},
        {"cgroup freezer", cgroup_freezer_available(),
         "a cgroup v2 of its own for each long-lived sandbox (a writable or delegated hierarchy): pause() "
         "freezes it exactly; without, pause sends SIGSTOP, which a process of the sandbox can undo with a "
         "SIGCONT it has the kernel send it (a timer)"},
    };
    report.plugin_dirs = plugin_search_path(plugin_path);
    report.plugins = discover_plugins(report.plugin_dirs);
    return report;
}

std::string to_json(const SystemReport& report) {
    namespace json = boost::json;
    json::object root;
    root["landlock_abi"] = report.landlock_abi;
    json::array features;
    for (const auto& f : report.features)
        features.push_back(json::object{{"name", f.name}, {"available", f.available}, {"requires", f.detail}});
    root["features"] = std::move(features);
    json::array dirs;
    for (const auto& d : report.plugin_dirs) dirs.emplace_back(d.string());
    root["plugin_dirs"] = std::move(dirs);
    json::array plugins;
    for (const auto& p : report.plugins) {
        json::array fields;
        for (const auto& f : p.owned_fields) fields.emplace_back(f);
        json::object entry{{"name", p.name}, {"path", p.path.string()}, {"abi", p.abi},
                           {"description", p.description}, {"owned_fields", std::move(fields)}};
        if (!p.error.empty()) entry["error"] = p.error;
        plugins.push_back(std::move(entry));
    }
    root["plugins"] = std::move(plugins);
    return json::serialize(root);
}

}  // namespace sandlock
