// The /proc and /sys rules, on a normalized path (open_path.hpp). Pure logic; procfs.cpp acts
// on the verdicts.
#pragma once

#include <sandlock/policy.hpp>

#include <sys/types.h>

#include <string>
#include <string_view>

namespace sandlock::notif {

enum class ProcPathKind {
    Outside,       // not under /proc, and not a denied /sys path: not ours
    Denied,        // a kernel-wide secret (kcore, kallsyms, keys, /sys/kernel, ...): EACCES
    MountTable,    // /proc/<pid>/{mounts,mountinfo,mountstats}, also under task/<tid>: virtualized
    ProcessEntry,  // /proc/<pid> or anything under it: only for the sandbox's own processes
    Global,        // any other /proc path
};

struct ProcPath {
    ProcPathKind kind = ProcPathKind::Outside;
    pid_t pid = 0;                // MountTable, ProcessEntry: the process
    std::string_view mount_file;  // MountTable: "mounts", "mountinfo" or "mountstats"
};

ProcPath classify_proc_path(std::string_view normalized);

// Whether the policy lets the sandbox read /proc: fs_readable or fs_writable holds /proc or a
// parent of it, and fs_denied none. Only then are the /proc rules on.
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
