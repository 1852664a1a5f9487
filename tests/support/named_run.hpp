// A named sandbox run from the CLI in the background (`sandlock run --name NAME ...`), with a
// runtime directory of its own: for the suites that drive named sandboxes.
#pragma once

#include "cli_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sandlock::test {

// `sandlock run --name NAME ...` in the background, with its own runtime directory.
class NamedRun {
public:
    // `extra_env`: "NAME=value" for that sandlock (XDG_DATA_HOME for its checkpoints, say).
    NamedRun(const TempDir& runtime, const std::string& name, std::vector<std::string> run_args,
             std::vector<std::string> extra_env = {})
        : runtime_(runtime.str()), name_(name), extra_env_(std::move(extra_env)) {
        std::vector<std::string> args = {sandlock_bin(), "run", "--name", name};
        args.insert(args.end(), run_args.begin(), run_args.end());
        std::vector<std::string> env = extra_env_;
        env.push_back("XDG_RUNTIME_DIR=" + runtime_);
        pid_ = ::fork();
        if (pid_ == 0) {
            for (std::string& e : env) ::putenv(e.data());
            ::dup2(::open("/dev/null", O_RDWR), 0);
            ::dup2(::open("/dev/null", O_RDWR), 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(99);
        }
    }
    ~NamedRun() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    // Until `sandlock ps` lists it (or 10 s passed).
    bool wait_listed() const {
        for (int i = 0; i < 200; ++i) {
            if (sandlock({"ps"}, env()).out.find(name_ + " ") != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    int exit_code() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    // The environment of a client of it (its runtime directory and extra_env).
    std::vector<std::string> env() const {
        std::vector<std::string> env = extra_env_;
        env.push_back("XDG_RUNTIME_DIR=" + runtime_);
        return env;
    }
    pid_t pid() const { return pid_; }

private:
    std::string runtime_, name_;
    std::vector<std::string> extra_env_;
    pid_t pid_ = -1;
    bool reaped_ = false;
};

// kSystem, then `flags`, then the command after --.
inline std::vector<std::string> with_system(std::vector<std::string> flags, std::vector<std::string> command) {
    std::vector<std::string> args = kSystem;
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return args;
}

}  // namespace sandlock::test
