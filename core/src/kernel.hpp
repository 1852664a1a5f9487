// Thin wrappers over kernel interfaces glibc does not wrap (or wraps only recently).
#pragma once

#include <sys/types.h>

namespace sandlock {

int pidfd_open(pid_t pid);                // -1 with errno on failure
int pidfd_getfd(int pidfd, int target_fd);  // -1 with errno on failure
int landlock_abi();                       // 0 when Landlock is unavailable

}  // namespace sandlock
