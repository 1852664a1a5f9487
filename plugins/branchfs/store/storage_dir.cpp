#include "store/storage_dir.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sandlock::branchfs {
namespace fs = std::filesystem;
namespace {

fs::path default_storage() {
    if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && state[0] == '/')
        return fs::path(state) / "sandlock" / "branches";
    if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/' && ::access(home, W_OK) == 0)
        return fs::path(home) / ".local" / "state" / "sandlock" / "branches";
    return fs::path("/tmp") / ("sandlock-" + std::to_string(::geteuid())) / "branches";
}

// Makes `dir` (missing parents too) and checks it is ours, a real directory, mode 0700.
void make_private_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    struct stat st {};
    if (ec || ::lstat(dir.c_str(), &st) != 0)
        throw sdk::Error("fs_storage: cannot create " + dir.string() + ": " +
                         (ec ? ec.message() : std::string(std::strerror(errno))) +
                         " (give a writable directory with --fs-storage)");
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid())
        throw sdk::Error("fs_storage: " + dir.string() + " is not a directory owned by uid " +
                         std::to_string(::geteuid()) + "; remove it or give another with --fs-storage");
    if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
        throw sdk::Error("fs_storage: cannot make " + dir.string() + " private (mode 0700): " + std::strerror(errno));
}

}  // namespace

fs::path storage_path(const std::optional<std::string>& fs_storage) {
    fs::path dir = fs_storage ? fs::path(*fs_storage) : default_storage();
    if (!dir.is_absolute())
        throw sdk::Error("fs_storage: " + dir.string() + " is not an absolute path; give one such as /var/tmp/branches");
    dir = dir.lexically_normal();
    if (!dir.has_filename()) dir = dir.parent_path();
    std::error_code ec;
    fs::path resolved = fs::weakly_canonical(dir, ec);
    return ec ? dir : resolved;
}

fs::path open_storage(const fs::path& dir) {
    // In a shared temp dir the level above is checked too: whoever owns it could swap ours.
    if (dir.string().starts_with("/tmp/sandlock-")) make_private_dir(dir.parent_path());
    make_private_dir(dir);
    return dir;
}

}  // namespace sandlock::branchfs
