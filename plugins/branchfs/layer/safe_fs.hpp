// File operations that never follow a symlink: everything is done relative to a directory fd,
// one component at a time (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS where the kernel has
// it). The layer and the target are written by the sandbox or the host while we work on them;
// a symlink planted anywhere must be treated as a plain entry, never as a way elsewhere.
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sandlock::branchfs {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset();

private:
    int fd_ = -1;
};

// Throws LayerError "branchfs: WHAT PATH: strerror(err)".
[[noreturn]] void throw_errno(std::string_view what, std::string_view path, int err);

// Opens a directory given by the caller (a trusted path: the store's own directories).
UniqueFd open_trusted_dir(const std::string& path);

// Opens `rel` ("a/b/c", "" = root itself) below `root` with `flags`, following no symlink in any
// component (ELOOP when one is met) and never leaving `root`. Returns the fd or -errno.
int open_beneath(int root, std::string_view rel, int flags);
// As open_beneath for a directory (O_RDONLY|O_DIRECTORY); throws LayerError naming `rel`.
UniqueFd open_dir_beneath(int root, std::string_view rel);

// lstat of `name` in `dirfd`; nullopt when it does not exist (ENOENT, ENOTDIR).
std::optional<struct stat> lstat_at(int dirfd, const std::string& name);

// The entry names of a directory (no "." or ".."), sorted bytewise.
std::vector<std::string> list_names(int dirfd);

// Removes `name` in `dirfd` and, for a directory, everything below it, without following
// symlinks. Absent is fine.
void remove_tree_at(int dirfd, const std::string& name);

// Reads an xattr of an open file; nullopt when it is not set.
std::optional<std::string> get_xattr(int fd, const char* name);
void set_xattr(int fd, const char* name, const std::string& value, std::string_view path);

bool is_whiteout(const struct stat& st);
bool at_or_after(const timespec& t, const timespec& since);

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string, std::string> split_parent(const std::string& rel);
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace sandlock::branchfs
