// The CPU budget of one sandbox: a token bucket for max_cpu = N%, pure arithmetic.
//
// The sandbox earns N% of the wall-clock time as CPU time and spends what its processes use;
// it may run while the balance is not negative and is stopped while it is. The balance is
// capped at one period's earnings, so an idle sandbox cannot save up for a long burst. Over
// any stretch of time the sandbox therefore uses at most N% of one core, plus one period's
// worth, whatever its number of threads or processes.
#pragma once

#include <chrono>
#include <cstdint>

namespace sandlock::notif {

class CpuBudget {
public:
    using Duration = std::chrono::nanoseconds;

    // percent: 1..100 of one core; period: how long a burst may last (the cap on savings).
    CpuBudget(std::uint32_t percent, Duration period);

    // `elapsed` wall-clock time passed and the sandbox used `used` CPU time in it; returns
    // whether it may run from now on.
    bool update(Duration elapsed, Duration used);
    // A new share from now on: earnings at the new rate, savings capped at its period's worth
    // (a debt stays, bounded as before).
    void set_percent(std::uint32_t percent);
    std::uint32_t percent() const { return percent_; }
    Duration balance() const { return balance_; }

private:
    std::uint32_t percent_;
    Duration period_;
    Duration cap_;
    Duration balance_;
};

}  // namespace sandlock::notif
