// A nested sandbox (Sandbox::sandbox): commands started by its parent's spawner, so they are
// inside every layer of the parent (one filter chain, one listener: the parent's supervisor
// serves them), which then narrow it with their own:
// - the kernel layers' own rules, from this scope's plugin set (PluginVTable::nested): a
//   Landlock ruleset whose path rules each new process adds on what its sandbox shows, and
//   seccomp programs without a listener;
// - the supervised rules (limits, host allowlist) of the fields the parent's supervising plugin
//   owns: that plugin is told the new process's subtree belongs to this scope ("nest" control
//   request) before the process confines itself further and execs.
#pragma once

#include "plugin_set.hpp"

#include <sandlock/policy.hpp>
#include <sandlock/sandbox.hpp>

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sandlock {

class Session;

// What the spawner adds to a nested sandbox's new process (spawn_protocol.hpp), outermost scope first.
struct NestedSpawn {
    std::vector<std::string> env;
    int ruleset_fd = -1;  // the innermost scope's
    std::vector<std::pair<std::uint64_t, std::string>> late_rules;
    std::vector<std::vector<sock_filter>> programs;
    std::string nest_request;  // the "nest" control request (its "root" added once the process exists), or empty
    std::vector<std::string> nest_plugins;
};

class NestedScope {
public:
    // Checks `policy` against every enclosing policy and prepares its layers; throws
    // PolicyError/PluginError.
    NestedScope(std::shared_ptr<Session> session, std::shared_ptr<const NestedScope> outer, Policy policy,
                const SandboxOptions& options);

    Session& session() const { return *session_; }
    const std::shared_ptr<Session>& session_ptr() const { return session_; }
    const Policy& policy() const { return policy_; }
    // How to start one process of this scope (every enclosing scope's confinement included).
    NestedSpawn spawn() const;

private:
    std::shared_ptr<Session> session_;
    std::shared_ptr<const NestedScope> outer_;
    Policy policy_;
    std::string id_;
    std::unique_ptr<PluginSet> plugins_;
    int ruleset_fd_ = -1;
    std::vector<std::pair<std::uint64_t, std::string>> late_rules_;
    std::vector<std::vector<sock_filter>> programs_;
    bool has_subtree_rules_ = false;   // fields the parent's supervisor serves for this scope
    std::vector<std::string> supervisors_;  // the parent's plugins that serve them
};

}  // namespace sandlock
