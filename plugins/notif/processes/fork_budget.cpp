#include "processes/fork_budget.hpp"

namespace sandlock::notif {

std::vector<pid_t> ForkBudget::forking_threads() const {
    std::vector<pid_t> tids;
    tids.reserve(forks_.size());
    for (const auto& [tid, fork] : forks_) tids.push_back(tid);
    return tids;
}

void ForkBudget::expire(Clock::time_point now, Clock::duration max_age) {
    for (auto it = forks_.begin(); it != forks_.end();) {
        if (now - it->second.at >= max_age) it = forks_.erase(it);
        else ++it;
    }
}

bool ForkBudget::try_fork(pid_t process, pid_t tid, std::size_t live, Clock::time_point now) {
    forks_.erase(tid);
    if (!has_room(live)) return false;
    forks_[tid] = {process, now};
    return true;
}

}  // namespace sandlock::notif
