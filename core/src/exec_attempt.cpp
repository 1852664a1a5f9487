#include "exec_attempt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sandlock {

ExecFailure exec_in_turn(char* const* paths, std::size_t count, char* const* argv, char* const* envp) noexcept {
    int error = ENOENT;
    bool denied = false;
    int missing_interpreter = -1;  // a candidate that exists although exec said ENOENT
    for (std::size_t i = 0; i < count; ++i) {
        ::execve(paths[i], argv, envp);
        switch (errno) {
            case ENOENT:
                // The file is there, so what is missing is its interpreter ('#!' line or ELF
                // loader): the parent names it from the candidate's index.
                if (missing_interpreter < 0 && ::faccessat(AT_FDCWD, paths[i], F_OK, 0) == 0)
                    missing_interpreter = static_cast<int>(i);
                continue;
            case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: continue;
            case EACCES:
                // Like a shell: a PATH directory we may not search hides nothing worth
                // reporting; "permission denied" is for a file that exists.
                if (::faccessat(AT_FDCWD, paths[i], F_OK, 0) == 0) denied = true;
                continue;
            default: error = errno; break;
        }
        break;
    }
    if (error == ENOENT && denied) error = EACCES;
    return {error, error == ENOENT ? missing_interpreter : -1};
}

}  // namespace sandlock
