// The SDK's on-behalf helpers (sandlock/sdk/on_behalf.hpp), used by a third-party handler (the
// notif_probe test plugin): open + inject, connect and send on the socket the supervisor took.
// Each answers with what the real call gave: data read through the injected fd, a connection
// the listener accepts, a datagram that arrives, and the kernel's errno when the call fails.
#include "feature_check.hpp"
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <sys/syscall.h>

#include <fstream>
#include <string>

namespace sandlock::test {
namespace {

Result run_with_rule(const std::string& rule, const std::string& code, Policy p = system_policy()) {
    p.plugin_options["notif_probe"] = R"({"rules": [)" + rule + "]}";
    SandboxOptions options;
    options.plugins = {"landlock", "seccomp", "notif", "notif_probe"};
    options.plugin_path = {test_plugin_dir()};
    return python(p, code, options);
}

TEST(SdkOnBehalf, OpenForCallerInjectsTheFileItOpened) {
    TempDir dir;
    const std::string file = dir / "secret";
    std::ofstream(file) << "opened by the supervisor";
    // Only for dirfd 77, which the caller does not have: the handler's file is what it reads.
    Result r = run_with_rule(R"({"syscall": )" + std::to_string(SYS_openat) +
                                 R"(, "arg_index": 0, "arg_value": 77, "action": "open_for", "expected": ")" + file +
                                 R"("})",
                             "fd = os.open('whatever', os.O_RDONLY, dir_fd=77); print(os.read(fd, 100))\n"
                             "probe(lambda: os.open('whatever', os.O_RDONLY, dir_fd=78))\n");
    EXPECT_EQ(r.stdout_text, "b'opened by the supervisor'\nEBADF\n") << r.stderr_text;
}

TEST(SdkOnBehalf, OpenForCallerSeesWhatTheCallerSees) {
    // The supervisor's own view has /proc/kallsyms; the caller's, with /proc readable, has it
    // masked (EACCES). (Where the policy does not reach /proc, Landlock alone keeps the caller
    // out and nothing is mounted there: a helper acting outside Landlock must not open it then.)
    SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    Policy p = system_policy();
    p.fs_readable.push_back("/proc");
    Result r = run_with_rule(R"({"syscall": )" + std::to_string(SYS_openat) +
                                 R"(, "arg_index": 0, "arg_value": 77, "action": "open_for", "expected": "/proc/kallsyms"})",
                             // dirfd 77 must exist: the /proc module reads the path first.
                             "os.dup2(os.open('/usr', os.O_RDONLY), 77)\n"
                             "probe(lambda: os.open('whatever', os.O_RDONLY, dir_fd=77))\n", p);
    EXPECT_EQ(r.stdout_text, "EACCES\n") << r.stderr_text;
}

TEST(SdkOnBehalf, ConnectAndSendForCallerActOnTheTakenSocket) {
    Result r = run_with_rule(
        R"({"syscall": )" + std::to_string(SYS_connect) + R"(, "arg_index": 0, "arg_value": 100, "action": "connect_for"},
           {"syscall": )" + std::to_string(SYS_sendto) + R"(, "arg_index": 0, "arg_value": 101, "action": "send_for"})",
        "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(4)\n"
        "s = socket.socket(); os.dup2(s.fileno(), 100)\n"
        "c = socket.socket(fileno=100); c.connect(srv.getsockname()); a, peer = srv.accept(); print(peer == c.getsockname())\n"
        "closed = socket.socket(); closed.bind(('127.0.0.1', 0)); port = closed.getsockname()[1]; closed.close()\n"
        "t = socket.socket(); os.dup2(t.fileno(), 100); d = socket.socket(fileno=100); probe(d.connect, ('127.0.0.1', port))\n"
        "rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rx.bind(('127.0.0.1', 0))\n"
        "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); os.dup2(u.fileno(), 101)\n"
        "v = socket.socket(fileno=101); print(v.sendto(b'sent for you', rx.getsockname()), rx.recv(100))\n");
    EXPECT_EQ(r.stdout_text, "True\nECONNREFUSED\n12 b'sent for you'\n") << r.stderr_text;
}

}  // namespace
}  // namespace sandlock::test
