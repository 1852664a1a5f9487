// The process limit's and the CPU throttle's pure parts: forks not found yet and the token bucket.
#include "cpu/cpu_budget.hpp"
#include "cpu/cpu_meter.hpp"
#include "processes/fork_budget.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace sandlock::notif {
namespace {

using namespace std::chrono_literals;

TEST(NotifForkBudget, CountsLiveProcessesAndForksNotFoundYet) {
    ForkBudget budget(3);
    EXPECT_TRUE(budget.try_fork(100, 1));    // 1 live + 1 starting
    EXPECT_TRUE(budget.try_fork(101, 1));    // another thread: 1 + 2
    EXPECT_FALSE(budget.try_fork(102, 1));   // would make 4
    budget.forks_found(100);                 // the first child is live now
    EXPECT_FALSE(budget.try_fork(102, 2));   // 2 live + 1 starting = 3
    budget.forks_found(101);
    EXPECT_TRUE(budget.try_fork(102, 2));
}

TEST(NotifForkBudget, EveryForkOfAThreadCountsUntilARefreshFoundItsChildren) {
    // Without a refresh a thread's earlier forks are over, but their children were not looked
    // for: each counts (a thread exiting during the next refresh hands them where it may have
    // looked already).
    ForkBudget budget(5);
    EXPECT_TRUE(budget.try_fork(1, 1));
    EXPECT_TRUE(budget.try_fork(1, 1));
    EXPECT_TRUE(budget.try_fork(2, 1));
    EXPECT_EQ(budget.in_flight(), 3u);
    EXPECT_FALSE(budget.try_fork(1, 2));  // 2 members + 3 not found: full
    budget.forks_found(1);                // both of thread 1's, at once
    EXPECT_EQ(budget.in_flight(), 1u);
    EXPECT_EQ(budget.forking_threads(), std::vector<pid_t>{2});
    EXPECT_TRUE(budget.try_fork(1, 3));   // 3 members + 1 + this one
}

TEST(NotifForkBudget, AForkEndsOnlyByItsOwnThread) {
    // Which fork made a child cannot be told (CLONE_PARENT, a thread's exit): no child ends one.
    ForkBudget budget(10);
    ASSERT_TRUE(budget.try_fork(11, 1));
    ASSERT_TRUE(budget.try_fork(12, 1));
    ASSERT_TRUE(budget.try_fork(21, 1));
    auto threads = budget.forking_threads();
    std::sort(threads.begin(), threads.end());
    EXPECT_EQ(threads, (std::vector<pid_t>{11, 12, 21}));
    budget.forks_found(12);
    budget.forks_found(99);  // nothing counted for it: nothing changes
    EXPECT_EQ(budget.in_flight(), 2u);
}

TEST(NotifForkBudget, TheLimitIncludesTheFirstProcess) {
    ForkBudget budget(1);
    EXPECT_FALSE(budget.try_fork(1, 1));
}

TEST(NotifForkBudget, ARaisedLimitLetsTheNextForkThrough) {
    ForkBudget budget(2);
    EXPECT_FALSE(budget.try_fork(1, 2));
    budget.set_limit(3);
    EXPECT_EQ(budget.limit(), 3u);
    EXPECT_TRUE(budget.try_fork(1, 2));
}

TEST(NotifForkBudget, ALimitLoweredBelowTheLiveCountRefusesEveryForkUntilEnoughExit) {
    ForkBudget budget(8);
    ASSERT_TRUE(budget.try_fork(1, 5));
    budget.set_limit(3);
    EXPECT_FALSE(budget.try_fork(2, 5));  // 5 running stay (nothing is killed)
    EXPECT_FALSE(budget.try_fork(2, 3));  // 3 running: at the limit
    EXPECT_EQ(budget.in_flight(), 1u);    // the fork let through before still counts
    budget.forks_found(1);
    EXPECT_TRUE(budget.try_fork(2, 2));
}

// Drives a budget with a sandbox that uses `cores` cores whenever it may run; returns the
// CPU time it got over `seconds` of 25 ms samples.
double simulate(std::uint32_t percent, double cores, int seconds) {
    CpuBudget budget(percent, 100ms);
    const auto sample = std::chrono::nanoseconds(25ms);
    bool running = true;
    std::chrono::nanoseconds total{0};
    for (int i = 0; i < seconds * 40; ++i) {
        const auto used = running ? std::chrono::nanoseconds(static_cast<long>(sample.count() * cores))
                                  : std::chrono::nanoseconds(0);
        total += used;
        running = budget.update(sample, used);
    }
    return std::chrono::duration<double>(total).count();
}

TEST(NotifCpuBudget, ABusyProcessGetsItsShare) {
    EXPECT_NEAR(simulate(50, 1.0, 10), 5.0, 0.2);
    EXPECT_NEAR(simulate(10, 1.0, 10), 1.0, 0.15);
    EXPECT_NEAR(simulate(100, 1.0, 10), 10.0, 0.01);
}

TEST(NotifCpuBudget, TheShareIsOfOneCoreWhateverTheNumberOfThreads) {
    EXPECT_NEAR(simulate(50, 2.0, 10), 5.0, 0.2);
    EXPECT_NEAR(simulate(100, 2.0, 10), 10.0, 0.2);
}

TEST(NotifCpuBudget, AnIdleSandboxSavesAtMostOnePeriod) {
    CpuBudget budget(50, 100ms);
    for (int i = 0; i < 400; ++i) ASSERT_TRUE(budget.update(25ms, 0ms));
    EXPECT_EQ(budget.balance(), std::chrono::nanoseconds(50ms));
    EXPECT_TRUE(budget.update(0ms, 50ms));   // the saving is spent
    EXPECT_FALSE(budget.update(0ms, 1ms));   // and no more
}

TEST(NotifCpuBudget, ADebtIsBounded) {
    CpuBudget budget(50, 100ms);
    EXPECT_FALSE(budget.update(25ms, 3600s));
    int samples_stopped = 0;
    while (!budget.update(25ms, 0ms)) ++samples_stopped;
    EXPECT_LE(samples_stopped, 400);  // 10 s
}

TEST(NotifCpuBudget, ANewShareAppliesFromNowOn) {
    CpuBudget budget(50, 100ms);
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(budget.update(25ms, 0ms));
    EXPECT_EQ(budget.balance(), std::chrono::nanoseconds(50ms));
    budget.set_percent(10);
    EXPECT_EQ(budget.percent(), 10u);
    EXPECT_EQ(budget.balance(), std::chrono::nanoseconds(10ms)) << "savings are capped at the new period's worth";
    EXPECT_TRUE(budget.update(50ms, 10ms));   // 10 saved + 5 earned, capped at 10, - 10 used = 0
    EXPECT_FALSE(budget.update(0ms, 1ms));
    budget.set_percent(100);
    EXPECT_TRUE(budget.update(1ms, 0ms));     // earns 1 ms per ms
}

TEST(NotifCpuBudget, ASimulatedSandboxGetsTheNewShare) {
    CpuBudget budget(80, 100ms);
    const auto sample = std::chrono::nanoseconds(25ms);
    auto run_for = [&](int samples) {
        bool running = true;
        std::chrono::nanoseconds total{0};
        for (int i = 0; i < samples; ++i) {
            const auto used = running ? sample : std::chrono::nanoseconds(0);
            total += used;
            running = budget.update(sample, used);
        }
        return std::chrono::duration<double>(total).count();
    };
    EXPECT_NEAR(run_for(400), 8.0, 0.2);  // 10 s at 80%
    budget.set_percent(20);
    EXPECT_NEAR(run_for(400), 2.0, 0.2);  // 10 s at 20%
}

TEST(NotifCpuMeter, CountsTheGrowthOfEachProcess) {
    CpuMeter meter;
    EXPECT_EQ(meter.update({{10, 1, 5, 0}}), 5u);                 // a newcomer counts from zero
    EXPECT_EQ(meter.update({{10, 1, 8, 0}, {11, 10, 2, 0}}), 5u);  // 3 + a new child's 2
    EXPECT_EQ(meter.update({{10, 1, 8, 0}, {11, 10, 2, 0}}), 0u);
}

TEST(NotifCpuMeter, AShortLivedChildCountsWhenItsParentWaitsForIt) {
    CpuMeter meter;
    meter.update({{10, 1, 0, 0}});
    // Children born and reaped between two samples: only the parent's children time shows them.
    EXPECT_EQ(meter.update({{10, 1, 1, 7}}), 8u);
}

TEST(NotifCpuMeter, ASampledChildIsNotCountedTwiceWhenReaped) {
    CpuMeter meter;
    meter.update({{10, 1, 0, 0}, {11, 10, 4, 0}});
    meter.update({{10, 1, 0, 0}, {11, 10, 6, 0}});   // 6 of the child's ticks counted so far
    // The child ran 1 more tick, exited, and was reaped: the parent's children time grows by 7.
    EXPECT_EQ(meter.update({{10, 1, 0, 7}}), 1u);
    EXPECT_EQ(meter.update({{10, 1, 0, 7}}), 0u);
}

TEST(NotifCpuMeter, AZombieReapedLaterIsNotCountedTwice) {
    CpuMeter meter;
    meter.update({{10, 1, 0, 0}, {11, 10, 5, 0}});
    EXPECT_EQ(meter.update({{10, 1, 0, 0}}), 0u);    // exited, not reaped yet
    EXPECT_EQ(meter.update({{10, 1, 0, 5}}), 0u);    // reaped now
    EXPECT_EQ(meter.update({{10, 1, 0, 9}}), 4u);    // another child's 4, never sampled
}

}  // namespace
}  // namespace sandlock::notif
