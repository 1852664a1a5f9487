// What the supervisor has answered, for `sandlock ps` and `inspect`: every notification, and
// those answered with an errno, by the rule of the handler that decided — a built-in module's
// policy field ("max_memory", "net_allow_hosts", ...) or a third-party plugin's name. An errno
// is a refusal of the rule, or the failure of a call the rule performed on the caller's behalf
// (a connect to an allowed host that was refused, an open of a missing file).
//
// Counted from the supervisor thread and the workers, read from the host's controlling thread:
// relaxed atomics, fixed once built, so an answer costs one or two increments and no allocation.
#pragma once

#include <sandlock/sdk/abi.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sandlock::notif {

class CallCounters {
public:
    // `rules`: the names a rule index stands for (HandlerChain::rules()).
    explicit CallCounters(std::vector<std::string> rules);

    // One answer sent; `rule`: who decided it (an index in rules, or anything else for nobody).
    void record(const sdk::NotifVerdict& verdict, std::size_t rule) noexcept;
    std::uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }
    std::uint64_t denied(std::size_t rule) const;
    // Adds "notifications" and "denied" (an object: every rule with its count, zeros included).
    void write(boost::json::object& out) const;

private:
    std::vector<std::string> rules_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> denied_;  // by rule
    std::atomic<std::uint64_t> answered_{0};
};

}  // namespace sandlock::notif
