// Running the sandlock binary as a black box, for the CLI suites: its exit code and what it
// printed, stdin from /dev/null.
#pragma once

#include "sandbox_test.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock::test {

// The first words of the warning a run gives where the sandbox cannot have its own namespaces.
inline constexpr std::string_view kFallbackWarning =
    "sandlock: warning: [sandlock] this system refuses new user/PID/mount namespaces";

// The system directories readable, as most runs need them.
inline const std::vector<std::string> kSystem = {"-r", "/usr", "-r", "/lib", "-r", "/lib64", "-r", "/bin", "-r", "/etc"};

struct CliResult {
    int exit_code = -1;
    std::string out, err;
};

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs ARGS (the executable first: a sandlock installed elsewhere, say) with extra environment
// variables ("NAME=value"). Without the sandbox namespaces every run starts with one warning
// saying so (the fallback `sandlock check` reports); `err` is what follows it. `on_exit` sees
// the process once it exited, before it is reaped (its /proc files still answer).
inline CliResult sandlock_at(std::vector<std::string> args, std::vector<std::string> env = {},
                             const std::function<void(pid_t)>& on_exit = {}) {
    TempDir io;
    const std::string out = io / "out", err = io / "err";
    pid_t pid = ::fork();
    if (pid == 0) {
        for (auto& kv : env) ::putenv(kv.data());
        ::dup2(::open("/dev/null", O_RDONLY), 0);
        ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT, 0644), 1);
        ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT, 0644), 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(99);
    }
    if (on_exit) {
        siginfo_t exited{};
        ::waitid(P_PID, static_cast<id_t>(pid), &exited, WEXITED | WNOWAIT);
        on_exit(pid);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::string errors = slurp(err);
    if (errors.starts_with(kFallbackWarning)) errors.erase(0, errors.find('\n') + 1);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out), errors};
}

// Runs `sandlock ARGS...` (the one next to the test executable).
inline CliResult sandlock(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), sandlock_bin());
    return sandlock_at(std::move(args), std::move(env));
}

}  // namespace sandlock::test
