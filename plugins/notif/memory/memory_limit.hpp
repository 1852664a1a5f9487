// max_memory: the sandbox's private memory stays under a limit; a call that would take it over
// fails with ENOMEM (malloc returns NULL, Python raises MemoryError).
//
// What counts is what the kernel charges as private memory, summed over every process of the
// sandbox: private writable mappings (anonymous memory, the heap, thread stacks at their full
// size, copy-on-write file mappings) and the copy a fork makes. Shared mappings (MAP_SHARED
// anonymous or file, memfd, SysV shm, tmpfs files) and kernel memory (pipes, sockets, page
// tables) are not counted.
//
// How: mremap and the forks (fork, vfork, clone without CLONE_THREAD) are supervised, and
// mmap, mprotect, pkey_mprotect and brk whenever their arguments can cost memory (private and
// writable, adding write, a new break): the kernel's filter lets the others through unasked. Each is judged on its integer arguments (see memory_cost.hpp)
// against the account (memory_account.hpp), which is re-measured from /proc/PID/statm rather
// than added up call by call: memory given back (munmap, a shrinking mremap or brk, exec, exit)
// leaves the account by itself, so nothing drifts however much the program churns.
//
// prctl(PR_SET_MM) is refused (EPERM): it moves the heap's bounds, and a thread moving them
// while another thread's brk is judged would have the kernel grow the heap from elsewhere than
// where it was judged. sandlock's own checkpoint restore, which traces the process it rebuilds
// and runs nothing of it meanwhile, may still use it.
//
// Two kinds of memory come without a call to judge, and are bounded instead:
// - The main stack grows by page faults. Its limit is pinned (soft = hard = the caller's soft
//   limit, 8 MiB when unlimited, at most max_memory) so the program cannot raise it and
//   re-exec; what grows between two measurements is at most that.
// - A fork's copy is granted to the forking thread and held until the process table has found
//   the child (which then counts on its own); each new fork first looks for children not yet
//   found, so forks in a row are judged against the copies already made.
//
// The sandbox's machinery (a long-lived sandbox's spawner) is not measured: its own calls pass
// unjudged; a copy it forks is judged, as that child is a member (a vfork-style clone, which
// is how it starts commands, copies nothing).
//
// While the sandbox runs the limit can change (update): raised, later calls fit; lowered below
// what is in use, every call that costs memory fails with ENOMEM until enough is given back —
// nothing is killed. A nested sandbox's max_memory (nest) is a second account of the same kind
// over its scope's members only: a call of a scope member must fit both. The stack limit pinned in already running processes stays as it was
// (setrlimit reaches only a process's own limits); processes exec'd later inherit it too.
#pragma once

#include "supervisor/builtin_module.hpp"
#include "memory/memory_account.hpp"
#include "processes/process_table.hpp"

#include <sandlock/sdk/notif.hpp>

#include <sys/resource.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace sandlock::notif {

class MemoryLimit final : public BuiltinModule {
public:
    explicit MemoryLimit(ProcessTable& processes) : processes_(processes) {}

    std::string_view rule() const override { return "max_memory"; }
    void configure(const ModuleSetup& setup) override;
    int apply_rlimits() const noexcept override;
    void check_update(const Policy& policy) const override;
    void apply_update(const Policy& policy) noexcept override;
    void status(boost::json::object& out) const override;
    void check_nest(const Policy& policy) const override;
    void nest(ScopeId scope, pid_t root, const Policy& policy) override;
    void forget_scope(ScopeId scope) noexcept override;
    void scope_status(ScopeId scope, boost::json::object& out) const override;

private:
    struct ScopeMemory {
        explicit ScopeMemory(std::uint64_t limit) : account(limit) {}
        MemoryAccount account;
        std::atomic<std::uint64_t> total{0};   // as of the last call, for status()
        std::atomic<std::uint64_t> denied{0};  // calls refused by this scope's limit
    };
    // The accounts a call of a process in `scopes` must also fit (scopes_mutex_ held).
    std::vector<ScopeMemory*> accounts_of(const ScopeList& scopes);

    sdk::NotifVerdict on_call(sdk::NotifContext& call);
    // prctl(PR_SET_MM): refused, but for sandlock's own restore.
    sdk::NotifVerdict on_set_mm(sdk::NotifContext& call);
    std::uint64_t cost_of(const sdk::NotifContext& call, pid_t process);
    // The verdict on a call of thread `tid` of `process`, with the account up to date.
    sdk::NotifVerdict judge(const sdk::NotifContext& call, pid_t tid, pid_t process, const std::vector<ScopeMemory*>& scoped);
    sdk::NotifVerdict refusal(const sdk::NotifContext& call, pid_t process);
    // Births and exits since the last call: newcomers are measured, the dead leave.
    void apply_process_events();
    // The slow path, near the limit: every member measured afresh, stale grants dropped.
    void measure_everyone(MemoryAccount::Clock::time_point now);

    ProcessTable& processes_;
    const sdk::Host* host_ = nullptr;
    std::optional<MemoryAccount> account_;
    // For status() from another thread: the account's total as of the last call, and the brk
    // calls refused (answered with the old break, not an errno the supervisor would count).
    std::atomic<std::uint64_t> total_{0};
    std::atomic<std::uint64_t> brk_refused_{0};
    int events_ = -1;
    std::optional<rlimit> stack_limit_;  // applied in the child
    // Nested sandboxes' accounts: the supervisor thread and nest/status (the control thread).
    mutable std::mutex scopes_mutex_;
    std::unordered_map<ScopeId, std::unique_ptr<ScopeMemory>> scopes_;
    bool scopes_held_ = false;  // the current call holds scopes_mutex_ (supervisor thread only)
    // Where each process's heap began when its last brk was judged: the next search asks for
    // that mapping first (proc::read_heap_end). Supervisor thread only; dropped at exit.
    std::unordered_map<pid_t, std::uint64_t> heap_starts_;
};

}  // namespace sandlock::notif
