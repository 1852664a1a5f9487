// The landlock plugin against the real kernel: every rule is checked both ways, allowed and
// denied. Only the landlock plugin runs, so each outcome is Landlock's doing.
#include "feature_check.hpp"
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>

extern char** environ;

namespace sandlock::test {
namespace {

// A write outside fs_writable: the read-only mount answers first where the sandbox has its own
// mount namespace, Landlock otherwise.
std::string read_only() { return test::sandbox_namespaces() ? "EROFS\n" : "EACCES\n"; }

namespace fs = std::filesystem;

// Landlock alone, plus the seccomp and notif layers net_bind needs (they refuse listen() on an
// unbound socket, which Landlock cannot see).
SandboxOptions landlock_only(const Policy& policy = {}) {
    SandboxOptions options;
    options.plugins = {"landlock"};
    if (!policy.net_bind.empty()) options.plugins = {"landlock", "seccomp", "notif"};
    return options;
}

// Runs the snippet with the python variables D0, D1... bound to the given paths.
Result sandboxed(const Policy& policy, const std::vector<std::string>& paths, const std::string& code) {
    std::string bindings;
    for (std::size_t i = 0; i < paths.size(); ++i)
        bindings += "D" + std::to_string(i) + " = '" + paths[i] + "'\n";
    return python(policy, bindings + code, landlock_only(policy));
}

// The refusal's message, or "" when the sandbox ran.
std::string refusal(const Policy& policy) {
    try {
        sandboxed(policy, {}, "print('ran')\n");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

#define EXPECT_OUTPUT(result, expected)                                     \
    do {                                                                    \
        const Result& r_ = (result);                                        \
        EXPECT_EQ(r_.exit_code, 0) << r_.stderr_text << r_.error;           \
        EXPECT_EQ(r_.stdout_text, expected) << r_.stderr_text << r_.error;  \
    } while (0)

// A temp dir that the same tests can use as root and as an unprivileged user.
class Tree {
public:
    Tree() { fs::permissions(dir_.path(), fs::perms::all); }
    std::string path(const std::string& relative = "") const {
        return relative.empty() ? dir_.str() : dir_ / relative;
    }
    std::string file(const std::string& relative, const std::string& content = "data") const {
        fs::create_directories(fs::path(path(relative)).parent_path());
        std::ofstream(path(relative)) << content;
        return path(relative);
    }
    std::string dir(const std::string& relative) const {
        fs::create_directories(path(relative));
        return path(relative);
    }

private:
    TempDir dir_;
};

class LandlockTest : public ::testing::Test {
protected:
    void SetUp() override {
        SANDLOCK_SKIP_UNLESS_AVAILABLE("landlock filesystem rules");
    }
    Policy policy_ = system_policy();
};

TEST_F(LandlockTest, ReadableTreeCanBeReadButNotWritten) {
    Tree tree;
    tree.file("data", "hello");
    policy_.fs_readable.push_back(tree.path());
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: print(open(D0 + '/data').read()))
probe(os.listdir, D0)
probe(lambda: open(D0 + '/data', 'a'))
probe(lambda: open(D0 + '/new', 'w'))
probe(os.remove, D0 + '/data')
probe(os.mkdir, D0 + '/sub')
)"),
                  "hello\nok\nok\n" + read_only() + read_only() + read_only() + read_only());
    EXPECT_TRUE(fs::exists(tree.path("data")));
}

TEST_F(LandlockTest, WritableTreeAllowsCreateWriteRenameRemove) {
    Tree tree;
    policy_.fs_writable.push_back(tree.path());
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/f', 'w').write('x'))
probe(os.truncate, D0 + '/f', 0)
probe(os.mkdir, D0 + '/sub')
probe(os.rename, D0 + '/f', D0 + '/sub/g')
probe(os.remove, D0 + '/sub/g')
probe(os.rmdir, D0 + '/sub')
)"),
                  "ok\nok\nok\nok\nok\nok\n");
    EXPECT_TRUE(fs::is_empty(tree.path()));
}

TEST_F(LandlockTest, PathOutsideEveryRuleIsDenied) {
    Tree allowed, outside;
    outside.file("data");
    policy_.fs_writable.push_back(allowed.path());
    EXPECT_OUTPUT(sandboxed(policy_, {outside.path()}, R"(
probe(lambda: open(D0 + '/data').read())
probe(os.listdir, D0)
probe(lambda: open(D0 + '/new', 'w'))
)"),
                  "EACCES\nEACCES\n" + read_only());  // outside fs_writable the mount is read-only
}

TEST_F(LandlockTest, SingleFileCanBeAllowed) {
    Tree tree;
    tree.file("allowed");
    tree.file("other");
    policy_.fs_readable.push_back(tree.path("allowed"));
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/allowed').read())
probe(lambda: open(D0 + '/other').read())
)"),
                  "ok\nEACCES\n");
}

TEST_F(LandlockTest, WritableTreeNestedInReadableTree) {
    Tree tree;
    tree.file("top");
    tree.dir("work");
    policy_.fs_readable.push_back(tree.path());
    policy_.fs_writable.push_back(tree.path("work"));
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/work/new', 'w'))
probe(lambda: open(D0 + '/top').read())
probe(lambda: open(D0 + '/top', 'a'))
)"),
                  "ok\nok\n" + read_only());  // outside fs_writable the mount is read-only
}

TEST_F(LandlockTest, DefaultDevicesAreUsableUnlessDenied) {
    EXPECT_OUTPUT(sandboxed(policy_, {}, R"(
probe(lambda: open('/dev/null', 'w').write('x'))
probe(lambda: open('/dev/urandom', 'rb').read(4))
probe(lambda: open('/dev/zero', 'rb').read(4))
probe(lambda: open('/dev/shm/nope', 'w'))
)"),
                  "ok\nok\nok\n" + read_only());  // outside fs_writable the mount is read-only
    policy_.fs_denied.push_back("/dev/null");
    EXPECT_OUTPUT(sandboxed(policy_, {}, "probe(lambda: open('/dev/null', 'w'))\n"), "EACCES\n");
}

TEST_F(LandlockTest, DeniedFileInsideReadableTree) {
    Tree tree;
    tree.file("a/secret");
    tree.file("a/ok");
    tree.file("b/x");
    policy_.fs_readable.push_back(tree.path());
    policy_.fs_denied.push_back(tree.path("a/secret"));
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/a/secret').read())
probe(lambda: open(D0 + '/a/ok').read())
probe(lambda: open(D0 + '/b/x').read())
print(sorted(os.listdir(D0 + '/a')))
)"),
                  "EACCES\nok\nok\n['ok', 'secret']\n");
}

TEST_F(LandlockTest, DeniedDirectoryInsideReadableTree) {
    Tree tree;
    tree.file("a/secret/key");
    tree.file("a/ok");
    policy_.fs_readable.push_back(tree.path());
    policy_.fs_denied.push_back(tree.path("a/secret"));
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/a/secret/key').read())
probe(os.listdir, D0 + '/a/secret')
probe(lambda: open(D0 + '/a/ok').read())
probe(os.listdir, D0 + '/a')
)"),
                  // The directories above a denied directory cannot be listed (see ruleset_plan.hpp).
                  "EACCES\nEACCES\nok\nEACCES\n");
}

TEST_F(LandlockTest, DeniedFileInsideWritableTree) {
    Tree tree;
    tree.file("secret");
    tree.file("other");
    tree.dir("sub");
    policy_.fs_writable.push_back(tree.path());
    policy_.fs_denied.push_back(tree.path("secret"));
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/secret').read())
probe(lambda: open(D0 + '/secret', 'a'))
probe(os.remove, D0 + '/secret')
probe(os.rename, D0 + '/secret', D0 + '/sub/moved')
probe(lambda: open(D0 + '/other', 'a').write('more'))
probe(lambda: open(D0 + '/sub/new', 'w'))
probe(lambda: open(D0 + '/beside', 'w'))
)"),
                  // Nothing can be created next to a denied path: it could replace it.
                  "EACCES\nEACCES\nEACCES\nEACCES\nok\nok\nEACCES\n");
    EXPECT_TRUE(fs::exists(tree.path("secret")));
}

TEST_F(LandlockTest, DeniedDirectoryInsideWritableTree) {
    Tree tree;
    tree.file("secret/key");
    tree.dir("sub");
    policy_.fs_writable.push_back(tree.path());
    policy_.fs_denied.push_back(tree.path("secret"));
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/secret/key').read())
probe(lambda: open(D0 + '/secret/new', 'w'))
probe(os.rmdir, D0 + '/secret')
probe(lambda: open(D0 + '/sub/new', 'w').write('x'))
probe(os.remove, D0 + '/sub/new')
)"),
                  "EACCES\nEACCES\nEACCES\nok\nok\n");
}

TEST_F(LandlockTest, MissingDeniedPathCannotBeCreated) {
    Tree tree;
    tree.dir("sub");
    policy_.fs_writable.push_back(tree.path());
    policy_.fs_denied.push_back(tree.path("ghost"));
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/ghost', 'w'))
probe(os.mkdir, D0 + '/ghost')
probe(lambda: open(D0 + '/sub/file', 'w'))
)"),
                  "EACCES\nEACCES\nok\n");
}

TEST_F(LandlockTest, DeniedPathGivenThroughASymlink) {
    Tree tree;
    tree.file("real/secret");
    tree.file("real/ok");
    fs::create_directory_symlink(tree.path("real"), tree.path("alias"));
    policy_.fs_readable.push_back(tree.path("alias"));
    policy_.fs_denied.push_back(tree.path("alias/secret"));
    EXPECT_OUTPUT(sandboxed(policy_, {tree.path()}, R"(
probe(lambda: open(D0 + '/real/secret').read())
probe(lambda: open(D0 + '/alias/secret').read())
probe(lambda: open(D0 + '/alias/ok').read())
)"),
                  "EACCES\nEACCES\nok\n");
}

TEST_F(LandlockTest, BinaryFromReadableDirectoryRunsButNotFromOutside) {
    Tree bin, outside;
    fs::copy_file("/usr/bin/echo", bin.path("echo"));
    fs::copy_file("/usr/bin/echo", outside.path("echo"));
    policy_.fs_readable.push_back(bin.path());
    EXPECT_OUTPUT(sandboxed(policy_, {bin.path(), outside.path()}, R"(
probe(os.execv, D1 + '/echo', ['echo', 'outside ran'])
sys.stdout.flush()
os.execv(D0 + '/echo', ['echo', 'inside ran'])
)"),
                  "EACCES\ninside ran\n");
}

// A TCP listener on 127.0.0.1 in the test process (outside the sandbox).
class Listener {
public:
    Listener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            ADD_FAILURE() << "listener: " << std::strerror(errno);
        port_ = ntohs(addr.sin_port);
    }
    ~Listener() { ::close(fd_); }
    std::uint16_t port() const { return port_; }

private:
    int fd_;
    std::uint16_t port_ = 0;
};

// A port that was free a moment ago.
std::uint16_t free_port() { return Listener().port(); }

class LandlockNetTest : public LandlockTest {
protected:
    void SetUp() override {
        SANDLOCK_SKIP_UNLESS_AVAILABLE("landlock TCP bind/connect ports");
    }
};

TEST_F(LandlockNetTest, ConnectOnlyToAllowedPorts) {
    Listener allowed, other;
    policy_.net_connect = {{allowed.port(), allowed.port()}};
    std::string code = "probe(lambda: socket.create_connection(('127.0.0.1', " + std::to_string(allowed.port()) +
                       "), 5))\nprobe(lambda: socket.create_connection(('127.0.0.1', " +
                       std::to_string(other.port()) + "), 5))\n"
                       "probe(lambda: socket.socket().bind(('127.0.0.1', 0)))\n";
    // Bind is not handled when only net_connect is set.
    EXPECT_OUTPUT(sandboxed(policy_, {}, code), "ok\nEACCES\nok\n");
}

TEST_F(LandlockNetTest, BindOnlyToAllowedPorts) {
    std::uint16_t allowed = free_port(), other = free_port();
    Listener server;
    policy_.net_bind = {{allowed, allowed}};
    std::string code = "probe(lambda: socket.socket().bind(('127.0.0.1', " + std::to_string(allowed) +
                       ")))\nprobe(lambda: socket.socket().bind(('127.0.0.1', " + std::to_string(other) +
                       ")))\nprobe(lambda: socket.create_connection(('127.0.0.1', " +
                       std::to_string(server.port()) + "), 5))\n";
    EXPECT_OUTPUT(sandboxed(policy_, {}, code), "ok\nEACCES\nok\n");
}

class LandlockScopeTest : public LandlockTest {
protected:
    void SetUp() override {
        SANDLOCK_SKIP_UNLESS_AVAILABLE("landlock IPC and signal scoping");
    }
};

// An abstract unix socket listening in the test process.
class AbstractSocket {
public:
    AbstractSocket() : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        static std::atomic<int> counter{0};
        name_ = "sandlock-landlock-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path + 1, name_.data(), name_.size());
        auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name_.size());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0)
            ADD_FAILURE() << "abstract socket: " << std::strerror(errno);
    }
    ~AbstractSocket() { ::close(fd_); }
    std::string connect_probe() const {
        return "probe(lambda: socket.socket(socket.AF_UNIX).connect('\\0" + name_ + "'))\n";
    }

private:
    int fd_;
    std::string name_;
};

TEST_F(LandlockScopeTest, IsolateIpcBlocksAbstractSocketsOutside) {
    AbstractSocket outside;
    EXPECT_OUTPUT(sandboxed(policy_, {}, outside.connect_probe()), "ok\n");
    policy_.isolate_ipc = true;
    EXPECT_OUTPUT(sandboxed(policy_, {}, outside.connect_probe()), "EPERM\n");
}

TEST_F(LandlockScopeTest, IsolateIpcKeepsSocketsInsideTheSandbox) {
    policy_.isolate_ipc = true;
    EXPECT_OUTPUT(sandboxed(policy_, {}, R"(
server = socket.socket(socket.AF_UNIX)
server.bind('\0sandlock-inside-%d' % os.getpid())
server.listen(1)
probe(lambda: socket.socket(socket.AF_UNIX).connect('\0sandlock-inside-%d' % os.getpid()))
)"),
                  "ok\n");
}

// A `sleep` started by the test process, outside any sandbox.
class OutsideProcess {
public:
    OutsideProcess() {
        char* argv[] = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
        if (::posix_spawn(&pid_, "/usr/bin/sleep", nullptr, nullptr, argv, environ) != 0) pid_ = -1;
    }
    ~OutsideProcess() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

TEST_F(LandlockScopeTest, IsolateSignalsBlocksSignalsToProcessesOutside) {
    OutsideProcess sleeper;
    ASSERT_GT(sleeper.pid(), 0);
    std::string code = "probe(os.kill, " + std::to_string(sleeper.pid()) +
                       ", 0)\nprobe(os.kill, os.getpid(), 0)\n"
                       "probe(os.kill, os.getpid(), signal.SIGUSR1)\n";
    code = "import signal\nsignal.signal(signal.SIGUSR1, lambda *a: None)\n" + code;
    // The sandbox's own PID namespace already hides the process outside (ESRCH); without one,
    // it is visible and only Landlock's scoping refuses the signal.
    const bool hidden = test::sandbox_namespaces();
    EXPECT_OUTPUT(sandboxed(policy_, {}, code), std::string(hidden ? "ESRCH" : "ok") + "\nok\nok\n");
    policy_.isolate_signals = true;
    EXPECT_OUTPUT(sandboxed(policy_, {}, code), std::string(hidden ? "ESRCH" : "EPERM") + "\nok\nok\n");
    EXPECT_EQ(::kill(sleeper.pid(), 0), 0);
}

// [plugins.landlock] max_abi makes the kernel look older: the strict and degraded paths.
TEST_F(LandlockNetTest, StrictRefusesWhatTheAbiLacks) {
    policy_.net_bind = {{8080, 8080}};
    policy_.plugin_options["landlock"] = R"({"max_abi": 3})";
    std::string message = refusal(policy_);
    EXPECT_NE(message.find("net_bind"), std::string::npos) << message;
    EXPECT_NE(message.find("ABI 4"), std::string::npos) << message;
}

TEST_F(LandlockNetTest, NonStrictDegradesButKeepsWhatTheAbiHas) {
    Tree outside;
    outside.file("data");
    std::uint16_t other = free_port();
    policy_.strict = false;
    policy_.net_bind = {{8080, 8080}};
    policy_.plugin_options["landlock"] = R"({"max_abi": 3})";
    EXPECT_OUTPUT(sandboxed(policy_, {outside.path()},
                            "probe(lambda: socket.socket().bind(('127.0.0.1', " + std::to_string(other) +
                                ")))\nprobe(lambda: open(D0 + '/data').read())\n"),
                  "ok\nEACCES\n");
}

TEST_F(LandlockTest, InvalidInputIsRefusedBeforeRunning) {
    Policy relative = policy_;
    relative.fs_writable = {"relative/dir"};
    EXPECT_NE(refusal(relative).find("fs_writable: \"relative/dir\""), std::string::npos);

    Policy port_zero = policy_;
    port_zero.net_connect = {{0, 10}};
    EXPECT_NE(refusal(port_zero).find("net_connect"), std::string::npos);

    Policy bad_option = policy_;
    bad_option.plugin_options["landlock"] = R"({"abi": 3})";
    EXPECT_NE(refusal(bad_option).find("max_abi"), std::string::npos);
}

TEST_F(LandlockTest, NothingSetLeavesTheChildUnconfined) {
    Tree outside;
    outside.file("data");
    EXPECT_OUTPUT(sandboxed(Policy{}, {outside.path()}, "probe(lambda: open(D0 + '/data').read())\n"), "ok\n");
}

}  // namespace
}  // namespace sandlock::test
