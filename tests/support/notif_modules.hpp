// The notif layer's built-in modules driven directly in unit tests: configured against a fake
// host and one process table, and called as the supervisor would call their handlers.
#pragma once

#include "supervisor/builtin_module.hpp"
#include "supervisor/handler_chain.hpp"
#include "processes/process_table.hpp"

#include "fake_host.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <memory>

namespace sandlock::notif::test_support {

struct Modules {
    test::FakeHost fake;
    sdk::Host host = fake.host();
    boost::json::object options;
    HandlerTable table;
    ProcessTable processes;

    template <class Module>
    std::unique_ptr<Module> configure(const Policy& policy) {
        auto module = std::make_unique<Module>(processes);
        table.set_rule(module->rule());
        module->configure({policy, options, host, table});
        return module;
    }
    // The verdict of the first handler `module` registered for `nr`, as thread `tid` calls it.
    sdk::NotifVerdict call(const BuiltinModule& module, int nr, pid_t tid, std::initializer_list<std::uint64_t> args) {
        for (std::size_t i = 0; i < table.entries().size(); ++i) {
            const sdk::NotifHandlerEntry& entry = table.entries()[i];
            if (entry.syscall_nr != nr || table.rules()[i] != module.rule()) continue;
            sdk::NotifRequest request{};
            request.pid = static_cast<std::uint32_t>(tid);
            request.syscall_nr = nr;
            std::copy(args.begin(), args.end(), std::begin(request.args));
            sdk::NotifContextApi api{};
            api.still_valid = [](void*, const sdk::NotifRequest*) -> std::int32_t { return 1; };  // it waits for us
            sdk::NotifVerdict verdict{sdk::VerdictKind::Next, 0, 0, -1, 0};
            entry.fn(entry.user, &request, &api, &verdict);
            return verdict;
        }
        ADD_FAILURE() << module.rule() << " registered no handler for " << nr;
        return {};
    }
};

}  // namespace sandlock::notif::test_support
