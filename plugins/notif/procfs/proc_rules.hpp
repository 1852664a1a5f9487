// What is left for the supervisor under /proc, on a normalized path (open_path.hpp). Pure
// logic; procfs.cpp acts on it. Everything else /proc needs — foreign pids absent, kernel
// secrets refused — the kernel holds in the sandbox's own PID and mount namespaces
// (core/src/child_mounts.hpp), without which a readable /proc is refused.
#pragma once

#include <sandlock/sdk/policy.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace sandlock::notif {

// /proc/<pid>/{mounts,mountinfo,mountstats}, also under task/<tid> (/proc/self and the
// /proc/mounts link are normalized to this form first).
struct MountTablePath {
    pid_t pid = 0;           // as the caller names it
    std::string_view file;   // "mounts", "mountinfo" or "mountstats"
};

std::optional<MountTablePath> mount_table_path(std::string_view normalized);

// Whether the policy lets the sandbox read /proc: fs_readable or fs_writable holds /proc or a
// parent of it, and fs_denied none. Only then are the mount tables virtualized.
bool proc_is_readable(const Policy& policy);

// Whether `path` is `entry` or inside it (both normalized).
bool path_is_within(std::string_view path, std::string_view entry);

// The device numbers shown for the two mounts of the virtual mount tables.
struct MountDevices {
    unsigned root_major = 0, root_minor = 0;
    unsigned proc_major = 0, proc_minor = 0;
};

// The content of a virtual /proc/<pid>/{mounts,mountinfo,mountstats}: the root filesystem and
// /proc, nothing of the host's other mounts.
std::string virtual_mount_file(std::string_view which, const MountDevices& devices);

}  // namespace sandlock::notif
