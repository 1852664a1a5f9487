/* The narrow waist between the sandlock host and its plugins, as a C header: the wire contract.
 *
 * Only C types cross this boundary: fixed-width integers, POD structs, strings as
 * sandlock_str (pointer and size; never std::string_view, whose layout differs between libc++
 * and libstdc++) and function pointers. Enumerations are uint32_t with the constants below.
 * Nothing throws across it, no C++ or Boost object changes owner across it, and each side frees
 * what it allocated. Configuration crosses as JSON text. Host callbacks return 0 (or a count)
 * on success and -errno on failure (-ENOMEM when an allocation failed); they never throw.
 * Bump SANDLOCK_ABI_VERSION whenever anything in this file changes shape.
 *
 * abi.hpp is the C++ view of this file; plugin.h has the macro that exports a plugin in C. */
#ifndef SANDLOCK_SDK_ABI_H
#define SANDLOCK_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SANDLOCK_ABI_VERSION 5u

/* A string that is not necessarily NUL-terminated; valid for the call it is passed to. */
typedef struct sandlock_str {
    const char* data;
    size_t size;
} sandlock_str;

/* Child stages, in the order they run between fork and exec. The numbers are part of the ABI. */
typedef uint32_t sandlock_stage;
#define SANDLOCK_STAGE_PROCESS_GROUP 1u
#define SANDLOCK_STAGE_USER_NAMESPACE 2u
#define SANDLOCK_STAGE_RLIMITS 3u
#define SANDLOCK_STAGE_FILESYSTEM 4u
#define SANDLOCK_STAGE_LANDLOCK 5u
#define SANDLOCK_STAGE_SECCOMP 6u
#define SANDLOCK_STAGE_CLOSE_FDS 7u
#define SANDLOCK_STAGE_ENVIRONMENT 8u
#define SANDLOCK_STAGE_EXEC 9u
#define SANDLOCK_FIRST_STAGE 1u
#define SANDLOCK_LAST_STAGE 9u
/* A stage's bit in a manifest's child_stages mask. */
#define SANDLOCK_STAGE_BIT(stage) (1u << (stage))

typedef uint32_t sandlock_log_level;
#define SANDLOCK_LOG_DEBUG 0u
#define SANDLOCK_LOG_INFO 1u
#define SANDLOCK_LOG_WARNING 2u
#define SANDLOCK_LOG_ERROR 3u

/* Where a plugin writes a one-line, NUL-terminated reason when a hook fails. */
typedef struct sandlock_error_sink {
    char message[1024];
} sandlock_error_sink;

/* ---- Seccomp user notification: handlers ------------------------------------------------ */

/* One intercepted system call (the fields of struct seccomp_notif). */
typedef struct sandlock_notif_request {
    uint64_t id;
    uint32_t pid; /* thread id of the caller, in the supervisor's pid namespace */
    int32_t syscall_nr;
    uint32_t arch;     /* AUDIT_ARCH_* */
    uint32_t reserved; /* 0; spelled out so that no struct of the waist has hidden padding */
    uint64_t instruction_pointer;
    uint64_t args[6];
} sandlock_notif_request;

typedef uint32_t sandlock_verdict_kind;
#define SANDLOCK_VERDICT_NEXT 0u      /* no opinion: ask the next handler (after the last: CONTINUE) */
#define SANDLOCK_VERDICT_CONTINUE 1u  /* let the kernel run the call (SECCOMP_USER_NOTIF_FLAG_CONTINUE) */
#define SANDLOCK_VERDICT_ERRNO 2u     /* fail the call with `error` */
#define SANDLOCK_VERDICT_VALUE 3u     /* the call returns `value` without running */
#define SANDLOCK_VERDICT_INJECT_FD 4u /* install `fd` in the caller (SECCOMP_IOCTL_NOTIF_ADDFD) and
                                         return its number; the supervisor then owns and closes `fd` */

typedef struct sandlock_notif_verdict {
    sandlock_verdict_kind kind;
    int32_t error;     /* ERRNO: a positive errno value */
    int64_t value;     /* VALUE: the return value */
    int32_t fd;        /* INJECT_FD: the fd to install */
    uint32_t fd_flags; /* INJECT_FD: O_CLOEXEC or 0 */
} sandlock_notif_verdict;

/* What a handler may do with the caller, served by the supervisor. Pointers stay valid during
 * the handler call only. Functions return >= 0 on success, -errno on failure; none throws. */
typedef struct sandlock_notif_context_api {
    void* supervisor;
    int32_t listener_fd;
    /* Copy `size` bytes from the caller's memory at `address`; returns the bytes copied. */
    int64_t (*read_memory)(void* supervisor, const sandlock_notif_request* request, uint64_t address,
                           void* buffer, size_t size);
    /* Copy a NUL-terminated string (at most size-1 bytes, always terminated); returns its length,
     * or -ENAMETOOLONG when it does not fit. */
    int64_t (*read_string)(void* supervisor, const sandlock_notif_request* request, uint64_t address,
                           char* buffer, size_t size);
    /* The absolute path the caller means by (dirfd, path at `path_address`), as the caller sees
     * it (its cwd, its fd table, its root). Not canonicalized beyond joining. */
    int64_t (*resolve_path)(void* supervisor, const sandlock_notif_request* request, int32_t dirfd,
                            uint64_t path_address, char* buffer, size_t size);
    /* 1 while the caller is still blocked in this call (SECCOMP_IOCTL_NOTIF_ID_VALID), else 0.
     * Check it after reading memory and before acting on what was read. */
    int32_t (*still_valid)(void* supervisor, const sandlock_notif_request* request);
    /* A copy of the caller's fd `child_fd` in the supervisor (pidfd_getfd), owned by the
     * handler; or -errno. */
    int32_t (*get_fd)(void* supervisor, const sandlock_notif_request* request, int32_t child_fd);
    /* Log why a handler failed (it then denies: fail closed). 0 or -ENOMEM. */
    int32_t (*log_failure)(void* supervisor, const sandlock_notif_request* request, sandlock_str message);
} sandlock_notif_context_api;

/* A handler: fills `verdict` (NEXT when it has no opinion). Runs on the supervisor thread and
 * must not throw (the C++ SDK's wrappers turn exceptions into EPERM). */
typedef void (*sandlock_notif_handler_fn)(void* user, const sandlock_notif_request* request,
                                          const sandlock_notif_context_api* ctx, sandlock_notif_verdict* verdict);

typedef struct sandlock_notif_handler_entry {
    int32_t syscall_nr;
    sandlock_notif_handler_fn fn;
    void* user;
    sandlock_str plugin; /* who registered it, for logs; lives as long as the host */
} sandlock_notif_handler_entry;

/* A condition on one argument of a syscall, as the kernel's filter sees it (the call's
 * registers: nothing the caller can change after the check):
 *   SANDLOCK_NOTIFY_MASKED_EQ  (arg & mask) == value
 *   SANDLOCK_NOTIFY_NOT_ZERO   arg != 0 (all 64 bits; mask and value unused) */
typedef uint32_t sandlock_notify_op;
#define SANDLOCK_NOTIFY_MASKED_EQ 1u
#define SANDLOCK_NOTIFY_NOT_ZERO 2u
typedef struct sandlock_notify_condition {
    uint32_t arg; /* 0..5 */
    sandlock_notify_op op;
    uint64_t mask;
    uint64_t value;
} sandlock_notify_condition;

/* A syscall routed to the listener only when all its conditions hold. */
#define SANDLOCK_NOTIFY_MAX_CONDITIONS 4u
typedef struct sandlock_notify_rule {
    int32_t syscall_nr;
    uint32_t condition_count; /* 1..SANDLOCK_NOTIFY_MAX_CONDITIONS */
    sandlock_notify_condition conditions[SANDLOCK_NOTIFY_MAX_CONDITIONS];
} sandlock_notify_rule;

/* Services the host offers to plugins. Valid for the plugin instance's whole life. */
typedef struct sandlock_host_api {
    uint32_t abi_version;
    void* host;
    /* Log a message; cheap when the level is filtered out. 0 or -ENOMEM. */
    int32_t (*log)(void* host, sandlock_log_level level, sandlock_str plugin, sandlock_str message);
    /* Ask the seccomp layer to route a syscall (native number) to SECCOMP_RET_USER_NOTIF. Call
     * it from configure(); the listener fd then arrives in the parent context. Returns 0,
     * -EINVAL after configure() and for read/write (the child needs them, unsupervised, to
     * hand the listener over), or -ENOMEM. */
    int32_t (*request_notify)(void* host, int32_t syscall_nr);
    /* Every syscall routed to user notification so far; the array lives as long as the host. */
    size_t (*notify_requests)(void* host, const int32_t** syscalls);
    /* Add a handler for a syscall (native number), after the built-in ones; routes the syscall
     * to the listener too. Call from configure(). Needs a plugin with
     * SANDLOCK_PLUGIN_SERVES_NOTIFICATIONS. 0, -EINVAL as for request_notify, or -ENOMEM. */
    int32_t (*register_notif_handler)(void* host, sandlock_str plugin, int32_t syscall_nr,
                                      sandlock_notif_handler_fn fn, void* user);
    /* Every handler registered through the host, in registration order. */
    size_t (*notif_handlers)(void* host, const sandlock_notif_handler_entry** entries);
    /* The plugin can no longer enforce what it took on (its supervisor stopped, say): the host
     * kills the sandbox at once and the run fails with exit 125 and `reason`. Any thread, any
     * time after after_fork(); the first reason wins. 0, or -ENOMEM when the reason could not
     * be kept (the run still ends, with a generic reason). */
    int32_t (*abort_run)(void* host, sandlock_str plugin, sandlock_str reason);
    /* Like request_notify, for only the calls whose arguments meet every condition of `rule`:
     * for a syscall whose other calls a handler would let through unjudged, so that they never
     * wait for the supervisor. A syscall requested several ways is routed when any request
     * holds (always, once requested by request_notify or register_notif_handler). 0, -EINVAL
     * as request_notify or for a malformed rule, or -ENOMEM. */
    int32_t (*request_notify_when)(void* host, const sandlock_notify_rule* rule);
    /* Every conditional request so far; the array lives as long as the host. */
    size_t (*notify_rules)(void* host, const sandlock_notify_rule** rules);
} sandlock_host_api;

/* Handed to child stages (between fork and exec): no allocation, locks, logging or
 * exceptions may happen while it is in use. */
typedef struct sandlock_child_context {
    /* Set by the layer that installs a seccomp filter with a listener; the host passes it to
     * the parent after stage 6 and closes it in the child. */
    int32_t listener_fd;
    /* Landlock ABI version of the running kernel (0 when Landlock is unavailable). */
    int32_t landlock_abi;
    /* Set by a child stage to hand an fd to this plugin in the parent (its receive_fd hook),
     * e.g. a mount that must outlive the sandbox's namespace. The host sends it once the stage
     * returns, closes it in the child and resets this to -1. */
    int32_t handover_fd;
} sandlock_child_context;

/* Handed to after_fork(), in the parent, once the child exists. */
typedef struct sandlock_parent_context {
    int32_t child_pid;
    int32_t child_pidfd;
    int32_t listener_fd; /* seccomp user-notification listener, or -1; owned by the host. A
                          * plugin that routes no syscall itself may get -1 while the notif
                          * layer gets the listener (the CLI's init in sandlock's memory). */
    /* A long-lived sandbox's spawner (the confined process that starts each exec'd command), or
     * 0. Like the init it is the sandbox's machinery, not one of its processes: it counts
     * against no limit (sandbox_process.hpp). */
    int32_t spawner_pid;
    /* The sandbox's own PID namespace (its nsfs inode number), or 0 without one. The init is
     * not inspectable through /proc by an unprivileged host: sandbox_process.hpp names the
     * namespace from this. */
    uint64_t pid_namespace;
} sandlock_parent_context;

/* Where a plugin command writes its output (text for the terminal, or JSON). */
typedef struct sandlock_output_sink {
    void* host;
    /* 0, or -ENOMEM (the output is then cut short). */
    int32_t (*write)(void* host, const char* data, size_t size);
} sandlock_output_sink;

/* Handed to on_exit(), after the whole process tree has been killed and reaped. */
typedef struct sandlock_exit_info {
    int32_t exit_code;   /* the child's exit status, or -1 when it was killed by a signal */
    int32_t term_signal; /* the signal that killed it, or 0 */
    uint32_t timed_out;  /* 1 when the run hit its time limit, else 0 */
} sandlock_exit_info;

/* ---- Nested sandboxes ------------------------------------------------------------------ */

/* A Landlock path rule added in the nested process itself, on the inode its own view of the
 * filesystem shows (its sandbox's /proc, overlays, remounts), right before it restricts itself. */
typedef struct sandlock_late_path_rule {
    sandlock_str path;
    uint64_t access; /* LANDLOCK_ACCESS_FS_* */
} sandlock_late_path_rule;

/* A seccomp program: `length` struct sock_filter instructions. */
typedef struct sandlock_bpf_program {
    const void* filter;
    uint32_t length;
    uint32_t reserved;
} sandlock_bpf_program;

/* What a plugin adds to the processes of a nested sandbox (Sandbox::sandbox), which start inside
 * their parent sandbox's confinement and narrow it: kernel objects the host applies in each new
 * process before exec — the Landlock ruleset with its late rules, then the seccomp programs in
 * order (none may return SECCOMP_RET_USER_NOTIF: the parent's listener serves the subtree).
 * Everything stays owned by the plugin and valid until its on_exit. */
typedef struct sandlock_nested_confinement {
    int32_t landlock_ruleset_fd; /* -1: none */
    uint32_t late_rule_count;
    const sandlock_late_path_rule* late_rules;
    const sandlock_bpf_program* seccomp_programs;
    uint32_t seccomp_program_count;
    uint32_t reserved;
} sandlock_nested_confinement;

/* The manifest's flags. */
#define SANDLOCK_PLUGIN_NEEDS_USER_NAMESPACE (1u << 0)  /* core unshares a user namespace in stage 2 */
#define SANDLOCK_PLUGIN_SERVES_NOTIFICATIONS (1u << 1)  /* runs the supervisor that calls handlers */
#define SANDLOCK_PLUGIN_PROVIDES_LISTENER (1u << 2)     /* installs the filter that makes the listener */

/* A plugin's manifest is an ELF note the host reads from the file before loading it (so a
 * mismatched or malformed plugin is refused and none of its code runs). The note: owner name
 * "sandlock", type SANDLOCK_MANIFEST_NOTE_TYPE, in a section named SANDLOCK_MANIFEST_SECTION (an
 * SHT_NOTE section in a PT_NOTE segment); its descriptor, little-endian:
 *   u32 abi_version, u32 child_stages (SANDLOCK_STAGE_BIT mask), u32 flags, u32 0,
 *   then NUL-terminated strings: name, description, each owned Policy field, and an empty
 *   string ending the list. export.hpp (C++) and plugin.h (C) build it at compile time. */
#define SANDLOCK_MANIFEST_SECTION ".note.sandlock"
#define SANDLOCK_MANIFEST_NOTE_OWNER "sandlock"
#define SANDLOCK_MANIFEST_NOTE_TYPE 1u

/* A plugin's hooks. Every hook may be null, meaning "nothing to do". Hooks that return int32_t
 * return 0 on success; non-zero means failure with a reason in `err`. */
typedef struct sandlock_plugin_vtable {
    uint32_t abi_version; /* must equal the note's */

    void* (*create)(const sandlock_host_api* host, sandlock_error_sink* err);
    void (*destroy)(void* self);
    /* The whole policy and this plugin's [plugins.NAME] table, both as JSON text (the table is
     * empty text when there is none). */
    int32_t (*configure)(void* self, sandlock_str policy_json, sandlock_str options_json, sandlock_error_sink* err);
    /* Build everything the child stages need: rulesets, BPF programs, open fds. */
    int32_t (*prepare)(void* self, sandlock_error_sink* err);
    /* In the child, once per stage in child_stages; returns 0 or -errno. */
    int32_t (*child_stage)(void* self, sandlock_stage stage, sandlock_child_context* ctx);
    int32_t (*after_fork)(void* self, const sandlock_parent_context* ctx, sandlock_error_sink* err);
    /* Non-zero: what the plugin had to do at the end (a branch commit, say) failed; the run
     * then fails with exit 125 and the reason, whatever the command's own status was. */
    int32_t (*on_exit)(void* self, const sandlock_exit_info* info, sandlock_error_sink* err);
    /* In the parent: the fd a child stage left in handover_fd; the plugin owns it. */
    void (*receive_fd)(void* self, int32_t fd);
    /* `sandlock NAME ...` subcommands and library calls that act outside a run (list, commit,
     * ...): `request_json` is an object whose "command" names the action. Output goes to `out`. */
    int32_t (*command)(void* self, sandlock_str request_json, const sandlock_output_sink* out,
                       sandlock_error_sink* err);
    /* A running sandbox (after after_fork, before on_exit) is asked to act or report; never two
     * calls at once, but on another thread than the other hooks. `request_json` is an object
     * whose "command" is one of:
     *   "update": {"policy": the whole policy with new limits}: apply the limits this plugin owns
     *             (max_memory, max_processes, max_cpu) or fail; lowering below current use must
     *             refuse new allocations or forks, never kill;
     *   "pause" / "resume": the host is about to freeze / has thawed every process of the sandbox;
     *   "status": write one JSON object of counters to `out` (nothing is fine too);
     *   "snapshot": a checkpoint is being taken and every process of the sandbox is stopped:
     *             save what must match their memory (a branch snapshot) and write one JSON
     *             object describing it to `out` (nothing: nothing to save);
     *   "nest": {"root": pid, "scopes": [{"id": text, "policy": {...}}]}: the nested sandbox's
     *           process `root` (blocked until this returns) and everything it starts belong to
     *           each scope, whose policy narrows the fields this plugin owns (serves them).
     * Null: the plugin has no live state; the host then refuses "update" for its fields. */
    int32_t (*control)(void* self, sandlock_str request_json, const sandlock_output_sink* out,
                       sandlock_error_sink* err);
    /* For the plugin set of a nested sandbox, after prepare() and instead of child stages: fill
     * `out` (it arrives zeroed, landlock_ruleset_fd -1). Non-zero: the plugin cannot narrow a
     * nested sandbox as its policy asks, with the reason. Null: it has nothing to add. */
    int32_t (*nested)(void* self, sandlock_nested_confinement* out, sandlock_error_sink* err);
} sandlock_plugin_vtable;

/* The factory every plugin exports. */
typedef const sandlock_plugin_vtable* (*sandlock_plugin_factory)(void);

/* The two symbols every plugin exports, each a pointer-sized, default-visibility data object
 * (the shape of a Boost.DLL alias: the host reads the pointer stored in the symbol):
 *   sandlock_plugin_abi -> points to a const uint32_t, read first; must equal SANDLOCK_ABI_VERSION
 *   sandlock_plugin     -> a sandlock_plugin_factory
 * SANDLOCK_EXPORT_PLUGIN (export.hpp) and SANDLOCK_C_PLUGIN (plugin.h) define both. */
#define SANDLOCK_PLUGIN_ABI_SYMBOL "sandlock_plugin_abi"
#define SANDLOCK_PLUGIN_FACTORY_SYMBOL "sandlock_plugin"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SANDLOCK_SDK_ABI_H */
