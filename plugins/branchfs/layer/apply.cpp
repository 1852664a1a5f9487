// apply_layer and recover: journal and replay.
//
//   1. open the upper root and the target with no symlink in any component; read the layer,
//      refuse what cannot be applied, check conflicts (nothing written yet);
//   2. stage every new file, link and fifo in journal_dir/staging (the target's filesystem);
//   3. syncfs once, check conflicts again (staging a big branch takes seconds: a host write
//      meanwhile refuses the commit), then write journal.json.tmp, fsync it, rename it to
//      journal.json and fsync journal_dir: the commit point;
//   4. replay the journal's idempotent steps on the target;
//   5. syncfs, delete journal.json (fsync journal_dir), delete what is left of staging, and
//      journal_dir itself (made for this apply).
// A crash before 3 leaves the target untouched and staging to delete; a crash after 3 leaves a
// complete journal whose replay from the start finishes the apply. recover() does either, and
// only onto the target its caller names (the journal's own record of it must agree).
//
// One syncfs instead of an fsync per staged file: 5,000 fsyncs cost seconds on a disk, one
// syncfs writes the same data once; it also flushes other dirty data of that filesystem, a
// cost paid once per commit.
#include "layer/engine.hpp"
#include "layer/safe_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace sandlock::branchfs {
namespace {

void sync_filesystem(int fd, std::string_view what) {
    if (::syncfs(fd) != 0) throw_errno("cannot sync the filesystem of", what, errno);
}

void sync_dir(int fd, std::string_view what) {
    if (::fsync(fd) != 0) throw_errno("cannot sync", what, errno);
}

// Deletes the staging directory and a half-written journal (never the committed one).
bool discard_staging(int journal_fd) {
    bool found = lstat_at(journal_fd, kStagingName) || lstat_at(journal_fd, kJournalTempName);
    remove_tree_at(journal_fd, kStagingName);
    remove_tree_at(journal_fd, kJournalTempName);
    if (found) sync_dir(journal_fd, "the journal directory");
    return found;
}

// Removes the (emptied) journal directory: it was made for one apply and, when the caller put
// it at the target's root, must not stay in the workspace. Something else in it keeps it.
void remove_journal_dir(const std::filesystem::path& journal_dir) { ::rmdir(journal_dir.c_str()); }

// Runs a committed journal to its end and removes it.
void finish(int journal_fd, const Journal& journal, int target_fd) {
    UniqueFd staging = open_dir_beneath(journal_fd, kStagingName);
    replay_journal(journal, target_fd, staging.get());
    sync_filesystem(target_fd, journal.target);
    if (::unlinkat(journal_fd, kJournalName, 0) != 0) throw_errno("cannot remove", kJournalName, errno);
    sync_dir(journal_fd, "the journal directory");
    discard_staging(journal_fd);
}

ConflictError conflict_error(std::vector<std::string> paths) {
    std::string message = "branchfs: the commit conflicts with changes made since the branch was created (";
    constexpr size_t kShown = 10;
    for (size_t i = 0; i < paths.size() && i < kShown; ++i) message += (i ? ", " : "") + paths[i];
    if (paths.size() > kShown) message += " and " + std::to_string(paths.size() - kShown) + " more";
    return ConflictError(message + "); nothing was applied", std::move(paths));
}

UniqueFd open_journal_dir(const std::filesystem::path& journal_dir, int target_fd) {
    if (::mkdir(journal_dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw_errno("cannot create the journal directory", journal_dir.string(), errno);
    int opened = ::open(journal_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (opened < 0) throw_errno("cannot open the journal directory", journal_dir.string(), errno);
    UniqueFd fd(opened);
    struct stat journal_st {
    }, target_st{};
    if (::fstat(fd.get(), &journal_st) != 0 || ::fstat(target_fd, &target_st) != 0)
        throw_errno("cannot stat", journal_dir.string(), errno);
    if (journal_st.st_dev != target_st.st_dev) {
        fd.reset();
        remove_journal_dir(journal_dir);
        throw LayerError("branchfs: the journal directory " + journal_dir.string() +
                         " is not on the target's filesystem (a rename must move staged files into place)");
    }
    return fd;
}

}  // namespace

std::vector<Change> apply_layer(const std::filesystem::path& upper, const std::filesystem::path& target,
                                TargetKind kind, const std::filesystem::path& journal_dir, timespec since) {
    UniqueFd upper_fd = open_dir_no_symlinks(upper, "the branch's layer");
    return apply_layer(upper_fd.get(), target, kind, journal_dir, since);
}

std::vector<Change> apply_layer(int upper_root_fd, const std::filesystem::path& target, TargetKind kind,
                                const std::filesystem::path& journal_dir, timespec since) {
    recover(journal_dir, target);  // an earlier apply committed its journal: it lands first
    UniqueFd upper_fd(::fcntl(upper_root_fd, F_DUPFD_CLOEXEC, 0));
    if (!upper_fd) throw_errno("cannot use the branch's layer", "", errno);
    UniqueFd target_fd = open_dir_no_symlinks(target, "the target");
    LayerNode layer = read_layer(upper_fd.get());
    if (auto conflicts = conflicts_in(layer, target_fd.get(), kind, since); !conflicts.empty())
        throw conflict_error(std::move(conflicts));
    std::vector<Change> changes = diff_tree(layer, target_fd.get());

    UniqueFd journal_fd = open_journal_dir(journal_dir, target_fd.get());
    Journal journal;
    try {
        if (::mkdirat(journal_fd.get(), kStagingName, 0700) != 0) throw_errno("cannot create", kStagingName, errno);
        UniqueFd staging = open_dir_beneath(journal_fd.get(), kStagingName);
        journal = stage_layer(layer, upper_fd.get(), target_fd.get(), kind, staging.get());
        journal.target = normal_path(target);
        sync_filesystem(staging.get(), journal_dir.string());
        // Staging took a while: whatever the host wrote meanwhile must not be overwritten.
        if (auto conflicts = conflicts_in(layer, target_fd.get(), kind, since); !conflicts.empty())
            throw conflict_error(std::move(conflicts));
        commit_journal(journal_fd.get(), journal);
    } catch (...) {
        discard_staging(journal_fd.get());
        journal_fd.reset();
        remove_journal_dir(journal_dir);
        throw;
    }
    finish(journal_fd.get(), journal, target_fd.get());
    journal_fd.reset();
    remove_journal_dir(journal_dir);
    return changes;
}

bool recover(const std::filesystem::path& journal_dir, const std::filesystem::path& target) {
    int fd = ::open(journal_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return false;
    if (fd < 0) throw_errno("cannot open the journal directory", journal_dir.string(), errno);
    UniqueFd journal_fd(fd);
    bool found = false;
    if (auto journal = read_journal(journal_fd.get())) {
        // The journal says where it applies; only the caller's target is trusted.
        if (journal->target != normal_path(target))
            throw LayerError("branchfs: the journal in " + journal_dir.string() + " applies to " + journal->target +
                             ", not to " + normal_path(target) + "; refused, nothing done");
        UniqueFd target_fd = open_dir_no_symlinks(target, "the target");
        finish(journal_fd.get(), *journal, target_fd.get());
        found = true;
    } else {
        found = discard_staging(journal_fd.get());
    }
    journal_fd.reset();
    remove_journal_dir(journal_dir);
    return found;
}
bool journal_complete(const std::filesystem::path& journal_dir) {
    int fd = ::open(journal_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    UniqueFd journal_fd(fd);
    return read_journal(journal_fd.get()).has_value();
}

}  // namespace sandlock::branchfs
