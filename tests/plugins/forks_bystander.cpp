// Test plugin: in child stage 3, before any Landlock domain, forks a process that waits to be
// killed with the sandbox. It is dumpable and shares the command's uid but is outside the
// command's domain: what the core's own domain must keep the command from tracing or reading,
// as it does the init.
#include <sandlock/sdk/export.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

class ForksBystander final : public sandlock::sdk::Plugin {
public:
    explicit ForksBystander(const sandlock::sdk::HostApi* host) : Plugin(host, "forks_bystander") {}
    int child_stage(sandlock::sdk::Stage, sandlock::sdk::ChildContext&) noexcept override {
        // Raw: a fork without libc's handlers, which a child stage may not run.
        const long pid = ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, 0);
        if (pid == 0) {
            ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // its own memory: the init may have sealed theirs
            for (;;) ::pause();
        }
        return pid < 0 ? -1 : 0;
    }
};

constexpr sandlock::sdk::Manifest kManifest{
    "forks_bystander", "test: forks a waiting process in stage 3", {},
    sandlock::sdk::stage_bit(sandlock::sdk::Stage::Rlimits), 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(ForksBystander, kManifest)
