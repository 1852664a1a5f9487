// Attacks on max_processes: forks the supervisor lets through while others are in flight,
// children that land somewhere else than under the process that forked them (CLONE_PARENT), and
// processes that look dead but are not.
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace sandlock::test {
namespace {

// 20,000 tries of a race whose refused forks each refresh the process table: 10-20 s alone
// here, more under a sanitizer beside other tests (ctest stops a test at 120 s).
constexpr std::chrono::seconds kLongRaceTimeout{110};

Policy process_policy(std::uint32_t max) {
    Policy p = policy_running_test_programs();
    p.max_processes = max;
    return p;
}

// Four threads of one process fork at once, every other fork with CLONE_PARENT (the child lands
// under the forker's parent), in 100 rounds of 200 tries whose children all wait until the round
// ends: with 8 processes allowed, the main process and its forking worker leave room for 6
// children a round, never a 7th. (Ending the fork in flight that a child found was taken to
// come from let a child still to come go uncounted: 8 a round, every run.)
TEST(EscapeProcesses, ForksRacingFromThreadsNeverPassTheLimit) {
    Result r = run(process_policy(8), {(bin_dir() / "fork_race").string(), "4", "20000"}, supervising_layers());
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "most in a round 6, rounds 100\n") << r.stderr_text << r.error;
}

// A process whose main thread has exited shows state Z, like a dead one, while its other
// threads run on: taken for gone, it was never counted, and a fork every 2 ms made 50 such
// processes under -P 4. It counts now: 3 children beside the main process.
TEST(EscapeProcesses, AProcessWithoutItsMainThreadStillCounts) {
    Result r = run(process_policy(4), {(bin_dir() / "leader_exit").string(), "50"}, supervising_layers());
    EXPECT_EQ(r.stdout_text, "made 3 of 50 tries\n") << r.stderr_text << r.error;
}

// A thread's children move to another thread of its process when it exits; a refresh that read
// that thread already misses them. Here a thread forks 2 children without a refresh (far from
// the limit), the main thread forks, and the thread exits while the main thread's next forks
// are judged after a refresh. Counting only the forks then in flight after that refresh let 5
// children live under -P 5 (4 allowed), within a few hundred rounds; every fork not known to be
// found counts now.
TEST(EscapeProcesses, ChildrenOfAThreadExitingDuringARefreshStillCount) {
    Result r = run(process_policy(5), {(bin_dir() / "thread_exit_walk").string(), "8", "2", "20000"},
                   supervising_layers(), kLongRaceTimeout);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "most in a round 4, rounds 2500\n") << r.stderr_text << r.error;
}

// A thread waiting in its fork is killed by another thread's execve while the table is
// refreshed; its children move to the exec'ing thread, which the refresh may have read already.
// Trusting that refresh with the killed thread's earlier forks let 8 processes live under -P 5
// (every run of 2,000 rounds); it vouches for them only when the thread still waits after it.
TEST(EscapeProcesses, ChildrenOfAThreadKilledDuringItsForkStillCount) {
    Result r = run(process_policy(5), {(bin_dir() / "exec_during_refresh").string(), "16", "4", "20000"},
                   supervising_layers(), kLongRaceTimeout);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "most at once 5, rounds 2000\n") << r.stderr_text << r.error;
}

TEST(EscapeProcesses, WithoutALimitTheExecerMakesThemAll) {
    Result r = run(policy_running_test_programs(), {(bin_dir() / "exec_during_refresh").string(), "16", "4", "100"},
                   supervising_layers());
    EXPECT_EQ(r.stdout_text, "most at once 10, rounds 10\n") << r.stderr_text << r.error;
}

TEST(EscapeProcesses, WithoutALimitTheThreadExiterMakesThemAll) {
    Result r = run(policy_running_test_programs(), {(bin_dir() / "thread_exit_walk").string(), "8", "2", "80"},
                   supervising_layers());
    EXPECT_EQ(r.stdout_text, "most in a round 8, rounds 10\n") << r.stderr_text << r.error;
}

TEST(EscapeProcesses, WithoutALimitTheForkerMakesThemAll) {
    // The attack program itself forks freely where nothing counts: it is the limit that stops it.
    Policy p = policy_running_test_programs();
    Result r = run(p, {(bin_dir() / "fork_race").string(), "4", "400"}, supervising_layers());
    EXPECT_EQ(r.stdout_text, "most in a round 200, rounds 2\n") << r.stderr_text << r.error;
}

}  // namespace
}  // namespace sandlock::test
