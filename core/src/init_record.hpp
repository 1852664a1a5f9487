// What a namespaced sandbox's init (and call()'s helper) tells sandlock on the status pipe:
// fixed-size records, each written whole (a pipe write under PIPE_BUF is atomic).
#pragma once

#include <cstdint>

namespace sandlock {

enum class InitRecordKind : std::int32_t {
    InitPid = 1,     // call()'s helper: value = the init's pid, or -errno
    MainStatus = 2,  // value = the main process's wait status; the init exits next
    Paused = 3,      // every process of the sandbox was sent SIGSTOP (value 0)
    Resumed = 4,     // ... SIGCONT
    PidNamespace = 5,  // value = the inode number of the sandbox's PID namespace (as uint32), first
    MainStarted = 6,   // the main process has exec'd or died, and the init no longer reads the plan
};

struct InitRecord {
    InitRecordKind kind;
    std::int32_t value;
};

}  // namespace sandlock
