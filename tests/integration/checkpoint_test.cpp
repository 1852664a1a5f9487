// Checkpoints of real sandboxes (the checkpoint plugin): taking one of a running program that
// goes on running, app state, the store (save/load/list/delete, damaged checkpoints refused
// with nothing changed, permissions), and transparent restore of a counter that counts on
// from where it stopped — memory, file offset and all — twice side by side.
#include "feature_check.hpp"
#include "sandbox_test.hpp"

#include <sandlock/checkpoint.hpp>
#include <sandlock/errors.hpp>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace sandlock::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<long> numbers_in(const std::string& text) {
    std::vector<long> out;
    std::istringstream in(text);
    for (long n; in >> n;) out.push_back(n);
    return out;
}

std::string json_option(const Policy& policy, const std::string& key) {
    auto it = policy.plugin_options.find("branchfs");
    if (it == policy.plugin_options.end()) return "";
    const auto options = boost::json::parse(it->second).as_object();
    return options.contains(key) ? std::string(options.at(key).as_string()) : "";
}

// Each test gets its own store: XDG_DATA_HOME points into a fresh directory.
class CheckpointTest : public ::testing::Test {
protected:
    void SetUp() override {
        SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");
        ::setenv("XDG_DATA_HOME", (data_.path() / "data").c_str(), 1);
        policy_ = system_policy();
        policy_.fs_readable.push_back(bin_dir().string());
        policy_.fs_writable.push_back(work_.path().string());
        log_ = work_.path() / "log";
    }
    void TearDown() override { ::unsetenv("XDG_DATA_HOME"); }

    fs::path store() const { return data_.path() / "data" / "sandlock" / "checkpoints"; }

    // Until the counter logged at least `count` numbers.
    void wait_for_count(std::size_t count) const {
        for (int i = 0; i < 500 && numbers_in(read_file(log_)).size() < count; ++i) std::this_thread::sleep_for(10ms);
        ASSERT_GE(numbers_in(read_file(log_)).size(), count) << "the counter did not count";
    }

    // A counter run under `policy` until it counted `count`, checkpointed and saved as `name`.
    void save_counter(const Policy& policy, const std::string& name, std::size_t count) {
        Sandbox sb(policy);
        sb.exec({counter(), log_.string()});
        wait_for_count(count);
        sb.checkpoint().save(name);
        sb.close();
    }

    // Checkpoint `name` restored into a sandbox of its policy, let run a moment, then killed.
    Result run_restored(const std::string& name) {
        Checkpoint cp = Checkpoint::load(name);
        Sandbox sb(cp.policy());
        Process& restored = sb.restore(cp);
        std::this_thread::sleep_for(300ms);
        EXPECT_TRUE(restored.running()) << "the restored counter died";
        restored.kill();
        Result result = restored.wait(20s);
        sb.close();
        return result;
    }

    TempDir data_, work_;
    Policy policy_;
    fs::path log_;
};

TEST_F(CheckpointTest, TakesARunningCounterThatKeepsRunning) {
    Sandbox sb(policy_);
    Process& running = sb.exec({counter(), log_.string()});
    wait_for_count(5);
    Checkpoint cp = sb.checkpoint();
    ASSERT_EQ(cp.processes().size(), 1u);
    EXPECT_EQ(cp.processes()[0].exe, counter());
    EXPECT_EQ(cp.processes()[0].threads, 1u);
    EXPECT_GE(cp.processes()[0].memory_bytes, 4u << 20) << "its 4 MiB of counts were not saved";
    EXPECT_TRUE(cp.unrestorable().empty()) << cp.unrestorable().front();
    EXPECT_TRUE(cp.name().empty());
    const std::size_t at_checkpoint = numbers_in(read_file(log_)).size();
    wait_for_count(at_checkpoint + 5);
    EXPECT_TRUE(running.running());
    sb.close();
}

TEST_F(CheckpointTest, AppStateComesFromSaveFnAndIsSavedWithIt) {
    Sandbox sb(policy_);
    int asked = 0;
    sb.exec({counter(), log_.string()}, {}, [&] {
        ++asked;
        return std::string("state\0with bytes\xff", 17);
    });
    wait_for_count(2);
    Checkpoint cp = sb.checkpoint();
    EXPECT_EQ(asked, 1);
    ASSERT_TRUE(cp.app_state());
    EXPECT_EQ(*cp.app_state(), std::string("state\0with bytes\xff", 17));
    cp.save("with-state");
    sb.close();
    Checkpoint loaded = Checkpoint::load("with-state");
    ASSERT_TRUE(loaded.app_state());
    EXPECT_EQ(*loaded.app_state(), std::string("state\0with bytes\xff", 17));
    EXPECT_EQ(loaded.policy().fs_writable, policy_.fs_writable);
}

// A program that is not ours gives its state through its checkpoint channel.
TEST_F(CheckpointTest, AppStateComesThroughTheCheckpointChannel) {
    const std::string program =
        "import os, select, struct, time\n"
        "fd = int(os.environ['SANDLOCK_CHECKPOINT_FD'])\n"
        "n = 0\n"
        "while True:\n"
        "    ready, _, _ = select.select([fd], [], [], 0.01)\n"
        "    if ready:\n"
        "        if os.read(fd, 1) != b'C': break\n"
        "        state = b'counted %d' % n\n"
        "        os.write(fd, struct.pack('<Q', len(state)) + state)\n"
        "    n += 1\n";
    Sandbox sb(policy_);
    ExecIo io;
    io.checkpoint_channel = true;
    sb.exec({kPython, "-c", program}, io);
    std::this_thread::sleep_for(100ms);
    Checkpoint first = sb.checkpoint();
    ASSERT_TRUE(first.app_state());
    EXPECT_EQ(first.app_state()->rfind("counted ", 0), 0u) << *first.app_state();
    Checkpoint second = sb.checkpoint();
    ASSERT_TRUE(second.app_state());
    EXPECT_NE(*first.app_state(), *second.app_state()) << "the program was not asked again";
    sb.close();

    // One that closes its channel fails the checkpoint with the reason; the sandbox runs on.
    Sandbox quiet(policy_);
    Process& closer = quiet.exec({kPython, "-c", "import os, time\nos.close(3)\ntime.sleep(30)"}, io);
    std::this_thread::sleep_for(300ms);
    try {
        quiet.checkpoint();
        ADD_FAILURE() << "a checkpoint without the state the channel promised";
    } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("closed its checkpoint channel"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(closer.running());
    quiet.close();
}

TEST_F(CheckpointTest, SaveLoadListDeleteRoundTrip) {
    Sandbox sb(policy_);
    sb.exec({counter(), log_.string()});
    wait_for_count(2);
    {
        Checkpoint unsaved = sb.checkpoint();
    }
    EXPECT_TRUE(Checkpoint::list().empty()) << "an unsaved checkpoint was kept";
    Checkpoint cp = sb.checkpoint();
    cp.save("one");
    EXPECT_EQ(cp.name(), "one");
    EXPECT_THROW(sb.checkpoint().save("one"), CheckpointError) << "a name in use was overwritten";
    Checkpoint loaded = Checkpoint::load("one");
    loaded.save("two");  // a copy
    EXPECT_EQ(Checkpoint::list(), (std::vector<std::string>{"one", "two"}));
    Checkpoint::remove("one");
    EXPECT_EQ(Checkpoint::list(), (std::vector<std::string>{"two"}));
    EXPECT_THROW(Checkpoint::load("one"), CheckpointError);
    EXPECT_NO_THROW(Checkpoint::load("two"));
    EXPECT_THROW(Checkpoint::remove("one"), CheckpointError);
    for (const char* bad : {"", "../x", ".hidden", "a/b", "-x"}) EXPECT_THROW(sb.checkpoint().save(bad), CheckpointError) << bad;
    // Another store: a copy there, this one unchanged.
    const std::string other = (data_.path() / "elsewhere").string();
    loaded.save("three", other);
    EXPECT_EQ(Checkpoint::list({.store = other}), (std::vector<std::string>{"three"}));
    EXPECT_NO_THROW(Checkpoint::load("three", {.store = other}));
    EXPECT_EQ(Checkpoint::list(), (std::vector<std::string>{"two"}));
    sb.close();
    // Nothing of the unsaved checkpoints is left behind.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(store())) ++entries;
    EXPECT_EQ(entries, 1u);
}

// What a damaged checkpoint does to load: a clear refusal, and the files stay as they were.
void expect_refused(const std::string& name, const fs::path& directory, const std::string& why) {
    std::map<std::string, std::string> before;
    for (const auto& entry : fs::directory_iterator(directory)) before[entry.path().filename()] = read_file(entry.path());
    try {
        Checkpoint::load(name);
        ADD_FAILURE() << "a checkpoint that " << why << " was loaded";
    } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
    std::map<std::string, std::string> after;
    for (const auto& entry : fs::directory_iterator(directory)) after[entry.path().filename()] = read_file(entry.path());
    EXPECT_EQ(before, after) << "loading changed the checkpoint";
}

TEST_F(CheckpointTest, DamagedTruncatedAndForeignCheckpointsAreRefused) {
    Sandbox sb(policy_);
    sb.exec({counter(), log_.string()});
    wait_for_count(2);
    for (const char* name : {"foreign", "truncated", "damaged", "garbled", "missing", "linked"}) sb.checkpoint().save(name);
    sb.close();
    auto manifest = [&](const char* name) { return store() / name / "manifest.json"; };
    auto page_file = [&](const char* name) {
        for (const auto& entry : fs::directory_iterator(store() / name))
            if (entry.path().filename().string().rfind("pages-", 0) == 0) return entry.path();
        return fs::path();
    };
    {
        std::string text = read_file(manifest("foreign"));
        text.replace(text.find("\"version\":1"), 11, "\"version\":7");
        std::ofstream(manifest("foreign"), std::ios::trunc) << text;
    }
    fs::resize_file(page_file("truncated"), fs::file_size(page_file("truncated")) - 4096);
    {
        std::fstream f(page_file("damaged"), std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f.put('\x5a');
    }
    fs::resize_file(manifest("garbled"), fs::file_size(manifest("garbled")) / 2);
    fs::remove(page_file("missing"));
    // A page file swapped for a link to a file of the same size: never followed.
    {
        const fs::path target = work_.path() / "elsewhere";
        fs::copy_file(page_file("linked"), target);
        const fs::path link = page_file("linked");
        fs::remove(link);
        fs::create_symlink(target, link);
    }
    expect_refused("foreign", store() / "foreign", "version");
    expect_refused("truncated", store() / "truncated", "truncated");
    expect_refused("damaged", store() / "damaged", "damaged");
    expect_refused("garbled", store() / "garbled", "not valid JSON");
    expect_refused("missing", store() / "missing", "cannot open");
    expect_refused("linked", store() / "linked", "cannot open");
}

TEST_F(CheckpointTest, StoreIsPrivateAndAnotherUsersIsRefused) {
    Sandbox sb(policy_);
    sb.exec({counter(), log_.string()});
    wait_for_count(2);
    sb.checkpoint().save("mine");
    struct stat st {};
    ASSERT_EQ(::stat(store().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat(store().parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ::chmod(store().c_str(), 0755);
    try {
        Checkpoint::list();
        ADD_FAILURE() << "a store open to others was used";
    } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("open to other users"), std::string::npos) << e.what();
    }
    ::chmod(store().c_str(), 0700);
    if (::geteuid() == 0) {
        ASSERT_EQ(::chown(store().c_str(), 65534, 65534), 0);
        try {
            Checkpoint::load("mine");
            ADD_FAILURE() << "another user's store was used";
        } catch (const CheckpointError& e) {
            EXPECT_NE(std::string(e.what()).find("belongs to uid 65534"), std::string::npos) << e.what();
        }
        ASSERT_EQ(::chown(store().c_str(), 0, 0), 0);
    }
    sb.close();
}

TEST_F(CheckpointTest, AStoreTheSandboxCanWriteIsRefused) {
    // It could rewrite its own checkpoint (its policy) before the restore.
    Policy writes_store = policy_;
    writes_store.fs_writable.push_back(data_.path().string());
    Sandbox sb(writes_store);
    sb.exec({counter(), log_.string()});
    wait_for_count(1);
    try {
        sb.checkpoint();
        ADD_FAILURE() << "a checkpoint went where the sandbox can write";
    } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("could rewrite its checkpoint"), std::string::npos) << e.what();
    }
    sb.close();
}

TEST_F(CheckpointTest, ProcessesThatComeAndGoNeverBreakIt) {
    // A shell starting short-lived processes: each checkpoint holds what ran at that moment,
    // or fails cleanly; the sandbox runs on either way.
    Sandbox sb(policy_);
    Process& shell = sb.exec({"/bin/sh", "-c", "while :; do /bin/true; done"});
    int taken = 0;
    for (int i = 0; i < 20; ++i) {
        try {
            Checkpoint cp = sb.checkpoint();
            EXPECT_GE(cp.processes().size(), 1u);
            ++taken;
        } catch (const CheckpointError& e) {
            EXPECT_NE(std::string(e.what()).find("ended"), std::string::npos) << e.what();
        }
    }
    EXPECT_GT(taken, 10);
    EXPECT_TRUE(shell.running());
    sb.close();
}

TEST_F(CheckpointTest, AThreadThatCannotStopFailsTheCheckpointInTime) {
    // A thread waiting for its vfork child cannot be stopped until the child execs, which this
    // one never does: the checkpoint gives up, everything runs on, and the sandbox obeys.
    Sandbox sb(policy_);
    Process& running = sb.exec({counter(), log_.string(), "--vfork-hang"});
    wait_for_count(2);
    const auto start = std::chrono::steady_clock::now();
    try {
        sb.checkpoint();
        ADD_FAILURE() << "a checkpoint with a thread that never stopped";
    } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("did not stop"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
    const std::size_t counted = numbers_in(read_file(log_)).size();
    wait_for_count(counted + 3);  // not left stopped
    running.kill();
    EXPECT_EQ(running.wait(20s).exit_code, 128 + SIGKILL);
    sb.close();
}

TEST_F(CheckpointTest, CheckpointRefusedWhilePausedOrWithNothingRunning) {
    Sandbox sb(policy_);
    EXPECT_THROW(sb.checkpoint(), SandboxError);
    sb.exec({counter(), log_.string()});
    wait_for_count(1);
    sb.pause();
    EXPECT_THROW(sb.checkpoint(), SandboxError);
    sb.resume();
    EXPECT_NO_THROW(sb.checkpoint());
    sb.close();
}

TEST_F(CheckpointTest, RestoredCounterCountsOnWithItsMemoryAndFileOffset) {
    save_counter(policy_, "counter", 10);
    const std::vector<long> before = numbers_in(read_file(log_));
    ASSERT_FALSE(before.empty());
    fs::resize_file(log_, 0);  // what the restored counter writes lands at its saved offset

    const Result result = run_restored("counter");
    const std::vector<long> counted = numbers_in(result.stdout_text);
    ASSERT_GE(counted.size(), 3u) << result.stdout_text << result.stderr_text;
    const long first = counted.front();
    EXPECT_GE(first, 10) << "it started over instead of going on";
    EXPECT_LE(first, before.back() + 1);
    for (std::size_t i = 1; i < counted.size(); ++i) EXPECT_EQ(counted[i], first + static_cast<long>(i));
    EXPECT_EQ(result.stderr_text, "") << "its memory check failed";

    // The log: a hole as long as the numbers before `first`, then the numbers from `first` on.
    std::string expected_prefix;
    for (long n = 0; n < first; ++n) expected_prefix += std::to_string(n) + "\n";
    const std::string log = read_file(log_);
    ASSERT_GT(log.size(), expected_prefix.size());
    EXPECT_EQ(log.substr(0, expected_prefix.size()), std::string(expected_prefix.size(), '\0'));
    EXPECT_EQ(numbers_in(log.substr(expected_prefix.size())).front(), first);
}

// max_memory refuses prctl(PR_SET_MM) to the program (a heap it moves would escape brk's
// judging), but not to the restore, which sets the process's memory layout with it.
TEST_F(CheckpointTest, ARestoreUnderAMemoryLimitSetsTheLayoutTheProgramMayNot) {
    Policy limited = policy_;
    // Any limit turns the refusal on. This one leaves room for what a restore's start copies:
    // it is a fork of the spawner, whose copy of a sanitizer build's memory (its shadow
    // included) is terabytes.
    limited.max_memory = std::uint64_t{1} << 50;
    save_counter(limited, "limited", 5);
    ASSERT_EQ(Checkpoint::load("limited").policy().max_memory, limited.max_memory);
    const Result result = run_restored("limited");
    const std::vector<long> counted = numbers_in(result.stdout_text);
    ASSERT_GE(counted.size(), 2u) << result.stdout_text << result.stderr_text;
    EXPECT_GE(counted.front(), 5) << "it started over instead of going on";
    EXPECT_EQ(result.stderr_text, "") << "its memory check failed";

    // The program itself is refused.
    Sandbox fresh(limited);
    const Result own = fresh.run({kPython, "-c",
                                  "import ctypes, errno\n"
                                  "libc = ctypes.CDLL(None, use_errno=True)\n"
                                  "size = ctypes.c_uint(0)\n"
                                  "rc = libc.prctl(35, 15, ctypes.byref(size), 0, 0)\n"  // PR_SET_MM_MAP_SIZE
                                  "print(rc, errno.errorcode.get(ctypes.get_errno()))\n"});
    EXPECT_EQ(own.stdout_text, "-1 EPERM\n") << own.stderr_text << own.error;
}

TEST_F(CheckpointTest, TwoRestoresOfOneCheckpointRunSideBySide) {
    save_counter(policy_, "fork-me", 5);
    Checkpoint cp = Checkpoint::load("fork-me");
    Sandbox a(cp.policy()), b(cp.policy());
    Process& first = a.restore(cp);
    Process& second = b.restore(cp);
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(first.running());
    EXPECT_TRUE(second.running());
    first.kill();
    second.kill();
    const auto one = numbers_in(first.wait(20s).stdout_text), two = numbers_in(second.wait(20s).stdout_text);
    ASSERT_FALSE(one.empty());
    ASSERT_FALSE(two.empty());
    EXPECT_EQ(one.front(), two.front()) << "both continue from the same point";
    EXPECT_GE(one.front(), 5);
}

TEST_F(CheckpointTest, AMultiThreadedProcessIsRestoredAndItsThreadsJoin) {
    // The counting happens in a second thread the main one waits for (pthread_join): after the
    // restore it counts on, ends at 40, and the join sees it end (the kernel clears and wakes
    // the thread id the C library keeps, at its new id).
    {
        Sandbox sb(policy_);
        sb.exec({counter(), log_.string(), "--in-thread", "--until", "40", "--thread"});
        wait_for_count(5);
        Checkpoint cp = sb.checkpoint();
        ASSERT_EQ(cp.processes().size(), 1u);
        EXPECT_EQ(cp.processes()[0].threads, 3u);
        cp.save("threads");
        sb.close();
    }
    Checkpoint cp = Checkpoint::load("threads");
    Sandbox sb(cp.policy());
    const Result result = sb.restore(cp).wait(20s);
    EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
    const auto counted = numbers_in(result.stdout_text);
    ASSERT_FALSE(counted.empty()) << result.stdout_text;
    EXPECT_GE(counted.front(), 5);
    EXPECT_EQ(counted.back(), 40);
    EXPECT_NE(result.stdout_text.find("joined\n"), std::string::npos) << result.stdout_text;
}

TEST_F(CheckpointTest, ABranchIsSnapshotAndARestoreRunsOnABranchForkedFromIt) {
    SANDLOCK_SKIP_UNLESS_AVAILABLE("branch overlay");
    const fs::path ws = work_.path() / "ws", storage = data_.path() / "branches";
    fs::create_directories(ws);
    Policy p = policy_;
    p.fs_writable = {ws.string()};
    p.fs_isolation = FsIsolation::BranchFs;
    p.fs_mount = ws.string();
    p.fs_storage = storage.string();
    p.on_error = BranchAction::Abort;
    const fs::path log = ws / "log";  // in the branch: the host's workspace never sees it
    {
        Sandbox sb(p);
        sb.exec({counter(), log.string()});
        Result seen;
        for (int i = 0; i < 200 && numbers_in(seen.stdout_text).size() < 5; ++i) {
            std::this_thread::sleep_for(10ms);
            seen = sb.exec({"/bin/cat", log.string()}).wait(20s);
        }
        ASSERT_GE(numbers_in(seen.stdout_text).size(), 5u) << seen.stderr_text;
        Checkpoint cp = sb.checkpoint();
        ASSERT_TRUE(cp.branch());
        EXPECT_EQ(json_option(cp.policy(), "branch_from"), *cp.branch());
        cp.save("on-a-branch");
        sb.close();
    }
    EXPECT_FALSE(fs::exists(log));
    Checkpoint cp = Checkpoint::load("on-a-branch");
    ASSERT_TRUE(cp.branch());
    Sandbox sb(cp.policy());
    Process& restored = sb.restore(cp);
    std::this_thread::sleep_for(200ms);
    // The restored counter's file is the snapshot's, written on at the saved offset: every
    // number from 0 once, in order.
    const Result seen = sb.exec({"/bin/cat", log.string()}).wait(20s);
    const auto counted = numbers_in(seen.stdout_text);
    ASSERT_GE(counted.size(), 8u) << seen.stdout_text;
    for (std::size_t i = 0; i < counted.size(); ++i) ASSERT_EQ(counted[i], static_cast<long>(i)) << seen.stdout_text;
    EXPECT_TRUE(restored.running());
    sb.close();
    EXPECT_FALSE(fs::exists(log)) << "the restored branch was committed into the workspace";
}

TEST_F(CheckpointTest, APipeItHoldsBothEndsOfComesBackWithWhatWasInIt) {
    // A self-pipe (the event-loop idiom): recreated, with the bytes still buffered in it.
    const std::string program =
        "import os, sys, time\n"
        "r, w = os.pipe()\n"
        "os.write(w, b'before;')\n"
        "open(sys.argv[1], 'w').close()\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.01)\n"
        "os.write(w, b'after')\n"
        "print(os.read(r, 100).decode(), flush=True)\n";
    const fs::path ready = work_.path() / "ready", go = work_.path() / "go";
    {
        Sandbox sb(policy_);
        sb.exec({kPython, "-c", program, ready.string(), go.string()});
        for (int i = 0; i < 500 && !fs::exists(ready); ++i) std::this_thread::sleep_for(10ms);
        ASSERT_TRUE(fs::exists(ready));
        Checkpoint cp = sb.checkpoint();
        EXPECT_TRUE(cp.unrestorable().empty()) << cp.unrestorable().front();
        cp.save("self-pipe");
        sb.close();
    }
    Checkpoint cp = Checkpoint::load("self-pipe");
    Sandbox sb(cp.policy());
    Process& restored = sb.restore(cp);
    std::this_thread::sleep_for(100ms);
    std::ofstream(go).close();
    const Result result = restored.wait(20s);
    EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
    EXPECT_EQ(result.stdout_text, "before;after\n");
}

TEST_F(CheckpointTest, ASocketIsListedAsUnrestorable) {
    Sandbox sb(policy_);
    sb.exec({counter(), log_.string(), "--socket"});
    wait_for_count(3);
    Checkpoint cp = sb.checkpoint();
    ASSERT_EQ(cp.unrestorable().size(), 1u);
    EXPECT_NE(cp.unrestorable().front().find("fd 4"), std::string::npos) << cp.unrestorable().front();
    EXPECT_NE(cp.unrestorable().front().find("socket"), std::string::npos) << cp.unrestorable().front();
    sb.close();
}

TEST_F(CheckpointTest, UnrestorableFilesRefuseUnlessSkipped) {
    {
        Sandbox sb(policy_);
        sb.exec({counter(), log_.string(), "--socket"});
        wait_for_count(3);
        sb.checkpoint().save("with-socket");
        sb.close();
    }
    Checkpoint cp = Checkpoint::load("with-socket");
    {
        Sandbox sb(cp.policy());
        try {
            sb.restore(cp);
            ADD_FAILURE() << "restored with its socket silently missing";
        } catch (const CheckpointError& e) {
            EXPECT_NE(std::string(e.what()).find("socket"), std::string::npos) << e.what();
        }
    }
    Sandbox sb(cp.policy());
    Process& restored = sb.restore(cp, {}, {.skip_unrestorable = true});
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(restored.running());
    restored.kill();
    EXPECT_GE(numbers_in(restored.wait(20s).stdout_text).front(), 3);
}

TEST_F(CheckpointTest, ConfinementOfItsOwnIsNeverRestoredAway) {
    // A restore starts from the sandbox's own confinement: a process that added to it (its own
    // seccomp filter, a nested sandbox's rules) is refused, --skip-unrestorable or not.
    {
        Sandbox sb(policy_);
        sb.exec({counter(), log_.string(), "--own-filter"});
        wait_for_count(2);
        Checkpoint cp = sb.checkpoint();
        ASSERT_EQ(cp.processes().size(), 1u);
        EXPECT_NE(cp.processes()[0].restore_refusal.find("seccomp filters of its own"), std::string::npos)
            << cp.processes()[0].restore_refusal;
        sb.close();
        Sandbox again(cp.policy());
        EXPECT_THROW(again.restore(cp, {}, {.skip_unrestorable = true}), CheckpointError);
    }
    Sandbox parent(policy_);
    Sandbox child = parent.sandbox(policy_);
    child.exec({counter(), log_.string()});
    wait_for_count(2);
    Checkpoint cp = parent.checkpoint();
    ASSERT_EQ(cp.processes().size(), 1u);
    EXPECT_NE(cp.processes()[0].restore_refusal.find("nested"), std::string::npos) << cp.processes()[0].restore_refusal;
    child.close();
    parent.close();
    Sandbox again(cp.policy());
    EXPECT_THROW(again.restore(cp), CheckpointError);
}

TEST_F(CheckpointTest, RestoreWantsASandboxOfItsOwn) {
    // Until its exec the new process holds a copy of the spawner's memory: nothing else may run
    // in the sandbox then.
    {
        Sandbox sb(policy_);
        sb.exec({counter(), log_.string()});
        wait_for_count(2);
        sb.checkpoint().save("own");
        sb.close();
    }
    Checkpoint cp = Checkpoint::load("own");
    Sandbox busy(cp.policy());
    busy.exec({"/bin/sleep", "30"});
    EXPECT_THROW(busy.restore(cp), SandboxError);
    busy.close();
}

TEST_F(CheckpointTest, RestoreObeysThePolicy) {
    // The restored process reopens its files itself, under the sandbox's rules: a policy that
    // no longer lets it write its log refuses the restore.
    {
        Sandbox sb(policy_);
        sb.exec({counter(), log_.string()});
        wait_for_count(2);
        sb.checkpoint().save("strict");
        sb.close();
    }
    Checkpoint cp = Checkpoint::load("strict");
    Policy narrower = cp.policy();
    narrower.fs_writable.clear();
    narrower.fs_readable.push_back(work_.path().string());
    Sandbox sb(narrower);
    try {
        sb.restore(cp);
        ADD_FAILURE() << "the restore opened a file the policy forbids writing";
    } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find(log_.string()), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace sandlock::test
