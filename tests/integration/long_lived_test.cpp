// Long-lived sandboxes (issue 8): exec / wait, shared limits, pause / resume, update, the
// destructor's clean-up — real sandboxes against the real kernel.
#include "feature_check.hpp"
#include "process_scan.hpp"
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace sandlock::test {
namespace {

using namespace std::chrono_literals;

Policy limited_policy() {
    Policy p = system_policy();
    p.max_processes = 8;
    p.max_memory = 512u << 20;
    return p;
}

// user + system CPU seconds of `pid` and everything it waited for.
double cpu_seconds(pid_t pid) {
    const std::string stat = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
    if (stat.rfind(')') == std::string::npos) return 0;
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;
    long long utime = 0, stime = 0;
    fields >> utime >> stime;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

TEST(LongLived, ExecAndWaitCaptureOutput) {
    Sandbox sb(system_policy());
    Process& echo = sb.exec({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_GT(echo.pid(), 0);
    Result r = sb.wait(20s);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.stdout_text, "out\n");
    EXPECT_EQ(r.stderr_text, "err\n");
    EXPECT_FALSE(echo.running());
    EXPECT_EQ(echo.wait().exit_code, 3);
}

// A hook that fails once the sandbox exists: the start fails, and the sandbox's init and
// spawner are killed and reaped rather than left running or as zombies of the caller.
TEST(LongLived, AFailingAfterForkHookLeavesNothingBehind) {
    SandboxOptions options;
    options.plugins = {"landlock", "seccomp", "fails_after_fork"};
    options.plugin_path = {test_plugin_dir()};
    Sandbox sb(system_policy(), options);
    try {
        sb.exec({"/bin/true"});
        ADD_FAILURE() << "the sandbox started";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot start on purpose"), std::string::npos) << e.what();
    }
    siginfo_t info{};
    EXPECT_EQ(::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT), -1) << "a child is left: " << info.si_pid;
    EXPECT_EQ(errno, ECHILD);
}

TEST(LongLived, SeveralExecsRunInOneSandbox) {
    TempDir dir;
    Policy policy = system_policy();
    policy.fs_writable = {dir.str()};
    Sandbox sb(policy);
    // The first writes through a fifo-free handshake: the second sees the first's file.
    Process& first = sb.exec({"/bin/sh", "-c", "echo one > " + dir / "a"});
    EXPECT_EQ(first.wait(20s).exit_code, 0);
    Process& second = sb.exec({"/bin/cat", dir / "a"});
    EXPECT_EQ(second.wait(20s).stdout_text, "one\n");
    // Confinement holds for every exec: outside fs_writable stays read-only.
    Process& third = sb.exec({"/bin/sh", "-c", "echo x > /etc/sandlock-test-nope"});
    EXPECT_NE(third.wait(20s).exit_code, 0);
    EXPECT_FALSE(std::filesystem::exists("/etc/sandlock-test-nope"));
}

TEST(LongLived, CommandNotFoundIsTheProcessResult) {
    Sandbox sb(system_policy());
    Process& p = sb.exec({"no-such-command-sandlock"});
    Result r = p.wait(20s);
    EXPECT_EQ(r.exit_code, 127);
    EXPECT_NE(r.error.find("command not found"), std::string::npos) << r.error;
}

TEST(LongLived, ExecsShareMaxProcesses) {
    Policy policy = system_policy();
    policy.max_processes = 2;
    Sandbox sb(policy);
    Process& a = sb.exec({"/bin/sleep", "30"});
    Process& b = sb.exec({"/bin/sleep", "30"});
    try {
        sb.exec({"/bin/sleep", "30"});
        ADD_FAILURE() << "a third process started under max_processes = 2";
    } catch (const SandboxError& e) {
        EXPECT_NE(std::string(e.what()).find("max_processes"), std::string::npos) << e.what();
    }
    a.kill();
    EXPECT_EQ(a.wait(20s).term_signal, SIGKILL);
    // The slot is free again.
    Process& c = sb.exec({"/bin/true"});
    EXPECT_EQ(c.wait(20s).exit_code, 0);
    b.kill();
}

TEST(LongLived, ProcessWaitTimeoutKillsIt) {
    Sandbox sb(system_policy());
    Process& p = sb.exec({"/bin/sleep", "30"});
    Result r = p.wait(300ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.exit_code, 124);
}

// A command can stop the spawner that started it (its parent, same uid and domain): sandlock
// continues it before every request, so exec and kill still work.
TEST(LongLived, ACommandThatStopsTheSpawnerHoldsNothingUp) {
    Sandbox sb(system_policy());
    Process& saboteur = sb.exec({"/bin/sh", "-c", "kill -STOP $PPID; sleep 30"});
    std::this_thread::sleep_for(200ms);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(sb.exec({"/bin/true"}).wait(20s).exit_code, 0);
    EXPECT_TRUE(saboteur.wait(300ms).timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(LongLived, PauseStopsCpuTimeOfTheWholeTree) {
    Sandbox sb(limited_policy());
    // A busy loop, and a double-forked busy daemon that left the process group.
    Process& p = sb.exec({"/bin/sh", "-c",
                          "(setsid sh -c 'while :; do :; done' &) ; while :; do :; done"});
    std::this_thread::sleep_for(300ms);
    auto tree_cpu = [&] {
        double total = 0;
        for (pid_t pid : processes_in_namespace_of(p.pid(), "sh")) total += cpu_seconds(pid);
        return total;
    };
    ASSERT_EQ(processes_in_namespace_of(p.pid(), "sh").size(), 2u);
    sb.pause();
    const double before = tree_cpu();
    std::this_thread::sleep_for(500ms);
    const double after = tree_cpu();
    EXPECT_LT(after - before, 0.02) << "CPU time went on while paused";
    sb.resume();
    std::this_thread::sleep_for(300ms);
    EXPECT_GT(tree_cpu() - after, 0.1) << "the tree did not run again after resume";
}

// A process of the sandbox that has the kernel send it SIGCONT (a timer) and then continues
// everything else cannot undo a pause: the sandbox's cgroup is frozen, not signalled.
TEST(LongLived, PauseHoldsAgainstASigcontTheKernelSends) {
    SANDLOCK_SKIP_UNLESS_AVAILABLE("cgroup freezer");
    Policy policy = system_policy();
    policy.fs_readable.push_back(bin_dir().string());
    Sandbox sb(policy);
    Process& busy = sb.exec({"/bin/sh", "-c", "while :; do :; done"});
    sb.exec({sigcont_timer()});
    std::this_thread::sleep_for(200ms);
    sb.pause();
    const double before = cpu_seconds(busy.pid());
    std::this_thread::sleep_for(600ms);
    const double after = cpu_seconds(busy.pid());
    EXPECT_LT(after - before, 0.02) << "a timer's SIGCONT thawed the paused sandbox";
    sb.resume();
    std::this_thread::sleep_for(200ms);
    EXPECT_GT(cpu_seconds(busy.pid()) - after, 0.05);
}

TEST(LongLived, PauseWithNothingRunningThrows) {
    Sandbox sb(system_policy());
    EXPECT_THROW(sb.pause(), SandboxError);
    Process& p = sb.exec({"/bin/true"});
    p.wait(20s);
    try {
        sb.pause();
        ADD_FAILURE() << "pause with nothing running did not throw";
    } catch (const SandboxError& e) {
        EXPECT_NE(std::string(e.what()).find("no running process"), std::string::npos) << e.what();
    }
}

TEST(LongLived, UpdateLowersMaxProcessesWithoutKilling) {
    Policy policy = system_policy();
    policy.max_processes = 4;
    Sandbox sb(policy);
    Process& a = sb.exec({"/bin/sleep", "30"});
    Process& b = sb.exec({"/bin/sleep", "30"});
    sb.update({.max_processes = 1});
    EXPECT_TRUE(a.running());
    EXPECT_TRUE(b.running());
    EXPECT_THROW(sb.exec({"/bin/true"}), SandboxError);
    EXPECT_EQ(sb.policy().max_processes, 1u);
    sb.update({.max_processes = 4});
    EXPECT_EQ(sb.exec({"/bin/true"}).wait(20s).exit_code, 0);
}

TEST(LongLived, UpdateRaisesMaxMemory) {
    Policy policy = system_policy();
    policy.max_memory = 64u << 20;
    Sandbox sb(policy);
    const std::string grab = "import sys; b = bytearray(100 << 20); print('ok')";
    Process& hold = sb.exec({"/bin/sleep", "30"});
    Result refused = sb.exec({kPython, "-c", grab}).wait(20s);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.stderr_text.find("MemoryError"), std::string::npos) << refused.stderr_text;
    sb.update({.max_memory = 512u << 20});
    Result allowed = sb.exec({kPython, "-c", grab}).wait(20s);
    EXPECT_EQ(allowed.stdout_text, "ok\n") << allowed.stderr_text;
    hold.kill();
}

TEST(LongLived, UpdateRefusesALimitTheSandboxStartedWithout) {
    Sandbox sb(system_policy());
    sb.exec({"/bin/sleep", "30"});
    EXPECT_THROW(sb.update({.max_memory = 64u << 20}), PolicyError);
    EXPECT_THROW(sb.update({.max_cpu = 0}), PolicyError);
}

TEST(LongLived, DestructorLeavesNothingBehind) {
    std::vector<pid_t> sleepers;
    {
        Sandbox sb(system_policy());
        Process& p = sb.exec({"/bin/sh", "-c", "(setsid sleep 60 &); sleep 60"});
        std::this_thread::sleep_for(200ms);
        sleepers = processes_in_namespace_of(p.pid(), "sleep");
        ASSERT_EQ(processes_in_namespace_of(p.pid(), "sleep").size(), 2u);
    }
    for (pid_t pid : sleepers) EXPECT_NE(::kill(pid, 0), 0) << pid << " outlived its sandbox";
}

TEST(LongLived, CloseEndsTheSandboxAndExecStartsAFreshOne) {
    Sandbox sb(system_policy());
    EXPECT_THROW(sb.wait(), SandboxError);
    Process& daemon = sb.exec({"/bin/sleep", "60"});
    sb.close();
    EXPECT_FALSE(daemon.running());
    EXPECT_EQ(daemon.wait().term_signal, SIGKILL);  // its result outlives the sandbox
    EXPECT_FALSE(sb.running());
    EXPECT_EQ(sb.exec({"/bin/true"}).wait(20s).exit_code, 0);
}

TEST(LongLived, TwoSandboxesFromTwoThreads) {
    auto work = [](int n, int* out) {
        Sandbox sb(limited_policy());
        Result r = sb.exec({"/bin/sh", "-c", "echo " + std::to_string(n)}).wait(20s);
        *out = std::stoi(r.stdout_text);
    };
    int a = 0, b = 0;
    std::thread ta(work, 1, &a), tb(work, 2, &b);
    ta.join();
    tb.join();
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
}

}  // namespace
}  // namespace sandlock::test

namespace sandlock::test {
namespace {

using namespace std::chrono_literals;

// ---- Nested sandboxes ----------------------------------------------------------------------

TEST(Nested, NarrowsTheFilesystemForItsCommandsOnly) {
    TempDir dir;
    Policy parent = system_policy();
    parent.fs_writable = {dir.str()};
    Sandbox sb(parent);
    Sandbox child = sb.sandbox(system_policy());  // the same system paths, without the directory
    Result denied = child.run({"/bin/sh", "-c", "echo x > " + dir / "child"}, 20s);
    EXPECT_NE(denied.exit_code, 0);
    EXPECT_NE(denied.stderr_text.find("Permission denied"), std::string::npos) << denied.stderr_text;
    EXPECT_FALSE(std::filesystem::exists(dir / "child"));
    EXPECT_EQ(child.run({"/bin/cat", "/etc/hostname"}, 20s).exit_code, 0);  // what it kept works
    EXPECT_EQ(sb.exec({"/bin/sh", "-c", "echo x > " + dir / "parent"}).wait(20s).exit_code, 0);
    EXPECT_TRUE(std::filesystem::exists(dir / "parent"));
}

TEST(Nested, AddsItsOwnSyscallList) {
    TempDir dir;
    Policy parent = system_policy();
    parent.fs_writable = {dir.str()};
    Sandbox sb(parent);
    Policy narrower = parent;
    narrower.deny_syscalls = std::vector<std::string>{"@default", "mkdir", "mkdirat"};
    Sandbox child = sb.sandbox(narrower);
    Result r = child.run({"/bin/mkdir", dir / "by-child"}, 20s);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.stderr_text.find("Operation not permitted"), std::string::npos) << r.stderr_text;
    EXPECT_EQ(sb.exec({"/bin/mkdir", dir / "by-parent"}).wait(20s).exit_code, 0);
}

TEST(Nested, RefusesWhatTheParentDoesNotHave) {
    TempDir dir;
    Policy parent = system_policy();
    parent.max_memory = 256u << 20;
    parent.net_connect = {{443, 443}};
    Sandbox sb(parent);
    auto refusal = [&](Policy child) -> std::string {
        try {
            sb.sandbox(std::move(child));
        } catch (const PolicyError& e) {
            return e.what();
        }
        return "accepted";
    };
    Policy path = system_policy();
    path.fs_writable = {dir.str()};
    EXPECT_NE(refusal(path).find("fs_writable: \"" + dir.str() + "\""), std::string::npos) << refusal(path);
    Policy read = system_policy();
    read.fs_readable.push_back("/home");
    EXPECT_NE(refusal(read).find("fs_readable: \"/home\""), std::string::npos) << refusal(read);
    Policy port = system_policy();
    port.net_connect = {{80, 80}};
    EXPECT_NE(refusal(port).find("net_connect: \"80\""), std::string::npos) << refusal(port);
    Policy memory = system_policy();
    memory.max_memory = 512u << 20;
    EXPECT_NE(refusal(memory).find("max_memory"), std::string::npos) << refusal(memory);
    Policy root = system_policy();
    root.chroot = "/";
    EXPECT_NE(refusal(root).find("chroot"), std::string::npos) << refusal(root);
    Policy same_port = system_policy();
    same_port.net_connect = {{443, 443}};
    EXPECT_EQ(refusal(same_port), "accepted");
}

// A nested process re-adds its path rules at each exec: a symlink its sandbox swapped into one
// of those paths earlier must not carry a rule to where it points.
TEST(Nested, ASymlinkSwappedIntoARulePathWidensNothing) {
    TempDir dir;
    std::filesystem::create_directories(dir / "w/a/b");
    std::filesystem::create_directories(dir / "secret/b");
    { std::ofstream(dir / "secret/b/file") << "secret\n"; }
    Policy parent = system_policy();
    parent.fs_writable = {dir.str()};
    Sandbox sb(parent);
    Policy narrow = system_policy();
    narrow.fs_writable = {dir / "w"};
    narrow.fs_readable.push_back(dir / "w/a/b");
    Sandbox child = sb.sandbox(narrow);
    EXPECT_NE(child.run({"/bin/cat", dir / "secret/b/file"}, 20s).exit_code, 0);
    // The nested sandbox swaps a directory on its rule's path for a symlink to the secret.
    Result swapped = child.run({"/bin/sh", "-c", "mv " + dir / "w/a" + " " + dir / "w/a.real && ln -s " +
                                                     dir / "secret" + " " + dir / "w/a"},
                               20s);
    ASSERT_EQ(swapped.exit_code, 0) << swapped.stderr_text;
    Result r = child.run({"/bin/cat", dir / "w/a/b/file"}, 20s);
    EXPECT_NE(r.stdout_text, "secret\n");
    EXPECT_NE(r.exit_code, 0);
}

TEST(Nested, StartsFromItsParentsEnvironment) {
    ::setenv("SANDLOCK_TEST_SECRET", "hunter2", 1);
    Policy parent = system_policy();
    parent.clean_env = true;
    parent.env = {{"FROM_PARENT", "1"}};
    Sandbox sb(parent);
    Policy narrow = system_policy();  // clean_env left false: it cannot bring the secret back
    narrow.env = {{"FROM_CHILD", "2"}};
    Result r = sb.sandbox(narrow).run({"/bin/sh", "-c", "echo \"[$SANDLOCK_TEST_SECRET] $FROM_PARENT $FROM_CHILD\""}, 20s);
    ::unsetenv("SANDLOCK_TEST_SECRET");
    EXPECT_EQ(r.stdout_text, "[] 1 2\n") << r.stderr_text;
}

TEST(Nested, RunsCommandsOnlyAndClosesItsOwn) {
    Sandbox sb(system_policy());
    Sandbox child = sb.sandbox(system_policy());
    EXPECT_THROW(child.call([] { return std::string("x"); }), SandboxError);
    EXPECT_THROW(child.pause(), SandboxError);
    EXPECT_THROW(child.sandbox(system_policy()), SandboxError);
    Process& sleeper = child.exec({"/bin/sh", "-c", "sleep 60 & sleep 60"});
    Process& parents = sb.exec({"/bin/sleep", "60"});
    std::this_thread::sleep_for(100ms);
    const auto sleepers = processes_in_namespace_of(sleeper.pid(), "sleep");
    ASSERT_EQ(sleepers.size(), 3u);
    child.close();
    EXPECT_FALSE(sleeper.running());
    EXPECT_TRUE(parents.running());  // the parent goes on
    EXPECT_EQ(processes_in_namespace_of(parents.pid(), "sleep").size(), 1u) << "the nested group outlived close()";
}

// A nested sandbox's limits, served by the parent's supervisor for the nested subtree only.

// How many of 4 children python3 could fork at once (each sleeps until killed), and how many
// forks failed with EAGAIN: "started refused".
const std::string kForkFour =
    "import errno, os, time\n"
    "kids, refused = [], 0\n"
    "for i in range(4):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            time.sleep(30); os._exit(0)\n"
    "        kids.append(pid)\n"
    "    except OSError as e:\n"
    "        refused += e.errno == errno.EAGAIN\n"
    "print(len(kids), refused)\n"
    "for k in kids:\n"
    "    os.kill(k, 9); os.waitpid(k, 0)\n";

// Allocates and touches `mib` MiB: "ok" or "MemoryError".
std::string allocate(int mib) {
    return "try:\n    b = bytearray(" + std::to_string(mib) +
           " << 20); print('ok')\nexcept MemoryError:\n    print('MemoryError')\n";
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

TEST(NestedLimits, MaxProcessesCountsTheNestedSubtreeOnly) {
    Policy parent = system_policy();
    parent.max_processes = 16;
    Sandbox sb(parent);
    Policy narrow = system_policy();
    narrow.max_processes = 2;
    Sandbox child = sb.sandbox(narrow);
    Result nested = child.run({kPython, "-c", kForkFour}, 20s);
    EXPECT_EQ(trimmed(nested.stdout_text), "1 3") << nested.stderr_text;  // python3 and one child
    Result parents = sb.exec({kPython, "-c", kForkFour}).wait(20s);
    EXPECT_EQ(trimmed(parents.stdout_text), "4 0") << parents.stderr_text;
}

TEST(NestedLimits, TwoExecsOfOneNestedSandboxShareItsProcessLimit) {
    Policy parent = system_policy();
    parent.max_processes = 16;
    Sandbox sb(parent);
    Policy narrow = system_policy();
    narrow.max_processes = 2;
    Sandbox child = sb.sandbox(narrow);
    Process& first = child.exec({"/bin/sleep", "30"});
    Result second = child.run({kPython, "-c", kForkFour}, 20s);
    EXPECT_EQ(trimmed(second.stdout_text), "0 4") << second.stderr_text;  // the sleep and python3 fill it
    child.exec({"/bin/sleep", "30"});
    try {
        child.exec({"/bin/sleep", "30"});
        ADD_FAILURE() << "a third command started in a nested sandbox of max_processes = 2";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("max_processes: the nested sandbox already runs 2 of its 2"),
                  std::string::npos)
            << e.what();
    }
    first.kill();
    first.wait(20s);
    EXPECT_EQ(trimmed(sb.exec({kPython, "-c", kForkFour}).wait(20s).stdout_text), "4 0");
}

TEST(NestedLimits, MaxMemoryIsTheNestedSubtreesOwn) {
    Policy parent = system_policy();
    parent.max_memory = 512u << 20;
    Sandbox sb(parent);
    Policy narrow = system_policy();
    narrow.max_memory = 64u << 20;
    Sandbox child = sb.sandbox(narrow);
    Result nested = child.run({kPython, "-c", allocate(100)}, 20s);
    EXPECT_EQ(trimmed(nested.stdout_text), "MemoryError") << nested.stderr_text;
    EXPECT_EQ(trimmed(child.run({kPython, "-c", allocate(16)}, 20s).stdout_text), "ok");
    Result parents = sb.exec({kPython, "-c", allocate(100)}).wait(20s);
    EXPECT_EQ(trimmed(parents.stdout_text), "ok") << parents.stderr_text;
}

TEST(NestedLimits, TwoExecsOfOneNestedSandboxShareItsMemory) {
    Policy parent = system_policy();
    parent.max_memory = 512u << 20;
    Sandbox sb(parent);
    Policy narrow = system_policy();
    narrow.max_memory = 96u << 20;
    Sandbox child = sb.sandbox(narrow);
    Process& holder =
        child.exec({kPython, "-c", "b = bytearray(48 << 20); print('held', flush=True)\nimport time; time.sleep(30)"});
    std::this_thread::sleep_for(1s);  // it holds its 48 MiB
    EXPECT_EQ(trimmed(child.run({kPython, "-c", allocate(48)}, 20s).stdout_text), "MemoryError");
    EXPECT_EQ(trimmed(sb.exec({kPython, "-c", allocate(48)}).wait(20s).stdout_text), "ok");
    holder.kill();
    holder.wait(20s);
    EXPECT_EQ(trimmed(child.run({kPython, "-c", allocate(48)}, 20s).stdout_text), "ok");
}

TEST(NestedLimits, WhatTheSupervisorCannotServeIsRefusedAtExec) {
    Policy parent = system_policy();
    parent.max_processes = 16;
    parent.max_cpu = 100;
    Sandbox sb(parent);
    auto exec_refusal = [&](const Policy& narrow) -> std::string {
        Sandbox child = sb.sandbox(narrow);
        try {
            child.exec({"/bin/true"});
        } catch (const std::exception& e) {
            return e.what();
        }
        return "started";
    };
    Policy cpu = system_policy();
    cpu.max_cpu = 50;
    EXPECT_NE(exec_refusal(cpu).find("max_cpu: a nested sandbox cannot have a CPU share of its own yet"),
              std::string::npos)
        << exec_refusal(cpu);
    Policy memory = system_policy();
    memory.max_memory = 64u << 20;
    EXPECT_NE(exec_refusal(memory).find("max_memory: the parent sandbox has no memory limit"), std::string::npos)
        << exec_refusal(memory);
    EXPECT_EQ(sb.exec({"/bin/true"}).wait(20s).exit_code, 0);  // the parent goes on
}

}  // namespace
}  // namespace sandlock::test
