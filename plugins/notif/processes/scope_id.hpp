// A nested sandbox's scope (sdk::Plugin::nest) as the notif layer numbers it: the plugin maps
// the host's scope names to these, never reusing one, so a number outlives nothing it meant.
#pragma once

#include <cstdint>
#include <vector>

namespace sandlock::notif {

using ScopeId = std::uint32_t;
// The scopes a process belongs to, outermost first (today at most one: nesting is one level).
using ScopeList = std::vector<ScopeId>;

}  // namespace sandlock::notif
