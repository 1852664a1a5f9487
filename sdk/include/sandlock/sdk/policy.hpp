// Policy: everything a sandbox enforces, as the plugin SDK defines it: core's public API is
// this type (sandlock/policy.hpp), and a plugin receives it parsed from the policy schema
// (policy_schema.hpp). Field names equal the profile (TOML) keys and the schema's JSON keys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock {

enum class FsIsolation { None, BranchFs };
enum class BranchAction { Commit, Abort, Keep };

// An inclusive TCP port range; a single port has first == last.
struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct Policy {
    // Filesystem (landlock)
    std::vector<std::string> fs_writable;  // read, write, execute, create, remove
    std::vector<std::string> fs_readable;  // read and execute
    std::vector<std::string> fs_denied;    // no access, even inside an allowed tree

    // Syscall filtering (seccomp). Unset = the default deny list. "@default" names the
    // built-in list inside either list, so it can be extended instead of replaced.
    std::optional<std::vector<std::string>> deny_syscalls;
    std::optional<std::vector<std::string>> allow_syscalls;

    // Network
    std::vector<std::string> net_allow_hosts;  // notif: domain allowlist
    std::vector<PortRange> net_bind;           // landlock ABI 4: TCP bind ports
    std::vector<PortRange> net_connect;        // landlock ABI 4: TCP connect ports

    // IPC scoping (landlock ABI 6)
    bool isolate_ipc = false;
    bool isolate_signals = false;

    // Resources (notif)
    std::optional<std::uint64_t> max_memory;     // bytes
    std::optional<std::uint32_t> max_processes;  // concurrent processes
    std::optional<std::uint32_t> max_cpu;        // percent of one core, 1..100

    // Environment (core)
    bool clean_env = false;
    std::map<std::string, std::string> env;

    // Copy-on-write workspace (branchfs)
    std::optional<FsIsolation> fs_isolation;
    std::optional<std::string> fs_mount;
    std::optional<std::string> fs_storage;
    std::optional<std::uint64_t> max_disk;
    std::optional<BranchAction> on_exit;
    std::optional<BranchAction> on_error;

    // Misc (core)
    std::optional<std::string> chroot;
    bool close_fds = true;
    bool strict = true;  // false: a missing kernel feature degrades with one warning
    bool privileged = false;  // uid 0 inside a user namespace

    // Layers: the plugins to run (empty = the owners of every field set) and their options,
    // each a JSON object text from the profile's [plugins.NAME] table.
    std::vector<std::string> plugins;
    std::map<std::string, std::string> plugin_options;
};

// The names of the fields whose value differs from the default, in declaration order.
std::vector<std::string_view> fields_set(const Policy& policy);

}  // namespace sandlock
