/* A sandlock plugin in plain C, against the C waist (sandlock/sdk/abi.h) only: no C++ runtime,
 * no Boost. It lowers the sandbox's soft limit on open files to 64 in the rlimits stage, logs
 * what it was given in configure(), and refuses any option (it takes none). */
#include <sandlock/sdk/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum { kOpenFiles = 64 };

typedef struct c_example {
    const sandlock_host_api* host;
} c_example;

static sandlock_str text(const char* s) {
    sandlock_str out = {s, strlen(s)};
    return out;
}

static void fail(sandlock_error_sink* err, const char* message) {
    snprintf(err->message, sizeof err->message, "%s", message);
}

static void* create(const sandlock_host_api* host, sandlock_error_sink* err) {
    c_example* self = calloc(1, sizeof *self);
    if (self == NULL) {
        fail(err, "c_example: out of memory");
        return NULL;
    }
    self->host = host;
    return self;
}

static void destroy(void* self) { free(self); }

/* The options table arrives as JSON text: "" when there is none, "{}" when it is empty. */
static int options_empty(sandlock_str options) {
    size_t i;
    for (i = 0; i < options.size; ++i)
        if (strchr("{} \t\n", options.data[i]) == NULL) return 0;
    return 1;
}

static int32_t configure(void* p, sandlock_str policy_json, sandlock_str options_json, sandlock_error_sink* err) {
    c_example* self = p;
    char line[160];
    if (!options_empty(options_json)) {
        fail(err, "[plugins.c_example] takes no options; remove the table");
        return -1;
    }
    snprintf(line, sizeof line, "configured with %zu bytes of policy; the sandbox gets at most %d open files",
             policy_json.size, kOpenFiles);
    self->host->log(self->host->host, SANDLOCK_LOG_INFO, text("c_example"), text(line));
    return 0;
}

/* In the child: no allocation, no logging; 0 or -errno. */
static int32_t child_stage(void* self, sandlock_stage stage, sandlock_child_context* ctx) {
    struct rlimit limit;
    (void)self;
    (void)ctx;
    if (stage != SANDLOCK_STAGE_RLIMITS) return 0;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -errno;
    if (limit.rlim_cur > kOpenFiles) limit.rlim_cur = kOpenFiles;
    return setrlimit(RLIMIT_NOFILE, &limit) == 0 ? 0 : -errno;
}

static int32_t on_exit_hook(void* p, const sandlock_exit_info* info, sandlock_error_sink* err) {
    c_example* self = p;
    char line[96];
    (void)err;
    snprintf(line, sizeof line, "the command exited with status %d (signal %d)", (int)info->exit_code,
             (int)info->term_signal);
    self->host->log(self->host->host, SANDLOCK_LOG_INFO, text("c_example"), text(line));
    return 0;
}

static const sandlock_plugin_vtable vtable = {
    SANDLOCK_ABI_VERSION,
    create,
    destroy,
    configure,
    NULL, /* prepare */
    child_stage,
    NULL, /* after_fork */
    on_exit_hook,
    NULL, /* receive_fd: nothing is handed over */
    NULL, /* command: none */
    NULL, /* control: no live state */
    NULL, /* nested: nothing to add to a nested sandbox */
};

static const sandlock_plugin_vtable* factory(void) { return &vtable; }

SANDLOCK_C_PLUGIN(factory, "c_example", "example plugin in C: at most 64 open files",
                  SANDLOCK_STAGE_BIT(SANDLOCK_STAGE_RLIMITS), 0, SANDLOCK_NO_FIELDS);
