// The records a child sends its parent over the setup channel (a SOCK_SEQPACKET pair that is
// close-on-exec: end-of-file means the child reached exec).
#pragma once

#include <cstdint>

namespace sandlock {

enum class ReportKind : std::uint32_t {
    StageFailed = 1,  // stage, plugin index (-1: core), value = errno
    Listener = 2,     // value = the seccomp listener fd number in the child; parent acks
    ExecFailed = 3,   // value = errno of the last exec attempt; plugin = for ENOENT, the index of
                      // an exec candidate that exists (its interpreter is missing), else -1
    PluginFd = 4,     // plugin = index; the fd itself rides along (SCM_RIGHTS)
    Spawner = 5,      // a long-lived sandbox's spawner is ready (its pid rides in the credentials)
    NoListener = 6,   // none came after all, where the init shares sandlock's memory; parent acks
};

struct ChildReport {
    ReportKind kind;
    std::uint32_t stage;
    std::int32_t plugin;
    std::int32_t value;
};

}  // namespace sandlock
