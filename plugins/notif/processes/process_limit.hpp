// max_processes: at most N processes of the sandbox exist at once (N counts the first one;
// threads do not count). A fork, vfork or clone without CLONE_THREAD beyond the limit fails
// with EAGAIN, as it would at RLIMIT_NPROC; a process that exits frees its slot at once, even
// before its parent reaps it. (clone3 already fails with ENOSYS in the seccomp layer, so libc
// falls back to clone, which is supervised here.)
//
// The machinery (a long-lived sandbox's spawner) is no process of the sandbox, but what it forks
// is: max_processes N lets it start N commands at once, and refuses the N+1st with EAGAIN.
// While the sandbox runs the limit can change (update); lowered below the live count, every
// fork fails until enough processes exit — nothing is killed.
//
// A nested sandbox's max_processes (nest) counts its scope's live members the same way, on top
// of the sandbox's limit: a fork by a scope member fails with EAGAIN when either is full, and a
// further command of the scope cannot start (nest refuses) while the scope is full.
#pragma once

#include "supervisor/builtin_module.hpp"
#include "processes/fork_budget.hpp"
#include "processes/process_table.hpp"

#include <sandlock/sdk/notif.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace sandlock::notif {

class ProcessLimit final : public BuiltinModule {
public:
    explicit ProcessLimit(ProcessTable& processes) : processes_(processes) {}

    std::string_view rule() const override { return "max_processes"; }
    void configure(const ModuleSetup& setup) override;
    void check_update(const Policy& policy) const override;
    void apply_update(const Policy& policy) noexcept override;
    void status(boost::json::object& out) const override;
    void check_nest(const Policy& policy) const override;
    void nest(ScopeId scope, pid_t root, const Policy& policy) override;
    void forget_scope(ScopeId scope) noexcept override;
    void scope_status(ScopeId scope, boost::json::object& out) const override;

private:
    struct ScopeForks {
        explicit ScopeForks(std::uint32_t limit) : budget(limit) {}
        ForkBudget budget;
        std::atomic<std::uint64_t> denied{0};
    };

    sdk::NotifVerdict on_fork(sdk::NotifContext& call);
    // The fork of a scope member: every scope's budget and the sandbox's must have room.
    // `listed`: the thread's own list of children was read while it waited (forks_found).
    sdk::NotifVerdict on_scoped_fork(pid_t tid, bool listed, const ScopeList& scopes);
    sdk::NotifVerdict refuse(pid_t tid, std::size_t live, const ForkBudget& budget, const char* whose);
    // Before a refusal: ends, in each of `budgets`, the forks of the threads out of any fork
    // call by now, once a refresh has found their children; whether any ended.
    bool settle_forks_over(const std::vector<ForkBudget*>& budgets);

    ProcessTable& processes_;
    const sdk::Host* host_ = nullptr;
    std::optional<ForkBudget> budget_;
    // Whether on_fork refreshed the table once: only then does every process live that no
    // counted fork made (the first command, the spawner's commands) count among the members.
    bool refreshed_once_ = false;
    // Nested sandboxes' budgets: the supervisor thread and nest/status (the control thread).
    mutable std::mutex scopes_mutex_;
    std::unordered_map<ScopeId, std::unique_ptr<ScopeForks>> scopes_;
};

}  // namespace sandlock::notif
