// The sandlock binary as a black box: exit codes, every bad input (exit 125, one line, the
// command never runs), profiles, check and plugins listings.
#include "cli_run.hpp"
#include "process_scan.hpp"
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

namespace sandlock::test {
namespace {


std::vector<std::string> run_args(std::vector<std::string> flags, std::vector<std::string> command) {
    std::vector<std::string> args{"run"};
    args.insert(args.end(), kSystem.begin(), kSystem.end());
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return args;
}

// A bad input: exit 125, exactly one line on stderr that contains `expected`, nothing run.
void expect_refused(const CliResult& r, const std::string& expected) {
    EXPECT_EQ(r.exit_code, 125) << r.err;
    EXPECT_EQ(r.out.find("RAN"), std::string::npos) << "the command ran";
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
}

TEST(Cli, RunsACommandAndPassesItsExitCode) {
    CliResult r = sandlock(run_args({}, {"/bin/sh", "-c", "echo RAN; exit 7"}));
    EXPECT_EQ(r.exit_code, 7);
    EXPECT_EQ(r.out, "RAN\n");
}

TEST(Cli, QuickStartCommand) {
    CliResult r = sandlock({"run", "-r", "/usr", "-r", "/lib", "-w", "/tmp", "--", "ls", "/tmp"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Cli, CommandWithItsOwnFlagsNeedsNoDoubleDash) {
    CliResult r = sandlock({"run", "-r", "/usr", "-r", "/lib", "-r", "/lib64", "-r", "/bin", "/bin/sh", "-c", "echo RAN $0", "x"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "RAN x\n");
}

TEST(Cli, TimeoutIs124) {
    CliResult r = sandlock(run_args({"-t", "0.3"}, {"/bin/sleep", "30"}));
    EXPECT_EQ(r.exit_code, 124);
}

TEST(Cli, NotFoundIs127AndNotExecutableIs126) {
    CliResult missing = sandlock(run_args({}, {"no-such-command"}));
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_EQ(missing.err, "sandlock: no-such-command: command not found\n");
    TempDir dir;
    std::ofstream(dir / "data") << "not a program\n";  // mode 0644
    CliResult denied = sandlock(run_args({"-r", dir.str()}, {dir / "data"}));
    EXPECT_EQ(denied.exit_code, 126);
    EXPECT_NE(denied.err.find("Permission denied"), std::string::npos) << denied.err;
}

TEST(Cli, SignalDeathIs128PlusN) {
    CliResult r = sandlock(run_args({}, {"/bin/sh", "-c", "kill -KILL $$"}));
    EXPECT_EQ(r.exit_code, 128 + 9);
}

TEST(Cli, SigtermToSandlockKillsTheTree) {
    TempDir dir;
    std::string pidfile = dir / "pid";
    pid_t pid = ::fork();
    if (pid == 0) {
        std::string bin = sandlock_bin();
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::execl(bin.c_str(), bin.c_str(), "run", "-r", "/usr", "-r", "/lib", "-r", "/lib64", "-r", "/bin", "--",
                "/bin/sh", "-c", "setsid sleep 976 & sleep 977", nullptr);
        ::_exit(99);
    }
    for (int i = 0; i < 250 && count_processes("sleep 977") == 0; ++i) ::usleep(20000);
    EXPECT_EQ(count_processes("sleep 977"), 1);
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
    EXPECT_EQ(count_processes("sleep 976"), 0);
    EXPECT_EQ(count_processes("sleep 977"), 0);
}

TEST(Cli, BadSize) { expect_refused(sandlock(run_args({"-m", "12Q"}, {"echo", "RAN"})), "--max-memory: invalid value \"12Q\""); }
TEST(Cli, BadPort) { expect_refused(sandlock(run_args({"--net-bind", "99999"}, {"echo", "RAN"})), "--net-bind: invalid value \"99999\""); }
TEST(Cli, BadPortRange) {
    expect_refused(sandlock(run_args({"--net-connect", "9000-8000"}, {"echo", "RAN"})), "--net-connect: invalid value \"9000-8000\"");
}
TEST(Cli, EnvWithoutEquals) { expect_refused(sandlock(run_args({"--env", "FOO"}, {"echo", "RAN"})), "--env: invalid value \"FOO\" (expected KEY=VALUE)"); }
TEST(Cli, NegativeProcessCount) { expect_refused(sandlock(run_args({"-P", "-3"}, {"echo", "RAN"})), "-3"); }
TEST(Cli, NonNumericTimeout) { expect_refused(sandlock(run_args({"-t", "soon"}, {"echo", "RAN"})), "--timeout: invalid value \"soon\""); }
TEST(Cli, UnknownPlugin) {
    expect_refused(sandlock({"--plugins=landlock,seccomp,nope", "run", "--", "echo", "RAN"}), "unknown plugin 'nope'");
}
TEST(Cli, FieldWhosePluginIsDisabled) {
    expect_refused(sandlock({"--plugins=seccomp", "run", "-r", "/usr", "--", "echo", "RAN"}),
                   "fs_readable needs plugin 'landlock', which is not enabled");
}
TEST(Cli, BranchFieldWithoutBranchIsolation) {
    expect_refused(sandlock(run_args({"--max-disk", "1G"}, {"echo", "RAN"})),
                   "max_disk is set but fs_isolation is not branchfs");
}
TEST(Cli, FieldWhosePluginIsNotInstalled) {
    // An installation with only the landlock and seccomp layers: a branchfs field names the
    // package to add.
    TempDir install;
    namespace fs = std::filesystem;
    fs::create_directories(install.path() / "bin");
    fs::create_directories(install.path() / "lib/sandlock/plugins");
    fs::copy_file(sandlock_bin(), install.path() / "bin/sandlock");
    for (const char* plugin : {"landlock.so", "seccomp.so"})
        fs::copy_file(bin_dir() / "../lib/sandlock/plugins" / plugin, install.path() / "lib/sandlock/plugins" / plugin);
    std::vector<std::string> args{(install.path() / "bin/sandlock").string(), "run", "--max-disk", "1G", "--", "echo", "RAN"};
    CliResult r = sandlock_at(args);
    expect_refused(r, "max_disk: no installed plugin enforces it");
}
TEST(Cli, UnknownFlag) { expect_refused(sandlock(run_args({"--no-such-flag"}, {"echo", "RAN"})), "--no-such-flag"); }
TEST(Cli, MissingCommand) { expect_refused(sandlock({"run", "-r", "/usr"}), "command"); }
TEST(Cli, UnknownSyscallName) {
    TempDir config;
    std::filesystem::create_directories(config.path() / "sandlock/profiles");
    std::ofstream(config.path() / "sandlock/profiles/bad.toml") << "deny_syscalls = [\"no_such_call\"]\n";
    expect_refused(sandlock(run_args({"-p", "bad"}, {"echo", "RAN"}), {"XDG_CONFIG_HOME=" + config.str()}),
                   "no_such_call");
}

class CliProfiles : public ::testing::Test {
protected:
    void write(const std::string& name, const std::string& text) {
        std::filesystem::create_directories(config_.path() / "sandlock/profiles");
        std::ofstream(config_.path() / "sandlock/profiles" / (name + ".toml")) << text;
    }
    CliResult sandlock_with_profiles(std::vector<std::string> args) {
        return sandlock(std::move(args), {"XDG_CONFIG_HOME=" + config_.str()});
    }
    TempDir config_;
};

TEST_F(CliProfiles, ProfileAppliesAndFlagsAppend) {
    write("build", "fs_readable = [\"/usr\", \"/lib\", \"/lib64\", \"/bin\"]\nclean_env = true\n[env]\nCC = \"gcc\"\n");
    CliResult r = sandlock_with_profiles({"run", "-p", "build", "--env", "LANG=C", "--", "/usr/bin/env"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("CC=gcc"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("LANG=C"), std::string::npos) << r.out;
    // /etc is not in the profile: Landlock denies it; -r appends it.
    EXPECT_NE(sandlock_with_profiles({"run", "-p", "build", "--", "/bin/cat", "/etc/hostname"}).exit_code, 0);
    EXPECT_EQ(sandlock_with_profiles({"run", "-p", "build", "-r", "/etc", "--", "/bin/cat", "/etc/hostname"}).exit_code, 0);
}

TEST_F(CliProfiles, UnknownFieldNamesFileLineAndField) {
    write("typo", "fs_readable = [\"/usr\"]\nmax_memroy = \"1G\"\n");
    CliResult r = sandlock_with_profiles({"run", "-p", "typo", "--", "echo", "RAN"});
    expect_refused(r, "typo.toml:2: unknown field \"max_memroy\"");
}

TEST_F(CliProfiles, WrongTypeNamesTheExpectedType) {
    write("wrong", "clean_env = \"yes\"\n");
    expect_refused(sandlock_with_profiles({"run", "-p", "wrong", "--", "echo", "RAN"}),
                   "wrong.toml:1: field 'clean_env' expects a boolean");
}

TEST_F(CliProfiles, BadValueInsideAProfile) {
    write("size", "max_memory = \"lots\"\n");
    expect_refused(sandlock_with_profiles({"run", "-p", "size", "--", "echo", "RAN"}), "size.toml:1: max_memory: invalid value \"lots\"");
}

TEST_F(CliProfiles, MissingProfile) {
    expect_refused(sandlock_with_profiles({"run", "-p", "absent", "--", "echo", "RAN"}), "no profile named \"absent\"");
}

TEST_F(CliProfiles, ListAndShow) {
    write("alpha", "clean_env = true\n");
    CliResult list = sandlock_with_profiles({"profile", "list"});
    EXPECT_EQ(list.exit_code, 0);
    EXPECT_NE(list.out.find("alpha\t"), std::string::npos) << list.out;
    CliResult show = sandlock_with_profiles({"profile", "show", "alpha"});
    EXPECT_EQ(show.exit_code, 0);
    EXPECT_NE(show.out.find("clean_env = true"), std::string::npos) << show.out;
}

TEST_F(CliProfiles, PluginTablesAndEnabledList) {
    write("layers", "fs_readable = [\"/usr\", \"/lib\", \"/lib64\", \"/bin\"]\n"
                    "[plugins]\nenabled = [\"landlock\", \"seccomp\", \"reads_options\"]\n"
                    "[plugins.reads_options]\ngreeting = \"hi\"\n");
    CliResult r = sandlock_with_profiles(
        {"--plugin-path", test_plugin_dir(), "run", "-p", "layers", "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "greeting: hi\n");
}

TEST(Cli, CheckJsonIsValidAndComplete) {
    CliResult r = sandlock({"check", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    boost::json::object report = boost::json::parse(r.out).as_object();
    EXPECT_GE(report.at("landlock_abi").as_int64(), 1);
    bool has_notif = false;
    for (const auto& f : report.at("features").as_array())
        if (f.at("name") == "seccomp user notification") has_notif = true;
    EXPECT_TRUE(has_notif);
    std::set<std::string> names;
    for (const auto& p : report.at("plugins").as_array()) names.insert(std::string(p.at("name").as_string()));
    EXPECT_TRUE(names.contains("landlock"));
    EXPECT_TRUE(names.contains("seccomp"));
}

TEST(Cli, PluginsListsOwnedFields) {
    CliResult r = sandlock({"plugins"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("fs_readable"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("deny_syscalls"), std::string::npos) << r.out;
}

TEST(Cli, HelpForEverySubcommand) {
    for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"run", "--help"}, {"profile", "--help"},
                                          {"check", "--help"}, {"plugins", "--help"}}) {
        CliResult r = sandlock(args);
        EXPECT_EQ(r.exit_code, 0) << args[0];
        EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
    }
}

}  // namespace
}  // namespace sandlock::test
