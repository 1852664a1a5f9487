// A long-lived sandbox's own cgroup (v2), when this process may make one: what pause() freezes.
//
// Pausing by signals alone cannot hold: a process of the sandbox can have the kernel send it
// SIGCONT (a POSIX timer, F_SETSIG, a parent-death signal) and then continue everything else.
// A frozen cgroup's processes stay frozen whatever signal arrives, so with a cgroup the pause
// is exact; without one (no writable cgroup v2 hierarchy: most unprivileged users) pause falls
// back to the init's SIGSTOP, and `sandlock check` says so ("cgroup freezer").
//
// The cgroup is a child of this process's own cgroup in the v2 hierarchy (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified on a hybrid system); the sandbox's init is cloned straight into it
// (clone3 CLONE_INTO_CGROUP), so every process of the sandbox is in it from its first
// instruction, and none can leave it (moving needs write access to cgroup files it cannot reach).
#pragma once

#include "fd.hpp"

#include <memory>
#include <string>

namespace sandlock {

class SandboxCgroup {
public:
    // A fresh cgroup, or nullptr when none can be made here.
    static std::unique_ptr<SandboxCgroup> create();
    // Removes it once its processes are gone (waiting a moment for a dying tree).
    ~SandboxCgroup();
    SandboxCgroup(const SandboxCgroup&) = delete;
    SandboxCgroup& operator=(const SandboxCgroup&) = delete;

    int dir_fd() const { return dir_.get(); }
    // Freezes (true) or thaws every process in it and waits until the kernel says it is done;
    // false when that did not happen within `wait_ms`.
    bool set_frozen(bool frozen, int wait_ms);

private:
    SandboxCgroup(std::string path, Fd dir) : path_(std::move(path)), dir_(std::move(dir)) {}
    // The value of `key` in cgroup.events ("frozen", "populated"), or -1.
    int event(const char* key) const;

    std::string path_;
    Fd dir_;
};

// Whether this process can give a sandbox a cgroup of its own (for `sandlock check`).
bool cgroup_freezer_available();

}  // namespace sandlock
