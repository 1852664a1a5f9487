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
    explicit Differ(std::vector<Change>& out) : out_(out) {}

    // Lists `dir`'s changes against `below` (-1: nothing below). `hidden`: below's entries
    // are hidden (an opaque directory here or above). Returns how many of dir's own entries
    // were listed.
    size_t diff_dir(const LayerNode& dir, int below, bool hidden) {
        size_t direct = 0;
        for (const auto& node : dir.children) {
            auto st = below >= 0 ? lstat_at(below, node.name) : std::nullopt;
            if (st && is_whiteout(*st)) st.reset();
            if (node.type == EntryType::Whiteout) {
                if (!st) continue;  // deleting what is not there is no change
                add(ChangeKind::Deleted, node.path, direct);
                if (S_ISDIR(st->st_mode)) list_deleted(below, node.name, node.path);
            } else if (node.type == EntryType::Dir) {
                bool opaque = hidden || node.opaque;
                if (!st) {
                    add(ChangeKind::Added, node.path, direct);
                    diff_dir(node, -1, opaque);
                } else if (!S_ISDIR(st->st_mode)) {
                    add(ChangeKind::Modified, node.path, direct);
                    diff_dir(node, -1, opaque);
                } else {
                    size_t at = out_.size();
                    UniqueFd sub = open_dir_beneath(below, node.name);
                    size_t inner = diff_dir(node, sub.get(), opaque);
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
                if (st && S_ISDIR(st->st_mode)) list_deleted(below, node.name, node.path);
            }
        }
        if (hidden && below >= 0) {
            for (const auto& name : list_names(below)) {
                if (has_child(dir, name)) continue;
                auto st = lstat_at(below, name);
                if (!st || is_whiteout(*st)) continue;
                std::string path = join_path(dir.path, name);
                add(ChangeKind::Deleted, path, direct);
                if (S_ISDIR(st->st_mode)) list_deleted(below, name, path);
            }
        }
        return direct;
    }

private:
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
    // by the caller).
    void list_deleted(int parent, const std::string& name, const std::string& path) {
        UniqueFd dir = open_dir_beneath(parent, name);
        for (const auto& child : list_names(dir.get())) {
            auto st = lstat_at(dir.get(), child);
            if (!st || is_whiteout(*st)) continue;
            std::string child_path = join_path(path, child);
            out_.push_back({ChangeKind::Deleted, child_path});
            if (S_ISDIR(st->st_mode)) list_deleted(dir.get(), child, child_path);
        }
    }

    std::vector<Change>& out_;
};

}  // namespace

std::vector<Change> diff_tree(const LayerNode& layer, int below_fd) {
    std::vector<Change> changes;
    Differ(changes).diff_dir(layer, below_fd, false);
    std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
    return changes;
}

std::vector<Change> diff_layer(const std::filesystem::path& upper, const std::filesystem::path& below) {
    UniqueFd upper_fd = open_trusted_dir(upper);
    UniqueFd below_fd = open_trusted_dir(below);
    return diff_tree(read_layer(upper_fd.get()), below_fd.get());
}

}  // namespace sandlock::branchfs
