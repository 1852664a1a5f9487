// The apply journal: the ordered, idempotent steps that turn the target into the branch's
// version, written (JSON) and synced before the first step runs. Its rename to its final name
// is the commit point of an apply.
#pragma once

#include "layer/layer.hpp"

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock::branchfs {

inline constexpr const char* kJournalName = "journal.json";
inline constexpr const char* kJournalTempName = "journal.json.tmp";
inline constexpr const char* kStagingName = "staging";

struct Step {
    enum class Op {
        MakeDir,   // ensure a directory at path (a non-directory there is removed first)
        Prune,     // remove every entry of the directory at path whose name is not in keep (sorted)
        Place,     // rename staging/<staged> to path (skipped when already moved)
        Remove,    // remove path and everything below it
        DirAttrs,  // set the directory's mode, mtime (and owner, as root)
    };
    Op op = Op::MakeDir;
    std::string path;
    std::uint64_t staged = 0;           // Place
    bool opaque = false;                // MakeDir onto a layer: set the opaque marker
    std::optional<std::string> origin;  // MakeDir onto a layer: the origin marker to set
    std::vector<std::string> keep;      // Prune
    mode_t mode = 0;                    // DirAttrs
    timespec mtime{};                   // DirAttrs
    std::optional<uid_t> uid;           // DirAttrs, when applied as root
    std::optional<gid_t> gid;
};

struct Journal {
    std::string target;  // absolute path of the target directory
    TargetKind kind = TargetKind::Workspace;
    std::vector<Step> steps;
};

std::string serialize_journal(const Journal& journal);
Journal parse_journal(std::string_view text);  // LayerError when malformed

// Writes journal.json.tmp in `dirfd`, fsyncs it, renames it to journal.json (the commit
// point) and fsyncs the directory.
void commit_journal(int dirfd, const Journal& journal);
// The committed journal in `dirfd`, if any.
std::optional<Journal> read_journal(int dirfd);

}  // namespace sandlock::branchfs
