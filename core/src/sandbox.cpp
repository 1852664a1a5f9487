#include "launcher.hpp"

#include <sandlock/profile.hpp>
#include <sandlock/sandbox.hpp>

namespace sandlock {
namespace {

Result run_command(const Policy& policy, const SandboxOptions& options, const std::vector<std::string>& argv,
                   StdioMode stdio, Timeout timeout) {
    LaunchSpec spec;
    spec.argv = argv;
    spec.stdio = stdio;
    spec.timeout = timeout;
    spec.cancel_fd = options.cancel_fd;
    return launch(policy, options, spec).result;
}

}  // namespace

Sandbox::Sandbox(Policy policy, SandboxOptions options) : policy_(std::move(policy)), options_(std::move(options)) {}

Sandbox Sandbox::from_profile(const std::string& name, SandboxOptions options) {
    return Sandbox(load_profile(name), std::move(options));
}

Result Sandbox::run(const std::vector<std::string>& argv, Timeout timeout) const {
    return run_command(policy_, options_, argv, StdioMode::Capture, timeout);
}

Result Sandbox::run_interactive(const std::vector<std::string>& argv, Timeout timeout) const {
    return run_command(policy_, options_, argv, StdioMode::Terminal, timeout);
}

Result Sandbox::run_inherit(const std::vector<std::string>& argv, Timeout timeout) const {
    return run_command(policy_, options_, argv, StdioMode::Inherit, timeout);
}

CallResult Sandbox::call(const std::function<std::string()>& fn, Timeout timeout) const {
    LaunchSpec spec;
    spec.function = &fn;
    spec.stdio = StdioMode::Capture;
    spec.timeout = timeout;
    spec.cancel_fd = options_.cancel_fd;
    LaunchOutcome outcome = launch(policy_, options_, spec);

    CallResult call;
    call.process = std::move(outcome.result);
    const std::optional<std::string>& bytes = outcome.function_output;
    if (bytes && !bytes->empty() && bytes->front() == 'V') {
        call.value = bytes->substr(1);
    } else if (bytes && !bytes->empty() && bytes->front() == 'E') {
        call.error = bytes->substr(1);
    } else if (call.process.timed_out) {
        call.error = "timed out";
    } else if (call.process.term_signal != 0) {
        call.error = "the sandboxed function was killed by signal " + std::to_string(call.process.term_signal);
    } else {
        call.error = "the sandboxed function exited with status " + std::to_string(call.process.exit_code) +
                     " before returning";
    }
    return call;
}

}  // namespace sandlock
