#include "cpu/cpu_budget.hpp"

#include <algorithm>

namespace sandlock::notif {

CpuBudget::CpuBudget(std::uint32_t percent, Duration period)
    : percent_(percent), period_(period), cap_(period * percent / 100), balance_(cap_) {}

void CpuBudget::set_percent(std::uint32_t percent) {
    percent_ = percent;
    cap_ = period_ * percent / 100;
    balance_ = std::max(std::min(balance_, cap_), -cap_ * 100);
}

bool CpuBudget::update(Duration elapsed, Duration used) {
    balance_ = std::min(cap_, balance_ + elapsed * percent_ / 100) - used;
    // Bound the debt to 100 periods' earnings (a 10 s stop at most with the 100 ms period): a
    // late tick after heavy use on many cores must not freeze the sandbox for minutes.
    balance_ = std::max(balance_, -cap_ * 100);
    return balance_ >= Duration::zero();
}

}  // namespace sandlock::notif
