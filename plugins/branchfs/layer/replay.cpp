// Replaying a journal. Each step looks at the target as it is and does only what is still
// missing, so a replay cut short anywhere (SIGKILL, power loss after the journal was synced)
// is finished by running the whole journal again from the start:
//   - Place skips an entry no longer in staging (its rename, atomic, already happened);
//   - MakeDir, Prune and Remove converge on a state, whatever part of them ran;
//   - DirAttrs set absolute values.
// Later steps never touch what earlier ones produced (a path the branch deletes has nothing of
// the branch below it), so re-running early steps after later ones cannot undo them.
// No step follows a symlink: parents are opened with open_beneath, entries are changed by name
// with *at() calls that do not follow.
#include "layer/engine.hpp"
#include "layer/safe_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sandlock::branchfs {
namespace {

class Replayer {
public:
    Replayer(int target_fd, int staging_fd, TargetKind kind) : target_(target_fd), staging_(staging_fd), kind_(kind) {}

    void run(const Step& step) {
        auto [parent_path, name] = split_parent(step.path);
        switch (step.op) {
            case Step::Op::MakeDir:
                make_dir(step, parent(parent_path), name);
                break;
            case Step::Op::Prune:
                prune(step);
                break;
            case Step::Op::Place:
                place(step, parent(parent_path), name);
                break;
            case Step::Op::Remove:
                if (int dir = parent_if_present(parent_path); dir >= 0) remove_tree_at(dir, name);
                break;
            case Step::Op::DirAttrs:
                set_dir_attrs(step, parent(parent_path), name);
                break;
        }
    }

private:
    void make_dir(const Step& step, int dir, const std::string& name) {
        auto st = lstat_at(dir, name);
        if (st && !S_ISDIR(st->st_mode)) {
            // A file, link or whiteout where the branch has a directory: replaced, never entered.
            if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT)
                throw_errno("cannot remove", step.path, errno);
            st.reset();
        }
        if (!st) {
            if (::mkdirat(dir, name.c_str(), 0700) != 0 && errno != EEXIST)
                throw_errno("cannot create", step.path, errno);
        } else if ((st->st_mode & 0700) != 0700) {
            // The branch may have written into a directory it made read-only again: make room
            // until DirAttrs sets the final mode.
            if (::fchmodat(dir, name.c_str(), st->st_mode | 0700, AT_SYMLINK_NOFOLLOW) != 0)
                throw_errno("cannot open up", step.path, errno);
        }
        if (kind_ == TargetKind::Layer && (step.opaque || step.origin)) {
            UniqueFd made = open_dir_beneath(dir, name);
            if (step.opaque) set_xattr(made.get(), kOpaqueXattr, "y", step.path);
            if (step.origin) set_xattr(made.get(), kOriginXattr, *step.origin, step.path);
        }
    }

    void prune(const Step& step) {  // keep is sorted (the layer lists names sorted)
        UniqueFd dir = open_dir_beneath(target_, step.path);
        for (const auto& name : list_names(dir.get()))
            if (!std::binary_search(step.keep.begin(), step.keep.end(), name)) remove_tree_at(dir.get(), name);
    }

    void place(const Step& step, int dir, const std::string& name) {
        std::string staged = std::to_string(step.staged);
        if (!lstat_at(staging_, staged)) return;  // moved by an earlier run
        // rename(2) does not replace a directory by a file.
        if (auto st = lstat_at(dir, name); st && S_ISDIR(st->st_mode)) remove_tree_at(dir, name);
        if (::renameat(staging_, staged.c_str(), dir, name.c_str()) != 0)
            throw_errno("cannot move into place", step.path, errno);
    }

    void set_dir_attrs(const Step& step, int dir, const std::string& name) {
        auto st = lstat_at(dir, name);
        if (!st || !S_ISDIR(st->st_mode)) throw LayerError("branchfs: " + step.path + " is no longer a directory");
        if (step.uid && ::fchownat(dir, name.c_str(), *step.uid, *step.gid, AT_SYMLINK_NOFOLLOW) != 0)
            throw_errno("cannot chown", step.path, errno);
        if (::fchmodat(dir, name.c_str(), step.mode, AT_SYMLINK_NOFOLLOW) != 0)
            throw_errno("cannot chmod", step.path, errno);
        const timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, step.mtime};
        if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            throw_errno("cannot set the mtime of", step.path, errno);
    }

    // The target's directory at `path`, opened once for a run of steps in it. The cache stays
    // valid: steps only remove paths the branch does not have, and a parent is one it has.
    int parent(const std::string& path) {
        int fd = parent_if_present(path);
        if (fd < 0) throw_errno("cannot open directory", path, -fd);
        return fd;
    }

    int parent_if_present(const std::string& path) {
        if (path.empty()) return target_;
        if (cached_ && cached_path_ == path) return cached_.get();
        int fd = open_beneath(target_, path, O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT || fd == -ENOTDIR) return fd;
        if (fd < 0) throw_errno("cannot open directory", path, -fd);
        cached_ = UniqueFd(fd);
        cached_path_ = path;
        return fd;
    }

    int target_;
    int staging_;
    TargetKind kind_;
    UniqueFd cached_;
    std::string cached_path_;
};

}  // namespace

void replay_journal(const Journal& journal, int target_fd, int staging_fd) {
    Replayer replayer(target_fd, staging_fd, journal.kind);
    for (const auto& step : journal.steps) replayer.run(step);
}

}  // namespace sandlock::branchfs
