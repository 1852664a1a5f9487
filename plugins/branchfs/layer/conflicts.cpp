// find_conflicts: the paths where the branch and the target both changed since `since`.
//
// ctime is the witness (it moves on every write, chmod, rename and link, and user space cannot
// set it back); ties count because file timestamps come from a coarse clock. A path the layer
// changes conflicts when the target's entry there changed since; a path the layer replaces or
// hides wholesale (a whiteout, an opaque directory, a file over a directory) conflicts when
// anything below it in the target changed since. A directory the layer merely holds entries in
// is not itself a change, so disjoint changes in one directory commit cleanly. Only paths the
// layer names are looked at: the engine's own journal directory at the target's root (the
// layer may not name it) never conflicts.
#include "layer/engine.hpp"
#include "layer/safe_fs.hpp"

#include <fcntl.h>

#include <algorithm>

namespace sandlock::branchfs {
namespace {

class ConflictFinder {
public:
    ConflictFinder(int target_fd, TargetKind kind, timespec since, std::vector<std::string>& out)
        : target_(target_fd, "the target's directory"), kind_(kind), since_(since), out_(out) {}

    // `has_target`: the target has a directory at dir.path; otherwise `anchor` is the ctime of
    // the nearest directory that exists above. The target's directories are reopened by path
    // (a bounded number stays open); the recursion is the layer's depth.
    void check_dir(const LayerNode& dir, bool has_target, timespec anchor) {
        for (const auto& node : dir.children) {
            auto st = has_target ? lstat_at(target(dir), node.name) : std::nullopt;
            switch (node.type) {
                case EntryType::Whiteout:
                    // Both deleted it: agreement, not a conflict.
                    if (st && !is_whiteout(*st) && changed_below(target(dir), node.name, *st)) conflict(node.path);
                    break;
                case EntryType::Dir:
                    check_subdir(dir, node, has_target, st, anchor);
                    break;
                default:
                    if (st) {
                        if (changed_below(target(dir), node.name, *st)) conflict(node.path);
                    } else if (kind_ == TargetKind::Workspace && node.origin && at_or_after(anchor, since_)) {
                        // The branch modified a file that is gone from the workspace: the host
                        // deleted it (its directory's ctime says when).
                        conflict(node.path);
                    }
            }
        }
    }

private:
    void check_subdir(const LayerNode& dir, const LayerNode& node, bool has_target,
                      const std::optional<struct stat>& st, timespec anchor) {
        if (!st) {
            check_dir(node, false, has_target ? ctime_of(target(dir)) : anchor);
            return;
        }
        if (!S_ISDIR(st->st_mode)) {
            // The branch's directory replaces a file, link or whiteout there.
            if (at_or_after(st->st_ctim, since_)) conflict(node.path);
            check_dir(node, false, anchor);
            return;
        }
        if (node.opaque && changed_below(target(dir), node.name, *st)) {
            conflict(node.path);  // the branch's directory replaces one the target changed
            return;
        }
        // In a parent layer, an opaque directory made since hides what this branch builds on.
        if (kind_ == TargetKind::Layer && at_or_after(st->st_ctim, since_) &&
            get_xattr(target_.get(node.path), kOpaqueXattr) == std::optional<std::string>("y"))
            conflict(node.path);
        check_dir(node, true, st->st_ctim);
    }

    int target(const LayerNode& dir) { return target_.get(dir.path); }

    // The entry `name` in `dir`, or anything below it, changed since (at any depth).
    bool changed_below(int dir, const std::string& name, const struct stat& st) {
        if (at_or_after(st.st_ctim, since_)) return true;
        if (!S_ISDIR(st.st_mode)) return false;
        bool changed = false;
        walk_below(dir, name, [&](const std::string&, const struct stat& child) {
            changed = at_or_after(child.st_ctim, since_);
            return !changed;
        });
        return changed;
    }

    static timespec ctime_of(int fd) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw_errno("cannot stat", "", errno);
        return st.st_ctim;
    }

    void conflict(const std::string& path) { out_.push_back(path); }

    DirCache target_;
    TargetKind kind_;
    timespec since_;
    std::vector<std::string>& out_;
};

}  // namespace

std::vector<std::string> conflicts_in(const LayerNode& layer, int target_fd, TargetKind kind, timespec since) {
    std::vector<std::string> paths;
    ConflictFinder(target_fd, kind, since, paths).check_dir(layer, true, {});
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    return paths;
}

std::vector<std::string> find_conflicts(const std::filesystem::path& upper, const std::filesystem::path& target,
                                        TargetKind kind, timespec since) {
    UniqueFd upper_fd = open_dir_no_symlinks(upper, "the branch's layer");
    UniqueFd target_fd = open_dir_no_symlinks(target, "the target");
    return conflicts_in(read_layer(upper_fd.get()), target_fd.get(), kind, since);
}

}  // namespace sandlock::branchfs
