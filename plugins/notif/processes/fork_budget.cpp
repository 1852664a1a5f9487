#include "processes/fork_budget.hpp"

namespace sandlock::notif {

void ForkBudget::forks_found(pid_t tid) {
    auto it = forks_.find(tid);
    if (it == forks_.end()) return;
    unfound_ -= it->second;
    forks_.erase(it);
}

std::vector<pid_t> ForkBudget::forking_threads() const {
    std::vector<pid_t> tids;
    tids.reserve(forks_.size());
    for (const auto& [tid, forks] : forks_) tids.push_back(tid);
    return tids;
}

bool ForkBudget::try_fork(pid_t tid, std::size_t live) {
    if (!has_room(live)) return false;
    ++forks_[tid];
    ++unfound_;
    return true;
}

}  // namespace sandlock::notif
