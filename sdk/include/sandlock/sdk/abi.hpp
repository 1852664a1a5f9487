// The narrow waist between the sandlock host and its plugins.
//
// Only trivial types cross this boundary: integers, enums, POD structs, string_views and
// function pointers. Nothing throws across it, no std:: or Boost object changes owner across
// it, and each side frees what it allocated. Configuration crosses as JSON text. Bump
// kAbiVersion whenever anything in this file changes shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sandlock::sdk {

inline constexpr std::uint32_t kAbiVersion = 3;

// Child stages, in the order they run between fork and exec. The numbers are part of the ABI.
enum class Stage : std::uint32_t {
    ProcessGroup = 1,
    UserNamespace = 2,
    Rlimits = 3,
    Filesystem = 4,
    Landlock = 5,
    Seccomp = 6,
    CloseFds = 7,
    Environment = 8,
    Exec = 9,
};
inline constexpr std::uint32_t kFirstStage = 1;
inline constexpr std::uint32_t kLastStage = 9;

constexpr std::uint32_t stage_bit(Stage stage) { return 1u << static_cast<std::uint32_t>(stage); }

enum class LogLevel : std::uint32_t { Debug = 0, Info = 1, Warning = 2, Error = 3 };

// Where a plugin writes a one-line, NUL-terminated reason when a hook fails.
struct ErrorSink {
    char message[1024];
};

// ---- Seccomp user notification: handlers -------------------------------------------------

// One intercepted system call (the fields of struct seccomp_notif).
struct NotifRequest {
    std::uint64_t id;
    std::uint32_t pid;  // thread id of the caller, in the supervisor's pid namespace
    std::int32_t syscall_nr;
    std::uint32_t arch;  // AUDIT_ARCH_*
    std::uint64_t instruction_pointer;
    std::uint64_t args[6];
};

enum class VerdictKind : std::uint32_t {
    Next = 0,      // no opinion: ask the next handler (after the last one: Continue)
    Continue = 1,  // let the kernel run the call (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
    Errno = 2,     // fail the call with `error`
    Value = 3,     // the call returns `value` without running
    InjectFd = 4,  // install `fd` in the caller (SECCOMP_IOCTL_NOTIF_ADDFD) and return its number;
                   // the supervisor takes ownership of `fd` and closes it afterwards
};

struct NotifVerdict {
    VerdictKind kind;
    std::int32_t error;     // Errno: a positive errno value
    std::int64_t value;     // Value: the return value
    int fd;                 // InjectFd: the fd to install
    std::uint32_t fd_flags; // InjectFd: O_CLOEXEC or 0
};

// What a handler may do with the caller, served by the supervisor. Pointers stay valid
// during the handler call only. Functions return >= 0 on success, -errno on failure.
struct NotifContextApi {
    void* supervisor;
    int listener_fd;
    // Copy `size` bytes from the caller's memory at `address`; returns the bytes copied.
    std::int64_t (*read_memory)(void* supervisor, const NotifRequest* request, std::uint64_t address,
                                void* buffer, std::size_t size);
    // Copy a NUL-terminated string (at most size-1 bytes, always terminated); returns its length,
    // or -ENAMETOOLONG when it does not fit.
    std::int64_t (*read_string)(void* supervisor, const NotifRequest* request, std::uint64_t address,
                                char* buffer, std::size_t size);
    // The absolute path the caller means by (dirfd, path at `path_address`), as the caller sees
    // it (its cwd, its fd table, its root). Not canonicalized beyond joining.
    std::int64_t (*resolve_path)(void* supervisor, const NotifRequest* request, int dirfd,
                                 std::uint64_t path_address, char* buffer, std::size_t size);
    // Whether the caller is still blocked in this call (SECCOMP_IOCTL_NOTIF_ID_VALID). Check it
    // after reading memory and before acting on what was read.
    bool (*still_valid)(void* supervisor, const NotifRequest* request);
    // A copy of the caller's fd `child_fd` in the supervisor (pidfd_getfd); the handler owns it.
    int (*get_fd)(void* supervisor, const NotifRequest* request, int child_fd);
    // Log why a handler failed (it then denies: fail closed).
    void (*log_failure)(void* supervisor, const NotifRequest* request, std::string_view message);
};

// A handler: fills `verdict` (Next when it has no opinion). Runs on the supervisor thread;
// must not throw (the SDK's wrappers turn exceptions into EPERM).
using NotifHandlerFn = void (*)(void* user, const NotifRequest* request, const NotifContextApi* ctx,
                                NotifVerdict* verdict);

struct NotifHandlerEntry {
    int syscall_nr;
    NotifHandlerFn fn;
    void* user;
    std::string_view plugin;  // who registered it, for logs
};

// Services the host offers to plugins. Valid for the plugin instance's whole life.
struct HostApi {
    std::uint32_t abi_version;
    void* host;
    // Log a message; cheap when the level is filtered out.
    void (*log)(void* host, LogLevel level, std::string_view plugin, std::string_view message);
    // Ask the seccomp layer to route a syscall (native number) to SECCOMP_RET_USER_NOTIF.
    // Call it from configure(); the listener fd then arrives in ParentContext. Returns 0, or
    // -EINVAL after configure() and for read/write (the child needs them, unsupervised, to
    // hand the listener over).
    int (*request_notify)(void* host, int syscall_nr);
    // Every syscall routed to user notification so far; the array lives as long as the host.
    std::size_t (*notify_requests)(void* host, const int** syscalls);
    // Add a handler for a syscall (native number), after the built-in ones; routes the syscall
    // to the listener too. Call from configure(). Needs a plugin with kPluginServesNotifications.
    int (*register_notif_handler)(void* host, std::string_view plugin, int syscall_nr, NotifHandlerFn fn,
                                  void* user);
    // Every handler registered through the host, in registration order.
    std::size_t (*notif_handlers)(void* host, const NotifHandlerEntry** entries);
    // The plugin can no longer enforce what it took on (its supervisor stopped, say): the host
    // kills the sandbox at once and the run fails with exit 125 and `reason`. Any thread, any
    // time after after_fork(); the first reason wins. Never throws.
    void (*abort_run)(void* host, std::string_view plugin, std::string_view reason);
};

// Handed to child stages (between fork and exec): no allocation, locks, logging or
// exceptions may happen while it is in use.
struct ChildContext {
    // Set by the layer that installs a seccomp filter with a listener; the host passes it
    // to the parent after stage 6 and closes it in the child.
    int listener_fd;
    // Landlock ABI version of the running kernel (0 when Landlock is unavailable).
    int landlock_abi;
    // Set by a child stage to hand an fd to this plugin in the parent (its receive_fd hook),
    // e.g. a mount that must outlive the sandbox's namespace. The host sends it once the stage
    // returns, closes it in the child and resets this to -1.
    int handover_fd;
};

// Handed to after_fork(), in the parent, once the child exists.
struct ParentContext {
    int child_pid;
    int child_pidfd;
    int listener_fd;  // seccomp user-notification listener, or -1; owned by the host
};

// Where a plugin command writes its output (text for the terminal, or JSON).
struct OutputSink {
    void* host;
    void (*write)(void* host, const char* data, std::size_t size);
};

// Handed to on_exit(), after the whole process tree has been killed and reaped.
struct ExitInfo {
    int exit_code;    // the child's exit status, or -1 when it was killed by a signal
    int term_signal;  // the signal that killed it, or 0
    bool timed_out;
};

enum PluginFlags : std::uint32_t {
    kPluginNeedsUserNamespace = 1u << 0,   // core unshares a user namespace in stage 2
    kPluginServesNotifications = 1u << 1,  // runs the supervisor that calls NotifHandlerFns
    kPluginProvidesListener = 1u << 2,     // installs the seccomp filter that makes the listener
};

// A plugin's manifest is an ELF note the host reads from the file before loading it (so a
// mismatched or malformed plugin is refused and none of its code runs). The note: owner name
// "sandlock", type kManifestNoteType, in a section named kManifestSection (an SHT_NOTE section in a
// PT_NOTE segment); its descriptor, little-endian:
//   u32 abi_version, u32 child_stages (stage_bit mask), u32 flags (PluginFlags), u32 0,
//   then NUL-terminated strings: name, description, each owned Policy field, and an empty
//   string ending the list. export.hpp builds it from a Manifest at compile time.
inline constexpr const char* kManifestSection = ".note.sandlock";
inline constexpr const char* kManifestNoteOwner = "sandlock";
inline constexpr std::uint32_t kManifestNoteType = 1;

// A plugin's hooks. Every hook may be null, meaning "nothing to do".
// Hooks that return int return 0 on success; non-zero means failure with a reason in `err`.
struct PluginVTable {
    std::uint32_t abi_version;  // must equal the note's

    void* (*create)(const HostApi* host, ErrorSink* err);
    void (*destroy)(void* self);
    // The whole policy and this plugin's [plugins.NAME] table, both as JSON text.
    int (*configure)(void* self, std::string_view policy_json, std::string_view options_json,
                     ErrorSink* err);
    // Build everything the child stages need: rulesets, BPF programs, open fds.
    int (*prepare)(void* self, ErrorSink* err);
    // In the child, once per stage in child_stages; returns 0 or -errno.
    int (*child_stage)(void* self, Stage stage, ChildContext* ctx);
    int (*after_fork)(void* self, const ParentContext* ctx, ErrorSink* err);
    // Non-zero: what the plugin had to do at the end (a branch commit, say) failed; the run
    // then fails with exit 125 and the reason, whatever the command's own status was.
    int (*on_exit)(void* self, const ExitInfo* info, ErrorSink* err);
    // In the parent: the fd a child stage left in ChildContext::handover_fd; the plugin owns it.
    void (*receive_fd)(void* self, int fd);
    // `sandlock NAME ...` subcommands and library calls that act outside a run (list, commit,
    // ...): `request_json` is an object whose "command" names the action. Output goes to `out`.
    int (*command)(void* self, std::string_view request_json, const OutputSink* out, ErrorSink* err);
};

}  // namespace sandlock::sdk

// The two symbols every plugin exports (through Boost.DLL aliases, see export.hpp):
//   sandlock_plugin_abi  -> const std::uint32_t, read first; must equal kAbiVersion
//   sandlock_plugin      -> const sandlock::sdk::PluginVTable* (*)()
#define SANDLOCK_PLUGIN_ABI_SYMBOL "sandlock_plugin_abi"
#define SANDLOCK_PLUGIN_FACTORY_SYMBOL "sandlock_plugin"
