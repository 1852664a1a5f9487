/* Exports a plugin written in C (the C++ side has SANDLOCK_EXPORT_PLUGIN in export.hpp). In
 * exactly one source file of the plugin:
 *
 *   static const sandlock_plugin_vtable vtable = {SANDLOCK_ABI_VERSION, &create, &destroy, ...};
 *   static const sandlock_plugin_vtable* factory(void) { return &vtable; }
 *   SANDLOCK_C_PLUGIN(factory, "my_plugin", "what it does", SANDLOCK_STAGE_BIT(SANDLOCK_STAGE_RLIMITS),
 *                     0, SANDLOCK_NO_FIELDS)
 *
 * The name must be a string literal and the file must be called NAME.so. OWNED lists the Policy
 * fields the plugin enforces, each followed by "\0" ("max_memory\0" "max_processes\0"), or
 * SANDLOCK_NO_FIELDS. Link with -shared -fPIC -fvisibility=hidden: the macro exports its two
 * symbols (abi.h) itself. */
#ifndef SANDLOCK_SDK_PLUGIN_H
#define SANDLOCK_SDK_PLUGIN_H

#include <sandlock/sdk/abi.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sandlock/sdk/plugin.h lays the manifest note out little-endian, as the host reads it"
#endif

#if defined(__has_attribute)
#if __has_attribute(retain)
#define SANDLOCK_NOTE_RETAIN __attribute__((retain))
#endif
#endif
#ifndef SANDLOCK_NOTE_RETAIN
#define SANDLOCK_NOTE_RETAIN
#endif

#ifdef __cplusplus
#define SANDLOCK_C_LINKAGE extern "C"
#else
#define SANDLOCK_C_LINKAGE
#endif

#define SANDLOCK_NO_FIELDS ""

/* The strings of the descriptor: name, description, the owned fields, and the empty string that
 * ends the list (the literal's own terminating NUL). */
#define SANDLOCK_NOTE_TEXT(name, description, owned) name "\0" description "\0" owned

#define SANDLOCK_C_PLUGIN(factory, name, description, child_stages, flags, owned)                      \
    static const struct {                                                                              \
        uint32_t namesz, descsz, type;                                                                 \
        char owner[12];                                                                                \
        uint32_t abi_version, stages, plugin_flags, reserved;                                          \
        char text[(sizeof(SANDLOCK_NOTE_TEXT(name, description, owned)) + 3u) & ~(size_t)3u];        \
    } sandlock_manifest_note __attribute__((section(SANDLOCK_MANIFEST_SECTION), used, aligned(4)))    \
    SANDLOCK_NOTE_RETAIN = {                                                                           \
        sizeof(SANDLOCK_MANIFEST_NOTE_OWNER),                                                          \
        (uint32_t)(16u + sizeof(SANDLOCK_NOTE_TEXT(name, description, owned))),                        \
        SANDLOCK_MANIFEST_NOTE_TYPE,                                                                   \
        SANDLOCK_MANIFEST_NOTE_OWNER,                                                                  \
        SANDLOCK_ABI_VERSION,                                                                          \
        (child_stages),                                                                                \
        (flags),                                                                                       \
        0u,                                                                                            \
        SANDLOCK_NOTE_TEXT(name, description, owned),                                                  \
    };                                                                                                 \
    static const uint32_t sandlock_abi_value = SANDLOCK_ABI_VERSION;                                   \
    /* Each symbol holds a pointer, as a Boost.DLL alias does: the host reads what it points to. */   \
    SANDLOCK_C_LINKAGE __attribute__((visibility("default"))) extern const void* const sandlock_plugin_abi; \
    SANDLOCK_C_LINKAGE __attribute__((visibility("default"))) extern const sandlock_plugin_factory sandlock_plugin; \
    const void* const sandlock_plugin_abi = &sandlock_abi_value;                                       \
    const sandlock_plugin_factory sandlock_plugin = (factory)

#endif /* SANDLOCK_SDK_PLUGIN_H */
