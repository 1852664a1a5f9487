// How much CPU time the sandbox used between two samples, from the counters of its live
// processes (utime/stime and cutime/cstime of /proc/PID/stat). Pure bookkeeping.
//
// A process's own time is counted as it grows. Processes too short-lived to be sampled are
// caught when their parent waits for them: the parent's children time (cutime + cstime) jumps
// by their whole time. For a child that was sampled, part of that jump was counted already;
// that part is held as a credit of its parent and taken off the jump, so nothing counts twice.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace sandlock::notif {

struct CpuSample {
    pid_t pid;
    pid_t ppid;
    std::uint64_t own_ticks;       // utime + stime
    std::uint64_t children_ticks;  // cutime + cstime
};

class CpuMeter {
public:
    // The ticks used since the last call, given every live member's counters now.
    std::uint64_t update(const std::vector<CpuSample>& live);

private:
    struct Seen {
        pid_t ppid;
        std::uint64_t own_ticks;
        std::uint64_t children_ticks;
    };
    std::unordered_map<pid_t, Seen> seen_;
    std::unordered_map<pid_t, std::uint64_t> credit_;  // by parent: its dead children's counted time
};

}  // namespace sandlock::notif
