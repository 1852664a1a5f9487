// The notif layer's live control: limits changed while the sandbox runs (and what is refused),
// the counters of status(), the spawner of a long-lived sandbox (machinery, not a member), and
// the CPU throttle keeping its hands off a paused sandbox. Real processes stand in for the
// sandbox's: forked here, in a PID namespace of their own where one can be made.
#include "cpu/cpu_throttle.hpp"
#include "memory/memory_limit.hpp"
#include "net/net_allow.hpp"
#include "processes/process_limit.hpp"
#include "processes/process_table.hpp"
#include "procfs/proc_files.hpp"

#include "fake_host.hpp"
#include "notif_modules.hpp"
#include "feature_check.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

namespace sandlock::notif {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t MiB = 1 << 20;

// The configured modules of one test, with the table their handlers went into.
using Modules = test_support::Modules;

std::string refusal(const BuiltinModule& module, const Policy& policy) {
    try {
        module.check_update(policy);
    } catch (const sdk::Error& e) {
        return e.what();
    }
    return "";
}

boost::json::object status_of(const BuiltinModule& module) {
    boost::json::object out;
    module.status(out);
    return out;
}

// mmap is routed under two conditions (private, droppable): its handler must still run once
// per call, or each call would be judged, and charged, twice.
TEST(NotifMemoryLimit, EachSupervisedSyscallHasOneHandler) {
    Modules m;
    Policy policy;
    policy.max_memory = 512 * MiB;
    auto memory = m.configure<MemoryLimit>(policy);
    std::vector<int> syscalls;
    for (const auto& entry : m.table.entries()) syscalls.push_back(entry.syscall_nr);
    EXPECT_EQ(std::count(syscalls.begin(), syscalls.end(), SYS_mmap), 1);
    std::sort(syscalls.begin(), syscalls.end());
    EXPECT_EQ(std::adjacent_find(syscalls.begin(), syscalls.end()), syscalls.end());
    // The same handler added again another way is a mistake, refused.
    const sdk::NotifHandlerEntry& mmap_entry = *std::find_if(m.table.entries().begin(), m.table.entries().end(),
                                                              [](const auto& e) { return e.syscall_nr == SYS_mmap; });
    EXPECT_THROW(m.table.add(SYS_mmap, mmap_entry.fn, mmap_entry.user, HandlerTable::Runs::MayWait), sdk::Error);
}

TEST(NotifLiveUpdate, ALimitTheSandboxStartedWithoutCannotBeSet) {
    Modules m;
    const Policy none;
    auto memory = m.configure<MemoryLimit>(none);
    auto processes = m.configure<ProcessLimit>(none);
    auto cpu = m.configure<CpuThrottle>(none);
    Policy asked;
    asked.max_memory = 256 * MiB;
    asked.max_processes = 8;
    asked.max_cpu = 50;
    EXPECT_EQ(refusal(*memory, asked),
              "max_memory: cannot set 256 MiB: this sandbox started without a memory limit, so none can be set "
              "while it runs (start it with one, e.g. -m 1G)");
    EXPECT_EQ(refusal(*processes, asked),
              "max_processes: cannot set 8: this sandbox started without a process limit, so none can be set "
              "while it runs (start it with one, e.g. -P 64)");
    EXPECT_EQ(refusal(*cpu, asked),
              "max_cpu: cannot set 50%: this sandbox started without a CPU limit, so none can be set while it "
              "runs (start it with one, e.g. -c 50%)");
    // Nothing asked, nothing refused.
    EXPECT_EQ(refusal(*memory, none), "");
    EXPECT_EQ(refusal(*processes, none), "");
    EXPECT_EQ(refusal(*cpu, none), "");
}

TEST(NotifLiveUpdate, ALimitCannotBeRemovedOrMadeInvalid) {
    Modules m;
    Policy started;
    started.max_memory = 512 * MiB;
    started.max_processes = 10;
    started.max_cpu = 40;
    auto memory = m.configure<MemoryLimit>(started);
    auto processes = m.configure<ProcessLimit>(started);
    auto cpu = m.configure<CpuThrottle>(started);
    const Policy removed;
    EXPECT_EQ(refusal(*memory, removed),
              "max_memory: this sandbox started with a limit of 512 MiB, which cannot be removed while it runs "
              "(give a larger one instead, e.g. -m 64G)");
    EXPECT_NE(refusal(*processes, removed).find("max_processes: this sandbox started with a limit of 10, which "
                                                "cannot be removed"),
              std::string::npos);
    EXPECT_NE(refusal(*cpu, removed).find("max_cpu: this sandbox started with a limit of 40%, which cannot be removed"),
              std::string::npos);
    Policy invalid = started;
    invalid.max_memory = 0;
    invalid.max_processes = 0;
    invalid.max_cpu = 101;
    EXPECT_NE(refusal(*memory, invalid).find("max_memory: 0 leaves nothing"), std::string::npos);
    EXPECT_NE(refusal(*processes, invalid).find("max_processes: 0 would not"), std::string::npos);
    EXPECT_NE(refusal(*cpu, invalid).find("max_cpu: 101% is not a share of one core"), std::string::npos);
}

TEST(NotifLiveUpdate, NewLimitsShowInStatus) {
    Modules m;
    Policy policy;
    policy.max_memory = 512 * MiB;
    policy.max_processes = 10;
    policy.max_cpu = 40;
    std::vector<std::unique_ptr<BuiltinModule>> modules;
    modules.push_back(m.configure<MemoryLimit>(policy));
    modules.push_back(m.configure<ProcessLimit>(policy));
    modules.push_back(m.configure<CpuThrottle>(policy));
    policy.max_memory = 2048 * MiB;
    policy.max_processes = 3;
    policy.max_cpu = 100;
    update_modules(modules, policy);
    boost::json::object out;
    for (const auto& module : modules) module->status(out);
    EXPECT_EQ(out.at("max_memory").as_uint64(), 2048 * MiB);
    EXPECT_EQ(out.at("memory_bytes").as_uint64(), 0u);  // nothing measured yet
    EXPECT_EQ(out.at("max_processes").as_uint64(), 3u);
    EXPECT_EQ(out.at("max_cpu_percent").as_uint64(), 100u);
    EXPECT_FALSE(out.at("cpu_throttled").as_bool());
}

TEST(NotifLiveUpdate, ARefusalChangesNothingInAnyModule) {
    Modules m;
    Policy policy;
    policy.max_memory = 512 * MiB;
    std::vector<std::unique_ptr<BuiltinModule>> modules;
    modules.push_back(m.configure<MemoryLimit>(policy));
    modules.push_back(m.configure<ProcessLimit>(policy));  // started without max_processes
    Policy asked = policy;
    asked.max_memory = 1024 * MiB;
    asked.max_processes = 5;
    EXPECT_THROW(update_modules(modules, asked), sdk::Error);
    EXPECT_EQ(status_of(*modules[0]).at("max_memory").as_uint64(), 512 * MiB);
    EXPECT_FALSE(status_of(*modules[1]).contains("max_processes"));
}

TEST(NotifLiveUpdate, TheHostAllowlistIsFixed) {
    Modules m;
    Policy policy;
    policy.net_allow_hosts = {"localhost"};
    auto net = std::make_unique<NetAllowModule>();
    net->configure({policy, m.options, m.host, m.table});
    EXPECT_EQ(refusal(*net, policy), "");
    Policy changed = policy;
    changed.net_allow_hosts.push_back("example.org");
    EXPECT_EQ(refusal(*net, changed),
              "net_allow_hosts: cannot change to [localhost, example.org] while the sandbox runs (it started with "
              "[localhost]); start a new sandbox with the new list");
}

// Processes standing in for a long-lived sandbox: a spawner whose children are the commands,
// either under an init of their own PID namespace or (the fallback) as our direct child.
class FakeSandbox {
public:
    // Returns false when the processes could not be started.
    bool start(bool namespaced, int commands) {
        int ready[2];
        if (::pipe(ready) != 0) return false;
        // A user namespace too, so that it works unprivileged (as sandlock's own sandboxes do).
        const long pid = namespaced ? ::syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, 0)
                                    : ::fork();
        if (pid < 0) {
            ::close(ready[0]);
            ::close(ready[1]);
            return false;
        }
        if (pid == 0) {
            ::close(ready[0]);
            if (namespaced) {
                // The init: starts the spawner, then waits to be killed (which ends the namespace).
                if (::fork() == 0) run_spawner(commands, ready[1]);
                for (;;) ::pause();
            }
            run_spawner(commands, ready[1]);
        }
        ::close(ready[1]);
        root_ = static_cast<pid_t>(pid);
        pollfd p{ready[0], POLLIN, 0};
        char byte = 0;
        const bool ok = ::poll(&p, 1, 5000) == 1 && ::read(ready[0], &byte, 1) == 1;
        ::close(ready[0]);
        if (!ok) return false;
        spawner_ = namespaced ? children_of(root_).at(0) : root_;
        commands_ = children_of(spawner_);
        return commands_.size() == static_cast<std::size_t>(commands);
    }
    ~FakeSandbox() {
        // The spawner reaps its commands; killed first, none is left a zombie behind us.
        for (std::size_t i = 0; i < commands_.size(); ++i) end_command(i);
        if (root_ > 0) {
            ::kill(root_, SIGKILL);
            ::waitpid(root_, nullptr, 0);
        }
    }

    pid_t root() const { return root_; }
    pid_t spawner() const { return spawner_; }
    const std::vector<pid_t>& commands() const { return commands_; }

    // Ends command `i` and waits until the spawner has reaped it.
    void end_command(std::size_t i) {
        ::kill(commands_[i], SIGKILL);
        for (int tries = 0; tries < 5000 && state(commands_[i]) != '?'; ++tries) std::this_thread::sleep_for(1ms);
    }

    static char state(pid_t pid) {
        auto stat = proc::read_stat(pid);
        return stat ? stat->state : '?';
    }

private:
    [[noreturn]] static void run_spawner(int commands, int ready) {
        ::setpgid(0, 0);  // the commands share its group, as a group signal would find them
        for (int i = 0; i < commands; ++i)
            if (::fork() == 0)
                for (;;) ::pause();
        const char byte = 1;
        if (::write(ready, &byte, 1) != 1) ::_exit(1);
        for (;;)
            if (::wait(nullptr) < 0 && errno == ECHILD) ::pause();
    }

    static std::vector<pid_t> children_of(pid_t pid) {
        std::ifstream list("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
        std::vector<pid_t> children;
        for (pid_t child; list >> child;) children.push_back(child);
        return children;
    }

    pid_t root_ = -1;
    pid_t spawner_ = -1;
    std::vector<pid_t> commands_;
};

std::vector<pid_t> sorted(std::vector<pid_t> pids) {
    std::sort(pids.begin(), pids.end());
    return pids;
}

class NotifSpawner : public ::testing::TestWithParam<bool> {};

TEST_P(NotifSpawner, IsNoMemberButItsChildrenAre) {
    FakeSandbox sandbox;
    if (GetParam()) SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    ASSERT_TRUE(sandbox.start(GetParam(), 2));
    ProcessTable table;
    table.start(sandbox.root(), sandbox.spawner());
    table.refresh();
    EXPECT_EQ(sorted(table.live_processes()), sorted(sandbox.commands()));
    // Its calls reach the supervisor: placed, but never tracked.
    EXPECT_EQ(table.process_of(sandbox.spawner()), sandbox.spawner());
    EXPECT_TRUE(table.is_machinery(sandbox.spawner()));
    EXPECT_FALSE(table.is_machinery(sandbox.commands()[0]));
    EXPECT_EQ(table.live_count(), 2u);

    // The throttle's stop reaches the commands, never the spawner.
    table.signal_all(SIGSTOP);
    for (pid_t command : sandbox.commands()) {
        for (int i = 0; i < 1000 && FakeSandbox::state(command) != 'T'; ++i) std::this_thread::sleep_for(1ms);
        EXPECT_EQ(FakeSandbox::state(command), 'T') << command;
    }
    EXPECT_NE(FakeSandbox::state(sandbox.spawner()), 'T');
    table.signal_all(SIGCONT);
    table.stop();
}

TEST_P(NotifSpawner, WithoutItTheSameProcessIsAMember) {
    FakeSandbox sandbox;
    if (GetParam()) SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    ASSERT_TRUE(sandbox.start(GetParam(), 2));
    ProcessTable table;
    table.start(sandbox.root());
    table.refresh();
    EXPECT_EQ(table.live_count(), 3u);  // what the exclusion above takes away
    table.stop();
}

TEST_P(NotifSpawner, ItsForksCountForTheCommandsTheyStart) {
    FakeSandbox sandbox;
    if (GetParam()) SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    ASSERT_TRUE(sandbox.start(GetParam(), 2));
    Modules m;
    Policy policy;
    policy.max_processes = 3;
    auto limit = m.configure<ProcessLimit>(policy);
    m.processes.start(sandbox.root(), sandbox.spawner());
    const std::uint64_t vfork_style = CLONE_VM | CLONE_VFORK | SIGCHLD;
    // Two commands run: a third may start (the spawner itself counts for nothing) ...
    EXPECT_EQ(m.call(*limit, SYS_clone, sandbox.spawner(), {vfork_style}).kind, sdk::VerdictKind::Next);
    // Lowered to what runs already: the next start is refused.
    policy.max_processes = 2;
    limit->apply_update(policy);
    const sdk::NotifVerdict refused = m.call(*limit, SYS_clone, sandbox.spawner(), {vfork_style});
    EXPECT_EQ(refused.kind, sdk::VerdictKind::Errno);
    EXPECT_EQ(refused.error, EAGAIN);
    // Lowered below the live count: nothing is killed; a command that exits makes room.
    for (pid_t command : sandbox.commands())
        EXPECT_EQ(std::string("ZX?").find(FakeSandbox::state(command)), std::string::npos) << command;
    sandbox.end_command(0);
    EXPECT_EQ(m.call(*limit, SYS_clone, sandbox.spawner(), {vfork_style}).kind, sdk::VerdictKind::Next);
    m.processes.stop();
}

TEST_P(NotifSpawner, ItsOwnMemoryIsNotTheSandboxs) {
    FakeSandbox sandbox;
    if (GetParam()) SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    ASSERT_TRUE(sandbox.start(GetParam(), 1));
    const pid_t command = sandbox.commands()[0];
    const std::uint64_t held = proc::read_data_bytes(command).value_or(0);
    ASSERT_GT(held, 8192u);
    Modules m;
    Policy policy;
    policy.max_memory = held / 2;  // less than the command (a forked copy of this test) holds
    auto limit = m.configure<MemoryLimit>(policy);
    m.processes.start(sandbox.root(), sandbox.spawner());
    const std::uint64_t rw = PROT_READ | PROT_WRITE, anonymous = MAP_PRIVATE | MAP_ANONYMOUS;
    EXPECT_EQ(m.call(*limit, SYS_mmap, sandbox.spawner(), {0, 64 * MiB, rw, anonymous}).kind,
              sdk::VerdictKind::Next);
    // Its vfork-style clone copies nothing; a copying fork makes a member with a copy.
    EXPECT_EQ(m.call(*limit, SYS_clone, sandbox.spawner(), {CLONE_VM | CLONE_VFORK | SIGCHLD}).kind,
              sdk::VerdictKind::Next);
    EXPECT_EQ(m.call(*limit, SYS_clone, sandbox.spawner(), {SIGCHLD}).kind, sdk::VerdictKind::Errno);
    // A command is measured: over the limit, refused.
    const sdk::NotifVerdict refused = m.call(*limit, SYS_mmap, command, {0, 4096, rw, anonymous});
    EXPECT_EQ(refused.kind, sdk::VerdictKind::Errno);
    EXPECT_EQ(refused.error, ENOMEM);
    const std::uint64_t counted = status_of(*limit).at("memory_bytes").as_uint64();
    EXPECT_EQ(counted, proc::read_data_bytes(command).value_or(0)) << "the account holds the command alone";
    // Raised far enough, the same call fits (what the command holds counts: a sanitizer's
    // shadow memory is part of a forked copy of this test).
    policy.max_memory = held + 4096 * MiB;
    limit->apply_update(policy);
    EXPECT_EQ(m.call(*limit, SYS_mmap, command, {0, 4096, rw, anonymous}).kind, sdk::VerdictKind::Next);
    m.processes.stop();
}

INSTANTIATE_TEST_SUITE_P(, NotifSpawner, ::testing::Values(true, false),
                         [](const auto& param) { return param.param ? "InAPidNamespace" : "Fallback"; });

TEST(NotifCpuThrottlePause, NeverThawsAPausedSandboxAndGoesOnAfterResume) {
    // A busy process alone, as the fallback tracks it: the throttle at 5% stops it at once.
    const pid_t busy = ::fork();
    ASSERT_GE(busy, 0);
    if (busy == 0) {
        ::setpgid(0, 0);
        volatile unsigned long spins = 0;
        for (;;) spins = spins + 1;
    }
    // Killed and reaped however the test ends.
    const std::unique_ptr<const pid_t, void (*)(const pid_t*)> reap(&busy, [](const pid_t* pid) {
        ::kill(*pid, SIGKILL);
        ::waitpid(*pid, nullptr, 0);
    });
    Modules m;
    Policy policy;
    policy.max_cpu = 5;
    auto throttle = m.configure<CpuThrottle>(policy);
    m.processes.start(busy);
    throttle->after_fork({busy, -1, -1, 0});
    auto wait_for_state = [&](char wanted) {
        for (int i = 0; i < 2000; ++i) {
            if (FakeSandbox::state(busy) == wanted) return true;
            std::this_thread::sleep_for(1ms);
        }
        return false;
    };
    ASSERT_TRUE(wait_for_state('T')) << "the throttle never stopped a busy process";

    // The host pauses: the throttle's resume (due within ~500 ms at 5%) must not come.
    throttle->paused(true);
    ::kill(busy, SIGSTOP);
    for (int i = 0; i < 150; ++i) {
        std::this_thread::sleep_for(10ms);
        ASSERT_EQ(FakeSandbox::state(busy), 'T') << "thawed while paused, after " << i * 10 << " ms";
    }
    // The host resumes: the throttle goes on (running, then stopped again for its debt).
    ::kill(busy, SIGCONT);
    throttle->paused(false);
    ASSERT_TRUE(wait_for_state('R'));
    EXPECT_TRUE(wait_for_state('T')) << "the throttle stopped throttling after resume";
    throttle->on_exit();
    EXPECT_TRUE(wait_for_state('R')) << "left stopped behind";
    m.processes.stop();
}

}  // namespace
}  // namespace sandlock::notif
