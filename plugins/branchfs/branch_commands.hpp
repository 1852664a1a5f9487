// `sandlock branch list|show|commit|abort|snapshot`: the plugin's commands, run through the
// host's plugin-command call with a JSON request {"command", "id", "json", "fs_storage"}.
#pragma once

#include "layer/layer.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace sandlock::branchfs {

void run_branch_command(const boost::json::object& request, sdk::Output& out);

// "A path" / "M path" / "D path" lines, or {"branch": ID, "changes": [{"change", "path"}]}.
std::string format_changes(const std::vector<Change>& changes, bool json, const std::string& id);

}  // namespace sandlock::branchfs
