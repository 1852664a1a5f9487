#include "processes/process_table.hpp"

#include "procfs/proc_files.hpp"

#include <sandlock/sdk/sandbox_process.hpp>

#include <dirent.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <string>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace sandlock::notif {
namespace {

constexpr std::size_t kThreadCacheLimit = 4096;
// How far up an untracked caller's ancestry is followed to find the member it descends from.
constexpr int kAncestryDepth = 64;

// Whether process `pid` (its `stat`, read a moment before) has ended. A zombie leader has not
// while another of its threads runs: its state says Z after its main thread's exit, yet the
// process lives on (and was once taken for gone, so it and its children went uncounted).
bool exited(pid_t pid, const std::optional<proc::StatFields>& stat) {
    if (!stat) return true;
    if (stat->state != 'Z' && stat->state != 'X') return false;
    DIR* tasks = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
    if (tasks == nullptr) return errno == ENOENT;  // out of fds: not proof of an end
    int threads = 0;
    while (const dirent* entry = ::readdir(tasks))
        if (entry->d_name[0] != '.') ++threads;
    ::closedir(tasks);
    return threads <= 1;
}

// Whether /proc/PID/status says the process runs under a seccomp filter (mode 2).
void add_scopes(ScopeList& to, const ScopeList& from) {
    for (ScopeId scope : from)
        if (std::find(to.begin(), to.end(), scope) == to.end()) to.push_back(scope);
}

bool filtered(pid_t pid) {
    auto text = proc::read_small_file("/proc/" + std::to_string(pid) + "/status");
    return text && proc::parse_status_number(*text, "Seccomp").value_or(0) == 2;
}

}  // namespace

ProcessTable::~ProcessTable() { stop(); }

int ProcessTable::subscribe() {
    std::lock_guard lock(mutex_);
    queues_.emplace_back();
    return static_cast<int>(queues_.size() - 1);
}

std::vector<ProcessEvent> ProcessTable::drain(int subscriber) {
    std::lock_guard lock(mutex_);
    std::vector<ProcessEvent> events;
    events.swap(queues_.at(static_cast<std::size_t>(subscriber)));
    return events;
}

void ProcessTable::start(pid_t root, pid_t spawner, std::optional<sdk::PidNamespaceId> sandbox) {
    std::lock_guard lock(mutex_);
    root_ = root;
    self_ = ::getpid();
    if (spawner > 0) {
        spawner_ = spawner;
        spawner_pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, spawner, 0));  // -1: checked through /proc
    }
    namespace_ = sandbox ? sandbox : sdk::sandbox_pid_namespace(root);
    root_is_init_ = namespace_.has_value();
    if (root_is_init_) return;  // nothing outside its namespace can become a member
    for (const auto& [tid, children] : proc::read_children_by_thread(self_))
        for (pid_t child : children)
            if (child != root) not_members_.insert(child);
    track_locked(root, self_, 0, Check::None, kAncestryDepth);
}

void ProcessTable::stop() noexcept {
    std::lock_guard lock(mutex_);
    for (const auto& [pid, member] : members_)
        if (member.pidfd >= 0) ::close(member.pidfd);
    members_.clear();
    scope_sizes_.clear();
    orphan_scopes_.clear();
    thread_owner_.clear();
    if (spawner_pidfd_ >= 0) ::close(spawner_pidfd_);
    spawner_pidfd_ = -1;
    spawner_ = 0;
    root_ = -1;
    root_is_init_ = false;
    namespace_.reset();
}

std::optional<pid_t> ProcessTable::process_of(pid_t tid) {
    std::lock_guard lock(mutex_);
    if (auto known = thread_owner_.find(tid); known != thread_owner_.end() && members_.contains(known->second)) {
        // A recycled thread id may belong to another process now: check the pairing still holds.
        const std::string task = "/proc/" + std::to_string(known->second) + "/task/" + std::to_string(tid);
        if (tid == known->second || ::access(task.c_str(), F_OK) == 0) return known->second;
    }
    auto tgid = proc::read_tgid(tid);
    if (!tgid) return std::nullopt;
    if (!members_.contains(*tgid) && !machinery_locked(*tgid)) {
        // Only members (and the spawner) reach our listener: no check needed beyond the caller
        // being there.
        auto stat = proc::read_stat(*tgid);
        track_locked(*tgid, stat ? stat->ppid : 0, 0, Check::None, kAncestryDepth);
    }
    if (thread_owner_.size() >= kThreadCacheLimit) thread_owner_.clear();
    thread_owner_[tid] = *tgid;
    return *tgid;
}

bool ProcessTable::is_machinery(pid_t process) {
    std::lock_guard lock(mutex_);
    return machinery_locked(process);
}

bool ProcessTable::machinery_locked(pid_t pid) const {
    if (pid == root_) return root_is_init_ || pid == spawner_;
    return pid == spawner_ && spawner_ > 0 && alive_locked(spawner_, spawner_pidfd_);
}

void ProcessTable::refresh() {
    std::lock_guard lock(mutex_);
    if (root_ < 0) return;
    reap_exits_locked();
    discover_locked();
    orphan_scopes_.clear();  // every orphan of the members reaped above is found by now
}

bool ProcessTable::track_children_of(pid_t tid) {
    std::lock_guard lock(mutex_);
    if (root_ < 0) return false;
    const auto process = proc::read_tgid(tid);
    const auto children = proc::read_thread_children(tid);
    if (!process || !children) return false;
    for (pid_t child : *children)
        if (!members_.contains(child)) track_locked(child, *process, tid, Check::ChildOf, kAncestryDepth);
    return true;
}

std::size_t ProcessTable::live_count() {
    std::lock_guard lock(mutex_);
    return members_.size();
}

std::vector<pid_t> ProcessTable::live_processes() {
    std::lock_guard lock(mutex_);
    std::vector<pid_t> pids;
    pids.reserve(members_.size());
    for (const auto& [pid, member] : members_) pids.push_back(pid);
    return pids;
}

bool ProcessTable::join(pid_t root, ScopeId scope) {
    std::lock_guard lock(mutex_);
    if (root_ < 0 || spawner_ <= 0 || machinery_locked(root)) return false;
    // Only a command the spawner has just started (it waits, childless, for this) may join.
    auto stat = proc::read_stat(root);
    if (exited(root, stat) || stat->ppid != spawner_) return false;
    has_scopes_.store(true, std::memory_order_relaxed);
    // Checked as the spawner's child above, and it cannot exit before we answer: Check::None,
    // as /proc/ROOT/ns may not be readable yet (until it execs it shares the non-dumpable
    // spawner's memory, which an unprivileged host may not inspect).
    if (!members_.contains(root) && !track_locked(root, spawner_, 0, Check::None, kAncestryDepth, ScopeList{scope}))
        return false;
    ScopeList& scopes = members_.at(root).scopes;
    if (std::find(scopes.begin(), scopes.end(), scope) != scopes.end()) return true;
    scopes.push_back(scope);
    ++scope_sizes_[scope];
    return true;
}

ScopeList ProcessTable::scopes_of(pid_t process) {
    std::lock_guard lock(mutex_);
    auto it = members_.find(process);
    return it == members_.end() ? ScopeList{} : it->second.scopes;
}

std::size_t ProcessTable::scope_size(ScopeId scope) {
    std::lock_guard lock(mutex_);
    auto it = scope_sizes_.find(scope);
    return it == scope_sizes_.end() ? 0 : it->second;
}

std::vector<std::pair<pid_t, ScopeList>> ProcessTable::scoped_processes() {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<pid_t, ScopeList>> out;
    for (const auto& [pid, member] : members_)
        if (!member.scopes.empty()) out.emplace_back(pid, member.scopes);
    return out;
}

bool ProcessTable::forget_scope_if_empty(ScopeId scope) {
    std::lock_guard lock(mutex_);
    auto it = scope_sizes_.find(scope);
    if (it == scope_sizes_.end()) return true;
    if (it->second > 0) return false;
    scope_sizes_.erase(it);
    return true;
}

void ProcessTable::signal_all(int sig) {
    std::lock_guard lock(mutex_);
    // The group would reach the machinery too: with an init, or a spawner (which may share the
    // first process's group, or be that process), never signal it.
    if (root_is_init_ || spawner_ > 0) {
        // Never the init (a stopped init could neither reap nor end the sandbox) nor the
        // spawner (nothing could be started), so no group signal: members, then the children
        // found since, until a round finds none (a stopped or killed member forks no more).
        std::set<pid_t> signalled;
        for (;;) {
            bool any = false;
            for (const auto& [pid, member] : members_) {
                if (!signalled.insert(pid).second) continue;
                send_locked(pid, member.pidfd, sig);
                any = true;
            }
            if (!any || (sig != SIGSTOP && sig != SIGKILL)) return;
            discover_locked();
        }
    }
    if (auto root = members_.find(root_); root != members_.end() && alive_locked(root->first, root->second.pidfd))
        ::kill(-root_, sig);  // its leader is alive, so the group id cannot have been recycled
    for (const auto& [pid, member] : members_) send_locked(pid, member.pidfd, sig);
}

void ProcessTable::send_locked(pid_t pid, int pidfd, int sig) const {
    if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
    else if (alive_locked(pid, -1)) ::kill(pid, sig);
}

bool ProcessTable::track_locked(pid_t pid, pid_t parent, pid_t creator_tid, Check belongs, int depth,
                                ScopeList scopes) {
    if (members_.contains(pid)) return true;
    if (machinery_locked(pid)) return false;
    // The pidfd first, the check second: a pid recycled in between fails the check (another
    // parent) or leaves us a pidfd of a dead process, which the next refresh drops.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0 && errno == ESRCH) return false;  // gone already
    if (belongs != Check::None) {
        auto stat = proc::read_stat(pid);
        // With a PID namespace, membership is the namespace itself (a pid recycled inside it
        // is a member too); without, the parent link found and, for orphans, the filter.
        bool ok = !exited(pid, stat) &&
                  (namespace_ ? sdk::in_sandbox(pid, root_, *namespace_)
                              : stat->ppid == parent && (belongs != Check::FilteredOrphan || filtered(pid)));
        if (!ok) {
            if (pidfd >= 0) ::close(pidfd);
            return false;
        }
    }
    // The usual case (no nested sandbox) pays this one branch.
    if (!scope_sizes_.empty() || !scopes.empty()) {
        add_scopes(scopes, inherited_scopes_locked(parent, depth));
        for (ScopeId scope : scopes) ++scope_sizes_[scope];
    }
    members_.emplace(pid, Member{pidfd, scopes});  // pidfd -1 (out of fds): its liveness comes from /proc
    emit_locked({ProcessEvent::Kind::Born, pid, parent, creator_tid, std::move(scopes)});
    return true;
}

ScopeList ProcessTable::inherited_scopes_locked(pid_t parent, int depth) {
    if (auto it = members_.find(parent); it != members_.end()) return it->second.scopes;
    if (parent > 0 && parent == spawner_) return {};  // a command: it joins a scope by join()
    if (parent > 0 && parent != root_ && parent != self_ && depth > 0) {
        // A parent alive but not seen yet: it descends from a member too; place it first.
        auto stat = proc::read_stat(parent);
        if (!exited(parent, stat) && track_locked(parent, stat->ppid, 0, Check::None, depth - 1) && members_.contains(parent))
            return members_.at(parent).scopes;
    }
    // An orphan (its parent is the init or us now): the scopes of the members that died
    // without the table seeing all their children (see the header).
    ScopeList scopes = orphan_scopes_;
    for (const auto& [pid, member] : members_)
        if (!member.scopes.empty() && !alive_locked(pid, member.pidfd)) add_scopes(scopes, member.scopes);
    return scopes;
}

bool ProcessTable::alive_locked(pid_t pid, int pidfd) const {
    if (pidfd < 0) return !exited(pid, proc::read_stat(pid));
    pollfd p{pidfd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;  // a pidfd turns readable when its process exits
}

void ProcessTable::reap_exits_locked() {
    std::vector<pollfd> polled;
    std::vector<pid_t> gone;
    polled.reserve(members_.size());
    for (const auto& [pid, member] : members_) {
        if (member.pidfd >= 0) polled.push_back({member.pidfd, POLLIN, 0});
        else if (!alive_locked(pid, -1)) gone.push_back(pid);
    }
    if (!polled.empty() && ::poll(polled.data(), polled.size(), 0) > 0) {
        for (const auto& [pid, member] : members_)
            for (const pollfd& p : polled)
                if (p.fd == member.pidfd && p.revents != 0) gone.push_back(pid);
    }
    for (pid_t pid : gone) erase_member_locked(members_.find(pid));
}

void ProcessTable::erase_member_locked(Members::iterator it) {
    const pid_t pid = it->first;
    if (it->second.pidfd >= 0) ::close(it->second.pidfd);
    for (ScopeId scope : it->second.scopes) {
        --scope_sizes_[scope];
        add_scopes(orphan_scopes_, {scope});  // its children not seen yet are orphans now
    }
    members_.erase(it);
    emit_locked({ProcessEvent::Kind::Exited, pid, 0, 0, {}});
}

void ProcessTable::discover_locked() {
    std::vector<pid_t> frontier;
    // The machinery is no member, but the commands it starts are: its children are looked for.
    if (root_is_init_ || (spawner_ > 0 && spawner_ == root_)) frontier.push_back(root_);
    if (spawner_ > 0 && spawner_ != root_ && alive_locked(spawner_, spawner_pidfd_)) frontier.push_back(spawner_);
    // Orphans of members land on us (the launcher is a child subreaper); members run under a
    // seccomp filter, which tells them from children the host made for other reasons.
    if (!root_is_init_) {
        for (const auto& [tid, children] : proc::read_children_by_thread(self_)) {
            for (pid_t child : children) {
                if (members_.contains(child) || not_members_.contains(child)) continue;
                if (track_locked(child, self_, 0, Check::FilteredOrphan, kAncestryDepth)) frontier.push_back(child);
                else if (!exited(child, proc::read_stat(child))) not_members_.insert(child);
            }
        }
    }
    for (const auto& [pid, member] : members_) frontier.push_back(pid);
    while (!frontier.empty()) {
        const pid_t parent = frontier.back();
        frontier.pop_back();
        for (const auto& [tid, children] : proc::read_children_by_thread(parent))
            for (pid_t child : children)
                if (!members_.contains(child) && track_locked(child, parent, tid, Check::ChildOf, kAncestryDepth))
                    frontier.push_back(child);
    }
}

void ProcessTable::emit_locked(const ProcessEvent& event) {
    for (auto& queue : queues_) queue.push_back(event);
}

}  // namespace sandlock::notif
