// The process budget of one sandbox: pure bookkeeping for max_processes.
//
// A fork is allowed while the live members plus the forks still in flight stay below the
// limit; without the forks in flight, forks racing in from several threads would each see the
// old count. A fork is in flight from the moment it is let through until it is known to be
// over, after which a refresh of the process table has found its child: its thread came back
// with another fork, or was seen out of its fork call (ProcessLimit's settling). Never when a
// child "shows up": which fork made a child cannot be told (a CLONE_PARENT child lands beside
// its creator, a child of an exited thread moves to another thread), and ending the wrong fork
// let a child still to come go uncounted. Nor by age: a thread kept off the CPU can take its
// time to make the child.
//
// Far from the limit a fork needs no refresh of the process table (which reads the children of
// every member): after a refresh, only the children of the forks then in flight may be missing
// from the table, and afterwards only those and a child of each fork let through since (every
// process is made by a supervised fork). Counting them all errs high, never low.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace sandlock::notif {

class ForkBudget {
public:
    explicit ForkBudget(std::uint32_t max_processes) : max_(max_processes) {}

    std::uint32_t limit() const { return max_.load(std::memory_order_relaxed); }
    // A new limit while the sandbox runs (any thread): later forks are judged against it; below
    // the live count, every fork fails until enough members exit. Nobody is killed.
    void set_limit(std::uint32_t max_processes) { max_.store(max_processes, std::memory_order_relaxed); }
    std::size_t in_flight() const { return forks_.size(); }

    // Thread `tid`'s fork is over (it is back with another call, or out of its fork call): it
    // no longer counts. Its child, if alive, must be found by the refresh that follows.
    void fork_over(pid_t tid) { forks_.erase(tid); }
    // The threads with a fork in flight.
    std::vector<pid_t> forking_threads() const;
    // Whether one more process fits beside `live` members and the forks in flight.
    bool has_room(std::size_t live) const { return live + forks_.size() < limit(); }
    // Lets thread `tid` of `process` fork when `live` members plus the forks in flight leave room.
    bool try_fork(pid_t process, pid_t tid, std::size_t live);
    // Lets thread `tid` fork without a refresh when `members` (the table's members, some perhaps
    // gone since) plus every process the table may not have found yet leave room; false before
    // the first refresh, or when it might not fit (then refresh, refreshed(), try_fork).
    bool try_fork_unrefreshed(pid_t process, pid_t tid, std::size_t members);
    // A refresh of the process table has just found the child of every fork that is over.
    void refreshed() { unseen_ = forks_.size(); }

private:
    std::atomic<std::uint32_t> max_;  // the only part another thread touches
    std::unordered_map<pid_t, pid_t> forks_;  // the forking process, by thread
    // How many live processes the table may not have found: the forks in flight at the last
    // refresh plus those let through since (never lowered by fork_over). None before a refresh.
    std::optional<std::size_t> unseen_;
};

}  // namespace sandlock::notif
