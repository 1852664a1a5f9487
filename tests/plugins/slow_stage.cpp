// Test plugin: sleeps 3 s in child stage 3, to prove a timeout or a cancelling signal still
// ends a run whose child has not exec'd yet (its init may be sharing sandlock's memory).
#include <sandlock/sdk/export.hpp>

#include <ctime>

namespace {

class SlowStage final : public sandlock::sdk::Plugin {
public:
    explicit SlowStage(const sandlock::sdk::HostApi* host) : Plugin(host, "slow_stage") {}
    int child_stage(sandlock::sdk::Stage, sandlock::sdk::ChildContext&) noexcept override {
        timespec left{3, 0};
        while (::nanosleep(&left, &left) != 0) {
        }
        return 0;
    }
};

constexpr sandlock::sdk::Manifest kManifest{
    "slow_stage", "test: sleeps 3 s in stage 3", {}, sandlock::sdk::stage_bit(sandlock::sdk::Stage::Rlimits), 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(SlowStage, kManifest)
