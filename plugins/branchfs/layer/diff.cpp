// diff_layer: the A/M/D listing of what a layer changes (dry run, `branch show`).
//
// Every path that disappears is listed, directories included: a whiteout of a directory gives D
// for the directory and for each path below it; an opaque directory gives D for each path below
// it that the layer does not have. A directory present on both sides is M only when its mode
// differs, or when its mtime differs although none of its own entries changed (a `touch` of
// the directory); otherwise its mtime follows from the entries listed.
#include "layer/engine.hpp"
#include "layer/safe_fs.hpp"

#include <algorithm>

namespace sandlock::branchfs {
namespace {

class Differ {
public:
    Differ(int below_fd, std::vector<Change>& out) : below_(below_fd, "directory"), out_(out) {}

    // Lists `dir`'s changes against below's directory at dir.path (`has_below`: it has one
    // there). `hidden`: below's entries are hidden (an opaque directory here or above). Returns
    // how many of dir's own entries were listed. Directories of below are reopened by path
    // after each subdirectory (a bounded number stays open); the recursion is the layer's depth.
    size_t diff_dir(const LayerNode& dir, bool has_below, bool hidden) {
        size_t direct = 0;
        for (const auto& node : dir.children) {
            auto st = has_below ? lstat_at(below(dir), node.name) : std::nullopt;
            if (st && is_whiteout(*st)) st.reset();
            if (node.type == EntryType::Whiteout) {
                if (!st) continue;  // deleting what is not there is no change
                add(ChangeKind::Deleted, node.path, direct);
                if (S_ISDIR(st->st_mode)) list_deleted(below(dir), node.name, node.path);
            } else if (node.type == EntryType::Dir) {
                bool opaque = hidden || node.opaque;
                if (!st) {
                    add(ChangeKind::Added, node.path, direct);
                    diff_dir(node, false, opaque);
                } else if (!S_ISDIR(st->st_mode)) {
                    add(ChangeKind::Modified, node.path, direct);
                    diff_dir(node, false, opaque);
                } else {
                    size_t at = out_.size();
                    size_t inner = diff_dir(node, true, opaque);
                    bool mode_changed = (node.st.st_mode & 07777) != (st->st_mode & 07777);
                    bool touched = inner == 0 && (node.st.st_mtim.tv_sec != st->st_mtim.tv_sec ||
                                                  node.st.st_mtim.tv_nsec != st->st_mtim.tv_nsec);
                    if (mode_changed || touched) {
                        out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(at), {ChangeKind::Modified, node.path});
                        ++direct;
                    }
                }
            } else {
                add(st ? ChangeKind::Modified : ChangeKind::Added, node.path, direct);
                if (st && S_ISDIR(st->st_mode)) list_deleted(below(dir), node.name, node.path);
            }
        }
        if (hidden && has_below) {
            for (const auto& name : list_names(below(dir))) {
                if (has_child(dir, name)) continue;
                // The engine's own journal directory at the target's root is not the target's.
                if (dir.path.empty() && is_engine_name(name)) continue;
                auto st = lstat_at(below(dir), name);
                if (!st || is_whiteout(*st)) continue;
                std::string path = join_path(dir.path, name);
                add(ChangeKind::Deleted, path, direct);
                if (S_ISDIR(st->st_mode)) list_deleted(below(dir), name, path);
            }
        }
        return direct;
    }

private:
    int below(const LayerNode& dir) { return below_.get(dir.path); }

    static bool has_child(const LayerNode& dir, const std::string& name) {
        auto it = std::lower_bound(dir.children.begin(), dir.children.end(), name,
                                   [](const LayerNode& node, const std::string& n) { return node.name < n; });
        return it != dir.children.end() && it->name == name;
    }

    void add(ChangeKind kind, const std::string& path, size_t& direct) {
        out_.push_back({kind, path});
        ++direct;
    }

    // D for every path below the directory `name` in `parent` (the directory itself is listed
    // by the caller), at any depth.
    void list_deleted(int parent, const std::string& name, const std::string& path) {
        walk_below(parent, name, [&](const std::string& rel, const struct stat& st) {
            if (!is_whiteout(st)) out_.push_back({ChangeKind::Deleted, join_path(path, rel)});
            return true;
        });
    }

    DirCache below_;
    std::vector<Change>& out_;
};

}  // namespace

std::vector<Change> diff_tree(const LayerNode& layer, int below_fd) {
    std::vector<Change> changes;
    Differ(below_fd, changes).diff_dir(layer, true, false);
    std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
    return changes;
}

std::vector<Change> diff_layer(const std::filesystem::path& upper, const std::filesystem::path& below) {
    UniqueFd upper_fd = open_dir_no_symlinks(upper, "the branch's layer");
    UniqueFd below_fd = open_dir_no_symlinks(below, "the target");
    return diff_tree(read_layer(upper_fd.get()), below_fd.get());
}

}  // namespace sandlock::branchfs
