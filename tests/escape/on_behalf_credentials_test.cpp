// What the supervisor does on a caller's behalf is checked with no more power than the caller
// has: a root sandlock keeps CAP_DAC_OVERRIDE, the sandbox does not, so a connect performed by
// the supervisor must not reach a socket the sandbox could not reach itself. (As an
// unprivileged user neither side can override permissions, and the test holds the same way.)
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

namespace sandlock::test {
namespace {

// A listening UNIX socket at `path` with the given mode; closed with the object.
class UnixListener {
public:
    UnixListener(const std::string& path, mode_t mode) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
        EXPECT_EQ(::listen(fd_, 8), 0);
        EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    }
    ~UnixListener() { ::close(fd_); }

private:
    int fd_;
};

Result connect_from_sandbox(const TempDir& dir, const std::string& socket_path, bool allowlist) {
    Policy p = system_policy();
    p.fs_readable.push_back(dir.str());
    if (allowlist) p.net_allow_hosts = {"localhost"};  // every AF_UNIX connect is then done on behalf
    SandboxOptions options;
    options.plugins = {"landlock", "seccomp", "notif"};
    return python(p, "s = socket.socket(socket.AF_UNIX); probe(s.connect, '" + socket_path + "')\n", options);
}

TEST(EscapeOnBehalf, AConnectDoneForTheCallerHasNoMorePowerThanTheCaller) {
    TempDir dir;
    const std::string path = dir / "closed.sock";
    UnixListener listener(path, 0);  // mode 000: only a capability gets in
    EXPECT_EQ(connect_from_sandbox(dir, path, false).stdout_text, "EACCES\n") << "the kernel's own answer";
    Result r = connect_from_sandbox(dir, path, true);
    EXPECT_EQ(r.stdout_text, "EACCES\n") << r.stderr_text;
}

TEST(EscapeOnBehalf, AConnectTheCallerMayMakeIsMadeForIt) {
    TempDir dir;
    const std::string path = dir / "open.sock";
    UnixListener listener(path, 0777);
    Result r = connect_from_sandbox(dir, path, true);
    EXPECT_EQ(r.stdout_text, "ok\n") << r.stderr_text;
}

}  // namespace
}  // namespace sandlock::test
