/* Pins the layout of the C waist (sdk/abi.h) on LP64 Linux: a change here moves bytes that
 * plugins built against ABI SANDLOCK_ABI_VERSION rely on, so it needs a new ABI number and an
 * entry in sdk/README.md "ABI changes". Compiled as C11 with -Wpedantic -Werror (abi.h must stay
 * plain C); C++ sees the same structs through abi.hpp. Nothing runs: the checks are at compile
 * time. */
#include <sandlock/sdk/abi.h>
#include <sandlock/sdk/plugin.h>

#include <stddef.h>

#if defined(__LP64__)
#define PIN_SIZE(type, size) _Static_assert(sizeof(type) == (size), "size of " #type)
#define PIN_AT(type, field, offset) _Static_assert(offsetof(type, field) == (offset), #type "." #field)

_Static_assert(SANDLOCK_ABI_VERSION == 5u, "a new ABI: update the pins below and sdk/README.md");

PIN_SIZE(sandlock_str, 16);
PIN_AT(sandlock_str, size, 8);
PIN_SIZE(sandlock_error_sink, 1024);

PIN_SIZE(sandlock_notif_request, 80);
PIN_AT(sandlock_notif_request, pid, 8);
PIN_AT(sandlock_notif_request, syscall_nr, 12);
PIN_AT(sandlock_notif_request, arch, 16);
PIN_AT(sandlock_notif_request, instruction_pointer, 24);
PIN_AT(sandlock_notif_request, args, 32);

PIN_SIZE(sandlock_notif_verdict, 24);
PIN_AT(sandlock_notif_verdict, error, 4);
PIN_AT(sandlock_notif_verdict, value, 8);
PIN_AT(sandlock_notif_verdict, fd, 16);
PIN_AT(sandlock_notif_verdict, fd_flags, 20);

PIN_SIZE(sandlock_notif_context_api, 64);
PIN_AT(sandlock_notif_context_api, listener_fd, 8);
PIN_AT(sandlock_notif_context_api, read_memory, 16);
PIN_AT(sandlock_notif_context_api, still_valid, 40);
PIN_AT(sandlock_notif_context_api, log_failure, 56);

PIN_SIZE(sandlock_notif_handler_entry, 40);
PIN_AT(sandlock_notif_handler_entry, fn, 8);
PIN_AT(sandlock_notif_handler_entry, user, 16);
PIN_AT(sandlock_notif_handler_entry, plugin, 24);

PIN_SIZE(sandlock_host_api, 80);
PIN_AT(sandlock_host_api, host, 8);
PIN_AT(sandlock_host_api, log, 16);
PIN_AT(sandlock_host_api, request_notify, 24);
PIN_AT(sandlock_host_api, register_notif_handler, 40);
PIN_AT(sandlock_host_api, abort_run, 56);
PIN_AT(sandlock_host_api, request_notify_when, 64);
PIN_AT(sandlock_host_api, notify_rules, 72);
PIN_SIZE(sandlock_notify_condition, 24);
PIN_AT(sandlock_notify_condition, mask, 8);
PIN_AT(sandlock_notify_condition, value, 16);
PIN_SIZE(sandlock_notify_rule, 104);
PIN_AT(sandlock_notify_rule, conditions, 8);

PIN_SIZE(sandlock_child_context, 12);
PIN_AT(sandlock_child_context, handover_fd, 8);
PIN_SIZE(sandlock_parent_context, 24);
PIN_AT(sandlock_parent_context, pid_namespace, 16);
PIN_AT(sandlock_parent_context, spawner_pid, 12);
PIN_AT(sandlock_parent_context, listener_fd, 8);
PIN_SIZE(sandlock_output_sink, 16);
PIN_SIZE(sandlock_exit_info, 12);
PIN_AT(sandlock_exit_info, timed_out, 8);

PIN_SIZE(sandlock_plugin_vtable, 96);
PIN_AT(sandlock_plugin_vtable, create, 8);
PIN_AT(sandlock_plugin_vtable, configure, 24);
PIN_AT(sandlock_plugin_vtable, child_stage, 40);
PIN_AT(sandlock_plugin_vtable, receive_fd, 64);
PIN_AT(sandlock_plugin_vtable, command, 72);
PIN_AT(sandlock_plugin_vtable, control, 80);
PIN_AT(sandlock_plugin_vtable, nested, 88);
PIN_SIZE(sandlock_late_path_rule, 24);
PIN_AT(sandlock_late_path_rule, access, 16);
PIN_SIZE(sandlock_bpf_program, 16);
PIN_SIZE(sandlock_nested_confinement, 32);
PIN_AT(sandlock_nested_confinement, late_rules, 8);
PIN_AT(sandlock_nested_confinement, seccomp_programs, 16);
PIN_AT(sandlock_nested_confinement, seccomp_program_count, 24);
#endif

_Static_assert(SANDLOCK_STAGE_BIT(SANDLOCK_STAGE_EXEC) == 0x200u, "stage numbers");
_Static_assert(SANDLOCK_VERDICT_INJECT_FD == 4u, "verdict numbers");
_Static_assert(SANDLOCK_PLUGIN_PROVIDES_LISTENER == 4u, "flag numbers");

/* plugin.h's macro must expand in C without a warning: a throwaway factory exported nowhere
 * (this object is never linked into a plugin). */
static const sandlock_plugin_vtable* no_plugin(void) { return NULL; }
SANDLOCK_C_PLUGIN(no_plugin, "abi_layout", "compile-time checks of abi.h", 0, 0, "a_field\0");
