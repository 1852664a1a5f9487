// The processes of one sandbox, shared by the memory limit, the process limit and the CPU
// throttle, as sdk/sandbox_process.hpp defines them. With the sandbox's own PID namespace the
// first process is its init: members are the processes living in that namespace
// (sdk::in_sandbox), found as the init's descendants (orphans land on it). Without one,
// a process belongs to the sandbox when it is the first one, a child of a member
// (found through /proc/PID/task/TID/children), an orphan of a member re-parented to us (the
// launcher is a child subreaper), or the caller of a notification (only members reach our
// listener). Each member is held by a pidfd, so an exit is seen without polling /proc and a
// recycled pid is never mistaken for a member (nor signalled).
//
// The sandbox's machinery is never a member: the init, and a long-lived sandbox's spawner
// (ParentContext::spawner_pid), which starts every exec'd command. Both count against no limit
// and are never stopped; the spawner's children are members like any other (found through
// it), and its calls still reach the supervisor, which places them with process_of().
//
// Nested sandboxes (scopes): a scope is the processes that joined it (its roots, join()) and
// everything they start from then on. A process's scopes are remembered per process when it is
// first seen, copied from its parent; an orphan, whose parent link is gone by then, takes the
// scopes of the members that died without the table having seen all their children: the members
// still listed but exited, and those reaped in the same refresh. That is exact when every fork
// of a member reaches the supervisor (the modules that serve a scope supervise forks), because
// the forking process is then a member before its child exists; it errs toward more scopes (a
// stricter rule) when an unscoped member died in the same moment.
//
// Thread-safe: the supervisor thread and the CPU-throttle thread both use it. Modules learn of
// births and exits through their own event queue (subscribe/drain), on their own thread.
#pragma once

#include "processes/scope_id.hpp"

#include <sandlock/sdk/sandbox_process.hpp>

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

namespace sandlock::notif {

struct ProcessEvent {
    enum class Kind { Born, Exited };
    Kind kind;
    pid_t pid;
    pid_t parent;       // Born: the parent process (0 when unknown)
    pid_t creator_tid;  // Born: the thread that forked it (0 when unknown)
    ScopeList scopes;   // Born: the scopes it belongs to
};

class ProcessTable {
public:
    ProcessTable() = default;
    ~ProcessTable();
    ProcessTable(const ProcessTable&) = delete;
    ProcessTable& operator=(const ProcessTable&) = delete;

    // A queue of births and exits from now on; call before start().
    int subscribe();
    std::vector<ProcessEvent> drain(int subscriber);

    // Tracks the sandbox's first process; our other children at this point are not members.
    // `spawner` (0: none) is machinery like the init; it may be `root` itself without a namespace.
    void start(pid_t root, pid_t spawner = 0, std::optional<sdk::PidNamespaceId> sandbox = std::nullopt);
    // Forgets everything and closes the pidfds.
    void stop() noexcept;

    // The process (thread group) of a calling thread, tracked from now on unless it is the
    // machinery (is_machinery); nullopt when it is gone.
    std::optional<pid_t> process_of(pid_t tid);
    // Whether `process` is the init or the spawner: it calls, but is not one of the sandbox's.
    bool is_machinery(pid_t process);
    // Drops the members that exited and adds the children not seen yet.
    void refresh();
    // Adds the children of thread `tid` not seen yet, read from its own list now (a refresh reads
    // the task lists, which may skip a thread while others exit). False when its list could not
    // be read; then nothing can be said of its children.
    bool track_children_of(pid_t tid);
    std::size_t live_count();
    std::vector<pid_t> live_processes();
    // Sends `sig` to every member (through its pidfd), and reaches a child forked a moment ago
    // and not seen yet: with a PID namespace or a spawner, SIGSTOP and SIGKILL look for new
    // children until none is left; otherwise the first process's group gets it too while that
    // process lives. Never the machinery.
    void signal_all(int sig);

    // Scopes (any thread). `root`, a child of the spawner, joins `scope` with everything it
    // starts from now on; false when it is gone or is not the spawner's child. Joining twice
    // changes nothing.
    bool join(pid_t root, ScopeId scope);
    // Whether any process ever joined a scope: the one branch the usual case pays.
    bool has_scopes() const { return has_scopes_.load(std::memory_order_relaxed); }
    // The scopes of `process` (none for a non-member).
    ScopeList scopes_of(pid_t process);
    // The live members of `scope` (as of the last refresh).
    std::size_t scope_size(ScopeId scope);
    // The live members with at least one scope, with their scopes.
    std::vector<std::pair<pid_t, ScopeList>> scoped_processes();
    // Drops `scope` when it has no member left (true): no process can join it by birth any more.
    bool forget_scope_if_empty(ScopeId scope);

private:
    struct Member {
        int pidfd;         // -1: out of fds, checked through /proc
        ScopeList scopes;  // empty unless it belongs to a nested sandbox
    };
    using Members = std::unordered_map<pid_t, Member>;

    // How a candidate proves it belongs: not at all (the root, a caller), by being `parent`'s
    // child, or by being our own child under a seccomp filter (an orphan of a member).
    enum class Check { None, ChildOf, FilteredOrphan };
    // `depth`: how many untracked ancestors may still be placed on the way; `scopes`: the
    // scopes it joins beyond those it inherits.
    bool track_locked(pid_t pid, pid_t parent, pid_t creator_tid, Check belongs, int depth, ScopeList scopes = {});
    void reap_exits_locked();
    void discover_locked();
    bool alive_locked(pid_t pid, int pidfd) const;
    bool machinery_locked(pid_t pid) const;
    void send_locked(pid_t pid, int pidfd, int sig) const;
    void emit_locked(const ProcessEvent& event);
    void erase_member_locked(Members::iterator it);
    ScopeList inherited_scopes_locked(pid_t parent, int depth);

    std::mutex mutex_;
    pid_t root_ = -1;
    // The root is the init of the sandbox's own PID namespace (sdk/sandbox_process.hpp): not a
    // member, but every member descends from it, orphans included.
    bool root_is_init_ = false;
    std::optional<sdk::PidNamespaceId> namespace_;  // the sandbox's PID namespace, when it has one
    pid_t self_ = -1;
    pid_t spawner_ = 0;       // 0: none
    int spawner_pidfd_ = -1;  // so a recycled pid is not taken for it once it is gone
    Members members_;
    std::unordered_map<pid_t, pid_t> thread_owner_;  // tid -> its process, a cache
    std::set<pid_t> not_members_;                    // our own children that are not the sandbox's
    std::vector<std::vector<ProcessEvent>> queues_;
    std::unordered_map<ScopeId, std::size_t> scope_sizes_;  // live members per scope
    ScopeList orphan_scopes_;  // of the scoped members reaped in the current refresh
    std::atomic<bool> has_scopes_{false};
};

}  // namespace sandlock::notif
