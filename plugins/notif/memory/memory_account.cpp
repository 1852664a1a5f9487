#include "memory/memory_account.hpp"

namespace sandlock::notif {
namespace {

// Unmeasured grants this close in time share one entry.
constexpr auto kUnmeasuredSlice = std::chrono::milliseconds(10);

using Grants = std::unordered_map<pid_t, MemoryAccount::Grant>;

// Removes the grants `drop` picks and returns the bytes they held.
template <typename Pred>
std::uint64_t erase_grants(Grants& grants, Pred drop) {
    std::uint64_t bytes = 0;
    for (auto it = grants.begin(); it != grants.end();) {
        if (drop(it->second)) {
            bytes += it->second.bytes;
            it = grants.erase(it);
        } else {
            ++it;
        }
    }
    return bytes;
}

std::uint64_t erase_grant(Grants& grants, pid_t tid) {
    auto it = grants.find(tid);
    if (it == grants.end()) return 0;
    const std::uint64_t bytes = it->second.bytes;
    grants.erase(it);
    return bytes;
}

}  // namespace

void MemoryAccount::drop_grant(pid_t tid) { granted_total_ -= erase_grant(grants_, tid); }

void MemoryAccount::child_found(pid_t tid) { granted_total_ -= erase_grant(fork_grants_, tid); }

void MemoryAccount::set_usage(pid_t process, std::uint64_t bytes) {
    std::uint64_t& usage = usage_[process];
    measured_total_ = measured_total_ - usage + bytes;
    usage = bytes;
}

void MemoryAccount::forget_process(pid_t process) {
    if (auto it = usage_.find(process); it != usage_.end()) {
        measured_total_ -= it->second;
        usage_.erase(it);
    }
    auto of_process = [process](const Grant& grant) { return grant.process == process; };
    granted_total_ -= erase_grants(grants_, of_process) + erase_grants(fork_grants_, of_process);
}

void MemoryAccount::expire_grants(Clock::time_point now, Clock::duration max_age) {
    auto old = [&](const Grant& grant) { return now - grant.at >= max_age; };
    granted_total_ -= erase_grants(grants_, old) + erase_grants(fork_grants_, old);
    while (!unmeasured_.empty() && old(unmeasured_.front())) {
        granted_total_ -= unmeasured_.front().bytes;
        unmeasured_.pop_front();
    }
}

bool MemoryAccount::fits(std::uint64_t bytes) const {
    const std::uint64_t used = total();
    const std::uint64_t limit = this->limit();  // one reading: it may change meanwhile
    return used <= limit && bytes <= limit - used;
}

bool MemoryAccount::try_grant(pid_t process, pid_t tid, std::uint64_t bytes, Clock::time_point now) {
    drop_grant(tid);
    if (!fits(bytes)) return false;
    grants_[tid] = {process, bytes, now};
    granted_total_ += bytes;
    return true;
}

bool MemoryAccount::try_grant_unmeasured(std::uint64_t bytes, Clock::time_point now) {
    if (!fits(bytes)) return false;
    // Calls close together share one entry, dated by the latest: it expires no earlier than
    // any of them would.
    if (unmeasured_.empty() || now - unmeasured_.back().at >= kUnmeasuredSlice) unmeasured_.push_back({0, 0, now});
    unmeasured_.back().bytes += bytes;
    unmeasured_.back().at = now;
    granted_total_ += bytes;
    return true;
}

bool MemoryAccount::has_unmeasured_older_than(Clock::time_point now, Clock::duration max_age) const {
    return !unmeasured_.empty() && now - unmeasured_.front().at >= max_age;
}

bool MemoryAccount::try_grant_fork(pid_t process, pid_t tid, std::uint64_t bytes, Clock::time_point now) {
    drop_grant(tid);
    if (!fits(bytes)) return false;
    // Forks in a row by one thread before any child is found: their copies add up.
    Grant& grant = fork_grants_.try_emplace(tid, Grant{process, 0, now}).first->second;
    grant.bytes += bytes;
    grant.at = now;
    granted_total_ += bytes;
    return true;
}

std::vector<pid_t> MemoryAccount::processes() const {
    std::vector<pid_t> out;
    out.reserve(usage_.size());
    for (const auto& [pid, bytes] : usage_) out.push_back(pid);
    return out;
}

}  // namespace sandlock::notif
