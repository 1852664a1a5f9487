// Test plugin: owns no field, requires a "greeting" string in its [plugins.reads_options]
// table and writes it to the child's stderr in stage 3, proving options reach a plugin as JSON.
#include <sandlock/sdk/export.hpp>

#include <unistd.h>

#include <cerrno>
#include <string>

namespace {

class ReadsOptions final : public sandlock::sdk::Plugin {
public:
    explicit ReadsOptions(const sandlock::sdk::HostApi* host) : Plugin(host, "reads_options") {}
    void configure(const sandlock::Policy&, const boost::json::object& options) override {
        const auto* greeting = options.if_contains("greeting");
        if (greeting == nullptr || !greeting->is_string())
            throw sandlock::sdk::Error("[plugins.reads_options] greeting: expected a string");
        greeting_ = "greeting: " + std::string(greeting->as_string()) + "\n";
    }
    int child_stage(sandlock::sdk::Stage, sandlock::sdk::ChildContext&) noexcept override {
        return ::write(2, greeting_.data(), greeting_.size()) < 0 ? -errno : 0;
    }

private:
    std::string greeting_;
};

constexpr sandlock::sdk::Manifest kManifest{
    "reads_options", "test: options as JSON", {}, sandlock::sdk::stage_bit(sandlock::sdk::Stage::Rlimits), 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(ReadsOptions, kManifest)
