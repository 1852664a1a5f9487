// Test plugin: its after_fork hook fails, as a layer does that cannot start what it enforces
// with (a thread, an fd); the run must fail and leave nothing of the sandbox behind.
#include <sandlock/sdk/export.hpp>

namespace {

class FailsAfterFork final : public sandlock::sdk::Plugin {
public:
    explicit FailsAfterFork(const sandlock::sdk::HostApi* host) : Plugin(host, "fails_after_fork") {}
    void after_fork(const sandlock::sdk::ParentContext&) override {
        throw sandlock::sdk::Error("cannot start on purpose");
    }
};

constexpr sandlock::sdk::Manifest kManifest{"fails_after_fork", "test: its after_fork hook fails", {}, 0, 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(FailsAfterFork, kManifest)
