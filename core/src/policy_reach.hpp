// Whether a policy lets the sandbox reach a directory of the host: what decides which parts of
// the sandbox's mount namespace need setting up (a fresh /proc, masks under /sys) and which
// layers a readable /proc needs.
#pragma once

#include <sandlock/policy.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sandlock {

// Whether the policy restricts the filesystem at all (any fs_* field set).
bool restricts_filesystem(const Policy& policy);

// The policy's fs_readable, fs_writable and fs_denied entries, each resolved once (a start asks
// several questions of the same entries, and each resolution walks every component).
class PolicyReach {
public:
    explicit PolicyReach(const Policy& policy);

    // Whether fs_readable or fs_writable lists `dir`, a directory above it or one below it — as
    // written or where its symlinks lead — and fs_denied does not take `dir` (or a directory
    // above it) away again. `dir` is absolute and normal ("/proc").
    bool lists_under(std::string_view dir) const;
    // Whether the sandbox can reach `dir` at all: an unrestricted filesystem, or lists_under.
    bool reaches(std::string_view dir) const;

private:
    // An entry's normal form as written, and where its symlinks lead (Landlock follows them;
    // empty when it cannot be resolved).
    struct Entry {
        std::string written;
        std::string resolved;
    };
    static std::vector<Entry> resolve(const std::vector<std::string>& entries);

    bool restricts_;
    std::vector<Entry> granted_;  // fs_readable and fs_writable
    std::vector<Entry> denied_;
};

}  // namespace sandlock
