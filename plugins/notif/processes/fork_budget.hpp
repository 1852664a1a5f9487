// The process budget of one sandbox: pure bookkeeping for max_processes.
//
// A fork is allowed while the live members plus the forks whose child may still be missing
// from the process table stay below the limit; without those, forks racing in from several
// threads would each see the old count. A fork counts from the moment it is let through until
// the table is known to have found its child: its thread's own list of children was read
// while it was blocked in a later fork and still blocked after (the children of a thread stay
// in its list until that thread exits), or while it was seen out of any fork call before and
// after (ProcessLimit's settling). Never when a child "shows up": which fork made a child
// cannot be told (a CLONE_PARENT child lands beside its creator, a child of an exited thread
// moves to another thread), and ending the wrong fork let a child still to come go uncounted.
// Nor by age: a thread kept off the CPU can take its time to make the child.
//
// So a fork needs no refresh at all while the members known (some perhaps gone since) plus
// every fork not known to be found leave room: every process but the first is made by a
// supervised fork, so that errs high, never low. A thread may have several such forks.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
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
    // The forks whose child may not be found yet.
    std::size_t in_flight() const { return unfound_; }

    // The children of every fork of thread `tid` are in the table now (its own list was read,
    // see the header): they count as members, if alive.
    void forks_found(pid_t tid);
    // The threads with forks whose child may not be found yet.
    std::vector<pid_t> forking_threads() const;
    // Whether one more process fits beside `live` members and the forks not found yet.
    bool has_room(std::size_t live) const { return live + unfound_ < limit(); }
    // Lets thread `tid` fork when `live` members plus the forks not found yet leave room; the
    // fork then counts until forks_found(tid).
    bool try_fork(pid_t tid, std::size_t live);

private:
    std::atomic<std::uint32_t> max_;  // the only part another thread touches
    std::unordered_map<pid_t, std::size_t> forks_;  // forks not found yet, by thread
    std::size_t unfound_ = 0;                       // their sum
};

}  // namespace sandlock::notif
