#include "capture/proc_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <climits>

namespace sandlock::checkpoint {

std::optional<std::string> read_proc_link(const std::string& path) {
    char target[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    if (n < 0 || static_cast<std::size_t>(n) >= sizeof target) return std::nullopt;
    return std::string(target, static_cast<std::size_t>(n));
}

std::string proc_path(pid_t pid, const std::string& entry) { return "/proc/" + std::to_string(pid) + "/" + entry; }

}  // namespace sandlock::checkpoint
