#include "supervisor/call_counters.hpp"

namespace sandlock::notif {

CallCounters::CallCounters(std::vector<std::string> rules)
    : rules_(std::move(rules)), denied_(std::make_unique<std::atomic<std::uint64_t>[]>(rules_.size())) {}

void CallCounters::record(const sdk::NotifVerdict& verdict, std::size_t rule) noexcept {
    answered_.fetch_add(1, std::memory_order_relaxed);
    if (verdict.kind == sdk::VerdictKind::Errno && rule < rules_.size())
        denied_[rule].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t CallCounters::denied(std::size_t rule) const {
    return rule < rules_.size() ? denied_[rule].load(std::memory_order_relaxed) : 0;
}

void CallCounters::write(boost::json::object& out) const {
    out["notifications"] = answered();
    boost::json::object denied;
    for (std::size_t i = 0; i < rules_.size(); ++i) denied[rules_[i]] = this->denied(i);
    out["denied"] = std::move(denied);
}

}  // namespace sandlock::notif
