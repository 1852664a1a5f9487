// Whether a policy lets the sandbox reach a directory of the host: what decides which parts of
// the sandbox's mount namespace need setting up (a fresh /proc, masks under /sys) and which
// layers a readable /proc needs.
#pragma once

#include <sandlock/policy.hpp>

#include <string_view>

namespace sandlock {

// Whether the policy restricts the filesystem at all (any fs_* field set).
bool restricts_filesystem(const Policy& policy);

// Whether fs_readable or fs_writable lists `dir`, a directory above it or one below it — as
// written or where its symlinks lead — and fs_denied does not take `dir` (or a directory above
// it) away again. `dir` is absolute and normal ("/proc").
bool lists_under(const Policy& policy, std::string_view dir);

// Whether the sandbox can reach `dir` at all: an unrestricted filesystem, or lists_under.
bool reaches(const Policy& policy, std::string_view dir);

}  // namespace sandlock
