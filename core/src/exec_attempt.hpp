// Exec'ing a command through its candidates (PATH lookup done before fork), as execvp would,
// without allocating: used by stage 9 and by the spawner's new processes.
#pragma once

#include <cstddef>

namespace sandlock {

struct ExecFailure {
    int error;      // what to report: ENOENT, EACCES, ...
    int candidate;  // for ENOENT, a candidate that exists (so its interpreter is missing), or -1
};

// Returns only when no candidate could be exec'd.
ExecFailure exec_in_turn(char* const* paths, std::size_t count, char* const* argv, char* const* envp) noexcept;

}  // namespace sandlock
