// Nested sandboxes in the notif layer: scope membership in the process table (roots, children,
// grandchildren, orphans) and a scope's own process and memory budgets on top of the
// sandbox's. Real processes stand in for the sandbox's: a spawner whose commands fork, map
// memory or exit on a signal, in a PID namespace of their own where one can be made.
#include "memory/memory_limit.hpp"
#include "processes/process_limit.hpp"
#include "processes/process_table.hpp"
#include "procfs/proc_files.hpp"

#include "fake_host.hpp"
#include "feature_check.hpp"
#include "notif_modules.hpp"

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
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace sandlock::notif {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t MiB = 1 << 20;

// A command's behaviour, inherited by everything it forks: SIGUSR1 forks a child that does the
// same, SIGHUP maps and touches 32 MiB more.
volatile sig_atomic_t fork_asked = 0, map_asked = 0;

// Writes a byte to `ready` once it can take signals.
[[noreturn]] void run_command(int ready) {
    struct sigaction action{};
    action.sa_handler = [](int sig) { (sig == SIGUSR1 ? fork_asked : map_asked) = 1; };
    ::sigaction(SIGUSR1, &action, nullptr);
    ::sigaction(SIGHUP, &action, nullptr);
    // Blocked but while waiting, so a signal that comes before the wait is not lost.
    sigset_t asked, waiting;
    ::sigemptyset(&asked);
    ::sigaddset(&asked, SIGUSR1);
    ::sigaddset(&asked, SIGHUP);
    ::sigprocmask(SIG_BLOCK, &asked, &waiting);
    const char byte = 1;
    if (::write(ready, &byte, 1) != 1) ::_exit(1);
    ::close(ready);
    for (;;) {
        ::sigsuspend(&waiting);
        if (fork_asked) {
            fork_asked = 0;
            ::fork();  // both go on as commands
        }
        if (map_asked) {
            map_asked = 0;
            void* p = ::mmap(nullptr, 32 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED) std::memset(p, 1, 32 * MiB);
        }
    }
}

std::vector<pid_t> children_of(pid_t pid) {
    std::ifstream list("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<pid_t> children;
    for (pid_t child; list >> child;) children.push_back(child);
    return children;
}

char state(pid_t pid) {
    auto stat = proc::read_stat(pid);
    return stat ? stat->state : '?';
}

bool eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 5000; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return done();
}

// Signals one process, never a group or everyone (a pid not found is -1 here).
bool send(pid_t pid, int sig) { return pid > 0 && ::kill(pid, sig) == 0; }

// Kills `pid` and waits until it is gone or a zombie.
void end(pid_t pid) {
    if (!send(pid, SIGKILL)) return;
    eventually([&] { return std::string("ZX?").find(state(pid)) != std::string::npos; });
}

// A long-lived sandbox's shape: (an init,) a spawner, and its commands.
class Tree {
public:
    bool start(bool namespaced, int commands) {
        int ready[2];
        if (::pipe(ready) != 0) return false;
        // A user namespace too, so that it works unprivileged (as sandlock's own sandboxes do).
        const long pid = namespaced ? ::syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, 0)
                                    : ::fork();
        if (pid < 0) return false;
        if (pid == 0) {
            ::close(ready[0]);
            if (namespaced) {
                if (::fork() == 0) run_spawner(commands, ready[1]);
                for (;;) ::pause();  // never reaps: orphans stay visible until the namespace ends
            }
            run_spawner(commands, ready[1]);
        }
        ::close(ready[1]);
        root_ = static_cast<pid_t>(pid);
        bool ok = true;
        for (int i = 0; i < commands && ok; ++i) {
            pollfd p{ready[0], POLLIN, 0};
            char byte = 0;
            ok = ::poll(&p, 1, 5000) == 1 && ::read(ready[0], &byte, 1) == 1;
        }
        ::close(ready[0]);
        if (!ok) return false;
        spawner_ = namespaced ? children_of(root_).at(0) : root_;
        commands_ = children_of(spawner_);
        return commands_.size() == static_cast<std::size_t>(commands);
    }
    ~Tree() {
        for (pid_t pid : everyone_) end(pid);
        for (pid_t command : commands_) end(command);
        if (root_ > 0) {
            send(root_, SIGKILL);
            ::waitpid(root_, nullptr, 0);
        }
    }
    pid_t root() const { return root_; }
    pid_t spawner() const { return spawner_; }
    pid_t command(std::size_t i) const { return commands_.at(i); }

    // Makes `parent` fork; returns the new child.
    pid_t fork_of(pid_t parent) {
        const std::vector<pid_t> before = children_of(parent);
        send(parent, SIGUSR1);
        pid_t child = -1;
        eventually([&] {
            for (pid_t c : children_of(parent))
                if (std::find(before.begin(), before.end(), c) == before.end()) child = c;
            return child > 0;
        });
        if (child <= 0) {
            ADD_FAILURE() << "process " << parent << " did not fork";
            return -1;
        }
        everyone_.push_back(child);
        return child;
    }

private:
    [[noreturn]] static void run_spawner(int commands, int ready) {
        for (int i = 0; i < commands; ++i)
            if (::fork() == 0) run_command(ready);
        ::close(ready);
        for (;;) ::pause();  // its commands' exits stay zombies: the table sees them exited
    }

    pid_t root_ = -1;
    pid_t spawner_ = -1;
    std::vector<pid_t> commands_;
    std::vector<pid_t> everyone_;
};

using Modules = test_support::Modules;

std::string nest_refusal(BuiltinModule& module, ScopeId scope, pid_t root, const Policy& policy) {
    try {
        module.check_nest(policy);
        module.nest(scope, root, policy);
    } catch (const sdk::Error& e) {
        return e.what();
    }
    return "";
}

class NotifScopes : public ::testing::TestWithParam<bool> {};

TEST_P(NotifScopes, ARootsDescendantsBelongToItsScopeAndNothingElseDoes) {
    Tree tree;
    if (GetParam()) SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    ASSERT_TRUE(tree.start(GetParam(), 2));
    ProcessTable table;
    table.start(tree.root(), tree.spawner());
    table.refresh();
    EXPECT_FALSE(table.has_scopes());
    EXPECT_FALSE(table.join(tree.spawner(), 1)) << "the machinery joins nothing";
    ASSERT_TRUE(table.join(tree.command(0), 1));
    EXPECT_TRUE(table.join(tree.command(0), 1)) << "joining twice changes nothing";
    EXPECT_TRUE(table.has_scopes());
    EXPECT_EQ(table.scope_size(1), 1u);

    const pid_t child = tree.fork_of(tree.command(0));
    table.refresh();
    const pid_t grandchild = tree.fork_of(child);
    const pid_t other = tree.fork_of(tree.command(1));
    table.refresh();
    EXPECT_EQ(table.scopes_of(tree.command(0)), ScopeList{1});
    EXPECT_EQ(table.scopes_of(child), ScopeList{1});
    EXPECT_EQ(table.scopes_of(grandchild), ScopeList{1});
    EXPECT_TRUE(table.scopes_of(tree.command(1)).empty());
    EXPECT_TRUE(table.scopes_of(other).empty());
    EXPECT_EQ(table.scope_size(1), 3u);
    EXPECT_FALSE(table.join(grandchild, 2)) << "only a command the spawner started may be a root";

    // A scope with members stays; once they are all gone it can be forgotten.
    EXPECT_FALSE(table.forget_scope_if_empty(1));
    end(grandchild);
    end(child);
    end(tree.command(0));
    table.refresh();
    EXPECT_EQ(table.scope_size(1), 0u);
    EXPECT_TRUE(table.forget_scope_if_empty(1));
    table.stop();
}

// Orphans reach the table only through a PID namespace (or the launcher, as its subreaper).
TEST(NotifScopesNamespaced, AnOrphanKeepsTheScopeOfTheParentItLost) {
    SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    Tree tree;
    ASSERT_TRUE(tree.start(true, 2));
    ProcessTable table;
    table.start(tree.root(), tree.spawner());
    ASSERT_TRUE(table.join(tree.command(0), 1));

    // A member forks (as every fork reaches the supervisor, it is a member by then), then dies
    // before the table saw its child: found in the refresh that reaps the parent.
    const pid_t parent = tree.fork_of(tree.command(0));
    table.refresh();
    const pid_t orphan = tree.fork_of(parent);
    end(parent);
    ASSERT_TRUE(eventually([&] { return proc::read_stat(orphan) && proc::read_stat(orphan)->ppid == tree.root(); }));
    table.refresh();
    EXPECT_EQ(table.scopes_of(orphan), ScopeList{1});

    // The same when the orphan calls first, its dead parent not reaped yet.
    const pid_t parent2 = tree.fork_of(tree.command(0));
    table.refresh();
    const pid_t orphan2 = tree.fork_of(parent2);
    end(parent2);
    ASSERT_TRUE(eventually([&] { return proc::read_stat(orphan2) && proc::read_stat(orphan2)->ppid == tree.root(); }));
    EXPECT_EQ(table.process_of(orphan2), orphan2);
    EXPECT_EQ(table.scopes_of(orphan2), ScopeList{1});

    // An orphan of a process of no scope stays in none.
    table.refresh();
    const pid_t parent3 = tree.fork_of(tree.command(1));
    table.refresh();
    const pid_t orphan3 = tree.fork_of(parent3);
    end(parent3);
    ASSERT_TRUE(eventually([&] { return proc::read_stat(orphan3) && proc::read_stat(orphan3)->ppid == tree.root(); }));
    table.refresh();
    EXPECT_TRUE(table.scopes_of(orphan3).empty());
    EXPECT_EQ(table.scope_size(1), 3u);  // the root and the two orphans
    table.stop();
}

TEST_P(NotifScopes, AScopesProcessLimitCountsItsMembersOnTopOfTheSandboxs) {
    Tree tree;
    if (GetParam()) SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    ASSERT_TRUE(tree.start(GetParam(), 2));
    Modules m;
    Policy parent;
    parent.max_processes = 8;
    auto limit = m.configure<ProcessLimit>(parent);
    m.processes.start(tree.root(), tree.spawner());
    Policy narrow;
    narrow.max_processes = 2;
    ASSERT_EQ(nest_refusal(*limit, 1, tree.command(0), narrow), "");
    const std::uint64_t fork = SIGCHLD;

    // The root and one child fill the scope: the child's fork is refused, the other command's is not.
    const pid_t child = tree.fork_of(tree.command(0));
    const sdk::NotifVerdict refused = m.call(*limit, SYS_clone, child, {fork});
    EXPECT_EQ(refused.kind, sdk::VerdictKind::Errno);
    EXPECT_EQ(refused.error, EAGAIN);
    EXPECT_EQ(m.call(*limit, SYS_clone, tree.command(1), {fork}).kind, sdk::VerdictKind::Next);
    // A second root cannot join a full scope.
    const std::string full = nest_refusal(*limit, 1, tree.command(1), narrow);
    EXPECT_NE(full.find("max_processes: the nested sandbox already runs 2 of its 2"), std::string::npos) << full;
    EXPECT_TRUE(m.processes.scopes_of(tree.command(1)).empty());

    boost::json::object status;
    limit->scope_status(1, status);
    EXPECT_EQ(status.at("max_processes").as_uint64(), 2u);
    EXPECT_EQ(status.at("denied").at("max_processes").as_uint64(), 2u);  // the fork and the root

    // A member that exits makes room.
    end(child);
    EXPECT_EQ(m.call(*limit, SYS_clone, tree.command(0), {fork}).kind, sdk::VerdictKind::Next);
    m.processes.stop();
}

TEST(NotifScopeRefusals, AScopeNeedsTheSandboxToWatchWhatItsLimitsNeed) {
    Modules m;
    Policy none;
    auto processes = m.configure<ProcessLimit>(none);
    auto memory = m.configure<MemoryLimit>(none);
    Policy narrow;
    narrow.max_processes = 2;
    narrow.max_memory = 64 * MiB;
    EXPECT_NE(nest_refusal(*processes, 1, 1, narrow).find("max_processes: the parent sandbox has no process limit"),
              std::string::npos);
    EXPECT_NE(nest_refusal(*memory, 1, 1, narrow).find("max_memory: the parent sandbox has no memory limit"),
              std::string::npos);
}

TEST_P(NotifScopes, AScopesMemoryLimitSumsItsMembersOnTopOfTheSandboxs) {
    Tree tree;
    if (GetParam()) SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
    ASSERT_TRUE(tree.start(GetParam(), 3));
    const pid_t a = tree.command(0), b = tree.command(1), outsider = tree.command(2);
    const std::uint64_t used = proc::read_data_bytes(a).value_or(0) + proc::read_data_bytes(b).value_or(0);
    Modules m;
    Policy parent;
    // Far above what the three hold (a sanitizer's shadow memory is part of each forked copy).
    parent.max_memory = used + proc::read_data_bytes(outsider).value_or(0) + 64 * 1024 * MiB;
    auto limit = m.configure<MemoryLimit>(parent);
    m.processes.start(tree.root(), tree.spawner());
    const std::uint64_t rw = PROT_READ | PROT_WRITE, anonymous = MAP_PRIVATE | MAP_ANONYMOUS;
    Policy narrow;
    narrow.max_memory = used + 48 * MiB;
    // Two roots of one scope share its limit.
    ASSERT_EQ(nest_refusal(*limit, 1, a, narrow), "");
    ASSERT_TRUE(m.processes.join(a, 1));
    ASSERT_EQ(nest_refusal(*limit, 1, b, narrow), "");
    ASSERT_TRUE(m.processes.join(b, 1));

    const std::uint64_t before = proc::read_data_bytes(a).value_or(0);
    send(a, SIGHUP);  // a maps and touches 32 MiB
    ASSERT_TRUE(eventually([&] { return proc::read_data_bytes(a).value_or(0) >= before + 32 * MiB; }));
    const sdk::NotifVerdict refused = m.call(*limit, SYS_mmap, b, {0, 32 * MiB, rw, anonymous});
    EXPECT_EQ(refused.kind, sdk::VerdictKind::Errno);
    EXPECT_EQ(refused.error, ENOMEM);
    EXPECT_EQ(m.call(*limit, SYS_mmap, outsider, {0, 32 * MiB, rw, anonymous}).kind, sdk::VerdictKind::Next)
        << "the sandbox's own limit is far";
    EXPECT_EQ(m.call(*limit, SYS_mmap, b, {0, 4 * MiB, rw, anonymous}).kind, sdk::VerdictKind::Next);

    boost::json::object status;
    limit->scope_status(1, status);
    EXPECT_EQ(status.at("max_memory").as_uint64(), narrow.max_memory.value());
    EXPECT_GE(status.at("memory_bytes").as_uint64(), used + 32 * MiB);
    EXPECT_EQ(status.at("denied").at("max_memory").as_uint64(), 1u);

    // The member that held the memory exits: it leaves the scope's account.
    end(a);
    m.processes.refresh();
    EXPECT_EQ(m.call(*limit, SYS_mmap, b, {0, 32 * MiB, rw, anonymous}).kind, sdk::VerdictKind::Next);
    m.processes.stop();
}

INSTANTIATE_TEST_SUITE_P(, NotifScopes, ::testing::Values(true, false),
                         [](const auto& param) { return param.param ? "InAPidNamespace" : "Fallback"; });

}  // namespace
}  // namespace sandlock::notif
