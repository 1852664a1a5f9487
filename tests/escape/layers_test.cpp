// Layers cannot be dropped: whatever plugin list is asked for, the seccomp layer is loaded,
// because the default /dev/tty grant of the Landlock layer relies on its TIOCSTI denial.
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <sys/syscall.h>

namespace sandlock::test {
namespace {

std::string probe_line(const std::string& label, long nr, const std::string& args) {
    return "print('" + label + "', end=' '); sys_probe(" + std::to_string(nr) + ", " + args + ")\n";
}

// The system readable and a pty of its own to inject into.
Policy pty_policy() {
    Policy p = system_policy();
    p.fs_writable = {"/dev/ptmx", "/dev/pts"};
    return p;
}

// TIOCSTI on fd -1 is EBADF when it reaches the kernel and EPERM when seccomp refuses it first;
// then 20,000 injections into a pty of our own, each of which must fail with EPERM (unconfined,
// as root, every one of them succeeds).
const std::string kInjection = std::string() +
    "import fcntl, termios\n" + probe_line("raw", SYS_ioctl, "-1, 0x5412, 0") +
    "master, slave = os.openpty()\n"
    "injected, errors = 0, set()\n"
    "for i in range(20000):\n"
    "    try:\n"
    "        fcntl.ioctl(slave, termios.TIOCSTI, b'x'); injected += 1\n"
    "    except OSError as e:\n"
    "        errors.add(errno.errorcode.get(e.errno, str(e.errno)))\n"
    "print('pty', injected, sorted(errors))\n";
const std::string kRefused = "raw EPERM\npty 0 ['EPERM']\n";

TEST(EscapeLayers, TerminalInjectionIsDeniedWhenOnlyLandlockIsAsked) {
    for (const std::vector<std::string>& plugins :
         {std::vector<std::string>{"landlock"}, std::vector<std::string>{"landlock", "notif"}}) {
        SandboxOptions options;
        options.plugins = plugins;
        Result r = python(pty_policy(), kInjection, options);
        EXPECT_EQ(r.stdout_text, kRefused) << plugins.size() << " plugins: " << r.stderr_text;
    }
}

TEST(EscapeLayers, AProfilePluginListCannotDropSeccomp) {
    Policy p = pty_policy();
    p.plugins = {"landlock"};
    Result r = python(p, kInjection);
    EXPECT_EQ(r.stdout_text, kRefused) << r.stderr_text;
}

}  // namespace
}  // namespace sandlock::test
