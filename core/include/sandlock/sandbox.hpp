// Sandbox: runs a command or a function under a Policy.
//
//   sandlock::Policy policy;
//   policy.fs_readable = {"/usr", "/lib", "/lib64", "/bin", "/etc"};
//   auto result = sandlock::Sandbox(policy).run({"ls", "/usr"});
#pragma once

#include <sandlock/policy.hpp>
#include <sandlock/result.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sandlock {

struct SandboxOptions {
    std::vector<std::string> plugins;      // overrides policy.plugins when not empty
    std::vector<std::string> plugin_path;  // searched before SANDLOCK_PLUGIN_PATH and defaults
    // When readable (e.g. a signalfd), the whole tree is killed and the run ends with the
    // signal read from it (the CLI passes its SIGINT/SIGTERM/SIGHUP signalfd here).
    int cancel_fd = -1;
};

using Timeout = std::optional<std::chrono::milliseconds>;

class Sandbox {
public:
    explicit Sandbox(Policy policy, SandboxOptions options = {});
    // A saved profile by name (see profile.hpp for the search path).
    static Sandbox from_profile(const std::string& name, SandboxOptions options = {});

    // Runs argv (PATH lookup as the child sees it), capturing stdout and stderr.
    // Throws PolicyError/PluginError/ConfinementError before anything runs.
    Result run(const std::vector<std::string>& argv, Timeout timeout = {}) const;
    // Same, with the caller's stdin/stdout/stderr; the child owns the terminal while it runs.
    Result run_interactive(const std::vector<std::string>& argv, Timeout timeout = {}) const;
    // Same, with the caller's stdio but without taking the terminal (stdin that is a terminal
    // is replaced by /dev/null so the child cannot stop on SIGTTIN).
    Result run_inherit(const std::vector<std::string>& argv, Timeout timeout = {}) const;
    // Runs fn in the confined child; its return value (any serialization you like) or the
    // message of the exception it threw comes back.
    CallResult call(const std::function<std::string()>& fn, Timeout timeout = {}) const;

    const Policy& policy() const { return policy_; }

private:
    Policy policy_;
    SandboxOptions options_;
};

}  // namespace sandlock
