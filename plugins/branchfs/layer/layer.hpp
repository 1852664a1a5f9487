// An overlayfs upper layer ("the branch's own changes") read as a list of changes and applied
// onto what lies below it: the workspace (the final commit) or another branch's upper layer
// (a nested branch committing into its parent).
//
// An upper layer, as overlayfs writes it with the `userxattr` option:
//   - a regular file, symlink, fifo or directory at a path: the branch's version of that path
//     (a regular file carrying the xattr "user.overlay.origin", of any value, was copied up
//     from the layer below: the branch modified a file that existed);
//   - a character device 0/0: a whiteout, the path is deleted;
//   - a directory with xattr "user.overlay.opaque" = "y": the directory replaces whatever was
//     below it (its contents below are gone; only the layer's entries remain).
// The layer is untrusted input (the sandbox wrote it): nothing in it is followed (symlinks are
// copied as symlinks, never resolved), names are taken one component at a time. A layer is
// refused (LayerError naming the path, nothing applied) when its root holds an entry named
// ".sandlock-commit-*" (the engine's own journal directories; in the target's root they are
// ignored: in flight, not the target's), or when it is deeper than 1,024 directory levels.
//
// The upper root and the target given to every entry point are canonical paths: they are
// opened with no symlink followed in any component (openat2 RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS, so no /proc/self/fd/N either); a symlink anywhere in them means a
// component was swapped: LayerError naming the path. Every walk is safe at any depth the layer
// may have (and at any depth of the target): no unbounded recursion, a bounded number of fds.
#pragma once

#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace sandlock::branchfs {

enum class ChangeKind { Added, Modified, Deleted };

// One path the layer changes, relative to the layer root ("src/main.c", no leading slash).
struct Change {
    ChangeKind kind;
    std::string path;
    friend bool operator==(const Change&, const Change&) = default;
};

// Where a layer is applied.
enum class TargetKind {
    Workspace,  // a plain directory: whiteouts delete, opaque directories replace
    Layer,      // another upper layer: whiteouts and opaque markers are copied as such
};

// The commit would overwrite what changed in the target since the branch was created.
class ConflictError : public std::runtime_error {
public:
    ConflictError(std::string message, std::vector<std::string> paths)
        : std::runtime_error(std::move(message)), paths_(std::move(paths)) {}
    const std::vector<std::string>& paths() const { return paths_; }

private:
    std::vector<std::string> paths_;
};

// Any other failure (I/O, an entry that cannot be applied); the message names the path.
class LayerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What `upper` changes on `below` (a directory showing what the branch started from: the
// workspace, or a merged view), sorted by path. A whiteout of a path that does not exist
// below is no change. Every path that disappears is listed, directories included: a deleted
// directory gives D for itself and for each path below it; an opaque directory gives D for
// each path below it that the layer does not have (and A/M for what it has). A non-directory
// replacing a directory (or the reverse) is M of the path. A directory on both sides is M
// only when its mode differs, or its mtime differs while none of its own entries changed.
std::vector<Change> diff_layer(const std::filesystem::path& upper, const std::filesystem::path& below);

// The paths the layer changes whose target version changed at or after `since` (ctime >=
// since: the host or another branch wrote there after this branch was created), including
// files the layer modified that were deleted from the target since (their nearest existing
// directory's ctime >= since). A whiteout, an opaque directory or a file over a directory
// conflicts when anything below that path in the target changed since. Both deleted, and
// disjoint changes in one directory, are no conflict. Onto a Layer, a whiteout there is an
// entry with its own ctime, and a path it does not have is one it did not change. Sorted.
// Take `since` from CLOCK_REALTIME_COARSE (or a file's ctime) when the branch is created:
// timestamps come from the coarse clock, which lags CLOCK_REALTIME by up to a tick.
std::vector<std::string> find_conflicts(const std::filesystem::path& upper, const std::filesystem::path& target,
                                        TargetKind kind, timespec since);

// Applies `upper` onto `target`, crash-safely: the new contents are staged in `journal_dir`
// (trusted, the caller's; it must be on the target's filesystem: created if missing,
// LayerError if elsewhere; it may be at the target's root, named .sandlock-commit-*) and a
// journal is written and synced there; only then is the target changed, by idempotent steps.
// A crash before the journal is complete leaves the target untouched (recover() removes the
// staging); a crash after leaves it to recover(), which finishes the apply. An interrupted
// earlier apply onto `target` found in `journal_dir` is finished first. Conflicts are checked
// before staging and again after it, right before the commit point (a host write while a big
// branch was staged): ConflictError, applying nothing, when find_conflicts() finds any.
// LayerError, applying nothing, for a device node or socket in the layer (and what the
// header names above). Files keep their holes (a sparse file stays sparse). On success, and
// on any failure before the commit point, journal_dir is removed (when empty, as it then is).
// Returns diff_layer(upper, target) as it was before.
// Symlinks are applied as links and never followed, on either side. Hard links in the layer
// become separate files. As root entries keep the layer's owner; otherwise they belong to
// the caller and set-id bits of files owned by someone else are dropped. The target root's
// own mode and mtime are left alone (the upper root is the store's directory).
std::vector<Change> apply_layer(const std::filesystem::path& upper, const std::filesystem::path& target,
                                TargetKind kind, const std::filesystem::path& journal_dir, timespec since);

// apply_layer with the upper root given as a directory the caller opened itself (the quota
// tmpfs it holds by fd: a /proc/self/fd/N path is a magic link, which the path form refuses).
// The fd is not consumed.
std::vector<Change> apply_layer(int upper_root_fd, const std::filesystem::path& target, TargetKind kind,
                                const std::filesystem::path& journal_dir, timespec since);

// Finishes (complete journal) or rolls back (incomplete staging) an apply onto `target`
// interrupted in `journal_dir`; afterwards journal_dir is gone (removed when empty, as it then
// is). A complete journal recorded for another target than `target` (normalized absolute
// paths compared) is refused: LayerError, nothing done (the journal's record is not trusted
// to say where to write). Returns true when it found something to do. Safe to call when
// nothing was interrupted (an absent journal_dir is fine).
bool recover(const std::filesystem::path& journal_dir, const std::filesystem::path& target);

// Whether `journal_dir` holds a complete journal: recover() will finish that apply (rather
// than roll it back).
bool journal_complete(const std::filesystem::path& journal_dir);

// Removes `dir` and everything below it (a branch's directory), at any depth with no recursion
// and a bounded number of fds, following no symlink (`dir` itself, if a symlink, is removed as
// a link); directories we own that we cannot list (overlayfs leaves work/work at mode 000) are
// opened up first. Absent is fine. LayerError naming the path on failure.
void remove_tree(const std::filesystem::path& dir);

}  // namespace sandlock::branchfs
