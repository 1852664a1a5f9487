#include "image/checkpoint_file.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sandlock::checkpoint {

int open_checkpoint_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) throw sdk::Error("checkpoint: " + path.string() + ": cannot open it: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
        ::close(fd);
        throw sdk::Error("checkpoint: " + path.string() + " is not a regular file of yours");
    }
    return fd;
}

std::string read_checkpoint_file(const std::filesystem::path& path) {
    const int fd = open_checkpoint_file(path);
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            throw sdk::Error("checkpoint: " + path.string() + ": cannot read it: " + std::strerror(error));
        }
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

}  // namespace sandlock::checkpoint
