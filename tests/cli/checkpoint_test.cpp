// Checkpoints from the CLI: `sandlock checkpoint NAME --save CP` of a named sandbox, `checkpoint
// list|show|delete`, `sandlock restore CP` continuing the counter, and bad input (exit 125,
// one line). Each test has its own runtime directory and checkpoint store.
#include "cli_run.hpp"
#include "feature_check.hpp"
#include "named_run.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sstream>

namespace sandlock::test {
namespace {
using namespace std::chrono_literals;
namespace json = boost::json;

class CheckpointCli : public ::testing::Test {
protected:
    void SetUp() override { SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces"); }
    std::vector<std::string> env() const {
        return {"XDG_RUNTIME_DIR=" + runtime_.str(), "XDG_DATA_HOME=" + data_.str()};
    }
    CliResult cli(std::vector<std::string> args) const { return sandlock(std::move(args), env()); }

    TempDir runtime_, data_, work_;
};

std::vector<long> numbers_in(const std::string& text) {
    std::vector<long> out;
    std::istringstream in(text);
    for (long n; in >> n;) out.push_back(n);
    return out;
}

TEST_F(CheckpointCli, CheckpointListShowRestoreDelete) {
    const std::string log = work_.str() + "/log";
    // An argument with an escape sequence: `checkpoint show` must not pass it to the terminal.
    NamedRun run(runtime_, "count",
                 with_system({"-r", bin_dir().string(), "-w", work_.str()}, {counter(), log, "\x1b]0;owned\x07"}),
                 {"XDG_DATA_HOME=" + data_.str()});
    ASSERT_TRUE(run.wait_listed());
    for (int i = 0; i < 500 && numbers_in(slurp(log)).size() < 5; ++i) std::this_thread::sleep_for(10ms);

    CliResult saved = cli({"checkpoint", "count", "--save", "at-five"});
    ASSERT_EQ(saved.exit_code, 0) << saved.err;
    EXPECT_NE(saved.out.find("saved checkpoint at-five: 1 process"), std::string::npos) << saved.out;
    EXPECT_EQ(cli({"kill", "count"}).exit_code, 0);
    EXPECT_EQ(run.exit_code(), 137);

    CliResult list = cli({"checkpoint", "list"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    EXPECT_EQ(list.out.rfind("at-five\t", 0), 0u) << list.out;
    CliResult listed = cli({"checkpoint", "list", "--json"});
    EXPECT_EQ(json::parse(listed.out).as_array().at(0).as_object().at("name").as_string(), "at-five");
    CliResult show = cli({"checkpoint", "show", "at-five"});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    EXPECT_NE(show.out.find(counter()), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("restorable: yes"), std::string::npos) << show.out;
    EXPECT_EQ(show.out.find('\x1b'), std::string::npos) << "an escape sequence reached the terminal";
    EXPECT_NE(show.out.find("\\x1b]0;owned\\x07"), std::string::npos) << show.out;

    // The restored counter prints the numbers after the checkpoint on sandlock's stdout; -t is
    // not a restore flag, so `timeout` ends it.
    CliResult restored = sandlock_at({"/usr/bin/timeout", "-s", "TERM", "1", sandlock_bin(), "restore", "at-five"}, env());
    const auto counted = numbers_in(restored.out);
    ASSERT_GE(counted.size(), 3u) << restored.out << restored.err;
    EXPECT_GE(counted.front(), 5);
    for (std::size_t i = 1; i < counted.size(); ++i) EXPECT_EQ(counted[i], counted.front() + static_cast<long>(i));

    EXPECT_EQ(cli({"checkpoint", "delete", "at-five"}).exit_code, 0);
    EXPECT_EQ(cli({"checkpoint", "list"}).out, "");
}

TEST_F(CheckpointCli, ANamedRunWithACheckpointChannelGivesItsState) {
    const std::string program =
        "import os, select, struct\n"
        "fd = int(os.environ['SANDLOCK_CHECKPOINT_FD'])\n"
        "while True:\n"
        "    select.select([fd], [], [])\n"
        "    if os.read(fd, 1) != b'C': break\n"
        "    os.write(fd, struct.pack('<Q', 5) + b'hello')\n";
    NamedRun run(runtime_, "talks", with_system({"--checkpoint-channel"}, {"/usr/bin/python3", "-c", program}),
                 {"XDG_DATA_HOME=" + data_.str()});
    ASSERT_TRUE(run.wait_listed());
    CliResult saved = cli({"checkpoint", "talks", "--save", "talked"});
    ASSERT_EQ(saved.exit_code, 0) << saved.err;
    CliResult show = cli({"checkpoint", "show", "talked"});
    EXPECT_NE(show.out.find("app state 5 bytes"), std::string::npos) << show.out;
    EXPECT_EQ(cli({"kill", "talks"}).exit_code, 0);
    EXPECT_EQ(run.exit_code(), 137);
}

TEST_F(CheckpointCli, BadInputIsOneLineAndExit125) {
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    const Case cases[] = {
        {{"checkpoint"}, "name the sandbox to checkpoint"},
        {{"checkpoint", "nobody"}, "--save"},
        {{"checkpoint", "nobody", "--save", "x"}, "nobody"},
        {{"checkpoint", "show", "missing"}, "does not exist"},
        {{"checkpoint", "delete", "../etc"}, "checkpoint name"},
        {{"restore", "missing"}, "does not exist"},
        {{"restore", "missing", "--name", "bad name"}, "name"},
        {{"checkpoint", "nobody", "--save", ""}, "--save"},
        {{"run", "--checkpoint-channel", "-r", "/usr", "--", "/bin/true"}, "only with --name"},
    };
    for (const Case& c : cases) {
        CliResult r = cli(c.args);
        std::string line;
        for (const auto& a : c.args) line += a + " ";
        EXPECT_EQ(r.exit_code, 125) << line << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << line << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << line << r.err;
    }
}

}  // namespace
}  // namespace sandlock::test
