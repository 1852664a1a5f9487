// find_conflicts: the paths where the branch and the target both changed since `since`.
//
// ctime is the witness (it moves on every write, chmod, rename and link, and user space cannot
// set it back); ties count because file timestamps come from a coarse clock. A path the layer
// changes conflicts when the target's entry there changed since; a path the layer replaces or
// hides wholesale (a whiteout, an opaque directory, a file over a directory) conflicts when
// anything below it in the target changed since. A directory the layer merely holds entries in
// is not itself a change, so disjoint changes in one directory commit cleanly.
#include "layer/engine.hpp"
#include "layer/safe_fs.hpp"

#include <fcntl.h>

#include <algorithm>

namespace sandlock::branchfs {
namespace {

class ConflictFinder {
public:
    ConflictFinder(TargetKind kind, timespec since, std::vector<std::string>& out)
        : kind_(kind), since_(since), out_(out) {}

    // `target`: the target's directory at dir.path, or -1 when it has none there; then
    // `anchor` is the ctime of the nearest directory that exists above.
    void check_dir(const LayerNode& dir, int target, timespec anchor) {
        for (const auto& node : dir.children) {
            auto st = target >= 0 ? lstat_at(target, node.name) : std::nullopt;
            switch (node.type) {
                case EntryType::Whiteout:
                    // Both deleted it: agreement, not a conflict.
                    if (st && !is_whiteout(*st) && changed_below(target, node.name, *st)) conflict(node.path);
                    break;
                case EntryType::Dir:
                    check_subdir(node, target, st, anchor);
                    break;
                default:
                    if (st) {
                        if (changed_below(target, node.name, *st)) conflict(node.path);
                    } else if (kind_ == TargetKind::Workspace && node.origin && at_or_after(anchor, since_)) {
                        // The branch modified a file that is gone from the workspace: the host
                        // deleted it (its directory's ctime says when).
                        conflict(node.path);
                    }
            }
        }
    }

private:
    void check_subdir(const LayerNode& node, int target, const std::optional<struct stat>& st, timespec anchor) {
        if (!st) {
            check_dir(node, -1, target >= 0 ? ctime_of(target) : anchor);
            return;
        }
        if (!S_ISDIR(st->st_mode)) {
            // The branch's directory replaces a file, link or whiteout there.
            if (at_or_after(st->st_ctim, since_)) conflict(node.path);
            check_dir(node, -1, anchor);
            return;
        }
        if (node.opaque && changed_below(target, node.name, *st)) {
            conflict(node.path);  // the branch's directory replaces one the target changed
            return;
        }
        UniqueFd sub = open_dir_beneath(target, node.name);
        // In a parent layer, an opaque directory made since hides what this branch builds on.
        if (kind_ == TargetKind::Layer && at_or_after(st->st_ctim, since_) &&
            get_xattr(sub.get(), kOpaqueXattr) == std::optional<std::string>("y"))
            conflict(node.path);
        check_dir(node, sub.get(), st->st_ctim);
    }

    // The entry `name` in `dir`, or anything below it, changed since.
    bool changed_below(int dir, const std::string& name, const struct stat& st) {
        if (at_or_after(st.st_ctim, since_)) return true;
        if (!S_ISDIR(st.st_mode)) return false;
        UniqueFd sub = open_dir_beneath(dir, name);
        for (const auto& child : list_names(sub.get())) {
            auto child_st = lstat_at(sub.get(), child);
            if (child_st && changed_below(sub.get(), child, *child_st)) return true;
        }
        return false;
    }

    static timespec ctime_of(int fd) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw_errno("cannot stat", "", errno);
        return st.st_ctim;
    }

    void conflict(const std::string& path) { out_.push_back(path); }

    TargetKind kind_;
    timespec since_;
    std::vector<std::string>& out_;
};

}  // namespace

std::vector<std::string> conflicts_in(const LayerNode& layer, int target_fd, TargetKind kind, timespec since) {
    std::vector<std::string> paths;
    ConflictFinder(kind, since, paths).check_dir(layer, target_fd, {});
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    return paths;
}

std::vector<std::string> find_conflicts(const std::filesystem::path& upper, const std::filesystem::path& target,
                                        TargetKind kind, timespec since) {
    UniqueFd upper_fd = open_trusted_dir(upper);
    UniqueFd target_fd = open_trusted_dir(target);
    return conflicts_in(read_layer(upper_fd.get()), target_fd.get(), kind, since);
}

}  // namespace sandlock::branchfs
