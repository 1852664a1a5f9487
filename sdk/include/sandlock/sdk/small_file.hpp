// Reading a small file, a /proc file above all, with plain read(2): a process that exits
// meanwhile makes the read fail (ESRCH), which std::ifstream would turn into an exception.
// Header-only; for the core and plugins alike.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>

namespace sandlock::sdk {

// The file's first `limit` bytes (about: it stops once it has read that many), or nullopt when
// it cannot be opened or read.
inline std::optional<std::string> read_small_file(const std::string& path, std::size_t limit = 64 * 1024) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() >= limit) break;
    }
    ::close(fd);
    return text;
}

}  // namespace sandlock::sdk
