// Result: how a sandboxed command or function ended.
#pragma once

#include <optional>
#include <string>

namespace sandlock {

struct Result {
    int exit_code = 0;        // the child's exit status; 128+N when killed by signal N;
                              // 124 on timeout; 126/127 when the command could not be run
    int term_signal = 0;      // the signal that killed the child, or 0
    bool timed_out = false;
    std::string stdout_text;  // captured output (Sandbox::run only), at most 64 MiB each
    std::string stderr_text;
    bool output_truncated = false;  // a captured stream went past 64 MiB; the rest was dropped
    std::string error;        // why the command could not be run (exit 126/127), or why a
                              // layer's end-of-run work failed (exit 125: a branch commit
                              // refused for a conflict, say), else empty

    bool ok() const { return exit_code == 0 && !timed_out; }
};

// The outcome of Sandbox::call: the function's serialized return value, or its error.
struct CallResult {
    std::optional<std::string> value;  // set when the function returned normally
    std::string error;                 // the exception's message, or how the child died
    Result process;                    // exit status of the child that ran the function
};

}  // namespace sandlock
