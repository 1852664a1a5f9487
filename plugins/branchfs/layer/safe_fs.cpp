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
#include <cstring>

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

}  // namespace

int open_beneath(int root, std::string_view rel, int flags) {
    flags |= O_CLOEXEC | O_NOFOLLOW;
    if (rel.empty()) {
        int fd = ::openat(root, ".", flags);
        return fd < 0 ? -errno : fd;
    }
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

UniqueFd open_dir_beneath(int root, std::string_view rel) {
    int fd = open_beneath(root, rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) throw_errno("cannot open directory", rel, -fd);
    return UniqueFd(fd);
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

void remove_tree_at(int dirfd, const std::string& name) {
    auto st = lstat_at(dirfd, name);
    if (!st) return;
    if (S_ISDIR(st->st_mode)) {
        int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == EACCES) {
            // A directory the branch made unreadable: it is ours to delete, so open it up first.
            ::fchmodat(dirfd, name.c_str(), 0700, AT_SYMLINK_NOFOLLOW);
            fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) throw_errno("cannot open for removal", name, errno);
        UniqueFd dir(fd);
        if ((st->st_mode & 0300) != 0300) ::fchmod(dir.get(), 0700);
        for (const auto& child : list_names(dir.get())) remove_tree_at(dir.get(), child);
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
            throw_errno("cannot remove directory", name, errno);
        return;
    }
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) throw_errno("cannot remove", name, errno);
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
