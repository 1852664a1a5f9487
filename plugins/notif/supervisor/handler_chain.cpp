#include "supervisor/handler_chain.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <string>

namespace sandlock::notif {
namespace {

constexpr int kMaxSyscallNr = 4095;
constexpr int kMaxErrno = 4095;  // the kernel's MAX_ERRNO

sdk::NotifVerdict deny_with_eperm() { return {sdk::VerdictKind::Errno, EPERM, 0, -1, 0}; }

}  // namespace

std::string_view verdict_problem(const sdk::NotifVerdict& verdict) {
    switch (verdict.kind) {
        case sdk::VerdictKind::Next:
        case sdk::VerdictKind::Continue:
        case sdk::VerdictKind::Value: return {};
        case sdk::VerdictKind::Errno:
            return verdict.error > 0 && verdict.error <= kMaxErrno ? std::string_view{}
                                                                   : "an Errno verdict without a positive errno value";
        case sdk::VerdictKind::InjectFd:
            return verdict.fd >= 0 ? std::string_view{} : "an InjectFd verdict without an fd";
    }
    return "a verdict of unknown kind";
}

bool HandlerChain::add(const sdk::NotifHandlerEntry& entry, std::string_view rule) {
    if (entry.syscall_nr < 0 || entry.syscall_nr > kMaxSyscallNr || entry.fn == nullptr) return false;
    const auto index = static_cast<std::size_t>(entry.syscall_nr);
    if (by_syscall_.size() <= index) {
        by_syscall_.resize(index + 1);
        rule_by_syscall_.resize(index + 1);
    }
    if (rule.empty()) rule = sdk::view(entry.plugin);
    const auto known = std::find(rules_.begin(), rules_.end(), rule);
    rule_by_syscall_[index].push_back(static_cast<std::size_t>(known - rules_.begin()));
    if (known == rules_.end()) rules_.emplace_back(rule);
    by_syscall_[index].push_back(entry);
    ++count_;
    return true;
}

void HandlerChain::set_may_wait(int syscall_nr) {
    if (syscall_nr < 0 || syscall_nr > kMaxSyscallNr) return;
    const auto index = static_cast<std::size_t>(syscall_nr);
    if (may_wait_.size() <= index) may_wait_.resize(index + 1);
    may_wait_[index] = true;
}

std::span<const sdk::NotifHandlerEntry> HandlerChain::handlers_for(int syscall_nr) const {
    if (syscall_nr < 0 || static_cast<std::size_t>(syscall_nr) >= by_syscall_.size()) return {};
    return by_syscall_[static_cast<std::size_t>(syscall_nr)];
}

sdk::NotifVerdict HandlerChain::decide(const sdk::NotifRequest& request, const sdk::NotifContextApi& api,
                                       const FailureLog& log_failure, std::size_t* decided_by) const {
    const auto handlers = handlers_for(request.syscall_nr);
    for (std::size_t i = 0; i < handlers.size(); ++i) {
        const sdk::NotifHandlerEntry& entry = handlers[i];
        // Set before the handler runs: every return below is this handler's verdict.
        if (decided_by != nullptr) *decided_by = rule_by_syscall_[static_cast<std::size_t>(request.syscall_nr)][i];
        sdk::NotifVerdict verdict{sdk::VerdictKind::Next, 0, 0, -1, 0};
        try {
            entry.fn(entry.user, &request, &api, &verdict);
        } catch (const std::exception& e) {
            // Handlers must not throw (the SDK wrappers catch); one that does still fails closed.
            log_failure(entry, std::string("threw: ") + e.what());
            return deny_with_eperm();
        } catch (...) {
            log_failure(entry, "threw an unknown exception");
            return deny_with_eperm();
        }
        if (std::string_view problem = verdict_problem(verdict); !problem.empty()) {
            log_failure(entry, std::string("returned ") + std::string(problem));
            return deny_with_eperm();
        }
        if (verdict.kind != sdk::VerdictKind::Next) return verdict;
    }
    if (decided_by != nullptr) *decided_by = kNoRule;
    return {sdk::VerdictKind::Continue, 0, 0, -1, 0};
}

}  // namespace sandlock::notif
