// The memory account of one sandbox: pure bookkeeping, no /proc, no clocks of its own.
//
// The account is the measured private memory of every member process (its statm "data": what
// the kernel charges as private writable memory) plus the grants made since: a call let
// through adds its cost to the caller thread's grant until that thread comes back with its
// next call — by then the first one has happened (or failed) and shows in the next
// measurement — or until the grant is older than a call can take to run. A fork's grant (the
// child's copy) is different: the copy shows in no measurement until the child is found, so
// it is held until then, whatever the forking thread does next. So the account
// follows the kernel's own figures and cannot drift however much memory churns; between
// measurements it errs high, never low.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

namespace sandlock::notif {

class MemoryAccount {
public:
    using Clock = std::chrono::steady_clock;

    explicit MemoryAccount(std::uint64_t limit) : limit_(limit) {}

    std::uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
    // A new limit while the sandbox runs (any thread): later calls are judged against it; below
    // what is in use, every call that costs memory fails until enough is given back. Nobody
    // is killed. Everything else here belongs to the supervisor thread alone.
    void set_limit(std::uint64_t limit) { limit_.store(limit, std::memory_order_relaxed); }
    std::uint64_t total() const { return measured_total_ + granted_total_; }

    // Thread `tid` is back with a new call: its earlier grant is now part of the measurement
    // (a fork's grant is not: see child_found).
    void thread_returned(pid_t tid) { drop_grant(tid); }
    void drop_grant(pid_t tid);
    // A child forked by thread `tid` was found and measured: its copy leaves the grants.
    void child_found(pid_t tid);
    // The private memory `process` has now.
    void set_usage(pid_t process, std::uint64_t bytes);
    // The process exited: its memory and its threads' grants leave the account.
    void forget_process(pid_t process);
    // Grants older than `max_age` have taken effect long ago: the measurement holds them.
    void expire_grants(Clock::time_point now, Clock::duration max_age);
    // Grants `bytes` to thread `tid` of `process` when the account stays within the limit.
    bool try_grant(pid_t process, pid_t tid, std::uint64_t bytes, Clock::time_point now);
    // Grants `bytes` without measuring the caller's process first (far from the limit). Such a
    // grant belongs to no thread or process: the memory may live on in another process sharing
    // the caller's (a CLONE_VM child that exits or execs), so only a measurement of every
    // process takes it in — expire_grants(), which runs right after one.
    bool try_grant_unmeasured(std::uint64_t bytes, Clock::time_point now);
    // Whether an unmeasured grant is older than `max_age` (a measurement of everyone would let
    // it go).
    bool has_unmeasured_older_than(Clock::time_point now, Clock::duration max_age) const;
    // The same for the copy a fork of thread `tid` makes, held until child_found(tid) or expiry.
    bool try_grant_fork(pid_t process, pid_t tid, std::uint64_t bytes, Clock::time_point now);

    // Whether `bytes` more stay within the limit.
    bool fits(std::uint64_t bytes) const;
    bool knows(pid_t process) const { return usage_.contains(process); }
    std::vector<pid_t> processes() const;
    std::size_t grants_in_flight() const { return grants_.size() + fork_grants_.size(); }

    struct Grant {
        pid_t process;
        std::uint64_t bytes;
        Clock::time_point at;
    };

private:

    std::atomic<std::uint64_t> limit_;
    std::unordered_map<pid_t, std::uint64_t> usage_;  // by process
    std::unordered_map<pid_t, Grant> grants_;         // by thread: a thread makes one call at a time
    std::unordered_map<pid_t, Grant> fork_grants_;    // by forking thread: copies of children not found yet
    std::deque<Grant> unmeasured_;                    // by time, merged per kUnmeasuredSlice (process unused)
    std::uint64_t measured_total_ = 0;
    std::uint64_t granted_total_ = 0;
};

}  // namespace sandlock::notif
