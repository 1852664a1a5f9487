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
// Thread-safe: the supervisor thread and the CPU-throttle thread both use it. Modules learn of
// births and exits through their own event queue (subscribe/drain), on their own thread.
#pragma once

#include <sandlock/sdk/sandbox_process.hpp>

#include <sys/types.h>

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
    void start(pid_t root, pid_t spawner = 0);
    // Forgets everything and closes the pidfds.
    void stop() noexcept;

    // The process (thread group) of a calling thread, tracked from now on unless it is the
    // machinery (is_machinery); nullopt when it is gone.
    std::optional<pid_t> process_of(pid_t tid);
    // Whether `process` is the init or the spawner: it calls, but is not one of the sandbox's.
    bool is_machinery(pid_t process);
    // Drops the members that exited and adds the children not seen yet.
    void refresh();
    std::size_t live_count();
    std::vector<pid_t> live_processes();
    // Sends `sig` to every member (through its pidfd), and reaches a child forked a moment ago
    // and not seen yet: with a PID namespace or a spawner, SIGSTOP and SIGKILL look for new
    // children until none is left; otherwise the first process's group gets it too while that
    // process lives. Never the machinery.
    void signal_all(int sig);

private:
    // How a candidate proves it belongs: not at all (the root, a caller), by being `parent`'s
    // child, or by being our own child under a seccomp filter (an orphan of a member).
    enum class Check { None, ChildOf, FilteredOrphan };
    bool track_locked(pid_t pid, pid_t parent, pid_t creator_tid, Check belongs);
    void reap_exits_locked();
    void discover_locked();
    bool alive_locked(pid_t pid, int pidfd) const;
    bool machinery_locked(pid_t pid) const;
    void send_locked(pid_t pid, int pidfd, int sig) const;
    void emit_locked(const ProcessEvent& event);

    std::mutex mutex_;
    pid_t root_ = -1;
    // The root is the init of the sandbox's own PID namespace (sdk/sandbox_process.hpp): not a
    // member, but every member descends from it, orphans included.
    bool root_is_init_ = false;
    std::optional<sdk::PidNamespaceId> namespace_;  // the sandbox's PID namespace, when it has one
    pid_t self_ = -1;
    pid_t spawner_ = 0;       // 0: none
    int spawner_pidfd_ = -1;  // so a recycled pid is not taken for it once it is gone
    std::unordered_map<pid_t, int> members_;         // pid -> pidfd (-1: out of fds, checked through /proc)
    std::unordered_map<pid_t, pid_t> thread_owner_;  // tid -> its process, a cache
    std::set<pid_t> not_members_;                    // our own children that are not the sandbox's
    std::vector<std::vector<ProcessEvent>> queues_;
};

}  // namespace sandlock::notif
