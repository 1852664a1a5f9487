// The process budget of one sandbox: pure bookkeeping for max_processes.
//
// A fork is allowed while the live members plus the forks still in flight stay below the
// limit. A fork is in flight from the moment it is let through until its child shows up in
// the process table, its thread comes back with another call, or it is older than a fork can
// take; without this, forks racing in from several threads would each see the old count.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <unordered_map>

namespace sandlock::notif {

class ForkBudget {
public:
    using Clock = std::chrono::steady_clock;

    explicit ForkBudget(std::uint32_t max_processes) : max_(max_processes) {}

    std::uint32_t limit() const { return max_.load(std::memory_order_relaxed); }
    // A new limit while the sandbox runs (any thread): later forks are judged against it; below
    // the live count, every fork fails until enough members exit. Nobody is killed.
    void set_limit(std::uint32_t max_processes) { max_.store(max_processes, std::memory_order_relaxed); }
    std::size_t in_flight() const { return forks_.size(); }

    // Thread `tid` is back with a new call: its earlier fork has finished (or failed).
    void thread_returned(pid_t tid) { forks_.erase(tid); }
    // A child of `parent` appeared: the fork of `creator_tid` is done, or (creator unknown)
    // the oldest fork in flight from that process.
    void child_appeared(pid_t parent, pid_t creator_tid);
    void expire(Clock::time_point now, Clock::duration max_age);
    // Whether one more process fits beside `live` members and the forks in flight.
    bool has_room(std::size_t live) const { return live + forks_.size() < limit(); }
    // Lets thread `tid` of `process` fork when `live` members plus the forks in flight leave room.
    bool try_fork(pid_t process, pid_t tid, std::size_t live, Clock::time_point now);

private:
    struct Fork {
        pid_t process;
        Clock::time_point at;
    };

    std::atomic<std::uint32_t> max_;  // the only part another thread touches
    std::unordered_map<pid_t, Fork> forks_;  // by thread
};

}  // namespace sandlock::notif
