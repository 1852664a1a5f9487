// Named sandboxes from the CLI (issue 8): run --name, ps, inspect, pause, resume, kill, update;
// the control socket refusing another user; a stale entry after sandlock was SIGKILLed; a name
// clash. Each test has a runtime directory of its own (XDG_RUNTIME_DIR).
#include "cli_run.hpp"
#include "named_run.hpp"
#include "process_scan.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace sandlock::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

json::object inspect_json(const NamedRun& run, const std::string& name) {
    CliResult r = sandlock({"inspect", name, "--json"}, run.env());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out).as_object();
}

double tree_cpu_seconds(const json::object& status) {
    double total = 0;
    for (const auto& p : status.at("processes").as_array()) total += p.as_object().at("cpu_seconds").to_number<double>();
    return total;
}

TEST(Named, PsInspectAndKillOfTwoSandboxes) {
    TempDir runtime;
    NamedRun a(runtime, "alpha", with_system({"-m", "256M", "-P", "16"}, {"/bin/sleep", "60"}));
    NamedRun b(runtime, "beta.2", with_system({}, {"/bin/sh", "-c", "sleep 60 & sleep 60"}));
    ASSERT_TRUE(a.wait_listed());
    ASSERT_TRUE(b.wait_listed());

    CliResult ps = sandlock({"ps"}, a.env());
    EXPECT_EQ(ps.exit_code, 0) << ps.err;
    EXPECT_NE(ps.out.find("alpha"), std::string::npos) << ps.out;
    EXPECT_NE(ps.out.find("beta.2"), std::string::npos) << ps.out;
    EXPECT_NE(ps.out.find("-m 256.0M -P 16"), std::string::npos) << ps.out;
    json::array all = json::parse(sandlock({"ps", "--json"}, a.env()).out).as_array();
    ASSERT_EQ(all.size(), 2u);

    json::object alpha = inspect_json(a, "alpha");
    EXPECT_EQ(alpha.at("name").as_string(), "alpha");
    EXPECT_EQ(alpha.at("process_count").to_number<int>(), 1);
    EXPECT_EQ(alpha.at("policy").as_object().at("max_processes").to_number<int>(), 16);
    EXPECT_TRUE(alpha.at("layers").as_object().contains("notif")) << json::serialize(alpha);
    json::object beta = inspect_json(b, "beta.2");
    EXPECT_EQ(beta.at("process_count").to_number<int>(), 3);  // sh and its two sleeps: the tree

    // The policy as a profile that loads again.
    CliResult toml = sandlock({"inspect", "alpha", "--toml"}, a.env());
    ASSERT_EQ(toml.exit_code, 0) << toml.err;
    TempDir config;
    std::filesystem::create_directories(config.path() / "sandlock" / "profiles");
    { std::ofstream(config.path() / "sandlock" / "profiles" / "reloaded.toml") << toml.out; }
    CliResult reloaded = sandlock({"profile", "show", "reloaded"}, {"XDG_CONFIG_HOME=" + config.str()});
    EXPECT_EQ(reloaded.exit_code, 0) << reloaded.err << toml.out;

    CliResult killed = sandlock({"kill", "alpha"}, a.env());
    EXPECT_EQ(killed.exit_code, 0) << killed.err;
    EXPECT_EQ(a.exit_code(), 128 + SIGKILL);
    ps = sandlock({"ps"}, a.env());
    EXPECT_EQ(ps.out.find("alpha"), std::string::npos) << ps.out;
    EXPECT_NE(ps.out.find("beta.2"), std::string::npos) << ps.out;
    EXPECT_EQ(sandlock({"kill", "beta.2"}, b.env()).exit_code, 0);
    EXPECT_EQ(b.exit_code(), 128 + SIGKILL);
    EXPECT_EQ(sandlock({"inspect", "alpha"}, a.env()).exit_code, 125);
}

TEST(Named, PauseStopsCpuTimeAndResumeRestartsIt) {
    TempDir runtime;
    NamedRun run(runtime, "busy", with_system({}, {"/bin/sh", "-c", "(setsid sh -c 'while :; do :; done' &); while :; do :; done"}));
    ASSERT_TRUE(run.wait_listed());
    std::this_thread::sleep_for(200ms);
    ASSERT_EQ(sandlock({"pause", "busy"}, run.env()).exit_code, 0);
    json::object paused = inspect_json(run, "busy");
    EXPECT_TRUE(paused.at("paused").as_bool());
    std::this_thread::sleep_for(500ms);
    json::object still = inspect_json(run, "busy");
    EXPECT_LT(tree_cpu_seconds(still) - tree_cpu_seconds(paused), 0.02);
    EXPECT_NE(sandlock({"ps"}, run.env()).out.find("paused"), std::string::npos);
    ASSERT_EQ(sandlock({"resume", "busy"}, run.env()).exit_code, 0);
    std::this_thread::sleep_for(300ms);
    EXPECT_GT(tree_cpu_seconds(inspect_json(run, "busy")) - tree_cpu_seconds(still), 0.1);
    EXPECT_EQ(sandlock({"kill", "busy"}, run.env()).exit_code, 0);
}

TEST(Named, UpdateChangesLimitsAndRefusesBadInput) {
    TempDir runtime;
    NamedRun run(runtime, "lim", with_system({"-P", "8", "-m", "512M"}, {"/bin/sleep", "60"}));
    ASSERT_TRUE(run.wait_listed());
    CliResult updated = sandlock({"update", "lim", "-m", "256M", "-P", "2"}, run.env());
    EXPECT_EQ(updated.exit_code, 0) << updated.err;
    json::object limits = inspect_json(run, "lim").at("limits").as_object();
    EXPECT_EQ(limits.at("max_processes").to_number<int>(), 2);
    EXPECT_EQ(limits.at("max_memory").to_number<std::uint64_t>(), 256u << 20);
    CliResult none = sandlock({"update", "lim"}, run.env());
    EXPECT_EQ(none.exit_code, 125);
    EXPECT_NE(none.err.find("no limit given"), std::string::npos) << none.err;
    CliResult cpu = sandlock({"update", "lim", "-c", "50%"}, run.env());
    EXPECT_EQ(cpu.exit_code, 125);  // it started without a CPU limit
    EXPECT_NE(cpu.err.find("max_cpu"), std::string::npos) << cpu.err;
    EXPECT_EQ(sandlock({"update", "nosuch", "-P", "2"}, run.env()).exit_code, 125);
    EXPECT_EQ(sandlock({"kill", "lim"}, run.env()).exit_code, 0);
}

TEST(Named, ANameInUseIsRefusedAndBadNamesToo) {
    TempDir runtime;
    NamedRun run(runtime, "taken", with_system({}, {"/bin/sleep", "60"}));
    ASSERT_TRUE(run.wait_listed());
    std::vector<std::string> again = {"run", "--name", "taken"};
    for (const auto& a : with_system({}, {"/bin/true"})) again.push_back(a);
    CliResult clash = sandlock(again, run.env());
    EXPECT_EQ(clash.exit_code, 125);
    EXPECT_NE(clash.err.find("already called \"taken\""), std::string::npos) << clash.err;
    for (const std::string& bad : std::vector<std::string>{"", "a/b", "..", std::string(65, 'x'), "sp ace"}) {
        CliResult r = sandlock({"run", "--name", bad, "-r", "/usr", "--", "/bin/true"}, run.env());
        EXPECT_EQ(r.exit_code, 125) << bad;
    }
    EXPECT_EQ(sandlock({"kill", "taken"}, run.env()).exit_code, 0);
}

TEST(Named, AStaleEntryIsCleanedAfterSandlockWasKilled) {
    TempDir runtime;
    {
        NamedRun run(runtime, "stale", with_system({}, {"/bin/sleep", "67"}));
        ASSERT_TRUE(run.wait_listed());
        ::kill(run.pid(), SIGKILL);
        EXPECT_EQ(run.exit_code(), 128 + SIGKILL);
    }
    const std::vector<std::string> env = {"XDG_RUNTIME_DIR=" + runtime.str()};
    CliResult ps = sandlock({"ps"}, env);
    EXPECT_EQ(ps.out.find("stale"), std::string::npos) << ps.out;
    EXPECT_FALSE(std::filesystem::exists(runtime.path() / "sandlock" / "stale.sock"));
    // The kernel kills the tree when the init's parent dies (PDEATHSIG), asynchronously. The
    // command is this test's own (no other test runs `sleep 67`).
    int left = -1;
    for (int i = 0; i < 100 && (left = count_processes("/bin/sleep 67")) != 0; ++i) std::this_thread::sleep_for(50ms);
    EXPECT_EQ(left, 0) << "the sandbox outlived its sandlock";
    NamedRun again(runtime, "stale", with_system({}, {"/bin/sleep", "67"}));
    EXPECT_TRUE(again.wait_listed());
    EXPECT_EQ(sandlock({"kill", "stale"}, env).exit_code, 0);
}

// A process inside a sandbox has the user's uid, and Landlock does not keep it from connecting
// to a socket it can name: the socket refuses it all the same.
TEST(Named, AProcessInsideASandboxIsRefused) {
    TempDir runtime;
    NamedRun victim(runtime, "victim", with_system({}, {"/bin/sleep", "60"}));
    ASSERT_TRUE(victim.wait_listed());
    const std::string socket_path = (runtime.path() / "sandlock" / "victim.sock").string();
    const std::string attack =
        "import socket\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect('" + socket_path + "')\n"
        "try:\n"
        "    s.sendall(b'{\"command\":\"kill\"}\\n')\n"
        "except BrokenPipeError:\n"
        "    pass  # refused before the request was read\n"
        "print(s.recv(4096).decode().strip())\n";
    std::vector<std::string> args = {"run"};
    for (const auto& a : with_system({}, {kPython, "-c", attack})) args.push_back(a);
    CliResult r = sandlock(args, victim.env());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("a process inside a sandbox may not control sandboxes"), std::string::npos) << r.out << r.err;
    EXPECT_TRUE(victim.wait_listed()) << "a sandboxed process killed a named sandbox";
    EXPECT_EQ(sandlock({"kill", "victim"}, victim.env()).exit_code, 0);
}

// The runtime directory is private (0700); the socket refuses another user even if it were not.
TEST(Named, AnotherUserIsRefused) {
    TempDir runtime;
    NamedRun run(runtime, "mine", with_system({}, {"/bin/sleep", "60"}));
    ASSERT_TRUE(run.wait_listed());
    struct stat st {};
    ASSERT_EQ(::stat((runtime.path() / "sandlock").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    if (::geteuid() == 0) {
        // Open the way to the socket, then knock as uid 65534.
        ::chmod(runtime.path().c_str(), 0755);
        ::chmod((runtime.path() / "sandlock").c_str(), 0755);
        const std::string socket_path = (runtime.path() / "sandlock" / "mine.sock").string();
        ::chmod(socket_path.c_str(), 0777);
        int answer[2];
        ASSERT_EQ(::pipe(answer), 0);
        pid_t pid = ::fork();
        if (pid == 0) {
            if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(2);
            int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un address{};
            address.sun_family = AF_UNIX;
            std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ::_exit(3);
            const char request[] = "{\"command\":\"kill\"}\n";
            // The refusal may come before the request is read: a failed send is fine.
            [[maybe_unused]] ssize_t sent = ::send(fd, request, sizeof request - 1, MSG_NOSIGNAL);
            char buffer[512] = {};
            const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
            if (n > 0 && ::write(answer[1], buffer, static_cast<std::size_t>(n)) < 0) ::_exit(5);
            ::_exit(0);
        }
        ::close(answer[1]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
        char buffer[512] = {};
        ASSERT_GT(::read(answer[0], buffer, sizeof buffer - 1), 0);
        ::close(answer[0]);
        EXPECT_NE(std::string(buffer).find("permission denied"), std::string::npos) << buffer;
        ::chmod((runtime.path() / "sandlock").c_str(), 0700);  // private again, or we would refuse it ourselves
        EXPECT_TRUE(run.wait_listed()) << "another user killed the sandbox";
    }
    EXPECT_EQ(sandlock({"kill", "mine"}, run.env()).exit_code, 0);
}

}  // namespace
}  // namespace sandlock::test
