// Test plugin: aborts the run 300 ms after the sandbox started, from a thread of its own, as a
// layer does that can no longer enforce its rules; the sandbox must die and the run fail.
#include <sandlock/sdk/export.hpp>

#include <chrono>
#include <thread>

namespace {

class AbortsRun final : public sandlock::sdk::Plugin {
public:
    explicit AbortsRun(const sandlock::sdk::HostApi* host) : Plugin(host, "aborts_run") {}
    ~AbortsRun() override {
        if (thread_.joinable()) thread_.join();
    }
    void after_fork(const sandlock::sdk::ParentContext&) override {
        thread_ = std::thread([this] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            host().abort_run("lost track on purpose");
        });
    }
    void on_exit(const sandlock::sdk::ExitInfo&) noexcept override {
        if (thread_.joinable()) thread_.join();
    }

private:
    std::thread thread_;
};

constexpr sandlock::sdk::Manifest kManifest{"aborts_run", "test: aborts the run after 300 ms", {}, 0, 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(AbortsRun, kManifest)
