// Test plugin: in the exec stage, after the listener was handed over, opens a directory by a
// path relative to its working directory (/usr, which the command then starts in). With /proc readable the notif layer routes that open, and its
// handler must look at the caller's working directory (/proc/PID/cwd, a ptrace check). Proves
// that a run with such a stage keeps an init whose memory a supervisor can still inspect then
// (a copy, not sandlock's own, which is sealed by that time).
#include <sandlock/sdk/export.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace {

namespace sdk = sandlock::sdk;

class LateStage final : public sdk::Plugin {
public:
    explicit LateStage(const sdk::HostApi* host) : Plugin(host, "late_stage") {}

    int child_stage(sdk::Stage, sdk::ChildContext&) noexcept override {
        if (::chdir("/usr") != 0) return -errno;  // readable in the tests' policies
        const int fd = ::open("lib", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return -errno;
        ::close(fd);
        return 0;
    }
};

constexpr sdk::Manifest kManifest{"late_stage", "test: an open in the exec stage", {},
                                  sdk::stage_bit(sdk::Stage::Exec), 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(LateStage, kManifest)
