// OwnedFd: a file descriptor closed when its owner goes, for plugin code on its side of the waist.
#pragma once

#include <unistd.h>

#include <utility>

namespace sandlock::sdk {

// A file descriptor closed when its owner goes (e.g. NotifContext::get_fd's copy).
class OwnedFd {
public:
    explicit OwnedFd(int fd = -1) : fd_(fd) {}
    OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    OwnedFd& operator=(OwnedFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~OwnedFd() { reset(); }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

}  // namespace sandlock::sdk
