// A built-in feature of the notif layer (memory limit, process limit, CPU throttle, network
// allowlist, /proc and /sys rules, path rules). Each module registers its handlers into the
// supervisor's table, ahead of every handler third-party plugins register through the host.
#pragma once

#include <sandlock/sdk/policy.hpp>
#include <sandlock/sdk/abi.hpp>
#include <sandlock/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <string_view>
#include <vector>

namespace sandlock::notif {

// Where built-in handlers go; the supervisor runs them in order, before third-party ones.
class HandlerTable {
public:
    // How a handler runs: Inline on the supervisor thread (it answers at once), or MayWait when
    // it can wait on the caller's behalf (connect, send): it then runs on a worker thread, so
    // it must be safe to run concurrently with every other handler.
    enum class Runs { Inline, MayWait };

    void add(int syscall_nr, sdk::NotifHandlerFn fn, void* user, Runs runs = Runs::Inline) {
        entries_.push_back({syscall_nr, fn, user, sdk::str("notif")});
        if (runs == Runs::MayWait) waiting_syscalls_.push_back(syscall_nr);
    }
    const std::vector<sdk::NotifHandlerEntry>& entries() const { return entries_; }
    const std::vector<int>& waiting_syscalls() const { return waiting_syscalls_; }

private:
    std::vector<sdk::NotifHandlerEntry> entries_;
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
};

}  // namespace sandlock::notif
