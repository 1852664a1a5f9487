// The core pipeline against the real kernel: exit codes, timeouts, the whole tree killed,
// environment, fd closing, user namespace, chroot, call(), stage failures, plugin selection.
#include "feature_check.hpp"
#include "process_scan.hpp"
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/plugins.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <atomic>
#include <thread>

namespace sandlock::test {
namespace {

using namespace std::chrono_literals;

SandboxOptions with_test_plugins(std::vector<std::string> plugins) {
    SandboxOptions options;
    options.plugins = std::move(plugins);
    options.plugin_path = {test_plugin_dir()};
    return options;
}

TEST(Core, CapturesOutputAndExitCode) {
    Result r = run(system_policy(), {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.stdout_text, "out\n");
    EXPECT_EQ(r.stderr_text, "err\n");
    EXPECT_FALSE(r.timed_out);
}

TEST(Core, KilledBySignalIs128PlusN) {
    Result r = run(system_policy(), {"/bin/sh", "-c", "kill -TERM $$"});
    EXPECT_EQ(r.term_signal, SIGTERM);
    EXPECT_EQ(r.exit_code, 128 + SIGTERM);
}

// A host that ignores SIGCHLD (a daemon, `trap '' CHLD`): an init that kept ignoring it would
// have its children reaped unseen and never learn the command's status (it then reported 0).
TEST(Core, AHostIgnoringSigchldStillGetsTheStatus) {
    struct sigaction ignore {}, old {};
    ignore.sa_handler = SIG_IGN;
    ASSERT_EQ(::sigaction(SIGCHLD, &ignore, &old), 0);
    Result r = run(system_policy(), {"/bin/sh", "-c", "sleep 0.1 & wait; exit 4"});
    ::sigaction(SIGCHLD, &old, nullptr);
    EXPECT_EQ(r.exit_code, 4) << r.stderr_text << r.error;
}

// SandboxOptions::process_runs_one_sandbox: the first run of an unprivileged process starts its
// init in the process's memory. Each case runs in a fresh child process, left non-dumpable:
// statuses, a refused exec, a timeout or a cancelling signal (also before the command has
// exec'd), a run with notifications (but not one that routes execve or runs a child stage
// after the listener: a copy then), and the host's own handlers never run in the init. Without
// the option the host keeps its dumpable flag.
int host_pipe_fd = -1;
void host_usr1_handler(int) {
    const char byte = 'S';
    [[maybe_unused]] ssize_t n = ::write(host_pipe_fd, &byte, 1);
}

// Runs `check` in a forked child; its verdict (an exception is a failure).
bool in_fresh_process(const std::function<bool()>& check) {
    const pid_t child = ::fork();
    if (child == 0) {
        bool ok = false;
        try {
            ok = check();
        } catch (...) {
        }
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    return ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(Core, AnInitInTheHostsMemoryRunsLikeACopy) {
    SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    ASSERT_EQ(::prctl(PR_GET_DUMPABLE), 1);
    EXPECT_EQ(run(system_policy(), {"/bin/true"}).exit_code, 0);
    EXPECT_EQ(::prctl(PR_GET_DUMPABLE), 1) << "a run without the option made the host non-dumpable";

    SandboxOptions one;
    one.process_runs_one_sandbox = true;
    EXPECT_TRUE(in_fresh_process([&] {
        Result r = run(system_policy(), {"/bin/sh", "-c", "echo hi; exit 4"}, one);
        // Not for root (launcher.cpp): its init stays a copy, and the host dumpable.
        return r.stdout_text == "hi\n" && r.exit_code == 4 && ::prctl(PR_GET_DUMPABLE) == (::geteuid() == 0 ? 1 : 0);
    })) << "status, output or the dumpable flag";
    EXPECT_TRUE(in_fresh_process([&] { return run(system_policy(), {"no-such-command-here"}, one).exit_code == 127; }));
    EXPECT_TRUE(in_fresh_process([&] {
        Result r = Sandbox(system_policy(), one).run({"/bin/sleep", "5"}, 300ms);
        return r.timed_out && r.exit_code == 124;
    })) << "timeout";
    // Before the command has exec'd (a child stage that takes 3 s), too: the init is ended.
    EXPECT_TRUE(in_fresh_process([&] {
        SandboxOptions slow = with_test_plugins({"landlock", "seccomp", "slow_stage"});
        slow.process_runs_one_sandbox = true;
        const auto start = std::chrono::steady_clock::now();
        Result r = Sandbox(system_policy(), slow).run({"/bin/true"}, 300ms);
        return r.timed_out && r.exit_code == 124 && std::chrono::steady_clock::now() - start < 2500ms;
    })) << "a timeout during the child's stages";
    EXPECT_TRUE(in_fresh_process([&] {
        SandboxOptions slow = with_test_plugins({"landlock", "seccomp", "slow_stage"});
        slow.process_runs_one_sandbox = true;
        slow.cancel_fd = ::eventfd(0, EFD_CLOEXEC);
        std::thread canceller([fd = slow.cancel_fd] {
            std::this_thread::sleep_for(200ms);
            ::eventfd_write(fd, 1);
        });
        const auto start = std::chrono::steady_clock::now();
        Result r = Sandbox(system_policy(), slow).run({"/bin/true"});
        canceller.join();
        return r.exit_code == 128 + SIGTERM && std::chrono::steady_clock::now() - start < 2500ms;
    })) << "a cancelling signal during the child's stages";
    // With notifications, too: sandlock takes the listener, then seals its memory.
    EXPECT_TRUE(in_fresh_process([&] {
        Policy limited = system_policy();
        limited.max_memory = 64u << 20;
        limited.fs_readable.push_back("/proc");
        Result r = run(limited, {"/bin/sh", "-c", "head -c 3 /proc/self/status; exit 5"}, one);
        return r.stdout_text == "Nam" && r.exit_code == 5 && ::prctl(PR_GET_DUMPABLE) == (::geteuid() == 0 ? 1 : 0);
    })) << "a run with notifications";
    // Unless a plugin routes what the main process calls once sealed: its init is then a copy,
    // and the handler reads the first exec's path (refused here to show that it did).
    EXPECT_TRUE(in_fresh_process([&] {
        Policy policy = system_policy();
        policy.plugin_options["notif_probe"] =
            R"({"rules": [{"syscall": )" + std::to_string(SYS_execve) + R"(, "action": "expect_string", "expected": "/bin/true"}]})";
        SandboxOptions routed = with_test_plugins({"landlock", "seccomp", "notif", "notif_probe"});
        routed.process_runs_one_sandbox = true;
        Result r = run(policy, {"/bin/true"}, routed);
        return r.exit_code == 126 && r.error.find(std::strerror(EXDEV)) != std::string::npos &&
               ::prctl(PR_GET_DUMPABLE) == 1;
    })) << "a run that routes execve";
    // Or lets a plugin other than the notif layer serve notifications: a handler acting for the
    // caller would act in sandlock's memory, where the kernel skips its ptrace checks (this
    // /proc/1/maps then showed sandlock's layout; a copy's is refused).
    EXPECT_TRUE(in_fresh_process([&] {
        Policy policy = system_policy();
        policy.fs_readable.push_back("/proc");
        policy.plugin_options["notif_probe"] = R"({"rules": [{"syscall": )" + std::to_string(SYS_openat) +
                                               R"(, "arg_index": 0, "arg_value": 77, "action": "open_for", "expected": "/proc/1/maps"}]})";
        SandboxOptions routed = with_test_plugins({"landlock", "seccomp", "notif", "notif_probe"});
        routed.process_runs_one_sandbox = true;
        Result r = python(policy,
                          "os.dup2(os.open('/usr', os.O_RDONLY), 77)\n"
                          "probe(lambda: os.read(os.open('whatever', os.O_RDONLY, dir_fd=77), 100))\n",
                          routed);
        return r.stdout_text == "EACCES\n" && ::prctl(PR_GET_DUMPABLE) == 1;
    })) << "a run where another plugin's handler opens /proc/1/maps for the caller";
    // Or runs a child stage after the hand-off, whose routed calls a handler must inspect.
    EXPECT_TRUE(in_fresh_process([&] {
        Policy with_proc = system_policy();
        with_proc.fs_readable.push_back("/proc");
        SandboxOptions late = with_test_plugins({"landlock", "seccomp", "notif", "late_stage"});
        late.process_runs_one_sandbox = true;
        Result r = run(with_proc, {"/bin/true"}, late);
        return r.exit_code == 0 && ::prctl(PR_GET_DUMPABLE) == 1;
    })) << "a run with a child stage after the listener";
    int wakeup[2];
    ASSERT_EQ(::pipe2(wakeup, O_CLOEXEC | O_NONBLOCK), 0);
    EXPECT_TRUE(in_fresh_process([&] {
        host_pipe_fd = wakeup[1];
        struct sigaction handler {};
        handler.sa_handler = host_usr1_handler;
        ::sigaction(SIGUSR1, &handler, nullptr);
        Result r = python(system_policy(), "import signal\nfor _ in range(100): os.kill(1, signal.SIGUSR1)\nprint('sent')\n", one);
        char byte = 0;
        return r.stdout_text == "sent\n" && ::read(wakeup[0], &byte, 1) == -1;
    })) << "the host's handler ran in the init";
    ::close(wakeup[0]);
    ::close(wakeup[1]);
}

TEST(Core, PathLookupUsesTheChildsEnvironment) {
    Policy p = system_policy();
    p.env["PATH"] = "/nonexistent:/usr/bin";
    Result r = run(p, {"env"});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_NE(r.stdout_text.find("PATH=/nonexistent:/usr/bin"), std::string::npos);
}

TEST(Core, CommandNotFoundIs127) {
    Result r = run(system_policy(), {"no-such-command-here"});
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_EQ(r.error, "no-such-command-here: command not found");
}

TEST(Core, CommandNotExecutableIs126) {
    TempDir dir;
    std::ofstream(dir / "script") << "#!/bin/sh\necho hi\n";  // mode 0644: not executable
    Result r = run(system_policy(), {dir / "script"});
    EXPECT_EQ(r.exit_code, 126);
    EXPECT_NE(r.error.find("Permission denied"), std::string::npos) << r.error;
}

TEST(Core, TimeoutKillsTheWholeTreeWithin124) {
    const auto start = std::chrono::steady_clock::now();
    // A plain child, a grandchild in its own session and a double-forked orphan.
    Result r = Sandbox(system_policy())
                   .run({"/bin/sh", "-c", "sleep 971 & setsid sleep 972 & (sleep 973 &) ; wait"}, 500ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.exit_code, 124);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(count_processes("sleep 971"), 0);
    EXPECT_EQ(count_processes("sleep 972"), 0);
    EXPECT_EQ(count_processes("sleep 973"), 0);
}

TEST(Core, TimeoutFiresEvenWhileOutputNeverStops) {
    Result r = Sandbox(system_policy()).run({"/usr/bin/yes"}, 300ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.exit_code, 124);
}

TEST(Core, CapturedOutputIsCapped) {
    Result r = run(system_policy(), {"/bin/sh", "-c", "head -c 70000000 /dev/zero; echo done >&2"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_text.size(), 64u << 20);
    EXPECT_TRUE(r.output_truncated);
    EXPECT_EQ(r.stderr_text, "done\n");
}

TEST(Core, ConcurrentSandboxesDoNotKillEachOther) {
    // Short runs end (and clean up) back to back while a longer one, started in another thread
    // during one of them, is still running: its main process is not theirs to kill.
    std::atomic<bool> done{false};
    std::thread shorts([&] {
        while (!done) EXPECT_EQ(run(system_policy(), {"/bin/true"}).exit_code, 0);
    });
    std::this_thread::sleep_for(100ms);
    Result longer = run(system_policy(), {"/bin/sh", "-c", "sleep 1; echo survived"});
    done = true;
    shorts.join();
    EXPECT_EQ(longer.exit_code, 0) << longer.stderr_text;
    EXPECT_EQ(longer.stdout_text, "survived\n");
}

TEST(Core, NothingOutlivesANormalExit) {
    Result r = run(system_policy(), {"/bin/sh", "-c", "setsid sleep 974 & (sleep 975 &); echo started"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_text, "started\n");
    EXPECT_EQ(count_processes("sleep 974"), 0);
    EXPECT_EQ(count_processes("sleep 975"), 0);
}

TEST(Core, CleanEnvKeepsOnlyTheBasicsThenAppliesEnv) {
    ::setenv("SANDLOCK_TEST_SECRET", "leak", 1);
    Policy p = system_policy();
    p.clean_env = true;
    p.env["CC"] = "gcc";
    Result r = run(p, {"/usr/bin/env"});
    ::unsetenv("SANDLOCK_TEST_SECRET");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_text.find("SANDLOCK_TEST_SECRET"), std::string::npos);
    EXPECT_NE(r.stdout_text.find("CC=gcc\n"), std::string::npos);
    EXPECT_NE(r.stdout_text.find("PATH="), std::string::npos);
}

TEST(Core, EnvWithoutCleanEnvInheritsAndOverrides) {
    ::setenv("SANDLOCK_TEST_VISIBLE", "yes", 1);
    Policy p = system_policy();
    p.env["SANDLOCK_TEST_VISIBLE"] = "overridden";
    Result r = run(p, {"/usr/bin/env"});
    ::unsetenv("SANDLOCK_TEST_VISIBLE");
    EXPECT_NE(r.stdout_text.find("SANDLOCK_TEST_VISIBLE=overridden\n"), std::string::npos);
}

TEST(Core, InheritedFdsAreClosedUnlessCloseFdsIsFalse) {
    int fd = ::open("/dev/null", O_RDONLY);  // deliberately not close-on-exec
    ASSERT_GE(fd, 0);
    int high = ::dup2(fd, 77);
    ::close(fd);
    ASSERT_EQ(high, 77);
    Policy p = system_policy();
    Result closed = python(p, "probe(os.fstat, 77)\n");
    p.close_fds = false;
    Result kept = python(p, "probe(os.fstat, 77)\n");
    ::close(77);
    EXPECT_EQ(closed.exit_code, 0) << closed.stderr_text;
    EXPECT_EQ(closed.stdout_text, "EBADF\n");
    EXPECT_EQ(kept.stdout_text, "ok\n") << kept.stderr_text;
}

TEST(Core, PrivilegedMapsUidZeroInsideAUserNamespace) {
    SANDLOCK_SKIP_UNLESS_AVAILABLE("user namespaces");
    Policy p = system_policy();
    p.privileged = true;
    Result r = run(p, {"/usr/bin/id", "-u"});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.stdout_text, "0\n");
    // Still confined: "root" inside cannot write outside its rules.
    Result w = run(p, {"/bin/sh", "-c", "echo x > /etc/sandlock-should-not-exist"});
    EXPECT_NE(w.exit_code, 0);
    EXPECT_FALSE(std::filesystem::exists("/etc/sandlock-should-not-exist"));
}

TEST(Core, NotPrivilegedKeepsTheCallersUid) {
    Result r = run(system_policy(), {"/usr/bin/id", "-u"});
    EXPECT_EQ(r.stdout_text, std::to_string(::geteuid()) + "\n");
}

TEST(Core, ChrootChangesTheRoot) {
    TempDir root;
    ::chmod(root.path().c_str(), 0755);
    std::filesystem::create_directories(root.path() / "bin");
    std::filesystem::copy_file(static_probe(), root.path() / "bin/probe");
    std::ofstream(root / "marker") << "inside";
    Policy p;
    p.chroot = root.str();
    Result r = run(p, {"/bin/probe", "cat", "/marker"});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "inside");
    Result outside = run(p, {"/bin/probe", "cat", "/etc/hostname"});
    EXPECT_NE(outside.exit_code, 0);
}

TEST(Core, ChrootKeepsTheSeccompLayerWhenThePluginListLeavesItOut) {
    // In a user namespace the command holds CAP_SYS_CHROOT; only seccomp keeps it inside, so an
    // explicit list without seccomp still gets it.
    Policy p = system_policy();
    p.chroot = "/";
    SandboxOptions options;
    options.plugins = {"landlock"};
    Result r = python(p, "print('chroot', end=' '); probe(os.chroot, '/tmp')\n", options);
    EXPECT_EQ(r.stdout_text, "chroot EPERM\n") << r.stderr_text;
}

TEST(Core, PluginFileMustBeNamedAfterThePlugin) {
    TempDir dir;
    std::filesystem::copy_file(test_plugin_dir() + "/fail_stage.so", dir / "renamed.so");
    SandboxOptions options;
    options.plugins = {"seccomp", "renamed"};
    options.plugin_path = {dir.str()};
    try {
        run(system_policy(), {"/bin/true"}, options);
        FAIL() << "expected PluginError";
    } catch (const PluginError& e) {
        EXPECT_NE(std::string(e.what()).find("calls itself 'fail_stage'"), std::string::npos) << e.what();
    }
}

TEST(Core, ChrootToAMissingDirectoryIsRefusedBeforeRunning) {
    Policy p;
    p.chroot = "/no/such/dir";
    EXPECT_THROW(run(p, {"/bin/true"}), PolicyError);
}

TEST(Core, CallReturnsTheFunctionsValue) {
    CallResult r = Sandbox(system_policy()).call([] { return std::to_string(6 * 7); });
    ASSERT_TRUE(r.value.has_value()) << r.error;
    EXPECT_EQ(*r.value, "42");
}

TEST(Core, CallReportsTheFunctionsException) {
    CallResult r = Sandbox(system_policy()).call([]() -> std::string { throw std::runtime_error("boom"); });
    EXPECT_FALSE(r.value.has_value());
    EXPECT_EQ(r.error, "boom");
}

TEST(Core, CallRunsConfined) {
    Policy p;
    p.fs_readable = {"/usr"};
    CallResult r = Sandbox(p).call([] {
        std::ifstream in("/etc/passwd");
        return std::string(in ? "opened" : "denied");
    });
    ASSERT_TRUE(r.value.has_value()) << r.error;
    EXPECT_EQ(*r.value, "denied");
}

TEST(Core, CallSeesTheSandboxsEnvironment) {
    ::setenv("SANDLOCK_TEST_SECRET", "hunter2", 1);
    Policy p = system_policy();
    p.clean_env = true;
    p.env = {{"GREETING", "hi"}};
    CallResult r = Sandbox(p).call([] {
        const char* secret = std::getenv("SANDLOCK_TEST_SECRET");
        const char* greeting = std::getenv("GREETING");
        return std::string(secret ? secret : "-") + " " + (greeting ? greeting : "-");
    });
    ::unsetenv("SANDLOCK_TEST_SECRET");
    ASSERT_TRUE(r.value.has_value()) << r.error;
    EXPECT_EQ(*r.value, "- hi");
}

TEST(Core, CallThatDiesReportsHow) {
    CallResult r = Sandbox(system_policy()).call([]() -> std::string { std::abort(); });
    EXPECT_FALSE(r.value.has_value());
    EXPECT_NE(r.error.find("signal"), std::string::npos) << r.error;
}

TEST(Core, ChildStageFailureNamesStagePluginAndErrno) {
    try {
        run(system_policy(), {"/bin/sh", "-c", "echo RAN"}, with_test_plugins({"landlock", "seccomp", "fail_stage"}));
        FAIL() << "expected ConfinementError";
    } catch (const ConfinementError& e) {
        EXPECT_STREQ(e.what(), "stage 3 (rlimits) failed in plugin fail_stage: Operation not permitted");
    }
}

TEST(Core, APluginThatAbortsTheRunKillsTheSandboxAndFailsIt) {
    const auto start = std::chrono::steady_clock::now();
    try {
        run(system_policy(), {"/bin/sleep", "30"}, with_test_plugins({"landlock", "seccomp", "aborts_run"}));
        FAIL() << "expected ConfinementError";
    } catch (const ConfinementError& e) {
        EXPECT_STREQ(e.what(), "the sandbox was killed: aborts_run: lost track on purpose");
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10)) << "the sleep was not killed";
}

TEST(Core, PluginOfAnotherAbiIsRefusedByNameBeforeAnyOfItsCodeRuns) {
    TempDir dir;
    const std::string mark = dir / "constructor-ran";
    ::setenv("SANDLOCK_TEST_CONSTRUCTOR_MARK", mark.c_str(), 1);
    try {
        run(Policy{}, {"/bin/true"}, with_test_plugins({"abi_mismatch"}));
        FAIL() << "expected PluginError";
    } catch (const PluginError& e) {
        std::string message = e.what();
        EXPECT_NE(message.find("abi_mismatch.so"), std::string::npos) << message;
        EXPECT_NE(message.find("ABI 999"), std::string::npos) << message;
    }
    // Listings read the note too: nothing is loaded.
    for (const PluginInfo& p : discover_plugins({test_plugin_dir()}))
        if (p.name == "abi_mismatch") {
            EXPECT_NE(p.error.find("ABI 999"), std::string::npos) << p.error;
        }
    ::unsetenv("SANDLOCK_TEST_CONSTRUCTOR_MARK");
    EXPECT_FALSE(std::filesystem::exists(mark)) << "the refused plugin's constructor ran";
}

TEST(Core, TwoPluginsOwningOneFieldAreRefusedNamingBoth) {
    SandboxOptions options;
    options.plugin_path = {(std::filesystem::path(test_plugin_dir()) / "../test-plugins-conflict").lexically_normal().string()};
    Policy p = system_policy();
    p.max_memory = 64u << 20;
    try {
        run(p, {"/bin/true"}, options);
        FAIL() << "expected PluginError";
    } catch (const PluginError& e) {
        std::string message = e.what();
        EXPECT_NE(message.find("max_memory"), std::string::npos) << message;
        EXPECT_NE(message.find("notif"), std::string::npos) << message;
        EXPECT_NE(message.find("owns_max_memory"), std::string::npos) << message;
    }
}

TEST(Core, ListingShowsWhoOwnsAFieldTwice) {
    const std::string conflict_dir =
        (std::filesystem::path(test_plugin_dir()) / "../test-plugins-conflict").lexically_normal().string();
    FILE* out = ::popen((sandlock_bin() + " --plugin-path " + conflict_dir + " plugins").c_str(), "r");
    ASSERT_NE(out, nullptr);
    std::string text;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, out)) > 0;) text.append(buffer, n);
    ::pclose(out);
    EXPECT_NE(text.find("conflict: max_memory is owned by"), std::string::npos) << text;
    EXPECT_NE(text.find("owns_max_memory"), std::string::npos) << text;
}

TEST(Core, UnknownPluginListsWhatWasFound) {
    try {
        run(Policy{}, {"/bin/true"}, with_test_plugins({"no_such_plugin"}));
        FAIL() << "expected PluginError";
    } catch (const PluginError& e) {
        std::string message = e.what();
        EXPECT_NE(message.find("unknown plugin 'no_such_plugin'"), std::string::npos) << message;
        EXPECT_NE(message.find("landlock"), std::string::npos) << message;
        EXPECT_NE(message.find("searched:"), std::string::npos) << message;
    }
}

TEST(Core, FieldWhosePluginIsNotEnabledIsRefused) {
    Policy p = system_policy();
    try {
        run(p, {"/bin/true"}, with_test_plugins({"seccomp"}));
        FAIL() << "expected PolicyError";
    } catch (const PolicyError& e) {
        EXPECT_STREQ(e.what(), "fs_readable needs plugin 'landlock', which is not enabled; add it: --plugins=seccomp,landlock");
    }
}

TEST(Core, PluginOptionsArriveAsJson) {
    Policy p = system_policy();
    p.plugin_options["reads_options"] = R"({"greeting":"hello"})";
    Result r = run(p, {"/bin/true"}, with_test_plugins({"landlock", "seccomp", "reads_options"}));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stderr_text, "greeting: hello\n");
}

TEST(Core, PluginOptionsErrorsComeFromThePlugin) {
    Policy p = system_policy();
    p.plugin_options["reads_options"] = R"({"greeting":1})";
    EXPECT_THROW(run(p, {"/bin/true"}, with_test_plugins({"landlock", "seccomp", "reads_options"})), PolicyError);
}

TEST(Core, OptionsForAPluginNotEnabledAreRefused) {
    Policy p = system_policy();
    p.plugin_options["reads_options"] = R"({"greeting":"hello"})";
    EXPECT_THROW(run(p, {"/bin/true"}), PolicyError);
}

}  // namespace
}  // namespace sandlock::test
