// Where branches live: fs_storage, else $XDG_STATE_HOME/sandlock/branches, else
// ~/.local/state/sandlock/branches, else /tmp/sandlock-UID/branches. Always a directory of
// ours with mode 0700: branch data is the user's work, and a directory someone else made (a
// planted /tmp/sandlock-UID) could hand our commits to them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace sandlock::branchfs {

// Where the storage directory for `fs_storage` (nullopt: the default) is, absolute and
// normalized; nothing is created. Throws sdk::Error for a relative fs_storage.
std::filesystem::path storage_path(const std::optional<std::string>& fs_storage);

// The storage directory at `path`, created if missing and checked (owned by us, a
// directory, not a symlink, mode 0700). Throws sdk::Error naming the path and the fix.
std::filesystem::path open_storage(const std::filesystem::path& path);

}  // namespace sandlock::branchfs
