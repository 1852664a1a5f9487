#include "memory/memory_limit.hpp"

#include "memory/memory_cost.hpp"
#include "procfs/proc_files.hpp"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace sandlock::notif {
namespace {

using namespace std::chrono_literals;

// A call let through runs within microseconds of its answer; a grant this old is measured.
constexpr auto kGrantLifetime = 100ms;

// Every call of these is judged.
constexpr int kSupervised[] = {
    SYS_mremap, SYS_clone,
#ifdef SYS_fork
    SYS_fork, SYS_vfork,
#endif
};

// These only when their arguments can cost memory (memory_cost.hpp): every other call is one
// cost_of() rates 0, which judge() lets through, so it never waits for the supervisor. The
// kernel's filter checks the argument registers: nothing the caller can change afterwards.
constexpr sdk::NotifyCondition kWritable{2, SANDLOCK_NOTIFY_MASKED_EQ, PROT_WRITE, PROT_WRITE};  // prot
constexpr sdk::NotifyCondition kPrivate{3, SANDLOCK_NOTIFY_MASKED_EQ, MAP_TYPE, MAP_PRIVATE};     // flags
constexpr sdk::NotifyCondition kDroppable{3, SANDLOCK_NOTIFY_MASKED_EQ, MAP_TYPE, memory::kMapDroppable};
constexpr sdk::NotifyCondition kNotZero{0, SANDLOCK_NOTIFY_NOT_ZERO, 0, 0};                       // brk(0) asks
// prctl(PR_SET_MM, ...): the kernel reads the option as an int, so only the low half counts.
constexpr sdk::NotifyCondition kSetMm{0, SANDLOCK_NOTIFY_MASKED_EQ, 0xffffffffu, PR_SET_MM};
struct ConditionalCall {
    int syscall_nr;
    std::initializer_list<sdk::NotifyCondition> conditions;
};
const ConditionalCall kSupervisedWhenCostly[] = {
    {SYS_mmap, {kWritable, kPrivate}},
    {SYS_mmap, {kWritable, kDroppable}},
    {SYS_mprotect, {kWritable}},
    {SYS_pkey_mprotect, {kWritable}},
    {SYS_brk, {kNotZero}},
};

// Whether a thread of sandlock itself traces thread `tid` (TracerPid names the tracing thread):
// its checkpoint restore, which holds the process stopped and makes its calls for it (nothing
// of the program runs meanwhile).
bool traced_by_sandlock(pid_t tid) {
    auto status = proc::read_small_file("/proc/" + std::to_string(tid) + "/status");
    const auto tracer = status ? proc::parse_status_number(*status, "TracerPid") : std::nullopt;
    return tracer && *tracer > 0 && ::access(("/proc/self/task/" + std::to_string(*tracer)).c_str(), F_OK) == 0;
}

// A stack limit of "unlimited" becomes this before it is pinned: the usual default.
constexpr rlim_t kDefaultStack = 8u << 20;

// The child of a fork starts with a copy of its parent's private memory.
std::uint64_t fork_copy_cost(pid_t parent) { return proc::read_data_bytes(parent).value_or(0); }

bool makes_a_copy(const sdk::NotifContext& call) {
    switch (call.syscall()) {
        case SYS_clone: return memory::clone_kind(call.arg(0)) == memory::CloneKind::Copy;
#ifdef SYS_fork
        case SYS_fork: return true;
#endif
        default: return false;
    }
}

// soft = hard = the current soft limit (8 MiB when unlimited), never above max_memory.
rlimit pinned_stack_limit(std::uint64_t max_memory) {
    rlimit now{};
    if (::getrlimit(RLIMIT_STACK, &now) != 0) now = {kDefaultStack, kDefaultStack};
    rlim_t size = now.rlim_cur == RLIM_INFINITY ? kDefaultStack : now.rlim_cur;
    size = std::min<rlim_t>({size, now.rlim_max, static_cast<rlim_t>(max_memory)});
    return {size, size};
}

std::string mebibytes(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

void refuse_zero(std::uint64_t limit) {
    if (limit == 0) throw sdk::Error("max_memory: 0 leaves nothing to run with; give a size such as \"512M\"");
}

}  // namespace

void MemoryLimit::configure(const ModuleSetup& setup) {
    if (!setup.policy.max_memory) return;
    const std::uint64_t limit = *setup.policy.max_memory;
    refuse_zero(limit);
    host_ = &setup.host;
    account_.emplace(limit);
    stack_limit_ = pinned_stack_limit(limit);
    events_ = processes_.subscribe();
    for (int nr : kSupervised) {
        setup.table.add(nr, sdk::handler_fn<&MemoryLimit::on_call>(), this);
        setup.host.request_notify(nr);
    }
    for (const ConditionalCall& call : kSupervisedWhenCostly) {
        setup.table.add(call.syscall_nr, sdk::handler_fn<&MemoryLimit::on_call>(), this);
        setup.host.request_notify_when(call.syscall_nr, call.conditions);
    }
    setup.table.add(SYS_prctl, sdk::handler_fn<&MemoryLimit::on_set_mm>(), this);
    setup.host.request_notify_when(SYS_prctl, {kSetMm});
}

sdk::NotifVerdict MemoryLimit::on_set_mm(sdk::NotifContext& call) {
    // PR_SET_MM moves the heap's bounds without a brk: one thread could move the break between
    // the judging of another thread's brk and the kernel's running it, which would then grow the
    // heap from where it no longer ended, uncharged. (Without CAP_SYS_RESOURCE, which the sandbox
    // lacks, only PR_SET_MM_MAP and its size query work at all.) Every other option is not ours:
    // under a syscall allowlist the filter routes every prctl here (route_to_listener).
    if (static_cast<std::uint32_t>(call.arg(0)) != PR_SET_MM) return sdk::Verdict::next();
    if (traced_by_sandlock(call.pid())) return sdk::Verdict::next();
    host_->debug("max_memory: refused prctl(PR_SET_MM) of pid " + std::to_string(call.pid()) +
                 " (it would move the heap the limit judges brk against)");
    return sdk::Verdict::error(EPERM);
}

void MemoryLimit::check_update(const Policy& policy) const {
    if (!account_ && policy.max_memory)
        throw sdk::Error("max_memory: cannot set " + mebibytes(*policy.max_memory) +
                         ": this sandbox started without a memory limit, so none can be set while it runs "
                         "(start it with one, e.g. -m 1G)");
    if (account_ && !policy.max_memory)
        throw sdk::Error("max_memory: this sandbox started with a limit of " + mebibytes(account_->limit()) +
                         ", which cannot be removed while it runs (give a larger one instead, e.g. -m 64G)");
    if (policy.max_memory) refuse_zero(*policy.max_memory);
}

void MemoryLimit::apply_update(const Policy& policy) noexcept {
    if (account_ && policy.max_memory) account_->set_limit(*policy.max_memory);
}

void MemoryLimit::status(boost::json::object& out) const {
    if (!account_) return;
    out["max_memory"] = account_->limit();
    out["memory_bytes"] = total_.load(std::memory_order_relaxed);
    if (const std::uint64_t refused = brk_refused_.load(std::memory_order_relaxed); refused > 0) {
        // Refusals all the same: added to what the supervisor counted under this rule.
        boost::json::value& denied = out["denied"];
        if (!denied.is_object()) denied.emplace_object();
        boost::json::value& mine = denied.as_object()[rule()];
        mine = (mine.is_number() ? mine.to_number<std::uint64_t>() : 0) + refused;
    }
}

void MemoryLimit::check_nest(const Policy& policy) const {
    if (!policy.max_memory) return;
    if (!account_)
        throw sdk::Error("max_memory: the parent sandbox has no memory limit, so its supervisor does not see the "
                         "memory calls a nested sandbox's limit needs (give the parent one, e.g. -m 1G)");
    refuse_zero(*policy.max_memory);
}

void MemoryLimit::nest(ScopeId scope, pid_t, const Policy& policy) {
    if (!policy.max_memory) return;
    std::lock_guard lock(scopes_mutex_);
    // Its members are measured as they call (the root first of all) and whenever it is near the limit.
    auto& memory = scopes_[scope];
    if (!memory) memory = std::make_unique<ScopeMemory>(*policy.max_memory);
}

void MemoryLimit::forget_scope(ScopeId scope) noexcept {
    std::lock_guard lock(scopes_mutex_);
    scopes_.erase(scope);
}

void MemoryLimit::scope_status(ScopeId scope, boost::json::object& out) const {
    std::lock_guard lock(scopes_mutex_);
    auto it = scopes_.find(scope);
    if (it == scopes_.end()) return;
    out["max_memory"] = it->second->account.limit();
    out["memory_bytes"] = it->second->total.load(std::memory_order_relaxed);
    add_denials(out, rule(), it->second->denied.load(std::memory_order_relaxed));
}

std::vector<MemoryLimit::ScopeMemory*> MemoryLimit::accounts_of(const ScopeList& scopes) {
    std::vector<ScopeMemory*> out;
    for (ScopeId scope : scopes)
        if (auto it = scopes_.find(scope); it != scopes_.end()) out.push_back(it->second.get());
    return out;
}

int MemoryLimit::apply_rlimits() const noexcept {
    if (stack_limit_ && ::setrlimit(RLIMIT_STACK, &*stack_limit_) != 0) return -errno;
    return 0;
}

std::uint64_t MemoryLimit::cost_of(const sdk::NotifContext& call, pid_t process) {
    switch (call.syscall()) {
        case SYS_mmap:
            return memory::mmap_cost(call.arg(1), call.arg(2), call.arg(3), stack_limit_ ? stack_limit_->rlim_cur : 0);
        case SYS_mremap: return memory::mremap_cost(call.arg(1), call.arg(2), call.arg(3));
        case SYS_mprotect:
        case SYS_pkey_mprotect: return memory::mprotect_cost(call.arg(1), call.arg(2));
        case SYS_brk: {
            if (call.arg(0) == 0) return 0;
            auto heap_end = proc::read_heap_end(process, proc::HeapSearchDepth::Usual, &heap_starts_[process]);
            return heap_end ? memory::brk_cost(call.arg(0), *heap_end) : memory::round_to_pages(call.arg(0));
        }
        case SYS_clone:
            return memory::clone_kind(call.arg(0)) == memory::CloneKind::Copy ? fork_copy_cost(process) : 0;
#ifdef SYS_fork
        case SYS_fork: return fork_copy_cost(process);
        case SYS_vfork: return 0;  // the child shares the parent's memory until it execs
#endif
        default: return 0;
    }
}

sdk::NotifVerdict MemoryLimit::on_call(sdk::NotifContext& call) {
    const pid_t tid = call.pid();
    auto process = processes_.process_of(tid);
    // Fail closed: a caller we cannot place (gone, or /proc unreadable, out of fds) is refused.
    if (!process) return sdk::Verdict::error(ENOMEM);
    MemoryAccount& account = *account_;
    // With nested sandboxes, their accounts are held for the whole call (the usual case: one branch).
    std::unique_lock<std::mutex> scopes_lock;
    std::vector<ScopeMemory*> scoped;
    if (processes_.has_scopes()) {
        scopes_lock = std::unique_lock(scopes_mutex_);
        scoped = accounts_of(processes_.scopes_of(*process));
    }
    // Without the lock the accounts are not touched. has_scopes() turns true once, so a call
    // in that moment may miss a scope member's birth or exit: it is measured again before any
    // refusal (measure_everyone).
    scopes_held_ = scopes_lock.owns_lock();
    apply_process_events();
    const sdk::NotifVerdict verdict = judge(call, tid, *process, scoped);
    total_.store(account.total(), std::memory_order_relaxed);
    for (ScopeMemory* memory : scoped) memory->total.store(memory->account.total(), std::memory_order_relaxed);
    return verdict;
}

sdk::NotifVerdict MemoryLimit::judge(const sdk::NotifContext& call, pid_t tid, pid_t process,
                                     const std::vector<ScopeMemory*>& scoped) {
    MemoryAccount& account = *account_;
    const std::uint64_t cost = cost_of(call, process);
    if (cost == 0) return sdk::Verdict::next();
    const bool fork = makes_a_copy(call);
    const bool machinery = processes_.is_machinery(process);
    if (machinery && !fork) return sdk::Verdict::next();  // the spawner's own memory is not the sandbox's
    auto now = MemoryAccount::Clock::now();
    // Far from the limit (under half of it) the call is granted without reading /proc, on top
    // of the last measurements; such grants leave the account only after every process was
    // measured again (memory_account.hpp), so it errs high, never low. Forks and nested
    // sandboxes are always measured.
    const std::uint64_t half = account.limit() / 2;
    if (account.total() > half && account.has_unmeasured_older_than(now, kGrantLifetime)) measure_everyone(now);
    if (!fork && scoped.empty() && account.knows(process) && account.total() <= half &&
        cost <= half - account.total() && account.try_grant_unmeasured(cost, now))
        return sdk::Verdict::next();
    account.thread_returned(tid);
    for (ScopeMemory* memory : scoped) memory->account.thread_returned(tid);
    if (fork) {
        // Children of earlier forks not found yet hold copies this fork must be judged with.
        processes_.refresh();
        apply_process_events();
    }
    if (!machinery) {
        if (auto usage = proc::read_data_bytes(process)) {
            account.set_usage(process, *usage);
            for (ScopeMemory* memory : scoped) memory->account.set_usage(process, *usage);
        }
    }
    auto grant_in = [&](MemoryAccount& to) {
        return fork ? to.try_grant_fork(process, tid, cost, now) : to.try_grant(process, tid, cost, now);
    };
    // The nested sandboxes' accounts first (checked before any grant, so a refusal grants
    // nothing anywhere), then the sandbox's; the one that refused, or null.
    auto grant = [&]() -> const MemoryAccount* {
        for (ScopeMemory* memory : scoped)
            if (!memory->account.fits(cost)) return &memory->account;
        if (!grant_in(account)) return &account;
        for (ScopeMemory* memory : scoped) grant_in(memory->account);
        return nullptr;
    };
    if (grant() == nullptr) return sdk::Verdict::next();

    // Near the limit the cheap figures may be stale: look again before refusing.
    measure_everyone(now);
    const MemoryAccount* full = grant();
    if (full == nullptr) return sdk::Verdict::next();
    for (ScopeMemory* memory : scoped)
        if (full == &memory->account) memory->denied.fetch_add(1, std::memory_order_relaxed);
    host_->debug("max_memory: refused syscall " + std::to_string(call.syscall()) + " of pid " + std::to_string(tid) +
                 " asking for " + mebibytes(cost) + " (" + (full == &account ? "the sandbox: " : "its nested sandbox: ") +
                 mebibytes(full->total()) + " of " + mebibytes(full->limit()) + " in use)");
    return refusal(call, process);
}

sdk::NotifVerdict MemoryLimit::refusal(const sdk::NotifContext& call, pid_t process) {
    // brk(2) never fails with an errno: it returns the unchanged break, and libc sees that it
    // is below what it asked for. An errno would read as a huge break, and the heap as grown.
    if (call.syscall() == SYS_brk) {
        brk_refused_.fetch_add(1, std::memory_order_relaxed);
        const auto heap_end = proc::read_heap_end(process, proc::HeapSearchDepth::Thorough);
        return sdk::Verdict::value(static_cast<std::int64_t>(heap_end.value_or(0)));
    }
    return sdk::Verdict::error(ENOMEM);
}

void MemoryLimit::apply_process_events() {
    for (const ProcessEvent& event : processes_.drain(events_)) {
        if (event.kind == ProcessEvent::Kind::Exited) {
            account_->forget_process(event.pid);
            heap_starts_.erase(event.pid);
            if (scopes_held_)
                for (auto& [scope, memory] : scopes_) memory->account.forget_process(event.pid);
            continue;
        }
        const std::vector<ScopeMemory*> scoped =
            scopes_held_ && !event.scopes.empty() ? accounts_of(event.scopes) : std::vector<ScopeMemory*>{};
        if (auto usage = proc::read_data_bytes(event.pid)) {
            account_->set_usage(event.pid, *usage);
            for (ScopeMemory* memory : scoped) memory->account.set_usage(event.pid, *usage);
        }
        // The fork that made it is measured in the child from now on.
        if (event.creator_tid > 0) {
            account_->child_found(event.creator_tid);
            for (ScopeMemory* memory : scoped) memory->account.child_found(event.creator_tid);
        }
    }
}

void MemoryLimit::measure_everyone(MemoryAccount::Clock::time_point now) {
    processes_.refresh();
    apply_process_events();
    const std::vector<pid_t> live = processes_.live_processes();
    for (pid_t pid : account_->processes()) {
        if (std::find(live.begin(), live.end(), pid) != live.end()) continue;
        account_->forget_process(pid);
        heap_starts_.erase(pid);
    }
    for (pid_t pid : live) {
        if (auto usage = proc::read_data_bytes(pid)) account_->set_usage(pid, *usage);
    }
    account_->expire_grants(now, kGrantLifetime);
    if (!scopes_held_ || scopes_.empty()) return;
    // Each nested sandbox's account: its live members, with the figures just read.
    for (auto& [scope, memory] : scopes_) {
        for (pid_t pid : memory->account.processes())
            if (std::find(live.begin(), live.end(), pid) == live.end()) memory->account.forget_process(pid);
        memory->account.expire_grants(now, kGrantLifetime);
    }
    for (const auto& [pid, scopes] : processes_.scoped_processes()) {
        const std::uint64_t usage = proc::read_data_bytes(pid).value_or(0);
        for (ScopeMemory* memory : accounts_of(scopes)) memory->account.set_usage(pid, usage);
    }
}

}  // namespace sandlock::notif
