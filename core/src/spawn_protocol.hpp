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
    Spawn = 1,   // strings: `paths` exec candidates, then `argc` arguments, then `envc` variables
    Signal = 2,  // `pid` (in the sandbox) gets `signal`, if it is still the spawner's child
};

struct Request {
    RequestKind kind;
    std::uint32_t id;  // Spawn: sandlock's number for the process
    std::uint32_t paths;
    std::uint32_t argc;
    std::uint32_t envc;
    std::int32_t pid;
    std::int32_t signal;
    std::uint32_t reserved;
};

enum class EventKind : std::uint32_t {
    Started = 1,     // from the new process: id, pid = its pid in the sandbox
    ExecFailed = 2,  // from the new process: id, value = errno, candidate = for ENOENT, a
                     // candidate that exists (its interpreter is missing) or -1
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
