// The branches in a storage directory: STORAGE/ID/ holds meta.json (what the branch is based
// on and its state), upper/ and work/ (the overlay's upper and work directories), quota/ (the
// mount point of a size-capped run layer) and lock (flock: held exclusively while a sandbox
// runs on the branch or it is committed, shared while a nested branch sits on it).
#pragma once

#include "layer/safe_fs.hpp"

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sandlock::branchfs {

enum class BranchState {
    Running,     // a sandbox runs on it (or ran, if nobody holds the lock: interrupted)
    Kept,        // left for later: on_exit/on_error = keep
    Committing,  // a commit started (its journal decides, see layer.hpp recover())
};

struct BranchMeta {
    std::string id;
    std::string workspace;              // the directory the branch overlays (absolute)
    std::uint64_t workspace_dev = 0;    // its identity: a commit refuses a workspace path that
    std::uint64_t workspace_ino = 0;    // now names another directory (moved, swapped, a symlink)
    std::optional<std::string> parent;  // the branch it was forked from (--branch-from)
    timespec created{};                 // conflicts: target entries changed at or after this
    BranchState state = BranchState::Running;
    std::string journal_dir;            // while committing: where the commit's journal is
    bool frozen = false;                // a snapshot: nested branches only, never written
};

// A flock on a branch's lock file; released when destroyed.
class BranchLock {
public:
    BranchLock() = default;
    BranchLock(BranchLock&& other) noexcept;
    BranchLock& operator=(BranchLock&& other) noexcept;
    ~BranchLock();
    explicit operator bool() const { return fd_ >= 0; }

private:
    friend class BranchStore;
    explicit BranchLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

class BranchStore {
public:
    explicit BranchStore(std::filesystem::path root) : root_(std::move(root)) {}
    const std::filesystem::path& root() const { return root_; }

    std::filesystem::path dir(const std::string& id) const { return root_ / id; }
    std::filesystem::path upper(const std::string& id) const { return dir(id) / "upper"; }
    std::filesystem::path work(const std::string& id) const { return dir(id) / "work"; }
    std::filesystem::path quota(const std::string& id) const { return dir(id) / "quota"; }
    // Where a quota run's layer is folded into upper/ (layer.hpp apply_layer).
    std::filesystem::path fold_journal(const std::string& id) const { return dir(id) / "fold-journal"; }

    // A new branch of `workspace` (or of branch `parent`), state Running, created now.
    BranchMeta create(const std::string& workspace, const std::optional<std::string>& parent) const;
    // Throws sdk::Error for an id that is malformed or not in the store.
    BranchMeta load(const std::string& id) const;
    void save(const BranchMeta& meta) const;  // atomically (write, fsync, rename)
    std::vector<BranchMeta> list() const;     // skips entries that are not branches
    void remove(const std::string& id) const;
    void clear_trash() const;  // what removals cut short left behind
    std::vector<std::string> children(const std::string& id) const;

    // The layers a sandbox on `meta` sees below its upper layer, top first: the parent's
    // upper, its parent's, ..., never the workspace itself.
    std::vector<std::filesystem::path> layers_below(const BranchMeta& meta) const;

    // Exclusive: nobody else runs, commits or nests on it. Shared: a nested branch sits on it.
    // Empty lock when someone else holds it (wait = false).
    BranchLock lock(const std::string& id, bool exclusive) const;
    // Whether a live sandlock holds the branch (running or committing, or a child on it).
    bool in_use(const std::string& id) const;

private:
    std::filesystem::path root_;
};

// The workspace directory at `path`, opened without following any symlink, and checked to
// be the one `meta` was made of. Throws sdk::Error naming what changed.
UniqueFd open_workspace(const BranchMeta& meta);

// "running", "kept", "interrupted" (Running or Committing but nobody holds the lock).
std::string state_name(const BranchMeta& meta, bool in_use);
// Whether `id` could be a branch id (12 lowercase hex digits): ids name directories.
bool valid_branch_id(const std::string& id);

}  // namespace sandlock::branchfs
