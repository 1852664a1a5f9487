// Where branches live: fs_storage, else $XDG_STATE_HOME/sandlock/branches, else
// ~/.local/state/sandlock/branches, else /tmp/sandlock-UID/branches. Always a directory of
// ours with mode 0700: branch data is the user's work, and a directory someone else made (a
// planted /tmp/sandlock-UID) could hand our commits to them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace sandlock::branchfs {

// The storage directory for `fs_storage` (nullopt: the default), created if missing and
// checked (owned by us, a directory, not a symlink, mode 0700). Throws sdk::Error naming the
// path and the fix.
std::filesystem::path open_storage(const std::optional<std::string>& fs_storage);

}  // namespace sandlock::branchfs
