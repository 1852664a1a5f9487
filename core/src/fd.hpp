// An owned file descriptor, and the few ways this code makes them. Every fd is close-on-exec.
#pragma once

#include <unistd.h>

#include <utility>

namespace sandlock {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Throw ConfinementError naming what failed.
std::pair<Fd, Fd> pipe_pair();                 // {read end, write end}
std::pair<Fd, Fd> socket_pair(int type);       // AF_UNIX
Fd open_fd(const char* path, int flags);

}  // namespace sandlock
