// One sandboxed run, start to end: plugins prepared before fork, the child stages, then the
// parent's side — listener hand-off, after_fork hooks, waiting on a pidfd, the timeout, killing
// the whole tree, on_exit hooks.
#pragma once

#include <sandlock/policy.hpp>
#include <sandlock/result.hpp>
#include <sandlock/sandbox.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sandlock {

enum class StdioMode {
    Capture,   // stdout/stderr into Result, stdin from /dev/null
    Inherit,   // the caller's stdio; a terminal stdin becomes /dev/null
    Terminal,  // the caller's stdio, and the child owns the terminal's foreground
};

struct LaunchSpec {
    std::vector<std::string> argv;                            // exec mode
    const std::function<std::string()>* function = nullptr;  // call mode
    StdioMode stdio = StdioMode::Capture;
    Timeout timeout;
    int cancel_fd = -1;
    bool took_terminal = false;  // set by launch(): the child was given the terminal
    std::vector<std::string> exec_paths;  // set by launch(): where the child looks for argv[0]
    std::string exec_root;                // set by launch(): the chroot those paths are in, or ""
};

struct LaunchOutcome {
    Result result;
    std::optional<std::string> function_output;  // call mode: the raw result bytes, if any
};

LaunchOutcome launch(const Policy& policy, const SandboxOptions& options, LaunchSpec spec);

}  // namespace sandlock
