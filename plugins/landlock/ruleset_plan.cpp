#include "ruleset_plan.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <string_view>

namespace sandlock::landlock {

namespace {

// True when path lies strictly below dir.
bool is_inside(const std::string& path, const std::string& dir) {
    if (dir == "/") return path.size() > 1 && path.front() == '/';
    return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

std::string join(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

std::vector<std::string> inside(const std::vector<std::string>& paths, const std::string& dir) {
    std::vector<std::string> out;
    std::copy_if(paths.begin(), paths.end(), std::back_inserter(out),
                 [&](const std::string& p) { return is_inside(p, dir); });
    return out;
}

class Planner {
public:
    Planner(const FsView& fs, std::vector<std::string> denied) : fs_(fs), denied_(std::move(denied)) {}

    void add_root(const std::string& root, Access access, std::string_view field) {
        EntryKind kind = fs_.kind(root);
        if (kind == EntryKind::Missing || kind == EntryKind::Symlink) {
            notes_.push_back(std::string(field) + " " + root + " does not exist: nothing to allow");
            return;
        }
        for (const auto& denied : denied_) {
            if (root == denied || is_inside(root, denied)) {
                notes_.push_back(std::string(field) + " " + root + " lies in fs_denied " + denied +
                                 ": skipped");
                return;
            }
        }
        auto denied_below = inside(denied_, root);
        if (denied_below.empty() || kind != EntryKind::Directory)
            grant(root, kind, access);
        else
            carve(root, access, denied_below);
    }

    FsPlan finish() && {
        FsPlan plan;
        for (auto& [path, access] : rules_) plan.rules.push_back({path, access});
        plan.notes = std::move(notes_);
        return plan;
    }

private:
    void merge(const std::string& path, Access access) {
        if (access != 0) rules_[path] |= access;
    }

    void grant(const std::string& path, EntryKind kind, Access access) {
        if (kind == EntryKind::Symlink || kind == EntryKind::Missing) return;
        merge(path, kind == EntryKind::Directory ? access : access & kFileRights);
    }

    // dir is a directory on the way to the denied paths below it: grant every entry but the
    // way down and the denied paths themselves.
    void carve(const std::string& dir, Access access, const std::vector<std::string>& denied_below) {
        if (only_files(denied_below)) merge(dir, access & LANDLOCK_ACCESS_FS_READ_DIR);
        auto entries = fs_.list(dir);
        if (!entries) {
            notes_.push_back("cannot list " + dir + ": nothing in it is allowed");
            return;
        }
        for (const auto& entry : *entries) {
            std::string child = join(dir, entry.name);
            if (std::find(denied_below.begin(), denied_below.end(), child) != denied_below.end())
                continue;
            auto deeper = inside(denied_below, child);
            // A denied path "below" a non-directory cannot exist, so the entry is granted whole.
            if (deeper.empty() || entry.kind != EntryKind::Directory)
                grant(child, entry.kind, access);
            else
                carve(child, access, deeper);
        }
    }

    bool only_files(const std::vector<std::string>& paths) const {
        return std::all_of(paths.begin(), paths.end(),
                           [&](const std::string& p) { return fs_.kind(p) == EntryKind::Other; });
    }

    const FsView& fs_;
    std::vector<std::string> denied_;
    std::map<std::string, Access> rules_;
    std::vector<std::string> notes_;
};

}  // namespace

FsPlan plan_fs_rules(const FsRequest& request, Access readable_access, Access writable_access,
                     const FsView& fs) {
    Planner planner(fs, request.denied);
    for (const auto& root : request.readable) planner.add_root(root, readable_access, "fs_readable");
    for (const auto& root : request.writable) planner.add_root(root, writable_access, "fs_writable");
    return std::move(planner).finish();
}

}  // namespace sandlock::landlock
