#include "store/branch_ops.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <climits>
#include <optional>

namespace sandlock::branchfs {
namespace fs = std::filesystem;
namespace {

std::string join_paths(const std::vector<std::string>& paths, std::size_t most) {
    std::string out;
    for (std::size_t i = 0; i < paths.size() && i < most; ++i) out += (i ? ", " : "") + paths[i];
    if (paths.size() > most) out += ", ... (" + std::to_string(paths.size() - most) + " more)";
    return out;
}

dev_t device_of(const fs::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_dev : 0;
}

// Where the commit stages its files and journal: in the branch's directory when that is on
// the target's filesystem (rename(2) must reach the target), else in a directory of the
// target's root made now under a name nobody could know before (the engine refuses a layer
// that names such a directory, and recover() only replays onto the target meta.json names).
fs::path journal_dir_for(const BranchStore& store, const BranchMeta& meta, const fs::path& target) {
    if (device_of(store.dir(meta.id)) == device_of(target)) return store.dir(meta.id) / "journal";
    unsigned char bytes[4];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        throw sdk::Error("branchfs: no random bytes for the commit's journal: " + std::string(std::strerror(errno)));
    char suffix[9];
    std::snprintf(suffix, sizeof suffix, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
    const fs::path dir = target / (".sandlock-commit-" + meta.id + "-" + suffix);
    if (::mkdir(dir.c_str(), 0700) != 0)
        throw sdk::Error("branchfs: cannot make the commit's journal " + dir.string() + ": " + std::strerror(errno));
    return dir;
}

// The commit's target, locked against other commits onto it (two branches of one workspace,
// or two nested on one parent, would interleave their journals): a flock on the directory,
// waited for. The workspace is checked to be the directory the branch was made of (not moved,
// swapped or reached through a symlink since).
class TargetLock {
public:
    TargetLock(const BranchMeta& meta, const fs::path& target)
        : fd_(meta.parent ? open_dir_no_symlinks(target, "the parent branch's layer") : open_workspace(meta)) {
        while (::flock(fd_.get(), LOCK_EX) != 0 && errno == EINTR) {
        }
    }

private:
    UniqueFd fd_;  // closing it releases the lock
};

// Where the branch's commit applies: its parent's layer, or the workspace.
fs::path commit_target(const BranchStore& store, const BranchMeta& meta) {
    return meta.parent ? store.upper(*meta.parent) : fs::path(meta.workspace);
}

// The engine's message without its "branchfs: " (the host names the plugin already).
std::string reason(const std::exception& e) {
    std::string_view text = e.what();
    if (text.starts_with("branchfs: ")) text.remove_prefix(10);
    return std::string(text);
}

}  // namespace

std::vector<Change> commit_branch(const BranchStore& store, BranchMeta meta) {
    if (meta.state == BranchState::Committing)
        throw sdk::Error("branch " + meta.id + ": an earlier commit was interrupted; `sandlock branch list` finishes it");
    if (auto children = store.children(meta.id); !children.empty())
        throw sdk::Error("branch " + meta.id + " has nested branches (" + join_paths(children, 5) +
                         "); commit or abort them first");
    const bool into_parent = meta.parent.has_value();
    if (into_parent && store.load(*meta.parent).frozen) {
        keep_branch(store, meta);
        throw sdk::Error("branch " + meta.id + " sits on snapshot " + *meta.parent +
                         ", which is never written: keep or abort it (a snapshot only seeds branches); kept");
    }
    const fs::path target = commit_target(store, meta);
    std::optional<TargetLock> target_lock;
    try {
        target_lock.emplace(meta, target);
    } catch (const std::exception& e) {
        keep_branch(store, meta);
        throw sdk::Error("branch " + meta.id + " not committed: " + reason(e) + "; kept");
    }
    meta.journal_dir = journal_dir_for(store, meta, target).string();
    meta.state = BranchState::Committing;
    store.save(meta);
    std::vector<Change> applied;
    try {
        applied = apply_layer(store.upper(meta.id), target, into_parent ? TargetKind::Layer : TargetKind::Workspace,
                              meta.journal_dir, meta.created);
    } catch (const ConflictError& e) {
        keep_branch(store, meta);
        throw sdk::Error("branch " + meta.id + " not committed: " +
                         (into_parent ? "its parent branch " + *meta.parent : std::string("the workspace")) +
                         " changed since the branch was made in " + join_paths(e.paths(), 10) +
                         "; kept (`sandlock branch show " + meta.id + "`, then commit or abort it)");
    } catch (const std::exception& e) {
        recover(meta.journal_dir, target);
        keep_branch(store, meta);
        throw sdk::Error("branch " + meta.id + " not committed: " + reason(e) + "; kept");
    }
    store.remove(meta.id);
    return applied;
}

void abort_branch(const BranchStore& store, const BranchMeta& meta) {
    if (auto children = store.children(meta.id); !children.empty())
        throw sdk::Error("branch " + meta.id + " has nested branches (" + join_paths(children, 5) +
                         "); abort them first");
    if (!meta.journal_dir.empty()) recover(meta.journal_dir, commit_target(store, meta));
    store.remove(meta.id);
}

void keep_branch(const BranchStore& store, BranchMeta meta) {
    meta.state = BranchState::Kept;
    meta.journal_dir.clear();
    store.save(meta);
}

std::vector<Change> branch_changes(const BranchStore& store, const BranchMeta& meta) {
    return diff_layer(store.upper(meta.id), meta.workspace);
}

std::string snapshot_branch(const BranchStore& store, const BranchMeta& meta) {
    BranchMeta copy = store.create(meta.workspace, meta.parent);
    try {
        // A layer onto an empty layer: every entry, whiteouts and opaque markers included.
        const timespec never{LONG_MAX, 0};
        apply_layer(store.upper(meta.id), store.upper(copy.id), TargetKind::Layer, store.dir(copy.id) / "journal", never);
        copy.created = meta.created;
        copy.frozen = true;
        keep_branch(store, copy);
    } catch (...) {
        store.remove(copy.id);
        throw;
    }
    return copy.id;
}

void recover_interrupted(const BranchStore& store) {
    store.clear_trash();
    for (BranchMeta meta : store.list()) {
        BranchLock lock = store.lock(meta.id, true);
        if (!lock) continue;  // a live sandlock runs or commits it
        recover(store.fold_journal(meta.id), store.upper(meta.id));
        if (meta.state != BranchState::Committing) continue;
        const fs::path target = commit_target(store, meta);
        std::optional<TargetLock> target_lock;
        try {
            target_lock.emplace(meta, target);
        } catch (const std::exception&) {
            continue;  // its workspace is gone or swapped: left as it is, `show` says why
        }
        const bool finished = journal_complete(meta.journal_dir);
        recover(meta.journal_dir, target);
        if (finished) store.remove(meta.id);
        else keep_branch(store, meta);
    }
}

}  // namespace sandlock::branchfs
