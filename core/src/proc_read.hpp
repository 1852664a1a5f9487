// Reading a /proc file of a process that may exit meanwhile: its read then fails (ESRCH), which
// std::ifstream turns into an exception. This returns what could be read, "" when nothing.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace sandlock {

inline std::string read_proc_file(const std::string& path) {
    std::string text;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
}

}  // namespace sandlock
