// Starting a sandbox's first process and killing its whole tree. Which processes are the
// sandbox's is defined once, in sdk/sandbox_process.hpp (the notif layer's ProcessTable uses
// the same definition); here it only matters as "everything the kill must reach".
//
// Namespaced (the usual case): the first process is the init of new user + PID + mount
// namespaces. Asked to end (SIGTERM), it kills and reaps every other process of the sandbox
// (so their CPU time is accounted to us) and exits; killing it makes the kernel kill them all
// too, and when sandlock dies, even by SIGKILL, the init's PDEATHSIG does the same: nothing
// is read from /proc and no descendant can escape (setsid, double fork, kill -9 -1 inside).
//
// Fallback (the kernel refuses the namespaces): the first process leads a process group and
// this process becomes a child subreaper, so descendants that left the group become our
// children and are found (/proc/self/task/*/children) and killed; a SIGKILLed sandlock then
// leaves such descendants running.
#pragma once

#include "init_record.hpp"

#include <sys/types.h>

#include <set>
#include <vector>

namespace sandlock {

struct ForkHooks;

class ProcessTree {
public:
    ProcessTree() = default;
    ~ProcessTree();
    ProcessTree(const ProcessTree&) = delete;
    ProcessTree& operator=(const ProcessTree&) = delete;

    // clone(2) with CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS: returns 0 in the child, the
    // child's pid, or -1 with errno (the kernel refused: call fork_main() instead). With a
    // cgroup directory fd, the child starts in that cgroup (clone3 CLONE_INTO_CGROUP); where
    // the kernel refuses that, `cgroup_fd` is set to -1 and the child starts where we are.
    pid_t clone_namespaced(int& cgroup_fd);
    // The same, but the child runs `entry(arg)` on `stack_top` in this process's memory
    // (CLONE_VM) instead of a copy of it: no page tables are copied, and its exit frees none.
    pid_t clone_namespaced_in_our_memory(int (*entry)(void*) noexcept, char* stack_top, void* arg);
    // The same for call(), whose function needs the heap glibc's fork(2) leaves consistent:
    // returns 0 in a forked helper (which clones the init as its sibling, see child.cpp, and
    // writes the init's pid or -errno to `report`); here the init's pid, or -1 with errno.
    // `hooks` (may be null) run around the fork (sandbox.hpp).
    pid_t fork_namespaced(int report, const ForkHooks* hooks);
    // fork(2) for the fallback: marks this process a child subreaper first and remembers its
    // current children, which kill_all() never touches (they are not the sandbox's).
    pid_t fork_main(const ForkHooks* hooks = nullptr);
    bool namespaced() const { return namespaced_; }
    // The init's records that fork_namespaced() read before the helper's report.
    const std::vector<InitRecord>& init_records_read() const { return init_records_; }

    // Kills every process of the sandbox whose first process is `main`; `main` itself is
    // left unreaped for the caller (while it is a zombie its pid, and group id, stay taken).
    // `setup_over`: the main process has started (the init is in its reaping loop), so a
    // namespaced sandbox is asked to end rather than killed, which loses no CPU accounting.
    void kill_all(pid_t main, bool setup_over);

private:
    void register_namespaced(pid_t init);  // with registry_mutex held

    std::set<pid_t> foreign_children_;
    pid_t main_ = 0;
    bool namespaced_ = false;
    std::vector<InitRecord> init_records_;
};

// Whether an errno from clone_namespaced() means "no namespaces here" (rather than, say, out of memory).
bool namespaces_refused(int error);

}  // namespace sandlock
