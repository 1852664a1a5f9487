#include "processes/process_limit.hpp"

#include "memory/memory_cost.hpp"

#include <sys/syscall.h>

#include <cerrno>
#include <string>

namespace sandlock::notif {
namespace {

using namespace std::chrono_literals;

// Copying a large address space can take a while; a fork this old has finished.
constexpr auto kForkLifetime = 1s;

constexpr int kSupervised[] = {
    SYS_clone,
#ifdef SYS_fork
    SYS_fork, SYS_vfork,
#endif
};

void refuse_zero(std::uint32_t limit) {
    if (limit == 0) throw sdk::Error("max_processes: 0 would not let the command itself run; give at least 1");
}

}  // namespace

void ProcessLimit::configure(const ModuleSetup& setup) {
    if (!setup.policy.max_processes) return;
    refuse_zero(*setup.policy.max_processes);
    host_ = &setup.host;
    budget_.emplace(*setup.policy.max_processes);
    events_ = processes_.subscribe();
    for (int nr : kSupervised) {
        setup.table.add(nr, sdk::handler_fn<&ProcessLimit::on_fork>(), this);
        setup.host.request_notify(nr);
    }
}

void ProcessLimit::check_update(const Policy& policy) const {
    if (!budget_ && policy.max_processes)
        throw sdk::Error("max_processes: cannot set " + std::to_string(*policy.max_processes) +
                         ": this sandbox started without a process limit, so none can be set while it runs "
                         "(start it with one, e.g. -P 64)");
    if (budget_ && !policy.max_processes)
        throw sdk::Error("max_processes: this sandbox started with a limit of " + std::to_string(budget_->limit()) +
                         ", which cannot be removed while it runs (give a larger one instead, e.g. -P 4096)");
    if (policy.max_processes) refuse_zero(*policy.max_processes);
}

void ProcessLimit::apply_update(const Policy& policy) noexcept {
    if (budget_ && policy.max_processes) budget_->set_limit(*policy.max_processes);
}

void ProcessLimit::status(boost::json::object& out) const {
    if (budget_) out["max_processes"] = budget_->limit();
}

sdk::NotifVerdict ProcessLimit::on_fork(sdk::NotifContext& call) {
    if (call.syscall() == SYS_clone && memory::clone_kind(call.arg(0)) == memory::CloneKind::Thread)
        return sdk::Verdict::next();  // threads do not count
    const pid_t tid = call.pid();
    auto process = processes_.process_of(tid);
    if (!process) return sdk::Verdict::error(EAGAIN);  // fail closed: a caller we cannot place
    ForkBudget& budget = *budget_;
    budget.thread_returned(tid);
    processes_.refresh();
    apply_process_events();

    const auto now = ForkBudget::Clock::now();
    budget.expire(now, kForkLifetime);
    const std::size_t live = processes_.live_count();
    if (budget.try_fork(*process, tid, live, now)) return sdk::Verdict::next();
    host_->debug("max_processes: refused a fork of pid " + std::to_string(tid) + " (" + std::to_string(live) +
                 " running, " + std::to_string(budget.in_flight()) + " starting, limit " +
                 std::to_string(budget.limit()) + ")");
    return sdk::Verdict::error(EAGAIN);
}

void ProcessLimit::apply_process_events() {
    for (const ProcessEvent& event : processes_.drain(events_))
        if (event.kind == ProcessEvent::Kind::Born) budget_->child_appeared(event.parent, event.creator_tid);
}

}  // namespace sandlock::notif
