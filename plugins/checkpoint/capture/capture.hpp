// Taking a checkpoint of running processes without their cooperation: every thread is seized
// and stopped with ptrace (processes that fork meanwhile included, until the set is closed),
// then each process's registers, memory map, written pages, files, signal handlers and mm
// layout are read — from /proc, and by having a stopped thread run a few read-only system
// calls (rt_sigaction, prctl(PR_GET_TID_ADDRESS), brk(0)) — and every thread is let go as it was.
#pragma once

#include "image/process_image.hpp"

#include <sandlock/sdk/sandbox_process.hpp>

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <vector>

namespace sandlock::checkpoint {

// Each process and the threads of it that are stopped.
using StoppedProcesses = std::map<pid_t, std::vector<pid_t>>;

// Which processes are the sandbox's: those of its PID namespace but its init and spawner.
struct SandboxIdentity {
    sdk::PidNamespaceId pid_namespace;
    pid_t init = 0;
    pid_t spawner = 0;
};

// Stops every thread of `pids` (as this process sees them) and of every other process of the
// sandbox, those started meanwhile included, and leaves them stopped, traced by this thread:
// the first step of a checkpoint, after which the caller may save what else must match (a
// branch snapshot). A process gone before it could be stopped is left out; one that cannot be
// traced, or whose pid turns out not to be the sandbox's, fails (Error naming it, and nothing
// stays stopped).
StoppedProcesses stop_processes(std::vector<pid_t> pids, const SandboxIdentity& sandbox);

// The second step, on the same thread: captures the stopped processes (page files written into
// `directory`) and lets every thread go on as it was, whether this succeeds or not.
std::vector<ProcessImage> capture_processes(const StoppedProcesses& stopped, const std::filesystem::path& directory);

// Lets stopped processes go on without capturing them (a checkpoint given up between steps).
void release_processes(const StoppedProcesses& stopped);

}  // namespace sandlock::checkpoint
