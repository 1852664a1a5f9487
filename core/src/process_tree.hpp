// Killing a sandbox's whole process tree, including descendants that left its process group
// (setsid, double fork): this process is a child subreaper, so such orphans become its
// children and can be found and reaped.
#pragma once

#include <sys/types.h>

#include <set>

namespace sandlock {

class ProcessTree {
public:
    // Marks the calling process a child subreaper and remembers its current children, which
    // kill_all() never touches (they are not the sandbox's).
    ProcessTree();
    ~ProcessTree();
    ProcessTree(const ProcessTree&) = delete;
    ProcessTree& operator=(const ProcessTree&) = delete;

    // fork(2), registering the child as a running sandbox's main process so that another
    // sandbox of this process, ending at the same time, never kills it.
    pid_t fork_main();

    // SIGKILLs the process group `pgid`, then every other child that appeared since
    // construction (orphans re-parented here), reaping them, until none is left.
    // `keep` is a child that is killed and waited for but left for the caller to reap (the
    // sandbox's main process: while it is a zombie, its pid — the group id — stays taken).
    void kill_all(pid_t pgid, pid_t keep);

private:
    std::set<pid_t> foreign_children_;
    pid_t main_ = 0;
};

}  // namespace sandlock
