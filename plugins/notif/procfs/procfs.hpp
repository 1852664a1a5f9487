// The /proc module, on whenever the policy lets the sandbox read /proc (fs_readable or
// fs_writable holds /proc or a parent, fs_denied none) — which sandlock allows only where the
// sandbox has its own PID and mount namespaces. The kernel holds the rest there: the sandbox's
// own proc shows only its processes (foreign pids are absent for every call, listings
// included), and kernel secrets (/proc/kcore, kallsyms, keys, ..., /sys/kernel, /sys/firmware,
// /sys/fs/cgroup, ...) are masked so every open of them is EACCES (core/src/child_mounts.hpp).
//
// What is left is cosmetic and done here: /proc/<pid>/mounts, mountinfo and mountstats (also
// /proc/mounts, /proc/self/..., the task/<tid> forms) read as a two-line table — the root
// filesystem and /proc — instead of the sandbox's real mount table. The decision is made on
// ONE copy of the path (open_path.hpp) and answered on the caller's behalf with a sealed
// memfd (writing is EACCES); a pid the caller cannot see is ENOENT. A multithreaded caller
// can still have a harmless path continue and swap a mount table's path in before the kernel
// reads it again: it then reads its namespace's real table — the mount points it has, no
// secret — so this virtualization is not a boundary.
#pragma once

#include "supervisor/builtin_module.hpp"
#include "procfs/proc_rules.hpp"

#include <sandlock/sdk/notif.hpp>

namespace sandlock::notif {

class ProcFsModule final : public BuiltinModule {
public:
    std::string_view rule() const override { return "procfs"; }
    void configure(const ModuleSetup& setup) override;

private:
    sdk::NotifVerdict on_open(sdk::NotifContext& call);

    MountDevices devices_;
};

}  // namespace sandlock::notif
