#include "layer/safe_fs.hpp"
#include "layer/layer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <cstdio>

namespace sandlock::branchfs {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

void UniqueFd::reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void throw_errno(std::string_view what, std::string_view path, int err) {
    throw LayerError("branchfs: " + std::string(what) + " " + std::string(path.empty() ? "." : path) + ": " +
                     std::strerror(err));
}

UniqueFd open_trusted_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open directory", path, errno);
    return UniqueFd(fd);
}

namespace {

// Kernels before 5.6 have no openat2: then walk the components ourselves.
std::atomic<bool> have_openat2{true};

// openat2 takes at most PATH_MAX bytes: longer paths are opened a piece of this size at a time.
constexpr size_t kPathPiece = 3800;

int open_by_components(int root, std::string_view rel, int flags) {
    int dir = ::openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -errno;
    while (true) {
        size_t slash = rel.find('/');
        std::string name(rel.substr(0, slash));
        if (name.empty() || name == "." || name == "..") {
            ::close(dir);
            return -EINVAL;
        }
        bool last = slash == std::string_view::npos;
        int next =
            ::openat(dir, name.c_str(), last ? (flags | O_NOFOLLOW) : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        int err = errno;
        ::close(dir);
        if (next < 0) return -err;
        if (last) return next;
        dir = next;
        rel.remove_prefix(slash + 1);
    }
}

// One openat2 of a path shorter than PATH_MAX (or the component walk without openat2).
int open_piece(int root, std::string_view rel, int flags) {
    if (have_openat2.load(std::memory_order_relaxed)) {
        open_how how{};
        how.flags = static_cast<unsigned>(flags);
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        std::string path(rel);
        long fd = ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        if (errno != ENOSYS) return -errno;
        have_openat2.store(false, std::memory_order_relaxed);
    }
    return open_by_components(root, rel, flags);
}

}  // namespace

UniqueFd open_dir_no_symlinks(const std::filesystem::path& path, std::string_view what) {
    const std::string name = path.string();
    const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    int fd = -1;
    if (have_openat2.load(std::memory_order_relaxed)) {
        open_how how{};
        how.flags = static_cast<unsigned>(flags);
        how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        fd = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, name.c_str(), &how, sizeof how));
        if (fd < 0 && errno == ENOSYS) have_openat2.store(false, std::memory_order_relaxed);
    }
    if (!have_openat2.load(std::memory_order_relaxed)) {
        // Component by component from / (or the working directory), none of them followed.
        fd = ::open(path.is_absolute() ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        for (const auto& part : path.relative_path()) {
            if (fd < 0 || part.empty() || part == ".") continue;
            int next = ::openat(fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int err = errno;
            ::close(fd);
            fd = next;
            errno = err;
        }
        if (fd >= 0) {
            int opened = ::openat(fd, ".", flags);
            int err = errno;
            ::close(fd);
            fd = opened;
            errno = err;
        }
    }
    if (fd >= 0) return UniqueFd(fd);
    if (errno == ELOOP || errno == EXDEV)
        throw LayerError("branchfs: " + std::string(what) + " " + name +
                         ": a component of its path is a symlink (refused: the path given is canonical, so one was "
                         "swapped in)");
    throw_errno(std::string("cannot open ") + std::string(what), name, errno);
}

std::string normal_path(const std::filesystem::path& path) {
    std::filesystem::path normal = std::filesystem::absolute(path).lexically_normal();
    if (!normal.has_filename() && normal != normal.root_path()) normal = normal.parent_path();
    return normal.string();
}

int open_beneath(int root, std::string_view rel, int flags) {
    flags |= O_CLOEXEC | O_NOFOLLOW;
    if (rel.empty()) {
        int fd = ::openat(root, ".", flags);
        return fd < 0 ? -errno : fd;
    }
    UniqueFd hop;
    while (rel.size() > kPathPiece) {
        size_t cut = rel.rfind('/', kPathPiece);
        if (cut == std::string_view::npos || cut == 0) return -ENAMETOOLONG;
        int fd = open_piece(hop ? hop.get() : root, rel.substr(0, cut), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return fd;
        hop = UniqueFd(fd);
        rel.remove_prefix(cut + 1);
    }
    return open_piece(hop ? hop.get() : root, rel, flags);
}

UniqueFd open_dir_beneath(int root, std::string_view rel) {
    int fd = open_beneath(root, rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) throw_errno("cannot open directory", rel, -fd);
    return UniqueFd(fd);
}

int DirCache::get(const std::string& rel, const struct stat* expected) {
    if (rel.empty()) return root_;
    for (auto it = open_.begin(); it != open_.end(); ++it) {
        if (it->first != rel) continue;
        if (it != open_.begin()) open_.splice(open_.begin(), open_, it);
        return open_.front().second.get();
    }
    int fd = open_beneath(root_, rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) throw_errno("cannot open " + what_, rel, -fd);
    UniqueFd dir(fd);
    if (expected) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw_errno("cannot stat " + what_, rel, errno);
        if (st.st_ino != expected->st_ino || st.st_dev != expected->st_dev)
            throw LayerError("branchfs: " + what_ + " " + rel + " changed while it was read");
    }
    if (open_.size() >= capacity_) open_.pop_back();
    open_.emplace_front(rel, std::move(dir));
    return fd;
}

std::optional<struct stat> lstat_at(int dirfd, const std::string& name) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw_errno("cannot stat", name, errno);
}

std::vector<std::string> list_names(int dirfd) {
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot list", "", errno);
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        int err = errno;
        ::close(fd);
        throw_errno("cannot list", "", err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* entry = ::readdir(dir)) {
        if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0)
            names.emplace_back(entry->d_name);
        errno = 0;
    }
    int err = errno;
    ::closedir(dir);
    if (err) throw_errno("cannot list", "", err);
    std::sort(names.begin(), names.end());
    return names;
}

namespace {

// Opens the directory `name` in `dirfd` (st: its lstat) for removal: one we cannot list,
// enter or write is opened up first (u+rwx; it fails, harmlessly, on one we do not own).
UniqueFd open_for_removal(int dirfd, const std::string& name, const struct stat& st) {
    if ((st.st_mode & 0700) != 0700) ::fchmodat(dirfd, name.c_str(), (st.st_mode & 07777) | 0700, AT_SYMLINK_NOFOLLOW);
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open for removal", name, errno);
    return UniqueFd(fd);
}

void unlink_entry(int dirfd, const std::string& name, int flags) {
    if (::unlinkat(dirfd, name.c_str(), flags) != 0 && errno != ENOENT)
        throw_errno(flags ? "cannot remove directory" : "cannot remove", name, errno);
}

// Moves the directory `name` of `from` into `into` under a name no entry there has.
void hoist(int from, const std::string& name, int into, std::uint64_t& counter) {
    while (true) {
        std::string temp = ".sandlock-rm-" + std::to_string(counter++);
        if (::renameat2(from, name.c_str(), into, temp.c_str(), RENAME_NOREPLACE) == 0) return;
        if (errno == EEXIST) continue;
        if (errno == EINVAL) {  // a filesystem without RENAME_NOREPLACE: our own directory, check first
            if (lstat_at(into, temp)) continue;
            if (::renameat(from, name.c_str(), into, temp.c_str()) == 0) return;
        }
        throw_errno("cannot move up for removal", name, errno);
    }
}

}  // namespace

void remove_tree_at(int dirfd, const std::string& name) {
    auto st = lstat_at(dirfd, name);
    if (!st) return;
    if (!S_ISDIR(st->st_mode)) return unlink_entry(dirfd, name, 0);
    UniqueFd top = open_for_removal(dirfd, name, *st);
    std::uint64_t counter = 0;
    // Each pass empties top's subdirectories by one level: files go, subdirectories move up.
    for (auto names = list_names(top.get()); !names.empty(); names = list_names(top.get())) {
        for (const auto& child : names) {
            auto child_st = lstat_at(top.get(), child);
            if (!child_st) continue;
            if (!S_ISDIR(child_st->st_mode)) {
                unlink_entry(top.get(), child, 0);
                continue;
            }
            {
                UniqueFd sub = open_for_removal(top.get(), child, *child_st);
                for (const auto& grandchild : list_names(sub.get())) {
                    auto grand_st = lstat_at(sub.get(), grandchild);
                    if (!grand_st) continue;
                    if (!S_ISDIR(grand_st->st_mode)) {
                        unlink_entry(sub.get(), grandchild, 0);
                        continue;
                    }
                    if (::unlinkat(sub.get(), grandchild.c_str(), AT_REMOVEDIR) == 0) continue;  // was empty
                    // Moving a directory to another parent rewrites its "..": it must be writable.
                    if ((grand_st->st_mode & 0700) != 0700)
                        ::fchmodat(sub.get(), grandchild.c_str(), (grand_st->st_mode & 07777) | 0700,
                                   AT_SYMLINK_NOFOLLOW);
                    hoist(sub.get(), grandchild, top.get(), counter);
                }
            }
            unlink_entry(top.get(), child, AT_REMOVEDIR);
        }
    }
    top.reset();
    unlink_entry(dirfd, name, AT_REMOVEDIR);
}

void remove_tree(const std::filesystem::path& dir) {
    const std::filesystem::path normal = normal_path(dir);
    if (normal == normal.root_path() || !normal.has_filename())
        throw LayerError("branchfs: refusing to remove " + normal.string());
    UniqueFd parent = open_trusted_dir(normal.parent_path().string());
    remove_tree_at(parent.get(), normal.filename().string());
}

void walk_below(int dirfd, const std::string& name,
                const std::function<bool(const std::string& rel, const struct stat& st)>& visit) {
    struct Level {
        std::vector<std::string> names;
        size_t next = 0;
        dev_t dev = 0;
        ino_t ino = 0;
        size_t path_size = 0;  // length of this directory's rel path
    };
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open directory", name, errno);
    UniqueFd current(fd);
    struct stat top {};
    if (::fstat(fd, &top) != 0) throw_errno("cannot stat", name, errno);
    std::vector<Level> stack;
    stack.push_back({list_names(fd), 0, top.st_dev, top.st_ino, 0});
    std::string path;
    while (true) {
        Level& level = stack.back();
        if (level.next == level.names.size()) {
            stack.pop_back();
            if (stack.empty()) return;
            // Back up to the parent, which must be the directory we came down from.
            int up = ::openat(current.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (up < 0) throw_errno("cannot open the parent of", join_path(name, path), errno);
            current = UniqueFd(up);
            struct stat st {};
            if (::fstat(up, &st) != 0) throw_errno("cannot stat", name, errno);
            if (st.st_dev != stack.back().dev || st.st_ino != stack.back().ino)
                throw LayerError("branchfs: " + join_path(name, path) + " moved while it was read");
            path.resize(stack.back().path_size);
            continue;
        }
        const std::string& entry = level.names[level.next++];
        auto st = lstat_at(current.get(), entry);
        if (!st) continue;
        std::string rel = join_path(path, entry);
        if (!visit(rel, *st)) return;
        if (!S_ISDIR(st->st_mode)) continue;
        int sub = ::openat(current.get(), entry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && (errno == ENOENT || errno == ENOTDIR)) continue;  // gone meanwhile
        if (sub < 0) throw_errno("cannot open directory", join_path(name, rel), errno);
        UniqueFd opened(sub);
        struct stat sub_st {};
        if (::fstat(sub, &sub_st) != 0) throw_errno("cannot stat", join_path(name, rel), errno);
        if (sub_st.st_dev != st->st_dev || sub_st.st_ino != st->st_ino)
            throw LayerError("branchfs: " + join_path(name, rel) + " changed while it was read");
        std::vector<std::string> names = list_names(sub);
        current = std::move(opened);
        path = std::move(rel);
        stack.push_back({std::move(names), 0, sub_st.st_dev, sub_st.st_ino, path.size()});
    }
}

std::optional<std::string> get_xattr(int fd, const char* name) {
    std::string value(256, '\0');
    while (true) {
        ssize_t n = ::fgetxattr(fd, name, value.data(), value.size());
        if (n >= 0) {
            value.resize(static_cast<size_t>(n));
            return value;
        }
        if (errno == ENODATA || errno == ENOTSUP) return std::nullopt;
        if (errno != ERANGE) throw_errno("cannot read xattr", name, errno);
        ssize_t size = ::fgetxattr(fd, name, nullptr, 0);
        if (size < 0) throw_errno("cannot read xattr", name, errno);
        value.resize(static_cast<size_t>(size) + 1);
    }
}

void set_xattr(int fd, const char* name, const std::string& value, std::string_view path) {
    if (::fsetxattr(fd, name, value.data(), value.size(), 0) != 0)
        throw_errno(std::string("cannot set ") + name + " on", path, errno);
}

bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

bool at_or_after(const timespec& t, const timespec& since) {
    return t.tv_sec > since.tv_sec || (t.tv_sec == since.tv_sec && t.tv_nsec >= since.tv_nsec);
}

std::pair<std::string, std::string> split_parent(const std::string& rel) {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos) return {"", rel};
    return {rel.substr(0, slash), rel.substr(slash + 1)};
}

std::string join_path(const std::string& dir, const std::string& name) { return dir.empty() ? name : dir + "/" + name; }

}  // namespace sandlock::branchfs
