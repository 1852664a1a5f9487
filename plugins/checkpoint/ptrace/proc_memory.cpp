#include "ptrace/proc_memory.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sandlock::checkpoint {

ProcMemory::ProcMemory(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/mem";
    fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) throw sdk::Error("checkpoint: cannot open " + path + ": " + std::strerror(errno));
}

ProcMemory::~ProcMemory() { ::close(fd_); }

bool ProcMemory::read(std::uintptr_t address, void* out, std::size_t size) const {
    auto* to = static_cast<char*>(out);
    while (size > 0) {
        const ssize_t n = ::pread(fd_, to, size, static_cast<off_t>(address));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        to += n;
        address += static_cast<std::size_t>(n);
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool ProcMemory::write(std::uintptr_t address, const void* data, std::size_t size) const {
    const auto* from = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::pwrite(fd_, from, size, static_cast<off_t>(address));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        from += n;
        address += static_cast<std::size_t>(n);
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace sandlock::checkpoint
