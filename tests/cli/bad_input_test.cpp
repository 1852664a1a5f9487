// Bad input as a user (or a script with an unset variable) gives it: every case exits 125 with
// one line naming the input, quoted and bounded, and the command never runs.
#include "cli_run.hpp"
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sandlock::test {
namespace {

// `sandlock ARGS...`, with XDG_CONFIG_HOME set to `xdg` when given (profile tests).
CliResult sandlock_run(std::vector<std::string> args, const std::string& xdg = "") {
    return sandlock(std::move(args), xdg.empty() ? std::vector<std::string>{} : std::vector<std::string>{"XDG_CONFIG_HOME=" + xdg});
}


// `run` with the system readable, then `flags`, then `-- echo RAN`.
std::vector<std::string> run_with(std::vector<std::string> flags) {
    std::vector<std::string> args{"run"};
    args.insert(args.end(), kSystem.begin(), kSystem.end());
    args.insert(args.end(), flags.begin(), flags.end());
    for (const char* word : {"--", "/bin/echo", "RAN"}) args.emplace_back(word);
    return args;
}

void expect_refused(const CliResult& r, const std::string& expected, const std::string& label) {
    EXPECT_EQ(r.exit_code, 125) << label << ": " << r.err;
    EXPECT_EQ(r.out.find("RAN"), std::string::npos) << label << ": the command ran";
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << label << ": " << r.err;
    EXPECT_LE(r.err.size(), 600u) << label;
    EXPECT_NE(r.err.find(expected), std::string::npos) << label << ": " << r.err;
}

TEST(CliBadInput, EmptyValuesAreRefusedNotIgnored) {
    // `-m "$UNSET"` must never mean "no limit".
    const std::vector<std::pair<std::string, std::string>> flags = {
        {"-m", "--max-memory"},   {"-P", "--max-processes"}, {"-c", "--max-cpu"},    {"-t", "--timeout"},
        {"--chroot", "--chroot"}, {"-p", "--profile"},       {"--max-disk", "--max-disk"},
        {"--fs-isolation", "--fs-isolation"}, {"--fs-mount", "--fs-mount"}, {"--fs-storage", "--fs-storage"},
        {"--on-exit", "--on-exit"}, {"--on-error", "--on-error"}, {"--branch", "--branch"},
        {"--branch-from", "--branch-from"},
        {"-w", "--fs-writable"},  {"-r", "--fs-readable"},   {"--fs-deny", "--fs-deny"},
        {"--net-bind", "--net-bind"}, {"--net-connect", "--net-connect"},
        {"--net-allow-host", "--net-allow-host"}, {"--env", "--env"}};
    for (const auto& [flag, name] : flags)
        expect_refused(sandlock_run(run_with({flag, ""})), name + ": empty value", flag);
}

TEST(CliBadInput, EmptyOrValuelessGlobalOptionsNameTheOption) {
    expect_refused(sandlock_run({"--plugins=", "run", "--", "/bin/echo", "RAN"}), "--plugins: invalid value \"\"", "=");
    expect_refused(sandlock_run({"--plugins=,,", "run", "--", "/bin/echo", "RAN"}), "--plugins: invalid value \",,\"", ",,");
    expect_refused(sandlock_run({"--plugins", "landlock,,seccomp", "run", "--", "/bin/echo", "RAN"}),
                   "--plugins: invalid value", "inner");
    expect_refused(sandlock_run({"--plugin-path", "run", "--", "/bin/echo", "RAN"}), "--plugin-path: needs a value",
                   "path");
    expect_refused(sandlock_run({"--plugin-path="}), "--plugin-path: invalid value \"\"", "path=");
}

TEST(CliBadInput, ANewlineInAValueNeverMakesASecondLine) {
    expect_refused(sandlock_run(run_with({"-m", "1\nsandlock: fake second line"})), "--max-memory: invalid value \"1\\n",
                   "size");
    expect_refused(sandlock_run(run_with({"--net-bind", "80\n81"})), "--net-bind: invalid value \"80\\n81\"", "port");
    expect_refused(sandlock_run(run_with({"--env", "A\nB=1"})), "--env: invalid value \"A\\nB\"", "env");
    expect_refused(sandlock_run(run_with({"-r", "/tmp\n/etc"})), "fs_readable: invalid value \"/tmp\\n/etc\"", "path");
    expect_refused(sandlock_run({"run", "--no-such-flag\nx", "--", "/bin/echo", "RAN"}), "no-such-flag\\nx", "flag");
}

TEST(CliBadInput, AHugeValueNeverMakesAHugeLine) {
    const std::string huge(100 * 1024, '7');
    expect_refused(sandlock_run(run_with({"-m", huge + "Q"})), "(102401 bytes)", "size");
    expect_refused(sandlock_run(run_with({"--chroot", "/" + huge + "\x01"})), "(102402 bytes)", "chroot");
    expect_refused(sandlock_run({"run", "--" + huge, "--", "/bin/echo", "RAN"}), "sandlock: error:", "flag");
}

TEST(CliBadInput, ControlCharactersInPathsAndNamesAreRefused) {
    expect_refused(sandlock_run(run_with({"-w", std::string("/tmp/a\x01")})), "contains the control character \\x01",
                   "path");
    expect_refused(sandlock_run(run_with({"--net-allow-host", "example.com\t"})), "net_allow_hosts: invalid value",
                   "host");
    expect_refused(sandlock_run(run_with({"--env", "=x"})), "--env: invalid value \"=x\"", "env name");
}

TEST(CliBadInput, ADirectoryNamedLikeAPluginIsNamedAsSuch) {
    TempDir dir;
    std::filesystem::create_directory(dir / "fake.so");
    expect_refused(sandlock_run({"--plugin-path", dir.str(), "--plugins=fake", "run", "--", "/bin/echo", "RAN"}),
                   "fake.so is not a regular file", "dir");
}

// A plugin cut short inside a loaded segment is refused by name before dlopen (it used to kill
// sandlock with SIGBUS in run, check and plugins alike).
TEST(CliBadInput, ATruncatedPluginIsRefusedNotACrash) {
    TempDir dir;
    const std::string source = (bin_dir() / "../lib/sandlock/plugins/landlock.so").lexically_normal().string();
    std::filesystem::copy_file(source, dir / "landlock.so");
    // Past the ELF and program headers, inside the loaded segments.
    ASSERT_EQ(::truncate((dir / "landlock.so").c_str(), 3000), 0);
    expect_refused(sandlock_run({"--plugin-path", dir.str(), "--plugins=landlock", "run", "--", "/bin/echo", "RAN"}),
                   "landlock.so: cannot load: truncated", "run");
    for (const char* command : {"check", "plugins"}) {
        CliResult r = sandlock_run({"--plugin-path", dir.str(), command});
        EXPECT_EQ(r.exit_code, 0) << command << ": " << r.err;
        EXPECT_NE(r.out.find("truncated"), std::string::npos) << command << ": " << r.out;
    }
}

TEST(CliBadInput, AScriptWhoseInterpreterIsMissingNamesTheInterpreter) {
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    const std::string script = dir / "job.sh";
    std::ofstream(script) << "#!/no/such/interpreter -e\necho RAN\n";
    ::chmod(script.c_str(), 0755);
    std::vector<std::string> args{"run"};
    args.insert(args.end(), kSystem.begin(), kSystem.end());
    for (const std::string& word : {std::string("-r"), dir.str(), std::string("--"), script}) args.push_back(word);
    CliResult r = sandlock_run(args);
    EXPECT_EQ(r.exit_code, 127) << r.err;
    EXPECT_NE(r.err.find("its interpreter \"/no/such/interpreter\""), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("command not found"), std::string::npos) << r.err;
    // A command that really is missing is still "command not found".
    std::vector<std::string> missing_args{"run"};
    missing_args.insert(missing_args.end(), kSystem.begin(), kSystem.end());
    for (const char* word : {"--", "no-such-command-xyz"}) missing_args.emplace_back(word);
    CliResult missing = sandlock_run(missing_args);
    EXPECT_EQ(missing.exit_code, 127) << missing.err;
    EXPECT_NE(missing.err.find("no-such-command-xyz: command not found"), std::string::npos) << missing.err;
}

class CliBadProfiles : public ::testing::Test {
protected:
    void write(const std::string& name, const std::string& text) {
        std::filesystem::create_directories(config_ / "sandlock/profiles");
        std::ofstream(config_ / ("sandlock/profiles/" + name + ".toml")) << text;
    }
    CliResult run_profile(const std::string& name) {
        return sandlock_run({"run", "-p", name, "--", "/bin/echo", "RAN"}, config_.str());
    }
    TempDir config_;
};

// A NUL used to cut the path short: "/\0tmp/x" became a rule for "/", the whole filesystem.
TEST_F(CliBadProfiles, NulInsideAStringIsRefusedWithFileAndLine) {
    write("nul", "fs_readable = [\"/usr\", \"/\\u0000tmp/x\"]\n");
    expect_refused(run_profile("nul"), "nul.toml:1: fs_readable: invalid value \"/\\x00tmp/x\" (contains a NUL byte",
                   "fs_readable");
    write("chroot", "chroot = \"/tmp\\u0000/x\"\n");
    expect_refused(run_profile("chroot"), "chroot.toml:1: chroot: invalid value", "chroot");
    write("envnul", "[env]\n\"A\\u0000B\" = \"c\"\n");
    expect_refused(run_profile("envnul"), "envnul.toml:2: env: invalid value \"A\\x00B\"", "env name");
    write("envvalue", "[env]\nA = \"b\\u0000c\"\n");
    expect_refused(run_profile("envvalue"), "envvalue.toml:2: env.A: invalid value", "env value");
}

TEST_F(CliBadProfiles, EnvNamesAreValidated) {
    write("eq", "[env]\n\"A=B\" = \"c\"\n");
    expect_refused(run_profile("eq"), "eq.toml:2: env: invalid value \"A=B\" (a variable name cannot contain '='",
                   "A=B");
    write("empty", "[env]\n\"\" = \"x\"\n");
    expect_refused(run_profile("empty"), "empty.toml:2: env: invalid value \"\" (empty", "empty");
}

TEST_F(CliBadProfiles, DeepPluginOptionsNameFileAndLine) {
    std::string nested = "x = ";
    for (int i = 0; i < 40; ++i) nested += "[";
    for (int i = 0; i < 40; ++i) nested += "]";
    write("deep", "[plugins.landlock]\n" + nested + "\n");
    expect_refused(run_profile("deep"), "deep.toml:1: [plugins.landlock]: the options cannot be passed", "deep");
}

TEST(CliBadInput, MaxAbiZeroIsNotReportedAsAKernelWithoutLandlock) {
    TempDir config;
    std::filesystem::create_directories(config / "sandlock/profiles");
    std::ofstream(config / "sandlock/profiles/abi.toml") << "fs_readable = [\"/usr\"]\n[plugins.landlock]\nmax_abi = 0\n";
    CliResult r = sandlock_run({"run", "-p", "abi", "--", "/bin/echo", "RAN"}, config.str());
    expect_refused(r, "max_abi: 0 is not a Landlock ABI version", "max_abi");
    EXPECT_EQ(r.err.find("no Landlock"), std::string::npos) << r.err;
}

// A readable /proc without the plugin that protects it is refused, naming the plugin to add.
TEST(CliBadInput, ReadableProcWithoutItsProtectionIsRefused) {
    expect_refused(sandlock_run({"--plugins=landlock", "run", "-r", "/", "--", "/bin/echo", "RAN"}),
                   "needs plugin 'notif'", "-r /");
    expect_refused(sandlock_run({"--plugins=landlock,seccomp", "run", "-r", "/usr", "-r", "/proc", "--", "/bin/echo",
                                 "RAN"}),
                   "add it: --plugins=seccomp,landlock,notif", "-r /proc");
}

}  // namespace
}  // namespace sandlock::test

namespace sandlock::test {
namespace {

TEST(CliBadInput, ProcReachedThroughASymlinkStillNeedsItsProtection) {
    TempDir dir;
    std::filesystem::create_directory_symlink("/proc", dir / "p");
    expect_refused(sandlock_run({"--plugins=landlock,seccomp", "run", "-r", "/usr", "-r", dir / "p", "--", "/bin/echo",
                                 "RAN"}),
                   "needs plugin 'notif'", "symlink");
}

}  // namespace
}  // namespace sandlock::test
