// Turns fs_readable / fs_writable / fs_denied into Landlock path rules.
//
// Landlock can only allow: a rule on a directory grants its rights to everything beneath it,
// and a path's rights are the union of the rules on it and on all its ancestors. So a denied
// path D inside an allowed tree R is carved out instead of subtracted:
//   - R gets no rule of its own. Walking from R down towards D, every entry of each directory
//     on the way gets R's rights, except the next directory on the way (walked into) and D
//     itself (nothing). A denied path that does not exist still has its name carved out.
//   - The directories on the way ("intermediates") get no rule, so nothing can be created,
//     removed or renamed directly inside them: that keeps D from being replaced or moved
//     into reach. Entries added there later (by someone outside) are not reachable either.
//   - Exception: when every denied path below an intermediate is an existing non-directory,
//     the intermediate gets READ_DIR alone, so it can still be listed; READ_DIR grants nothing
//     on a file. A denied directory (or a missing path, which could become one) keeps its
//     intermediates unlistable, since READ_DIR there would let D be listed.
//   - A denied path equal to or above an allowed root drops the root entirely.
//   - Nested roots (a writable tree inside a readable one) are planned independently against
//     every denied path and their rights are merged per path.
//   - Symlinks among the entries get no rule: a rule on the link grants nothing useful, and
//     following it could put a rule on D itself. Paths must be resolved (resolve_path) first.
// Known limit: a hard link to D's inode elsewhere in an allowed tree stays reachable.
#pragma once

#include "access_rights.hpp"
#include "fs_view.hpp"

#include <string>
#include <vector>

namespace sandlock::landlock {

struct FsRequest {
    std::vector<std::string> readable;  // absolute, resolved paths
    std::vector<std::string> writable;
    std::vector<std::string> denied;
};

struct PathRule {
    std::string path;
    Access access = 0;
    friend bool operator==(const PathRule&, const PathRule&) = default;
};

struct FsPlan {
    std::vector<PathRule> rules;     // one per path, sorted by path
    std::vector<std::string> notes;  // what was skipped and why, for the debug log
};

// Rules on non-directories are masked to kFileRights, as the kernel requires.
FsPlan plan_fs_rules(const FsRequest& request, Access readable_access, Access writable_access,
                     const FsView& fs);

}  // namespace sandlock::landlock
