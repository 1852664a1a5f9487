// The C++ view of the waist (abi.h, the wire contract in C): the same types under C++ names,
// enum classes with the same numbers, and helpers between sandlock_str and std::string_view.
// Nothing here changes the layout: abi.h alone is the contract.
#pragma once

#include <sandlock/sdk/abi.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sandlock::sdk {

inline constexpr std::uint32_t kAbiVersion = SANDLOCK_ABI_VERSION;

// A string across the waist: pointer and size, never a std::string_view (libc++ and libstdc++
// lay that out differently). Valid for the call it is passed to.
using Str = ::sandlock_str;
constexpr Str str(std::string_view text) { return {text.data(), text.size()}; }
constexpr std::string_view view(Str text) { return {text.data, text.size}; }

// Child stages, in the order they run between fork and exec (SANDLOCK_STAGE_*).
enum class Stage : std::uint32_t {
    ProcessGroup = SANDLOCK_STAGE_PROCESS_GROUP,
    UserNamespace = SANDLOCK_STAGE_USER_NAMESPACE,
    Rlimits = SANDLOCK_STAGE_RLIMITS,
    Filesystem = SANDLOCK_STAGE_FILESYSTEM,
    Landlock = SANDLOCK_STAGE_LANDLOCK,
    Seccomp = SANDLOCK_STAGE_SECCOMP,
    CloseFds = SANDLOCK_STAGE_CLOSE_FDS,
    Environment = SANDLOCK_STAGE_ENVIRONMENT,
    Exec = SANDLOCK_STAGE_EXEC,
};
inline constexpr std::uint32_t kFirstStage = SANDLOCK_FIRST_STAGE;
inline constexpr std::uint32_t kLastStage = SANDLOCK_LAST_STAGE;

constexpr std::uint32_t stage_bit(Stage stage) { return SANDLOCK_STAGE_BIT(static_cast<std::uint32_t>(stage)); }

enum class LogLevel : std::uint32_t {
    Debug = SANDLOCK_LOG_DEBUG,
    Info = SANDLOCK_LOG_INFO,
    Warning = SANDLOCK_LOG_WARNING,
    Error = SANDLOCK_LOG_ERROR,
};

using ErrorSink = ::sandlock_error_sink;

// ---- Seccomp user notification: handlers -------------------------------------------------

using NotifRequest = ::sandlock_notif_request;

// What a verdict asks for (SANDLOCK_VERDICT_*): constants, not an enum class, because
// NotifVerdict::kind is the C struct's uint32_t.
namespace VerdictKind {
inline constexpr std::uint32_t Next = SANDLOCK_VERDICT_NEXT;
inline constexpr std::uint32_t Continue = SANDLOCK_VERDICT_CONTINUE;
inline constexpr std::uint32_t Errno = SANDLOCK_VERDICT_ERRNO;
inline constexpr std::uint32_t Value = SANDLOCK_VERDICT_VALUE;
inline constexpr std::uint32_t InjectFd = SANDLOCK_VERDICT_INJECT_FD;
}  // namespace VerdictKind

using NotifVerdict = ::sandlock_notif_verdict;
using NotifContextApi = ::sandlock_notif_context_api;
using NotifHandlerFn = ::sandlock_notif_handler_fn;
using NotifHandlerEntry = ::sandlock_notif_handler_entry;
using HostApi = ::sandlock_host_api;
using NotifyCondition = ::sandlock_notify_condition;
using NotifyRule = ::sandlock_notify_rule;
using ChildContext = ::sandlock_child_context;
using ParentContext = ::sandlock_parent_context;
using OutputSink = ::sandlock_output_sink;
using ExitInfo = ::sandlock_exit_info;
using LatePathRule = ::sandlock_late_path_rule;
using BpfProgram = ::sandlock_bpf_program;
using NestedConfinement = ::sandlock_nested_confinement;

enum PluginFlags : std::uint32_t {
    kPluginNeedsUserNamespace = SANDLOCK_PLUGIN_NEEDS_USER_NAMESPACE,
    kPluginServesNotifications = SANDLOCK_PLUGIN_SERVES_NOTIFICATIONS,
    kPluginProvidesListener = SANDLOCK_PLUGIN_PROVIDES_LISTENER,
};

inline constexpr const char* kManifestSection = SANDLOCK_MANIFEST_SECTION;
inline constexpr const char* kManifestNoteOwner = SANDLOCK_MANIFEST_NOTE_OWNER;
inline constexpr std::uint32_t kManifestNoteType = SANDLOCK_MANIFEST_NOTE_TYPE;

using PluginVTable = ::sandlock_plugin_vtable;

}  // namespace sandlock::sdk
