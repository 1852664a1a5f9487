// A built-in feature of the notif layer (memory limit, process limit, CPU throttle, network
// allowlist, /proc and /sys rules, path rules). Each module registers its handlers into the
// supervisor's table, ahead of every handler third-party plugins register through the host.
#pragma once

#include "processes/scope_id.hpp"

#include <sandlock/sdk/policy.hpp>
#include <sandlock/sdk/abi.hpp>
#include <sandlock/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <sys/types.h>

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock::notif {

// Where built-in handlers go; the supervisor runs them in order, before third-party ones.
// Adds `count` refusals of `rule` to out["denied"] (an object by rule), when there are any.
inline void add_denials(boost::json::object& out, std::string_view rule, std::uint64_t count) {
    if (count == 0) return;
    boost::json::value& counts = out["denied"];
    if (!counts.is_object()) counts.emplace_object();
    counts.as_object()[rule] = count;
}

class HandlerTable {
public:
    // How a handler runs: Inline on the supervisor thread (it answers at once), or MayWait when
    // it can wait on the caller's behalf (connect, send): it then runs on a worker thread, so
    // it must be safe to run concurrently with every other handler.
    enum class Runs { Inline, MayWait };

    // The rule the handlers added from now on enforce (BuiltinModule::rule()), for the counters.
    void set_rule(std::string_view rule) { rule_ = rule; }

    // A handler added again for the same syscall (a module routing one syscall under several
    // conditions) is kept once: twice, it would judge the same call twice. Added again another
    // way (another rule, another Runs) is a module's mistake, refused.
    void add(int syscall_nr, sdk::NotifHandlerFn fn, void* user, Runs runs = Runs::Inline) {
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            const sdk::NotifHandlerEntry& entry = entries_[i];
            if (entry.syscall_nr != syscall_nr || entry.fn != fn || entry.user != user) continue;
            const bool waits = std::find(waiting_syscalls_.begin(), waiting_syscalls_.end(), syscall_nr) !=
                               waiting_syscalls_.end();
            if (rules_[i] != rule_ || waits != (runs == Runs::MayWait))
                throw sdk::Error("notif: a handler of syscall " + std::to_string(syscall_nr) +
                                 " was added twice, under another rule or another thread");
            return;
        }
        entries_.push_back({syscall_nr, fn, user, sdk::str("notif")});
        rules_.push_back(rule_);
        if (runs == Runs::MayWait) waiting_syscalls_.push_back(syscall_nr);
    }
    const std::vector<sdk::NotifHandlerEntry>& entries() const { return entries_; }
    const std::vector<std::string_view>& rules() const { return rules_; }  // one per entry
    const std::vector<int>& waiting_syscalls() const { return waiting_syscalls_; }

private:
    std::vector<sdk::NotifHandlerEntry> entries_;
    std::vector<std::string_view> rules_;
    std::string_view rule_ = "notif";
    std::vector<int> waiting_syscalls_;
};

struct ModuleSetup {
    const Policy& policy;
    const boost::json::object& options;  // the whole [plugins.notif] table
    const sdk::Host& host;               // logging; request_notify() for every syscall added
    HandlerTable& table;
};

class BuiltinModule {
public:
    virtual ~BuiltinModule() = default;
    // What its refusals are counted under in status(): the policy field it enforces, or a
    // short name for a rule without one ("paths", "procfs", "listen"). A string literal.
    virtual std::string_view rule() const = 0;
    // The [plugins.notif] keys this module reads; a key no module claims is refused.
    virtual std::vector<std::string_view> option_keys() const { return {}; }
    // Before fork: validate (throw sdk::Error naming field, value and fix), then — only when the
    // policy asks for this feature — add handlers to setup.table and request_notify() each syscall.
    virtual void configure(const ModuleSetup& setup) = 0;
    // In the child, at stage 3 (rlimits), between fork and exec: raw syscalls on what configure
    // prepared, no allocation, locks, logging or exceptions. Returns 0 or -errno.
    virtual int apply_rlimits() const noexcept { return 0; }
    // In the parent once the child exists (e.g. start a timer thread).
    virtual void after_fork(const sdk::ParentContext& /*ctx*/) {}
    // After the tree is gone: stop threads, release everything.
    virtual void on_exit() noexcept {}

    // The live controls (sdk::Plugin::update, paused, status) come from the host's controlling
    // thread while the supervisor, its workers and the module's own threads run: what they
    // touch is atomic or locked.
    //
    // update, in two steps so a refusal changes nothing in any module: check_update throws
    // sdk::Error (one line: field, value, fix) when this module cannot take `policy`'s limits;
    // apply_update, once every module agreed, takes them.
    virtual void check_update(const Policy& /*policy*/) const {}
    virtual void apply_update(const Policy& /*policy*/) noexcept {}
    // true right before the host freezes every process of the sandbox, false right after it
    // thawed them.
    virtual void paused(bool /*frozen*/) noexcept {}
    // Adds this module's counters to `out`.
    virtual void status(boost::json::object& /*out*/) const {}

    // A nested sandbox (sdk::Plugin::nest), in two steps like update. check_nest throws
    // sdk::Error (one line: field, why, what applies instead) when this module cannot serve the
    // field of `policy` it owns for a scope's processes; the core already made sure each limit
    // is at most the sandbox's own. nest then sets up `scope` (again for each further root: the
    // same policy) and, when the module judges whether one more process fits the scope, makes
    // `root` join it (ProcessTable::join) or throws sdk::Error without changing the scope.
    virtual void check_nest(const Policy& /*policy*/) const {}
    virtual void nest(ScopeId /*scope*/, pid_t /*root*/, const Policy& /*policy*/) {}
    // The scope has no process left: its state goes.
    virtual void forget_scope(ScopeId /*scope*/) noexcept {}
    // Adds this module's counters for `scope` to `out` (its entry under "scopes").
    virtual void scope_status(ScopeId /*scope*/, boost::json::object& /*out*/) const {}
};

// Applies `policy`'s limits to every module or to none: all check, then all apply.
inline void update_modules(std::span<const std::unique_ptr<BuiltinModule>> modules, const Policy& policy) {
    for (const auto& module : modules) module->check_update(policy);
    for (const auto& module : modules) module->apply_update(policy);
}

}  // namespace sandlock::notif
