#include "processes/fork_budget.hpp"

namespace sandlock::notif {

void ForkBudget::child_appeared(pid_t parent, pid_t creator_tid) {
    if (creator_tid > 0 && forks_.erase(creator_tid) > 0) return;
    auto oldest = forks_.end();
    for (auto it = forks_.begin(); it != forks_.end(); ++it)
        if (it->second.process == parent && (oldest == forks_.end() || it->second.at < oldest->second.at))
            oldest = it;
    if (oldest != forks_.end()) forks_.erase(oldest);
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
