// Named sandboxes: a long-lived sandbox started with SandboxOptions::name is registered in
// the per-user runtime directory ($XDG_RUNTIME_DIR/sandlock, else /tmp/sandlock-UID; mode 0700)
// while it runs, and answers requests on its control socket there (`sandlock ps`, `inspect`,
// `pause`, `resume`, `kill`, `update`). Only the user who started it is answered: the socket
// checks its peer's credentials (SO_PEERCRED), whatever the directory's permissions.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock {

// Throws PolicyError unless `name` is 1-64 of [A-Za-z0-9._-] (and not "." or "..").
void check_sandbox_name(std::string_view name);

// The runtime directory, created 0700 if missing; throws SandboxError when it exists but is not
// a private directory of this user.
std::filesystem::path sandbox_runtime_dir();

// The names of the running named sandboxes of this user, sorted; entries whose sandlock died
// are removed on the way.
std::vector<std::string> list_named_sandboxes();

// Sends one request (a JSON object text, {"command": ...}) to the sandbox `name` and returns
// its answer (a JSON object text). Throws SandboxError naming the sandbox when there is none
// by that name, it refuses this user, or it reports a failure.
std::string control_named_sandbox(std::string_view name, const std::string& request_json);

}  // namespace sandlock
