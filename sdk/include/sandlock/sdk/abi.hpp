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

inline constexpr std::uint32_t kAbiVersion = 1;

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

// Services the host offers to plugins. Valid for the plugin instance's whole life.
struct HostApi {
    std::uint32_t abi_version;
    void* host;
    // Log a message; cheap when the level is filtered out.
    void (*log)(void* host, LogLevel level, std::string_view plugin, std::string_view message);
    // Ask the seccomp layer to route a syscall (native number) to SECCOMP_RET_USER_NOTIF.
    // Call it from configure(); the listener fd then arrives in ParentContext. Returns 0.
    int (*request_notify)(void* host, int syscall_nr);
    // Every syscall routed to user notification so far; the array lives as long as the host.
    std::size_t (*notify_requests)(void* host, const int** syscalls);
};

// Handed to child stages (between fork and exec): no allocation, locks, logging or
// exceptions may happen while it is in use.
struct ChildContext {
    // Set by the layer that installs a seccomp filter with a listener; the host passes it
    // to the parent after stage 6 and closes it in the child.
    int listener_fd;
    // Landlock ABI version of the running kernel (0 when Landlock is unavailable).
    int landlock_abi;
};

// Handed to after_fork(), in the parent, once the child exists.
struct ParentContext {
    int child_pid;
    int child_pidfd;
    int listener_fd;  // seccomp user-notification listener, or -1; owned by the host
};

// Handed to on_exit(), after the whole process tree has been killed and reaped.
struct ExitInfo {
    int exit_code;    // the child's exit status, or -1 when it was killed by a signal
    int term_signal;  // the signal that killed it, or 0
    bool timed_out;
};

enum PluginFlags : std::uint32_t {
    kPluginNeedsUserNamespace = 1u << 0,  // core unshares a user namespace in stage 2
};

// A plugin's manifest and hooks. Every hook may be null, meaning "nothing to do".
// Hooks that return int return 0 on success; non-zero means failure with a reason in `err`.
struct PluginVTable {
    std::uint32_t abi_version;
    std::string_view name;
    std::string_view description;
    const std::string_view* owned_fields;  // the Policy fields this plugin enforces
    std::size_t owned_field_count;
    std::uint32_t child_stages;  // stage_bit() mask of the stages child_stage() runs in
    std::uint32_t flags;         // PluginFlags

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
    void (*on_exit)(void* self, const ExitInfo* info);
};

}  // namespace sandlock::sdk

// The two symbols every plugin exports (through Boost.DLL aliases, see export.hpp):
//   sandlock_plugin_abi  -> const std::uint32_t, read first; must equal kAbiVersion
//   sandlock_plugin      -> const sandlock::sdk::PluginVTable* (*)()
#define SANDLOCK_PLUGIN_ABI_SYMBOL "sandlock_plugin_abi"
#define SANDLOCK_PLUGIN_FACTORY_SYMBOL "sandlock_plugin"
