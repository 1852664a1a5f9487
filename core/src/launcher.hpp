// Starting a sandbox: plugins prepared before fork, the child plan, the fork (or clone into new
// namespaces) — then, for a one-shot run, waiting for it (running_sandbox.hpp).
#pragma once

#include "running_sandbox.hpp"

#include <sandlock/policy.hpp>
#include <sandlock/sandbox.hpp>

#include <memory>

namespace sandlock {

// Starts the child of `spec` (a command, a function, or a long-lived sandbox's spawner).
// Throws PolicyError/PluginError/ConfinementError before anything runs.
std::unique_ptr<RunningSandbox> start_sandbox(const Policy& policy, const SandboxOptions& options, LaunchSpec spec);

// A one-shot run, start to end.
LaunchOutcome launch(const Policy& policy, const SandboxOptions& options, LaunchSpec spec);

}  // namespace sandlock
