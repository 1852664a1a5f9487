// A HostApi that records what a plugin or module asks of the host (logs, notify routing,
// handler registrations), for unit tests that configure plugin code without a real host.
#pragma once

#include <sandlock/sdk/plugin.hpp>

#include <string>
#include <vector>

namespace sandlock::test {

class FakeHost {
public:
    FakeHost() {
        api_.abi_version = sdk::kAbiVersion;
        api_.host = this;
        api_.log = [](void* self, sandlock_log_level level, sdk::Str, sdk::Str message) -> std::int32_t {
            static_cast<FakeHost*>(self)->logs.push_back({static_cast<sdk::LogLevel>(level), std::string(sdk::view(message))});
            return 0;
        };
        api_.request_notify = [](void* self, int nr) {
            static_cast<FakeHost*>(self)->notified.push_back(nr);
            return 0;
        };
        api_.notify_requests = [](void* self, const int** syscalls) {
            auto* host = static_cast<FakeHost*>(self);
            *syscalls = host->notified.data();
            return host->notified.size();
        };
        api_.register_notif_handler = [](void*, sdk::Str, int, sdk::NotifHandlerFn, void*) { return 0; };
        api_.request_notify_when = [](void* self, const sdk::NotifyRule* rule) {
            static_cast<FakeHost*>(self)->rules.push_back(*rule);
            return 0;
        };
        api_.notify_rules = [](void* self, const sdk::NotifyRule** out) {
            auto* host = static_cast<FakeHost*>(self);
            *out = host->rules.data();
            return host->rules.size();
        };
        api_.abort_run = [](void* self, sdk::Str, sdk::Str reason) -> std::int32_t {
            static_cast<FakeHost*>(self)->aborted.emplace_back(sdk::view(reason));
            return 0;
        };
        api_.notif_handlers = [](void*, const sdk::NotifHandlerEntry** entries) {
            *entries = nullptr;
            return std::size_t{0};
        };
    }
    FakeHost(const FakeHost&) = delete;
    FakeHost& operator=(const FakeHost&) = delete;

    sdk::Host host(std::string_view plugin = "test") const { return sdk::Host(&api_, plugin); }

    bool warned_about(const std::string& text) const {
        for (const auto& entry : logs)
            if (entry.level == sdk::LogLevel::Warning && entry.message.find(text) != std::string::npos) return true;
        return false;
    }

    struct LogEntry {
        sdk::LogLevel level;
        std::string message;
    };
    std::vector<LogEntry> logs;
    std::vector<int> notified;
    std::vector<sdk::NotifyRule> rules;
    std::vector<std::string> aborted;  // abort_run reasons

private:
    sdk::HostApi api_{};
};

}  // namespace sandlock::test
