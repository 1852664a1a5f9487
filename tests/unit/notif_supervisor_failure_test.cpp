// The supervisor fails closed: when it can no longer receive notifications, it kills the
// sandbox instead of leaving its callers blocked (or, with a dead filter, unchecked), and
// aborts the run so that it fails with exit 125.
#include "supervisor/supervisor.hpp"

#include "fake_host.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

namespace sandlock::notif {
namespace {

TEST(NotifSupervisorFailure, AListenerThatCannotBeReadKillsTheSandbox) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
    ASSERT_GE(pidfd, 0);
    // Readable, but not a seccomp listener: the receive ioctl fails (ENOTTY).
    const int not_a_listener = ::eventfd(1, EFD_CLOEXEC);
    ASSERT_GE(not_a_listener, 0);

    test::FakeHost fake;
    const sdk::Host host = fake.host();
    {
        Supervisor supervisor(host, HandlerChain{});
        supervisor.start(not_a_listener, pidfd);
        pollfd exited{pidfd, POLLIN, 0};
        EXPECT_EQ(::poll(&exited, 1, 5000), 1) << "the sandbox was not killed";
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    // And the run is aborted, so it ends with exit 125 and the reason.
    ASSERT_EQ(fake.aborted.size(), 1u);
    EXPECT_NE(fake.aborted[0].find("supervisor: cannot receive a notification"), std::string::npos) << fake.aborted[0];
    ::close(pidfd);
    ::close(not_a_listener);
}

}  // namespace
}  // namespace sandlock::notif
