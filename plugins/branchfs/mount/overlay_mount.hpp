// Child stage 4 of a branch: an overlay over the workspace, in a mount namespace of the
// sandbox's own. Planned in the parent (every path a ready C string), mounted in the child with
// raw system calls only (no allocation: it runs between fork and exec).
#pragma once

#include <string>
#include <vector>

namespace sandlock::branchfs {

struct OverlayPlan {
    std::string workspace;            // where the overlay goes
    std::vector<std::string> lowers;  // top first: the branch's own kept layers, then the workspace
    std::string upper, work;          // the overlay's upper and work directories
    unsigned root_mode = 0755;        // the workspace root's mode: the upper root shows through
    // Without a quota the upper is on disk in the branch's directory, which the sandbox's
    // mount namespace may have made read-only: it gets a read-write bind of its own first.
    std::string writable_dir;
    // With a quota (max_disk) the upper and work directories are on a tmpfs of that size
    // mounted here; the mount is handed to the parent, which keeps it past the sandbox.
    std::string quota_dir;
    std::string quota_options;  // "size=N,nr_inodes=M,mode=0700"
    // The working directory, re-entered once the overlay is there when it lies in the
    // workspace (a cwd taken before the mount still points below the overlay, at the host's
    // files). Empty when outside.
    std::string cwd;
};

// Mounts the plan; returns 0 or -errno. With a quota, *handover_fd is set to an O_PATH fd of
// the tmpfs root for the parent.
int mount_overlay(const OverlayPlan& plan, int* handover_fd) noexcept;

}  // namespace sandlock::branchfs
