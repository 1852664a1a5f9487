// One definition of "a process of this sandbox", shared by the core and by plugins.
//
// Usually the sandbox has its own PID namespace, whose init (pid 1 inside) is the child the
// host started (ParentContext::child_pid): a process belongs to the sandbox exactly when it
// lives in that PID namespace, and the init itself is the sandbox's machinery, not one of its
// processes — as is a long-lived sandbox's spawner (ParentContext::spawner_pid), the confined
// process that starts each exec'd command: its children are the sandbox's processes. The kernel keeps that set exact: nothing leaves a PID namespace, and everything in
// it dies with its init. Without a namespace (the fallback `sandlock check` reports) the
// sandbox is the child and its descendants, as far as parent links and the process group show.
// Header-only and C++ on the plugin's side of the ABI.
#pragma once

#include <sandlock/sdk/abi.hpp>

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>

namespace sandlock::sdk {

struct PidNamespaceId {
    dev_t dev = 0;
    ino_t ino = 0;
    friend bool operator==(const PidNamespaceId&, const PidNamespaceId&) = default;
};

// The PID namespace `pid` lives in (as this process names pids), or nullopt when it is gone.
inline std::optional<PidNamespaceId> pid_namespace_of(pid_t pid) {
    struct stat st {};
    const std::string path = pid > 0 ? "/proc/" + std::to_string(pid) + "/ns/pid" : "/proc/self/ns/pid";
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return PidNamespaceId{st.st_dev, st.st_ino};
}

// The sandbox's PID namespace when `child` (ParentContext::child_pid) is the init of one of
// its own; nullopt in the fallback.
inline std::optional<PidNamespaceId> sandbox_pid_namespace(pid_t child) {
    auto ours = pid_namespace_of(0);
    auto its = pid_namespace_of(child);
    if (!ours || !its || *ours == *its) return std::nullopt;
    return its;
}

// The same from the host's word (ParentContext::pid_namespace), which holds where /proc/INIT
// may not be read (an unprivileged host; the init is not dumpable).
inline std::optional<PidNamespaceId> sandbox_pid_namespace(const ParentContext& ctx) {
    if (ctx.pid_namespace == 0) return std::nullopt;
    struct stat ours {};
    if (::stat("/proc/self/ns/pid", &ours) != 0) return std::nullopt;
    return PidNamespaceId{ours.st_dev, static_cast<ino_t>(ctx.pid_namespace)};  // one nsfs for all namespaces
}

// Whether `pid` is one of the processes of the namespaced sandbox `sandbox` whose init is `init`.
inline bool in_sandbox(pid_t pid, pid_t init, const PidNamespaceId& sandbox) {
    if (pid == init) return false;
    auto its = pid_namespace_of(pid);
    return its && *its == sandbox;
}

}  // namespace sandlock::sdk
