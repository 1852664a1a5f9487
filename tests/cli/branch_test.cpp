// The branchfs layer from the command line: --dry-run, keep + `sandlock branch ...`, bad input,
// a SIGKILLed sandlock mid-run, and a SIGKILLed commit (the workspace is old or new, never
// mixed, once the next sandlock has looked at the store).
#include "cli_run.hpp"
#include "feature_check.hpp"
#include "sandbox_test.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <fstream>
#include <random>
#include <thread>

namespace sandlock::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class CliBranch : public ::testing::Test {
protected:
    void SetUp() override {
        SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
        SANDLOCK_SKIP_UNLESS_AVAILABLE("branch overlay");
        fs::create_directories(ws);
        std::ofstream(ws / "a.txt") << "a\n";
    }

    std::vector<std::string> run_args(std::vector<std::string> flags, const std::string& script) const {
        std::vector<std::string> args{"run"};
        args.insert(args.end(), kSystem.begin(), kSystem.end());
        for (const std::string& f : {std::string("-w"), ws.string(), std::string("--fs-isolation"), std::string("branchfs"),
                                     std::string("--fs-mount"), ws.string(), std::string("--fs-storage"), storage.string()})
            args.push_back(f);
        args.insert(args.end(), flags.begin(), flags.end());
        for (const std::string& w : {std::string("--"), std::string("/bin/sh"), std::string("-c"), "cd " + ws.string() + " && " + script})
            args.push_back(w);
        return args;
    }
    CliResult branch(std::vector<std::string> args) const {
        args.insert(args.begin(), "branch");
        args.insert(args.end(), {"--fs-storage", storage.string()});
        return sandlock(args);
    }
    boost::json::array list() const {
        CliResult r = branch({"list", "--json"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return boost::json::parse(r.out).as_array();
    }

    TempDir root;
    fs::path ws = root.path() / "ws";
    fs::path storage = root.path() / "storage";
};

TEST_F(CliBranch, DryRunPrintsTheChangesAndDiscardsThem) {
    CliResult r = sandlock(run_args({"--dry-run"}, "echo b > b.txt && echo more >> a.txt"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "M a.txt\nA b.txt\n");
    EXPECT_FALSE(fs::exists(ws / "b.txt"));
    r = sandlock(run_args({"--dry-run", "--json"}, "rm a.txt"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto changes = boost::json::parse(r.out).at("changes").as_array();
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].at("change").as_string(), "D");
    EXPECT_EQ(changes[0].at("path").as_string(), "a.txt");
    EXPECT_TRUE(fs::exists(ws / "a.txt"));
    EXPECT_TRUE(list().empty());
}

TEST_F(CliBranch, KeepListShowCommit) {
    CliResult r = sandlock(run_args({"--on-exit", "keep"}, "echo k > k.txt"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto all = list();
    ASSERT_EQ(all.size(), 1u);
    const std::string id(all[0].at("id").as_string());
    EXPECT_NE(r.err.find("branch " + id + " kept"), std::string::npos) << r.err;
    EXPECT_EQ(all[0].at("state").as_string(), "kept");
    r = branch({"list"});
    EXPECT_NE(r.out.find(id + "  kept"), std::string::npos) << r.out;
    r = branch({"show", id});
    EXPECT_NE(r.out.find("A k.txt\n"), std::string::npos) << r.out;
    r = branch({"commit", id});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(ws / "k.txt"));
    EXPECT_TRUE(list().empty());
}

TEST_F(CliBranch, AConflictingCommitFailsTheRun) {
    // The host changes a.txt while the sandbox runs: the commit at the end is refused, the
    // run fails with 125 and the branch is kept.
    const fs::path signal = root.path() / "signal";
    fs::create_directories(signal);
    std::thread host([&] {
        for (int i = 0; i < 1000 && !fs::exists(signal / "ready"); ++i) std::this_thread::sleep_for(10ms);
        std::ofstream(ws / "a.txt") << "host\n";
        std::ofstream(signal / "go") << "";
    });
    CliResult r = sandlock(run_args({"-w", signal.string()}, "echo branch > a.txt && touch " + signal.string() +
                                                                 "/ready && while [ ! -e " + signal.string() +
                                                                 "/go ]; do sleep 0.01; done"));
    host.join();
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_NE(r.err.find("a.txt"), std::string::npos) << r.err;
    std::ifstream in(ws / "a.txt");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "host\n");
    ASSERT_EQ(list().size(), 1u);
}

TEST_F(CliBranch, BadInputIsOneLineAnd125) {
    for (const auto& [flags, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--on-exit", "later"}, "--on-exit: invalid value \"later\""},
             {{"--json"}, "--json: only with --dry-run"},
             {{"--branch", "../x"}, "is not a branch id"},
             {{"--branch", "0123456789ab"}, "no such branch"},
             {{"--branch", "0123456789ab", "--branch-from", "0123456789ab"}, "exclude each other"},
         }) {
        CliResult r = sandlock(run_args(flags, "echo RAN"));
        EXPECT_EQ(r.exit_code, 125) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
        EXPECT_EQ(r.out.find("RAN"), std::string::npos);
    }
    for (const auto& args : std::vector<std::vector<std::string>>{{"show", "nope"}, {"commit", "0123456789ab"}, {"abort", "../../x"}}) {
        CliResult r = branch(args);
        EXPECT_EQ(r.exit_code, 125) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

TEST_F(CliBranch, KilledSandlockLeavesTheWorkspaceAndAnInterruptedBranch) {
    fs::create_directories(root.path() / "signal");
    std::vector<std::string> args = run_args({"-w", (root.path() / "signal").string()},
                                             "echo x > new.txt && echo y > a.txt && touch " + root.str() +
                                                 "/signal/ready && sleep 30");
    args.insert(args.begin(), sandlock_bin());
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(::open("/dev/null", O_RDWR), 0);
        ::dup2(0, 1);
        ::dup2(0, 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(99);
    }
    for (int i = 0; i < 500 && !fs::exists(root.path() / "signal/ready"); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(fs::exists(root.path() / "signal/ready"));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    EXPECT_FALSE(fs::exists(ws / "new.txt"));
    // The kernel ends the sandbox once sandlock is gone (its init's PDEATHSIG), not before
    // waitpid returns: the branch is in use until the last copy of sandlock's lock is closed,
    // the dying init's among them. Bounded, like the other tests of a SIGKILLed sandlock.
    auto all = list();
    for (int i = 0; i < 100 && all.size() == 1 && all[0].at("state").as_string() == "running"; ++i) {
        std::this_thread::sleep_for(10ms);
        all = list();
    }
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].at("state").as_string(), "interrupted");
    const std::string id(all[0].at("id").as_string());
    CliResult r = branch({"commit", id});  // the user decides: here, commit what it wrote
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(ws / "new.txt"));
}

// Lists every file of `dir` with its contents.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path());
        files[fs::relative(entry.path(), dir).string()] = std::string((std::istreambuf_iterator<char>(in)), {});
    }
    return files;
}

TEST_F(CliBranch, AKilledCommitLeavesTheWorkspaceOldOrNewNeverMixed) {
    CliResult r = sandlock(run_args({"--on-exit", "keep"},
                                    "mkdir d && i=0; while [ $i -lt 1500 ]; do echo $i > d/f$i; i=$((i+1)); done; "
                                    "echo changed > a.txt"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string id(list().at(0).at("id").as_string());
    const auto old_state = snapshot(ws);
    std::mt19937 random(42);
    bool committed = false;
    int kills = 0;
    for (int attempt = 0; attempt < 25 && !committed; ++attempt) {
        std::vector<std::string> args{sandlock_bin(), "branch", "commit", id, "--fs-storage", storage.string()};
        pid_t pid = ::fork();
        if (pid == 0) {
            ::dup2(::open("/dev/null", O_RDWR), 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(99);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(2000, 60000)(random)));
        if (::kill(pid, SIGKILL) == 0) ++kills;
        ::waitpid(pid, nullptr, 0);
        list();  // the next sandlock finishes or rolls back what the killed one left
        const auto now = snapshot(ws);
        if (now == old_state) continue;
        ASSERT_EQ(now.size(), old_state.size() + 1500) << "mixed state after attempt " << attempt;
        ASSERT_EQ(now.at("a.txt"), "changed\n");
        ASSERT_EQ(now.at("d/f1499"), "1499\n");
        committed = true;
    }
    EXPECT_GT(kills, 0);
    if (!committed) {
        r = branch({"commit", id});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    EXPECT_EQ(snapshot(ws).size(), old_state.size() + 1500);
    EXPECT_TRUE(list().empty());
}

}  // namespace
}  // namespace sandlock::test
