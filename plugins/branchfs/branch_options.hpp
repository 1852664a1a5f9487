// What a run with fs_isolation = branchfs asks for: the policy's branchfs fields and the
// [plugins.branchfs] options (the CLI's --branch, --branch-from, --dry-run), checked.
#pragma once

#include <sandlock/sdk/policy.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sandlock::branchfs {

struct RunConfig {
    std::string workspace;               // fs_mount, absolute and resolved
    std::optional<std::string> storage;  // fs_storage as given (nullopt: the default)
    std::optional<std::uint64_t> max_disk;
    BranchAction on_exit = BranchAction::Commit;
    BranchAction on_error = BranchAction::Abort;
    std::optional<std::string> branch;       // run on this kept branch
    std::optional<std::string> branch_from;  // a new branch nested on this one
    bool dry_run = false;                    // list the changes, then discard them
    bool dry_run_json = false;
};

// nullopt when the policy does not ask for a branch (fs_isolation unset or none, and no
// other branchfs field). Throws sdk::Error naming the field, the value and the fix.
std::optional<RunConfig> make_run_config(const Policy& policy, const boost::json::object& options);

// Refuses a storage directory inside the workspace or around it (an overlay's layers must not
// overlap, and a commit would copy the branch into itself), or inside a writable tree.
void check_storage_outside(const std::filesystem::path& storage, const std::string& workspace,
                           const std::vector<std::string>& writable);

}  // namespace sandlock::branchfs
