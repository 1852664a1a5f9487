// The messages between sandlock and a long-lived sandbox's spawner, over a SOCK_SEQPACKET pair
// (one message per record; sandlock's end has SO_PASSCRED, so every record carries its sender's
// pid as sandlock sees it).
//
// The spawner is the sandbox's main process: it went through every child stage like a command
// would (Landlock, seccomp, ...), then, instead of exec, starts each command sandlock asks for
// as its own child. So every exec'd command shares the sandbox's one Landlock domain, seccomp
// filter and listener, mount namespace and limits. Like the init, it is machinery, not one of
// the sandbox's processes (sdk/sandbox_process.hpp).
//
//   sandlock -> spawner   SpawnRequest + strings, with the command's stdin/stdout/stderr as
//                         SCM_RIGHTS; or a Signal request.
//   command  -> sandlock  Started, written by the new process itself right before exec (so the
//                         credentials name it), then ExecFailed if exec failed.
//   spawner  -> sandlock  Spawned once the new process exec'd or failed; Exited once reaped.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sandlock::spawn {

// The largest request (the strings of a command line, its environment and exec candidates):
// a SOCK_SEQPACKET message must fit the socket's buffer.
inline constexpr std::size_t kMaxRequest = 192u << 10;
// The most strings (argv + envp + candidates, with their terminating null pointers) in one.
inline constexpr std::size_t kMaxStrings = 8192;

enum class RequestKind : std::uint32_t {
    Spawn = 1,   // strings: `paths` exec candidates, then `argc` arguments, then `envc` variables;
                 // then a nested sandbox's confinement (below)
    Signal = 2,  // `pid` (in the sandbox) gets `signal`, if it is still the spawner's child;
                 // a negative pid: that child's process group
};

// A Spawn request's flags. The fds ride as SCM_RIGHTS in this order: stdin, stdout, stderr,
// then the go pipe, the Landlock ruleset and the checkpoint channel when their flags are set.
enum SpawnFlags : std::uint32_t {
    kWaitForGo = 1u << 0,   // a nested sandbox's process: read one byte from the go pipe before
                            // confining itself further (sandlock registers its subtree first)
    kHasRuleset = 1u << 1,  // restrict with the ruleset fd after adding the late rules
    kOwnGroup = 1u << 2,    // lead a process group of its own (a nested sandbox's command)
    kTraced = 1u << 3,      // with kWaitForGo: sandlock traces it from before its exec (a
                            // restore), so it gets memory of its own (a fork, not CLONE_VM) and
                            // is made dumpable — the spawner stays undumpable
    kCheckpointChannel = 1u << 4,  // the command gets the channel as fd 3 (its environment says
                                   // SANDLOCK_CHECKPOINT_FD=3): checkpoints ask it for its state
};

// The fd number a command's checkpoint channel has.
inline constexpr int kCheckpointChannelFd = 3;

struct Request {
    RequestKind kind;
    std::uint32_t id;  // Spawn: sandlock's number for the process
    std::uint32_t paths;
    std::uint32_t argc;
    std::uint32_t envc;
    std::int32_t pid;
    std::int32_t signal;
    std::uint32_t flags;
    // A nested sandbox's confinement, after the strings, each item 8-byte aligned:
    std::uint32_t late_rules;  // {u64 access, NUL-terminated path}
    std::uint32_t programs;    // {u32 instructions, u32 0, struct sock_filter[instructions]}
};

inline constexpr std::size_t kMaxFds = 6;

enum class EventKind : std::uint32_t {
    Started = 1,     // from the new process: id, pid = its pid in the sandbox
    ExecFailed = 2,  // from the new process: id, value = errno, candidate = for ENOENT, a
                     // candidate that exists (its interpreter is missing) or -1
    NestFailed = 5,  // from the new process: id, value = the errno of the nested confinement
                     // that failed, candidate = which step (1 late rule, 2 ruleset, 3 seccomp)
    Spawned = 3,     // from the spawner: id, value = 0 or the errno clone(2) failed with
    Exited = 4,      // from the spawner: pid = its pid in the sandbox, value = wait status
};

struct Event {
    EventKind kind;
    std::uint32_t id;
    std::int32_t pid;
    std::int32_t value;
    std::int32_t candidate;
    std::uint32_t reserved;
};

}  // namespace sandlock::spawn
