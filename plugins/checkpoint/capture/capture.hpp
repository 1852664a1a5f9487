// Taking a checkpoint of running processes without their cooperation: every thread is seized
// and stopped with ptrace (processes that fork meanwhile included, until the set is closed),
// then each process's registers, memory map, written pages, files, signal handlers and mm
// layout are read — from /proc, and by having a stopped thread run a few read-only system
// calls (rt_sigaction, prctl(PR_GET_TID_ADDRESS), brk(0)) — and every thread is let go as it was.
#pragma once

#include "image/process_image.hpp"

#include <sys/types.h>

#include <filesystem>
#include <vector>

namespace sandlock::checkpoint {

// `pids` as this process sees them, and the children they started before they were stopped;
// page files are written into `directory`. A process that is gone before it could be stopped
// is left out; one that cannot be traced fails the whole checkpoint (Error naming it). Must run
// on one thread from start to end (ptrace).
std::vector<ProcessImage> capture_processes(std::vector<pid_t> pids, const std::filesystem::path& directory);

}  // namespace sandlock::checkpoint
