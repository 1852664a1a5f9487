// What a policy asks of Landlock, validated and checked against the ABI the kernel offers.
#pragma once

#include "access_rights.hpp"
#include "landlock_abi.hpp"
#include "ruleset_plan.hpp"

#include <sandlock/sdk/policy.hpp>

#include <string>
#include <vector>

namespace sandlock::landlock {

struct LandlockConfig {
    int abi = 0;               // the ABI the ruleset is built for
    bool restrict_fs = false;  // any fs_* field set: every fs right is handled
    FsRequest fs;              // paths as given (absolute, not yet resolved)
    std::vector<PortRange> net_bind;
    std::vector<PortRange> net_connect;
    Access scoped = 0;  // LANDLOCK_SCOPE_* bits
    // One line per feature dropped because the ABI lacks it (only when strict = false).
    std::vector<std::string> warnings;

    // Whether there is anything to enforce; if not, the plugin leaves the child alone.
    bool active() const { return restrict_fs || !net_bind.empty() || !net_connect.empty() || scoped != 0; }
    RulesetAttr ruleset_attr() const;
};

// Validates the Landlock fields of the policy (absolute paths, ports 1-65535) and fits the
// request to `abi`. A feature the ABI lacks makes it throw sdk::Error when policy.strict, and
// is dropped with one warning otherwise.
LandlockConfig make_config(const Policy& policy, int abi);

}  // namespace sandlock::landlock
