#include "processes/fork_budget.hpp"

namespace sandlock::notif {

std::vector<pid_t> ForkBudget::forking_threads() const {
    std::vector<pid_t> tids;
    tids.reserve(forks_.size());
    for (const auto& [tid, fork] : forks_) tids.push_back(tid);
    return tids;
}

bool ForkBudget::try_fork(pid_t process, pid_t tid, std::size_t live) {
    forks_.erase(tid);
    if (!has_room(live)) return false;
    forks_[tid] = process;
    if (unseen_) ++*unseen_;
    return true;
}

bool ForkBudget::try_fork_unrefreshed(pid_t process, pid_t tid, std::size_t members) {
    // unseen_ >= forks_.size() (each fork in flight is in it), so this implies has_room(members).
    if (!unseen_ || members + *unseen_ >= limit()) return false;
    forks_.erase(tid);
    forks_[tid] = process;
    ++*unseen_;
    return true;
}

}  // namespace sandlock::notif
