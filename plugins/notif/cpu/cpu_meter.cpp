#include "cpu/cpu_meter.hpp"

#include <algorithm>
#include <unordered_set>

namespace sandlock::notif {

std::uint64_t CpuMeter::update(const std::vector<CpuSample>& live) {
    std::unordered_set<pid_t> alive;
    for (const CpuSample& sample : live) alive.insert(sample.pid);
    // The dead: what was counted of them returns through their parent's children time.
    for (auto it = seen_.begin(); it != seen_.end();) {
        if (alive.contains(it->first)) {
            ++it;
            continue;
        }
        credit_[it->second.ppid] += it->second.own_ticks + it->second.children_ticks;
        it = seen_.erase(it);
    }
    std::uint64_t used = 0;
    for (const CpuSample& sample : live) {
        // A newcomer counts from zero: it was born inside the sandbox.
        const Seen before = seen_.contains(sample.pid) ? seen_[sample.pid] : Seen{sample.ppid, 0, 0};
        const std::uint64_t own = sample.own_ticks > before.own_ticks ? sample.own_ticks - before.own_ticks : 0;
        std::uint64_t children =
            sample.children_ticks > before.children_ticks ? sample.children_ticks - before.children_ticks : 0;
        if (auto credit = credit_.find(sample.pid); credit != credit_.end() && children > 0) {
            const std::uint64_t counted = std::min(children, credit->second);
            children -= counted;
            credit->second -= counted;
        }
        used += own + children;
        seen_[sample.pid] = {sample.ppid, sample.own_ticks, sample.children_ticks};
    }
    // Credits of parents that are gone can never be used.
    std::erase_if(credit_, [&](const auto& entry) { return !alive.contains(entry.first) || entry.second == 0; });
    return used;
}

}  // namespace sandlock::notif
