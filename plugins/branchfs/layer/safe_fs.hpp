// File operations that never follow a symlink: everything is done relative to a directory fd,
// one component at a time (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS where the kernel has
// it). The layer and the target are written by the sandbox or the host while we work on them;
// a symlink planted anywhere must be treated as a plain entry, never as a way elsewhere.
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <functional>
#include <list>
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

// Opens the directory `path` (canonical: absolute, no symlink in it) following no symlink in
// any component (openat2 from AT_FDCWD with RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS): a
// symlink anywhere means someone swapped a component. Throws LayerError naming `what` and path.
UniqueFd open_dir_no_symlinks(const std::filesystem::path& path, std::string_view what);

// `path` made absolute and normal, without a trailing slash: how paths are compared.
std::string normal_path(const std::filesystem::path& path);

// Opens `rel` ("a/b/c", "" = root itself) below `root` with `flags`, following no symlink in any
// component (ELOOP when one is met) and never leaving `root`. Any length (a path longer than
// PATH_MAX is opened a piece at a time). Returns the fd or -errno.
int open_beneath(int root, std::string_view rel, int flags);
// As open_beneath for a directory (O_RDONLY|O_DIRECTORY); throws LayerError naming `rel`.
UniqueFd open_dir_beneath(int root, std::string_view rel);

// lstat of `name` in `dirfd`; nullopt when it does not exist (ENOENT, ENOTDIR).
std::optional<struct stat> lstat_at(int dirfd, const std::string& name);

// The entry names of a directory (no "." or ".."), sorted bytewise.
std::vector<std::string> list_names(int dirfd);

// Removes `name` in `dirfd` and, for a directory, everything below it, without following
// symlinks, at any depth with no recursion and three fds at most: a non-empty subdirectory's
// subdirectories are renamed up into the directory being emptied (unique temporary names), its
// other entries unlinked, and it is removed. Directories we own that we cannot list or write
// (overlayfs leaves work/work at mode 000) are opened up (u+rwx) first. Absent is fine.
void remove_tree_at(int dirfd, const std::string& name);

// Calls visit(rel, st) for every entry below the directory `name` in `dirfd` (rel relative to
// it), parents before their children, at any depth: no recursion, two fds at most (it climbs
// back through "..", checking it lands in the directory it came from). Symlinks are entries,
// never followed. visit returns false to stop the walk.
void walk_below(int dirfd, const std::string& name,
                const std::function<bool(const std::string& rel, const struct stat& st)>& visit);

// Directories below `root` opened by relative path, at most `capacity` kept open (the least
// recently used is closed first): walks as deep as a layer goes hold a bounded number of fds.
// get() returns an fd valid until the next call of get(); `expected`, when given, is what the
// directory was when it was listed (a different inode: LayerError, it changed meanwhile).
class DirCache {
public:
    explicit DirCache(int root, std::string what, size_t capacity = 16)
        : root_(root), what_(std::move(what)), capacity_(capacity) {}
    int get(const std::string& rel, const struct stat* expected = nullptr);

private:
    int root_;
    std::string what_;
    size_t capacity_;
    std::list<std::pair<std::string, UniqueFd>> open_;  // most recently used first
};

// The deepest directory a layer may hold (levels below its root): deeper is refused.
inline constexpr size_t kMaxLayerDepth = 1024;

// Names of the engine's own entries: a journal directory the caller made at the target's root.
inline constexpr std::string_view kEnginePrefix = ".sandlock-commit-";
inline bool is_engine_name(std::string_view name) { return name.starts_with(kEnginePrefix); }

// Reads an xattr of an open file; nullopt when it is not set.
std::optional<std::string> get_xattr(int fd, const char* name);
void set_xattr(int fd, const char* name, const std::string& value, std::string_view path);

bool is_whiteout(const struct stat& st);
bool at_or_after(const timespec& t, const timespec& since);

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string, std::string> split_parent(const std::string& rel);
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace sandlock::branchfs
