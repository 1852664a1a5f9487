// Staging: the branch's new contents copied next to the target (same filesystem, so each
// one later moves into place with a single rename), and the steps that will do it.
//
// Hard links inside the layer are staged as separate files: the layer does not say which
// links existed below, and linking into the target would tie workspace files together.
// Ownership: as root every entry keeps the branch's owner; otherwise entries belong to the
// committing user, and a set-id bit of a file owned by someone else is dropped (it must not
// become a set-id file of ours).
#include "layer/engine.hpp"
#include "layer/safe_fs.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sandlock::branchfs {
namespace {

// Copies [offset, offset + length) of `from` to the same offset of `to`.
void copy_range(int from, int to, off_t offset, off_t length, const std::string& path) {
    loff_t in = offset, out = offset;
    bool use_sendfile = false;
    while (length > 0) {
        size_t chunk = static_cast<size_t>(std::min<off_t>(length, off_t{1} << 30));
        ssize_t n;
        if (use_sendfile) {
            if (::lseek(to, out, SEEK_SET) < 0) throw_errno("cannot seek in the staged", path, errno);
            off_t from_offset = in;
            n = ::sendfile(to, from, &from_offset, chunk);
            if (n > 0) in = from_offset, out += n;
        } else {
            n = ::copy_file_range(from, &in, to, &out, chunk, 0);
        }
        if (n > 0) {
            length -= n;
            continue;
        }
        if (n == 0) return;  // the file is shorter than it was: ftruncate sets the size
        if (errno == EINTR) continue;
        // Different filesystems (or no support): plain in-kernel copy instead.
        if (!use_sendfile && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
            use_sendfile = true;
            continue;
        }
        throw_errno("cannot copy", path, errno);
    }
}

// Copies a file of `size` bytes keeping its holes: a clone where the filesystem shares
// extents, else the data ranges (SEEK_DATA/SEEK_HOLE) only, and the size set by ftruncate. A
// sparse file the branch made (1 GiB of nothing) stays that small.
void copy_contents(int from, int to, off_t size, const std::string& path) {
    if (size == 0) return;
    if (::ioctl(to, FICLONE, from) == 0) return;
    off_t offset = 0;
    while (offset < size) {
        off_t data = ::lseek(from, offset, SEEK_DATA);
        off_t hole = size;
        if (data < 0) {
            if (errno == ENXIO) break;  // nothing but a hole up to the end
            if (errno != EINVAL && errno != EOPNOTSUPP) throw_errno("cannot read the branch's", path, errno);
            data = offset;  // no SEEK_DATA here: all data
        } else {
            hole = ::lseek(from, data, SEEK_HOLE);
            if (hole < 0) throw_errno("cannot read the branch's", path, errno);
        }
        if (data >= size) break;
        hole = std::min(hole, size);
        copy_range(from, to, data, hole - data, path);
        offset = hole;
    }
    if (::ftruncate(to, size) != 0) throw_errno("cannot size the staged", path, errno);
}

class Stager {
public:
    Stager(int layer_fd, int target_fd, TargetKind kind, int staging_fd)
        : layer_(layer_fd, "the branch's directory"),
          target_(target_fd, "the target's directory"),
          kind_(kind),
          staging_(staging_fd),
          as_root_(::geteuid() == 0) {}

    // `has_target`: the target has a directory at dir.path. The layer's and the target's
    // directories are reopened by path (a bounded number stays open); the recursion is the
    // layer's depth.
    void stage_dir(const LayerNode& dir, bool has_target, bool hidden) {
        for (const auto& node : dir.children) {
            auto target_st = has_target ? lstat_at(target_.get(dir.path), node.name) : std::nullopt;
            switch (node.type) {
                case EntryType::Dir:
                    stage_subdir(node, target_st, hidden);
                    break;
                case EntryType::Whiteout:
                    if (kind_ == TargetKind::Workspace) {
                        journal_.steps.push_back({.op = Step::Op::Remove, .path = node.path});
                    } else {
                        if (::mknodat(staging_, next_name().c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
                            throw_errno("cannot stage the whiteout", node.path, errno);
                        place(node.path);
                    }
                    break;
                case EntryType::File:
                    stage_file(node, layer_.get(dir.path, &dir.st), has_target ? target_.get(dir.path) : -1,
                               target_st);
                    break;
                case EntryType::Symlink:
                    stage_symlink(node, layer_.get(dir.path, &dir.st));
                    break;
                case EntryType::Fifo:
                    stage_fifo(node);
                    break;
            }
        }
    }

    Journal finish() {
        // Directory attributes last and deepest first: nothing changes a directory after.
        journal_.steps.insert(journal_.steps.end(), dir_attrs_.rbegin(), dir_attrs_.rend());
        return std::move(journal_);
    }

private:
    void stage_subdir(const LayerNode& node, const std::optional<struct stat>& target_st, bool hidden) {
        bool target_is_dir = target_st && S_ISDIR(target_st->st_mode);
        Step make{.op = Step::Op::MakeDir, .path = node.path};
        if (kind_ == TargetKind::Layer) {
            // Over anything but a directory, the branch's directory hides what lies below.
            make.opaque = node.opaque || (target_st && !target_is_dir);
            if (!target_st) make.origin = node.origin;
        }
        journal_.steps.push_back(make);
        // Below an opaque directory only the branch's entries remain, at every depth.
        bool opaque = hidden || node.opaque;
        if (opaque) {
            Step prune{.op = Step::Op::Prune, .path = node.path};
            for (const auto& child : node.children) prune.keep.push_back(child.name);
            journal_.steps.push_back(std::move(prune));
        }
        Step attrs{.op = Step::Op::DirAttrs, .path = node.path, .mode = kept_mode(node.st), .mtime = node.st.st_mtim};
        if (as_root_) attrs.uid = node.st.st_uid, attrs.gid = node.st.st_gid;
        dir_attrs_.push_back(std::move(attrs));

        stage_dir(node, target_is_dir, opaque);
    }

    void stage_file(const LayerNode& node, int layer_dir, int target_dir, const std::optional<struct stat>& target_st) {
        int in = ::openat(layer_dir, node.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (in < 0) throw_errno("cannot open the branch's", node.path, errno);
        UniqueFd from(in);
        struct stat st {};
        if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != node.st.st_ino)
            throw LayerError("branchfs: the branch's " + node.path + " changed while it was committed");
        std::string name = next_name();
        int out = ::openat(staging_, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0) throw_errno("cannot stage", node.path, errno);
        UniqueFd to(out);
        copy_contents(in, out, st.st_size, node.path);
        if (as_root_ && ::fchown(out, st.st_uid, st.st_gid) != 0)
            throw_errno("cannot chown the staged", node.path, errno);
        if (::fchmod(out, kept_mode(st)) != 0) throw_errno("cannot chmod the staged", node.path, errno);
        if (kind_ == TargetKind::Layer) {
            if (auto origin = origin_onto_layer(node, target_dir, target_st))
                set_xattr(out, kOriginXattr, *origin, node.path);
        }
        const timespec times[2] = {st.st_atim, st.st_mtim};
        if (::futimens(out, times) != 0) throw_errno("cannot set times of the staged", node.path, errno);
        place(node.path);
    }

    // The origin marker of a file moving into a parent layer: the parent's own copy-up keeps
    // its marker; a file the parent did not have keeps the child's (it points at the same
    // workspace file); anything else is new to the parent.
    std::optional<std::string> origin_onto_layer(const LayerNode& node, int target_dir,
                                                 const std::optional<struct stat>& target_st) {
        if (!target_st) return node.origin;
        if (!S_ISREG(target_st->st_mode)) return std::nullopt;
        int fd = ::openat(target_dir, node.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) throw_errno("cannot open the target's", node.path, errno);
        UniqueFd file(fd);
        return get_xattr(fd, kOriginXattr);
    }

    void stage_symlink(const LayerNode& node, int layer_dir) {
        std::string link(static_cast<size_t>(node.st.st_size) + 1, '\0');
        ssize_t n = ::readlinkat(layer_dir, node.name.c_str(), link.data(), link.size());
        if (n < 0) throw_errno("cannot read the branch's link", node.path, errno);
        if (static_cast<size_t>(n) >= link.size())
            throw LayerError("branchfs: the branch's " + node.path + " changed while it was committed");
        link.resize(static_cast<size_t>(n));
        std::string name = next_name();
        if (::symlinkat(link.c_str(), staging_, name.c_str()) != 0) throw_errno("cannot stage", node.path, errno);
        finish_special(node, name);
    }

    void stage_fifo(const LayerNode& node) {
        std::string name = next_name();
        if (::mkfifoat(staging_, name.c_str(), 0600) != 0) throw_errno("cannot stage", node.path, errno);
        finish_special(node, name);
        if (::fchmodat(staging_, name.c_str(), kept_mode(node.st), 0) != 0)
            throw_errno("cannot chmod", node.path, errno);
    }

    // Owner and times of a staged link or fifo (set through the name, never followed).
    void finish_special(const LayerNode& node, const std::string& name) {
        if (as_root_ && ::fchownat(staging_, name.c_str(), node.st.st_uid, node.st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
            throw_errno("cannot chown the staged", node.path, errno);
        const timespec times[2] = {node.st.st_atim, node.st.st_mtim};
        if (::utimensat(staging_, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            throw_errno("cannot set times of the staged", node.path, errno);
        place(node.path);
    }

    mode_t kept_mode(const struct stat& st) const {
        mode_t mode = st.st_mode & 07777;
        if (!as_root_ && st.st_uid != ::geteuid()) mode &= ~(S_ISUID | S_ISGID);
        return mode;
    }

    std::string next_name() { return std::to_string(next_); }

    void place(const std::string& path) {
        journal_.steps.push_back({.op = Step::Op::Place, .path = path, .staged = next_++});
    }

    DirCache layer_, target_;
    TargetKind kind_;
    int staging_;
    bool as_root_;
    std::uint64_t next_ = 0;
    Journal journal_;
    std::vector<Step> dir_attrs_;
};

}  // namespace

Journal stage_layer(const LayerNode& layer, int layer_fd, int target_fd, TargetKind kind, int staging_fd) {
    Stager stager(layer_fd, target_fd, kind, staging_fd);
    stager.stage_dir(layer, true, false);
    Journal journal = stager.finish();
    journal.kind = kind;
    return journal;
}

}  // namespace sandlock::branchfs
