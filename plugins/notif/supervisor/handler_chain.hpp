// The notification handlers of one sandbox, per syscall, and the rule that turns them into one
// answer: they run in registration order (built-ins first, then third-party plugins), the
// first verdict that is not Next wins, and none at all means Continue. A handler that throws or
// returns a malformed verdict denies the call with EPERM: the chain fails closed.
#pragma once

#include <sandlock/sdk/abi.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock::notif {

class HandlerChain {
public:
    // Called with the handler at fault and one line saying what went wrong.
    using FailureLog = std::function<void(const sdk::NotifHandlerEntry&, std::string_view)>;

    // decide() names no rule: no handler gave a verdict.
    static constexpr std::size_t kNoRule = static_cast<std::size_t>(-1);

    // Appends a handler; a syscall number outside 0..4095 is refused (returns false). `rule`
    // is what its verdicts are counted under (a built-in module's field, e.g. "max_memory");
    // empty: the plugin's name.
    bool add(const sdk::NotifHandlerEntry& entry, std::string_view rule = {});
    std::span<const sdk::NotifHandlerEntry> handlers_for(int syscall_nr) const;
    // Marks a syscall whose handlers may wait on the caller's behalf: its notifications are
    // answered from a worker thread (see worker_pool.hpp).
    void set_may_wait(int syscall_nr);
    bool may_wait(int syscall_nr) const {
        return syscall_nr >= 0 && static_cast<std::size_t>(syscall_nr) < may_wait_.size() &&
               may_wait_[static_cast<std::size_t>(syscall_nr)];
    }
    bool empty() const { return count_ == 0; }

    // The distinct rules of the handlers, in the order they were added; decide() names one by index.
    const std::vector<std::string>& rules() const { return rules_; }

    // `decided_by` (optional) receives the index in rules() of the handler whose verdict is
    // returned, kNoRule when none gave one (Continue).
    sdk::NotifVerdict decide(const sdk::NotifRequest& request, const sdk::NotifContextApi& api,
                             const FailureLog& log_failure, std::size_t* decided_by = nullptr) const;

private:
    std::vector<std::vector<sdk::NotifHandlerEntry>> by_syscall_;  // indexed by syscall number
    std::vector<std::vector<std::size_t>> rule_by_syscall_;        // likewise: each handler's rule
    std::vector<bool> may_wait_;                                   // likewise
    std::vector<std::string> rules_;
    std::size_t count_ = 0;
};

// Why `verdict` cannot be sent as an answer, or empty when it can.
std::string_view verdict_problem(const sdk::NotifVerdict& verdict);

}  // namespace sandlock::notif
