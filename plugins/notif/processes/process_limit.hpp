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
#pragma once

#include "supervisor/builtin_module.hpp"
#include "processes/fork_budget.hpp"
#include "processes/process_table.hpp"

#include <sandlock/sdk/notif.hpp>

#include <optional>

namespace sandlock::notif {

class ProcessLimit final : public BuiltinModule {
public:
    explicit ProcessLimit(ProcessTable& processes) : processes_(processes) {}

    std::string_view rule() const override { return "max_processes"; }
    void configure(const ModuleSetup& setup) override;
    void check_update(const Policy& policy) const override;
    void apply_update(const Policy& policy) noexcept override;
    void status(boost::json::object& out) const override;

private:
    sdk::NotifVerdict on_fork(sdk::NotifContext& call);
    void apply_process_events();

    ProcessTable& processes_;
    const sdk::Host* host_ = nullptr;
    std::optional<ForkBudget> budget_;
    int events_ = -1;
};

}  // namespace sandlock::notif
