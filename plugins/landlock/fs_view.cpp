#include "fs_view.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>

namespace sandlock::landlock {

namespace {

EntryKind kind_of_mode(mode_t mode) {
    if (S_ISDIR(mode)) return EntryKind::Directory;
    if (S_ISLNK(mode)) return EntryKind::Symlink;
    return EntryKind::Other;
}

}  // namespace

EntryKind RealFsView::kind(const std::string& path) const {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return EntryKind::Missing;
    return kind_of_mode(st.st_mode);
}

std::optional<std::vector<DirEntry>> RealFsView::list(const std::string& dir) const {
    std::unique_ptr<DIR, int (*)(DIR*)> stream(::opendir(dir.c_str()), &::closedir);
    if (!stream) return std::nullopt;
    std::vector<DirEntry> entries;
    while (const dirent* entry = ::readdir(stream.get())) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        // lstat rather than d_type, which some filesystems leave DT_UNKNOWN.
        std::string path = dir == "/" ? "/" + name : dir + "/" + name;
        entries.push_back({name, kind(path)});
    }
    return entries;
}

std::string resolve_path(const std::string& path) {
    std::error_code ec;
    auto resolved = std::filesystem::weakly_canonical(path, ec);
    if (ec) return std::filesystem::path(path).lexically_normal().string();
    std::string text = resolved.string();
    // weakly_canonical keeps a trailing separator of "dir/"; plans compare plain names.
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    return text;
}

}  // namespace sandlock::landlock
