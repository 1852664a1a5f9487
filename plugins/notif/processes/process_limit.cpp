#include "processes/process_limit.hpp"

#include "memory/memory_cost.hpp"

#include <sandlock/sdk/small_file.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace sandlock::notif {
namespace {

constexpr int kSupervised[] = {
    SYS_clone,
#ifdef SYS_fork
    SYS_fork, SYS_vfork,
#endif
};

bool is_fork_call(long nr) {
    for (int fork_call : kSupervised)
        if (nr == fork_call) return true;
    return nr == SYS_clone3;
}

// Where thread `tid` is, as far as its forks not found yet go (the first field of
// /proc/TID/syscall: a call's number, -1 for none, or "running", which tells no more than a
// file it may not read).
enum class ForkState {
    Gone,      // released: its children were handed on before, to where a refresh finds them
    OutOfIt,   // in another call, or in none: its forks have made their children (or failed)
    Unknown,   // in a fork call (this one or the next), leaving (exit), running, unreadable
};
ForkState fork_state(pid_t tid) {
    const std::string dir = "/proc/" + std::to_string(tid);
    const auto text = sdk::read_small_file(dir + "/syscall", 256);
    if (!text) return ::access(dir.c_str(), F_OK) != 0 && errno == ENOENT ? ForkState::Gone : ForkState::Unknown;
    char* end = nullptr;
    const long nr = std::strtol(text->c_str(), &end, 10);
    if (end == text->c_str() || is_fork_call(nr) || nr == SYS_exit || nr == SYS_exit_group) return ForkState::Unknown;
    return ForkState::OutOfIt;
}

void refuse_zero(std::uint32_t limit) {
    if (limit == 0) throw sdk::Error("max_processes: 0 would not let the command itself run; give at least 1");
}

}  // namespace

void ProcessLimit::configure(const ModuleSetup& setup) {
    if (!setup.policy.max_processes) return;
    refuse_zero(*setup.policy.max_processes);
    host_ = &setup.host;
    budget_.emplace(*setup.policy.max_processes);
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

void ProcessLimit::check_nest(const Policy& policy) const {
    if (!policy.max_processes) return;
    if (!budget_)
        throw sdk::Error("max_processes: the parent sandbox has no process limit, so its supervisor does not see the "
                         "forks a nested sandbox's limit needs (give the parent one, e.g. -P 64)");
    refuse_zero(*policy.max_processes);
}

void ProcessLimit::nest(ScopeId scope, pid_t root, const Policy& policy) {
    if (!policy.max_processes) return;
    std::lock_guard lock(scopes_mutex_);
    auto& forks = scopes_[scope];
    if (!forks) forks = std::make_unique<ScopeForks>(*policy.max_processes);
    const ScopeList joined = processes_.scopes_of(root);
    if (std::find(joined.begin(), joined.end(), scope) != joined.end()) return;
    // The root is alive already: it must fit, or the scope would run over its limit.
    processes_.refresh();
    if (!forks->budget.has_room(processes_.scope_size(scope))) settle_forks_over({&forks->budget});
    const std::size_t live = processes_.scope_size(scope);
    if (!forks->budget.has_room(live)) {
        forks->denied.fetch_add(1, std::memory_order_relaxed);
        throw sdk::Error("max_processes: the nested sandbox already runs " + std::to_string(live) +
                         " of its " + std::to_string(forks->budget.limit()) +
                         " processes; start the command once one has exited");
    }
    if (!processes_.join(root, scope))
        throw sdk::Error("notif: process " + std::to_string(root) + " of the nested sandbox is gone");
}

void ProcessLimit::forget_scope(ScopeId scope) noexcept {
    std::lock_guard lock(scopes_mutex_);
    scopes_.erase(scope);
}

void ProcessLimit::scope_status(ScopeId scope, boost::json::object& out) const {
    std::lock_guard lock(scopes_mutex_);
    auto it = scopes_.find(scope);
    if (it == scopes_.end()) return;
    out["max_processes"] = it->second->budget.limit();
    add_denials(out, rule(), it->second->denied.load(std::memory_order_relaxed));
}

sdk::NotifVerdict ProcessLimit::on_fork(sdk::NotifContext& call) {
    if (call.syscall() == SYS_clone && memory::clone_kind(call.arg(0)) == memory::CloneKind::Thread)
        return sdk::Verdict::next();  // threads do not count
    const pid_t tid = call.pid();
    auto process = processes_.process_of(tid);
    if (!process) return sdk::Verdict::error(EAGAIN);  // fail closed: a caller we cannot place
    ForkBudget& budget = *budget_;
    // Far from the limit no refresh: the members known plus every fork whose child may not be
    // found yet (this thread's earlier ones included) leave room. A CLONE_PARENT child lands
    // under a thread of its creator's parent, which may exit during the refresh that
    // forks_found(tid) trusts below: such a fork always takes the refresh, so at most one of a
    // thread's counted forks is one (as before forks skipped refreshes).
    const bool beside_parent = call.syscall() == SYS_clone && (call.arg(0) & CLONE_PARENT) != 0;
    if (refreshed_once_ && !beside_parent && !processes_.has_scopes() && budget.try_fork(tid, processes_.live_count()))
        return sdk::Verdict::next();
    processes_.refresh();
    refreshed_once_ = true;  // what ran before any supervised fork (the first command) is found
    // This thread's children, read from its own list: still waiting for our answer after that,
    // it was blocked in this call all through the read (a killed thread leaves the wait before
    // it hands its children on), so the children of its earlier forks were all in the list.
    // Killed (another thread's execve or exit_group, a signal), it may have handed them to a
    // thread read already.
    const bool listed = processes_.track_children_of(tid);
    if (!call.still_valid()) return sdk::Verdict::error(EAGAIN);
    if (listed) budget.forks_found(tid);
    if (processes_.has_scopes())
        if (const ScopeList scopes = processes_.scopes_of(*process); !scopes.empty())
            return on_scoped_fork(tid, listed, scopes);
    std::size_t live = processes_.live_count();
    if (!budget.has_room(live) && settle_forks_over({&budget})) live = processes_.live_count();
    if (budget.try_fork(tid, live)) return sdk::Verdict::next();
    return refuse(tid, live, budget, "the sandbox");
}

bool ProcessLimit::settle_forks_over(const std::vector<ForkBudget*>& budgets) {
    // Looked at before a refresh and again after reading its own list of children: a thread
    // out of its fork call both times stayed where its children are (only a thread's exit moves
    // them), so the list held them all; one gone before had handed them on already, to where
    // the refresh looks. Either way its forks count no more, their children, if alive, as
    // members instead. A thread still in a fork call, leaving, running or not readable keeps
    // its forks counting until its list is read while it waits in a later fork.
    std::vector<std::pair<pid_t, ForkState>> seen;
    for (ForkBudget* budget : budgets)
        for (pid_t thread : budget->forking_threads())
            if (std::none_of(seen.begin(), seen.end(), [&](const auto& s) { return s.first == thread; }))
                seen.emplace_back(thread, fork_state(thread));
    if (std::none_of(seen.begin(), seen.end(), [](const auto& s) { return s.second != ForkState::Unknown; }))
        return false;
    processes_.refresh();
    bool ended = false;
    for (const auto& [thread, before] : seen) {
        // Its own list read, and then still out of its fork: the list held every child.
        const bool over = before == ForkState::Gone ||
                          (before == ForkState::OutOfIt && processes_.track_children_of(thread) &&
                           fork_state(thread) == ForkState::OutOfIt);
        if (!over) continue;
        for (ForkBudget* budget : budgets) budget->forks_found(thread);
        ended = true;
    }
    return ended;
}

sdk::NotifVerdict ProcessLimit::on_scoped_fork(pid_t tid, bool listed, const ScopeList& scopes) {
    std::lock_guard lock(scopes_mutex_);
    std::vector<std::pair<ScopeId, ScopeForks*>> mine;
    std::vector<ForkBudget*> budgets = {&*budget_};
    for (ScopeId scope : scopes) {
        auto it = scopes_.find(scope);
        if (it == scopes_.end()) continue;  // a scope without a process limit
        if (listed) it->second->budget.forks_found(tid);
        mine.emplace_back(scope, it->second.get());
        budgets.push_back(&it->second->budget);
    }
    auto full = [&]() -> std::pair<ScopeForks*, std::size_t> {  // the first scope without room
        for (const auto& [scope, forks] : mine)
            if (const std::size_t live = processes_.scope_size(scope); !forks->budget.has_room(live)) return {forks, live};
        return {nullptr, 0};
    };
    auto no_room = [&] { return full().first != nullptr || !budget_->has_room(processes_.live_count()); };
    if (no_room()) settle_forks_over(budgets);
    if (const auto [forks, live] = full(); forks != nullptr) {
        forks->denied.fetch_add(1, std::memory_order_relaxed);
        return refuse(tid, live, forks->budget, "its nested sandbox");
    }
    const std::size_t live = processes_.live_count();
    if (!budget_->try_fork(tid, live)) return refuse(tid, live, *budget_, "the sandbox");
    for (const auto& [scope, forks] : mine) forks->budget.try_fork(tid, 0);  // room checked above: counts now
    return sdk::Verdict::next();
}

sdk::NotifVerdict ProcessLimit::refuse(pid_t tid, std::size_t live, const ForkBudget& budget, const char* whose) {
    host_->debug("max_processes: refused a fork of pid " + std::to_string(tid) + " (" + whose + ": " +
                 std::to_string(live) + " running, " + std::to_string(budget.in_flight()) +
                 " forks not found yet, limit " + std::to_string(budget.limit()) + ")");
    return sdk::Verdict::error(EAGAIN);
}

}  // namespace sandlock::notif
