// The branchfs layer against the real kernel: the sandbox writes to a copy-on-write branch of
// the workspace (an overlay in its own mount namespace), committed on success, aborted on
// failure, kept on request; conflicts, nesting, the quota and Landlock inside the branch.
#include "feature_check.hpp"
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/plugins.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

namespace sandlock::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// A workspace with a few files and a storage directory beside it (never inside).
class Branchfs : public ::testing::Test {
protected:
    void SetUp() override {
        SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
        SANDLOCK_SKIP_UNLESS_AVAILABLE("branch overlay");
        fs::create_directories(ws / "src");
        write_text(ws / "a.txt", "a\n");
        write_text(ws / "src/main.c", "int main(void) { return 0; }\n");
        fs::create_directories(ws / "old/deep");
        write_text(ws / "old/deep/f", "f\n");
    }

    Policy policy() const {
        Policy p = system_policy();
        p.fs_writable = {ws.string()};
        p.fs_isolation = FsIsolation::BranchFs;
        p.fs_mount = ws.string();
        p.fs_storage = storage.string();
        return p;
    }

    Result sh(const Policy& p, const std::string& script) {
        return run(p, {"/bin/sh", "-c", "cd " + ws.string() + " && " + script});
    }

    // `sandlock branch ...` through the plugin command, as the CLI runs it.
    std::string branch_command(const std::string& command, const std::string& id = "") {
        boost::json::object request{{"command", command}, {"id", id}, {"json", true}, {"fs_storage", storage.string()}};
        return run_plugin_command("branchfs", boost::json::serialize(request), {});
    }
    boost::json::array branches() { return boost::json::parse(branch_command("list")).as_array(); }
    std::string only_branch_id() {
        auto all = branches();
        EXPECT_EQ(all.size(), 1u);
        return all.empty() ? "" : std::string(all[0].at("id").as_string());
    }

    TempDir root;
    fs::path ws = root.path() / "ws";
    fs::path storage = root.path() / "storage";
};

TEST_F(Branchfs, SuccessCommitsEveryKindOfChange) {
    Result r = sh(policy(),
                  "echo new > b.txt && echo more >> a.txt && rm src/main.c && mkdir -p n/m && echo x > n/m/x && "
                  "rm -r old && ln -s a.txt link && chmod 600 b.txt && touch -d 2001-01-01 a.txt && cat a.txt");
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "a\nmore\n");
    EXPECT_EQ(read_text(ws / "b.txt"), "new\n");
    EXPECT_EQ(read_text(ws / "a.txt"), "a\nmore\n");
    EXPECT_FALSE(fs::exists(ws / "src/main.c"));
    EXPECT_TRUE(fs::is_directory(ws / "src"));
    EXPECT_EQ(read_text(ws / "n/m/x"), "x\n");
    EXPECT_FALSE(fs::exists(ws / "old"));
    EXPECT_TRUE(fs::is_symlink(ws / "link"));
    EXPECT_EQ(fs::read_symlink(ws / "link"), "a.txt");
    EXPECT_EQ(fs::status(ws / "b.txt").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    struct stat st {};
    ASSERT_EQ(::stat((ws / "a.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtime, 978307200);  // 2001-01-01 UTC
    EXPECT_TRUE(branches().empty()) << "a committed branch is removed";
}

TEST_F(Branchfs, TheHostSeesNothingUntilTheCommit) {
    // The sandbox writes, says so through a file outside the workspace, and waits; the host
    // looks meanwhile.
    Policy p = policy();
    p.fs_writable.push_back(root.str() + "/signal");
    fs::create_directories(root.path() / "signal");
    std::atomic<bool> seen_early{false};
    std::thread host([&] {
        for (int i = 0; i < 200 && !fs::exists(root.path() / "signal/written"); ++i) std::this_thread::sleep_for(20ms);
        seen_early = fs::exists(ws / "b.txt") || read_text(ws / "a.txt") != "a\n";
        write_text(root.path() / "signal/go", "");
    });
    Result r = sh(p, "echo new > b.txt && echo changed > a.txt && touch " + root.str() +
                     "/signal/written && while [ ! -e " + root.str() + "/signal/go ]; do sleep 0.02; done");
    host.join();
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_FALSE(seen_early) << "the host saw the sandbox's writes before the commit";
    EXPECT_EQ(read_text(ws / "b.txt"), "new\n");
    EXPECT_EQ(read_text(ws / "a.txt"), "changed\n");
}

TEST_F(Branchfs, FailureLeavesTheWorkspaceAsItWas) {
    Result r = sh(policy(), "echo new > b.txt && echo changed > a.txt && rm -r src && exit 3");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_FALSE(fs::exists(ws / "b.txt"));
    EXPECT_EQ(read_text(ws / "a.txt"), "a\n");
    EXPECT_TRUE(fs::exists(ws / "src/main.c"));
    EXPECT_TRUE(branches().empty()) << "an aborted branch is removed";
}

TEST_F(Branchfs, TimeoutAndSignalAbort) {
    Result r = Sandbox(policy()).run({"/bin/sh", "-c", "cd " + ws.string() + " && echo x > t.txt && sleep 30"}, 300ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_FALSE(fs::exists(ws / "t.txt"));
    r = sh(policy(), "echo x > s.txt && kill -KILL $$");
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_FALSE(fs::exists(ws / "s.txt"));
    EXPECT_TRUE(branches().empty());
}

TEST_F(Branchfs, OnErrorCommitAndOnExitAbortAreHonoured) {
    Policy p = policy();
    p.on_error = BranchAction::Commit;
    EXPECT_EQ(sh(p, "echo x > e.txt && exit 1").exit_code, 1);
    EXPECT_EQ(read_text(ws / "e.txt"), "x\n");
    p = policy();
    p.on_exit = BranchAction::Abort;
    EXPECT_EQ(sh(p, "echo x > f.txt").exit_code, 0);
    EXPECT_FALSE(fs::exists(ws / "f.txt"));
}

// Landlock's rules under the workspace are added in the sandbox, on what the branch shows: a
// symlink an earlier run of a kept branch swapped into a rule's path must not carry the rule to
// where it points.
TEST_F(Branchfs, ASymlinkAKeptBranchSwappedInWidensNoRule) {
    fs::create_directories(root.path() / "secret/deep");
    write_text(root.path() / "secret/deep/f", "secret\n");
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "mv old old.real && ln -s " + (root.path() / "secret").string() + " old").exit_code, 0);
    const std::string id = only_branch_id();
    Policy again = policy();
    again.fs_writable = {(ws / "src").string()};
    again.fs_readable.push_back((ws / "old/deep").string());  // a real directory on the host
    again.plugin_options["branchfs"] = R"({"branch": ")" + id + R"("})";
    again.on_exit = BranchAction::Keep;
    again.on_error = BranchAction::Keep;
    try {
        Result r = sh(again, "cat old/deep/f");
        EXPECT_NE(r.stdout_text, "secret\n");
        EXPECT_NE(r.exit_code, 0);
    } catch (const ConfinementError& e) {
        EXPECT_NE(std::string(e.what()).find("landlock"), std::string::npos) << e.what();
    }
    branch_command("abort", id);
}

TEST_F(Branchfs, KeptBranchRunsAgainAndCommitsAsOne) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo step1 > s.txt").exit_code, 0);
    const std::string id = only_branch_id();
    EXPECT_FALSE(fs::exists(ws / "s.txt"));
    EXPECT_EQ(branches()[0].at("state").as_string(), "kept");
    // A second step on the same branch sees the first.
    p.plugin_options["branchfs"] = R"({"branch": ")" + id + R"("})";
    Result r = sh(p, "cat s.txt && echo step2 >> s.txt");
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "step1\n");
    EXPECT_FALSE(fs::exists(ws / "s.txt"));
    auto show = boost::json::parse(branch_command("show", id)).as_object();
    ASSERT_EQ(show.at("changes").as_array().size(), 1u);
    EXPECT_EQ(show.at("changes").as_array()[0].at("change").as_string(), "A");
    branch_command("commit", id);
    EXPECT_EQ(read_text(ws / "s.txt"), "step1\nstep2\n");
    EXPECT_TRUE(branches().empty());
}

TEST_F(Branchfs, AbortByIdDiscards) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo x > k.txt && rm a.txt").exit_code, 0);
    branch_command("abort", only_branch_id());
    EXPECT_TRUE(branches().empty());
    EXPECT_FALSE(fs::exists(ws / "k.txt"));
    EXPECT_EQ(read_text(ws / "a.txt"), "a\n");
}

TEST_F(Branchfs, OverlappingChangesConflictAndApplyNothing) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo branch > a.txt && echo b > b.txt").exit_code, 0);
    const std::string id = only_branch_id();
    write_text(ws / "a.txt", "host\n");  // the host edits the same file meanwhile
    try {
        branch_command("commit", id);
        FAIL() << "a conflicting commit went through";
    } catch (const PluginError& e) {
        EXPECT_NE(std::string(e.what()).find("a.txt"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not committed"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_text(ws / "a.txt"), "host\n");
    EXPECT_FALSE(fs::exists(ws / "b.txt")) << "nothing of a refused commit is applied";
    EXPECT_EQ(only_branch_id(), id) << "the refused branch is kept";
}

TEST_F(Branchfs, DisjointChangesCommitCleanly) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo b > src/b.c").exit_code, 0);
    const std::string id = only_branch_id();
    write_text(ws / "src/host.c", "host\n");  // same directory, another file
    write_text(ws / "a.txt", "host\n");
    branch_command("commit", id);
    EXPECT_EQ(read_text(ws / "src/b.c"), "b\n");
    EXPECT_EQ(read_text(ws / "src/host.c"), "host\n");
    EXPECT_EQ(read_text(ws / "a.txt"), "host\n");
}

TEST_F(Branchfs, AnotherBranchCommittingFirstIsAConflict) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo one > a.txt").exit_code, 0);
    const std::string first = only_branch_id();
    ASSERT_EQ(sh(p, "echo two > a.txt").exit_code, 0);
    std::string second;
    for (const auto& b : branches())
        if (b.at("id").as_string() != first) second = std::string(b.at("id").as_string());
    branch_command("commit", second);
    EXPECT_EQ(read_text(ws / "a.txt"), "two\n");
    EXPECT_THROW(branch_command("commit", first), PluginError);
    EXPECT_EQ(read_text(ws / "a.txt"), "two\n");
}

TEST_F(Branchfs, ConcurrentCommitsOfOverlappingBranchesNeverMix) {
    // Two branches rewrite the same files; committed at the same moment, one lands whole and
    // the other is refused whole (the commits take the workspace in turn).
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    const std::string script = "i=0; while [ $i -lt 300 ]; do echo $B > f$i; i=$((i+1)); done";
    ASSERT_EQ(sh(p, "B=one; " + script).exit_code, 0);
    ASSERT_EQ(sh(p, "B=two; " + script).exit_code, 0);
    auto all = branches();
    ASSERT_EQ(all.size(), 2u);
    std::atomic<int> committed{0}, refused{0};
    std::vector<std::thread> committers;
    for (const auto& b : all) {
        std::string id(b.at("id").as_string());
        committers.emplace_back([&, id] {
            try {
                branch_command("commit", id);
                ++committed;
            } catch (const PluginError&) {
                ++refused;
            }
        });
    }
    for (auto& t : committers) t.join();
    EXPECT_EQ(committed, 1);
    EXPECT_EQ(refused, 1);
    const std::string first = read_text(ws / "f0");
    for (int i = 0; i < 300; ++i) ASSERT_EQ(read_text(ws / ("f" + std::to_string(i))), first) << i;
}

TEST_F(Branchfs, NestedBranchCommitsIntoItsParent) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo parent > p.txt && rm a.txt").exit_code, 0);
    const std::string parent = only_branch_id();
    Policy child = policy();
    child.plugin_options["branchfs"] = R"({"branch_from": ")" + parent + R"("})";
    Result r = sh(child, "cat p.txt && test ! -e a.txt && echo child > c.txt && rm p.txt && echo again > p.txt");
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "parent\n");
    EXPECT_FALSE(fs::exists(ws / "c.txt")) << "a nested commit lands in its parent, not the workspace";
    EXPECT_EQ(only_branch_id(), parent);
    branch_command("commit", parent);
    EXPECT_EQ(read_text(ws / "c.txt"), "child\n");
    EXPECT_EQ(read_text(ws / "p.txt"), "again\n");
    EXPECT_FALSE(fs::exists(ws / "a.txt"));
}

TEST_F(Branchfs, AParentWithNestedBranchesIsNotCommitted) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo parent > p.txt").exit_code, 0);
    const std::string parent = only_branch_id();
    p.plugin_options["branchfs"] = R"({"branch_from": ")" + parent + R"("})";
    ASSERT_EQ(sh(p, "echo child > c.txt").exit_code, 0);
    EXPECT_THROW(branch_command("commit", parent), PluginError);
    EXPECT_THROW(branch_command("abort", parent), PluginError);
    EXPECT_FALSE(fs::exists(ws / "p.txt"));
}

TEST_F(Branchfs, SnapshotsAreFrozenCopiesToNestOn) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo one > s.txt && rm a.txt").exit_code, 0);
    const std::string id = only_branch_id();
    std::string snap = branch_command("snapshot", id);
    snap.erase(snap.find_last_not_of('\n') + 1);
    // The branch goes on; the snapshot keeps what it had.
    p.plugin_options["branchfs"] = R"({"branch": ")" + id + R"("})";
    ASSERT_EQ(sh(p, "echo two > s.txt").exit_code, 0);
    auto show = boost::json::parse(branch_command("show", snap)).as_object();
    EXPECT_TRUE(show.at("snapshot").as_bool());
    EXPECT_EQ(show.at("changes").as_array().size(), 2u);  // D a.txt, A s.txt
    // A snapshot is never run on, only nested on.
    p.plugin_options["branchfs"] = R"({"branch": ")" + snap + R"("})";
    EXPECT_THROW(sh(p, "true"), Error);
    Policy child = policy();
    child.plugin_options["branchfs"] = R"({"branch_from": ")" + snap + R"("})";
    child.on_exit = BranchAction::Abort;
    Result r = sh(child, "cat s.txt && test ! -e a.txt");
    EXPECT_EQ(r.stdout_text, "one\n") << r.stderr_text << r.error;
    EXPECT_EQ(r.exit_code, 0);
}

TEST_F(Branchfs, QuotaFailsWritesWithEnospcAndCommitsNothing) {
    Policy p = policy();
    p.max_disk = 1u << 20;
    Result r = python(p, "os.chdir('" + ws.string() + "')\n"
                         "open('small.txt', 'w').write('ok')\n"
                         "try:\n"
                         "    with open('big', 'wb') as f:\n"
                         "        f.write(b'x' * (3 << 20))\n"
                         "    print('wrote')\n"
                         "except OSError as e:\n"
                         "    print(errno.errorcode[e.errno]); sys.exit(1)\n");
    EXPECT_EQ(r.exit_code, 1) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "ENOSPC\n");
    EXPECT_FALSE(fs::exists(ws / "big"));
    EXPECT_FALSE(fs::exists(ws / "small.txt"));
    // Within the quota a run commits as usual.
    r = sh(p, "echo small > small.txt");
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(read_text(ws / "small.txt"), "small\n");
}

TEST_F(Branchfs, QuotaRunsOnAKeptBranchKeepItsData) {
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    ASSERT_EQ(sh(p, "echo one > one.txt").exit_code, 0);
    const std::string id = only_branch_id();
    p.max_disk = 1u << 20;
    p.plugin_options["branchfs"] = R"({"branch": ")" + id + R"("})";
    Result r = sh(p, "cat one.txt && echo two > two.txt");
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "one\n");
    branch_command("commit", id);
    EXPECT_EQ(read_text(ws / "one.txt"), "one\n");
    EXPECT_EQ(read_text(ws / "two.txt"), "two\n");
}

TEST_F(Branchfs, QuotaCapsTheNumberOfFilesToo) {
    Policy p = policy();
    p.max_disk = 256u << 10;  // room for 64 files
    Result r = python(p, "n = 0\n"
                         "try:\n"
                         "    for n in range(1000):\n"
                         "        open('" + ws.string() + "/f%d' % n, 'w').close()\n"
                         "except OSError as e:\n"
                         "    print(errno.errorcode[e.errno], n < 100); sys.exit(1)\n");
    EXPECT_EQ(r.stdout_text, "ENOSPC True\n") << r.stderr_text << r.error;
    EXPECT_FALSE(fs::exists(ws / "f0"));
}

TEST_F(Branchfs, ACommitNeverFollowsAWorkspaceSwappedForASymlink) {
    // The sandbox may write the workspace's parent: it moves the workspace away and leaves a
    // symlink to another directory at its path. The commit, run outside any sandbox (maybe as
    // root), must not land there.
    const fs::path area = root.path() / "area", proj = area / "proj", victim = root.path() / "victim";
    fs::create_directories(proj / "ws");
    fs::create_directories(victim);
    write_text(victim / "passwd", "root\n");
    Policy p = policy();
    p.fs_mount = (proj / "ws").string();
    p.fs_writable = {area.string()};
    Result r = run(p, {"/bin/sh", "-c",
                       "echo evil > " + (proj / "ws/passwd").string() + " && mv " + proj.string() + " " +
                           proj.string() + ".old && mkdir " + proj.string() + " && ln -s " + victim.string() + " " +
                           (proj / "ws").string()});
    EXPECT_EQ(r.exit_code, 125) << r.stderr_text;
    EXPECT_NE(r.error.find("no longer the directory"), std::string::npos) << r.error;
    EXPECT_EQ(read_text(victim / "passwd"), "root\n");
    EXPECT_EQ(branches().size(), 1u) << "the refused branch is kept";
}

TEST_F(Branchfs, ReadOnlyWorkspaceStaysReadOnly) {
    Policy p = policy();
    p.fs_writable.clear();
    p.fs_readable.push_back(ws.string());
    Result r = python(p, "probe(lambda: open('" + ws.string() + "/new.txt', 'w'))\n"
                         "probe(lambda: open('" + ws.string() + "/a.txt', 'a'))\n"
                         "print(open('" + ws.string() + "/a.txt').read().strip())\n");
    EXPECT_EQ(r.stdout_text, "EACCES\nEACCES\na\n") << r.stderr_text << r.error;
    EXPECT_FALSE(fs::exists(ws / "new.txt"));
}

TEST_F(Branchfs, DeniedPathsInsideTheWorkspaceStayDenied) {
    fs::create_directories(ws / "secret");
    write_text(ws / "secret/key", "k\n");
    Policy p = policy();
    p.fs_denied = {(ws / "secret").string()};
    Result r = python(p, "probe(lambda: open('" + ws.string() + "/secret/key').read())\n"
                         "probe(lambda: open('" + ws.string() + "/src/new.c', 'w').write('x'))\n"
                         "probe(lambda: open('" + ws.string() + "/a.txt').read())\n");
    EXPECT_EQ(r.stdout_text, "EACCES\nok\nok\n") << r.stderr_text << r.error;
    EXPECT_EQ(read_text(ws / "src/new.c"), "x");
}

TEST_F(Branchfs, RelativeWritesFromAWorkingDirectoryInsideGoToTheBranch) {
    // sandlock started from inside the workspace: the cwd taken before the overlay existed
    // must not keep pointing at the host's directory.
    const fs::path before = fs::current_path();
    fs::current_path(ws / "src");
    Policy p = policy();
    p.on_exit = BranchAction::Keep;
    Result r = run(p, {"/bin/sh", "-c", "echo rel > rel.txt && pwd"});
    fs::current_path(before);
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, (ws / "src").string() + "\n");
    EXPECT_FALSE(fs::exists(ws / "src/rel.txt"));
    EXPECT_EQ(boost::json::parse(branch_command("show", only_branch_id())).at("changes").as_array().size(), 1u);
}

TEST_F(Branchfs, BadInputIsRefusedBeforeAnythingRuns) {
    Policy p = policy();
    p.fs_mount = (root.path() / "missing").string();
    EXPECT_THROW(sh(p, "true"), PolicyError);
    p = policy();
    p.fs_mount.reset();
    EXPECT_THROW(sh(p, "true"), PolicyError);
    p = policy();
    p.fs_storage = (ws / "store").string();
    EXPECT_THROW(sh(p, "true"), Error);
    p = policy();
    p.plugin_options["branchfs"] = R"({"branch": "../../etc"})";
    EXPECT_THROW(sh(p, "true"), PolicyError);
    p = policy();
    p.fs_isolation.reset();
    EXPECT_THROW(sh(p, "true"), PolicyError);
    EXPECT_FALSE(fs::exists(ws / "store"));
}

}  // namespace
}  // namespace sandlock::test
