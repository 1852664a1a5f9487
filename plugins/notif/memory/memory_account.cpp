#include "memory/memory_account.hpp"

namespace sandlock::notif {

void MemoryAccount::drop_grant(pid_t tid) {
    auto it = grants_.find(tid);
    if (it == grants_.end()) return;
    granted_total_ -= it->second.bytes;
    grants_.erase(it);
}

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
    for (auto it = grants_.begin(); it != grants_.end();) {
        if (it->second.process == process) {
            granted_total_ -= it->second.bytes;
            it = grants_.erase(it);
        } else {
            ++it;
        }
    }
}

void MemoryAccount::expire_grants(Clock::time_point now, Clock::duration max_age) {
    for (auto it = grants_.begin(); it != grants_.end();) {
        if (now - it->second.at >= max_age) {
            granted_total_ -= it->second.bytes;
            it = grants_.erase(it);
        } else {
            ++it;
        }
    }
}

bool MemoryAccount::try_grant(pid_t process, pid_t tid, std::uint64_t bytes, Clock::time_point now) {
    drop_grant(tid);
    const std::uint64_t used = total();
    if (used > limit_ || bytes > limit_ - used) return false;
    grants_[tid] = {process, bytes, now};
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
