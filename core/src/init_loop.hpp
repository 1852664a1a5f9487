// What pid 1 of a sandbox does once its main process runs, shared by the init that sandlock
// forks (child.cpp) and the `sandlock-init` program a launch sharing sandlock's memory execs
// (init/sandlock_init.cpp): obey sandlock's end / pause / resume signals, reap orphans, and
// when the main process ends, kill and reap the rest and relay its status. Async-signal-safe.
#pragma once

#include "init_record.hpp"

#include <sys/types.h>

namespace sandlock {

void write_init_record(int status_fd, InitRecordKind kind, int value) noexcept;

// SIGTERM (end the sandbox), SIGUSR1 / SIGUSR2 (pause / resume it), reported on `status_fd`.
void install_init_handlers(int status_fd) noexcept;

// Reaps until `main` has ended, then kills and reaps everything else, writes the main
// process's wait status to `status_fd` and exits.
[[noreturn]] void serve_until_main_ends(int status_fd, pid_t main) noexcept;

}  // namespace sandlock
