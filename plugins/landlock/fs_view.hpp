// The little of the filesystem the ruleset planner needs to see, behind an interface so the
// planning can be tested against a fake tree.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sandlock::landlock {

enum class EntryKind { Missing, Directory, Symlink, Other };

struct DirEntry {
    std::string name;
    EntryKind kind;
};

class FsView {
public:
    virtual ~FsView() = default;
    // What is at path, without following a final symlink.
    virtual EntryKind kind(const std::string& path) const = 0;
    // The entries of a directory (without "." and ".."), or nullopt when it cannot be read.
    virtual std::optional<std::vector<DirEntry>> list(const std::string& dir) const = 0;
};

// The real filesystem, as the calling process sees it.
class RealFsView : public FsView {
public:
    EntryKind kind(const std::string& path) const override;
    std::optional<std::vector<DirEntry>> list(const std::string& dir) const override;
};

// The path with every symlink and "."/".." resolved as far as it exists; the missing tail is
// kept lexically. Landlock rules attach to inodes, so plans are made on resolved paths.
std::string resolve_path(const std::string& path);

}  // namespace sandlock::landlock
