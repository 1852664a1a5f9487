// Test plugin: fails child stage 3 with EPERM, to prove a child-stage failure is reported as
// (stage, plugin, errno) and the command never runs.
#include <sandlock/sdk/export.hpp>

#include <cerrno>

namespace {

class FailStage final : public sandlock::sdk::Plugin {
public:
    explicit FailStage(const sandlock::sdk::HostApi* host) : Plugin(host, "fail_stage") {}
    int child_stage(sandlock::sdk::Stage, sandlock::sdk::ChildContext&) noexcept override { return -EPERM; }
};

constexpr sandlock::sdk::Manifest kManifest{
    "fail_stage", "test: fails stage 3", {}, sandlock::sdk::stage_bit(sandlock::sdk::Stage::Rlimits), 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(FailStage, kManifest)
