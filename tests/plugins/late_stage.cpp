// Test plugin: in the exec stage, after the listener was handed over, makes a call it routes to
// a handler of its own that reads the caller's memory. Proves that a run with such a stage
// keeps an init whose memory a supervisor can still read then (a copy, not sandlock's own).
#include <sandlock/sdk/export.hpp>
#include <sandlock/sdk/notif.hpp>

#include <sys/syscall.h>
#include <sys/utsname.h>

#include <cerrno>

namespace {

namespace sdk = sandlock::sdk;

class LateStage final : public sdk::Plugin {
public:
    explicit LateStage(const sdk::HostApi* host) : Plugin(host, "late_stage") {}

    void configure(const sandlock::Policy&, const boost::json::object&) override {
        sdk::on_syscall<&LateStage::on_uname>(host(), SYS_uname, this);
    }

    int child_stage(sdk::Stage, sdk::ChildContext&) noexcept override {
        utsname name{};
        return ::uname(&name) == 0 ? 0 : -errno;
    }

private:
    sdk::NotifVerdict on_uname(sdk::NotifContext& call) {
        call.read<char>(call.arg(0));  // throws (the call fails) where the memory cannot be read
        return sdk::Verdict::next();
    }
};

constexpr sdk::Manifest kManifest{"late_stage", "test: a routed call in the exec stage", {},
                                  sdk::stage_bit(sdk::Stage::Exec), 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(LateStage, kManifest)
