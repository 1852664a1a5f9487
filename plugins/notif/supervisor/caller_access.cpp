#include "supervisor/caller_access.hpp"

#include "procfs/proc_files.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL  // Linux 6.9
#endif

namespace sandlock::notif::caller {
namespace {

// process_vm_readv can be missing (a nested sandbox denies it); /proc/PID/mem then serves.
std::atomic<bool> vm_readv_works{true};

std::int64_t read_through_proc_mem(pid_t tid, std::uint64_t address, void* buffer, std::size_t size) {
    const std::string path = "/proc/" + std::to_string(tid) + "/mem";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n;
    do {
        n = ::pread(fd, buffer, size, static_cast<off_t>(address));
    } while (n < 0 && errno == EINTR);
    const int error = errno;
    ::close(fd);
    if (n < 0) return error == EIO ? -EFAULT : -error;  // EIO: the address is not mapped
    return n;
}

std::int64_t read_link(const std::string& path, std::string& out) {
    char target[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    if (n < 0) return -errno;
    if (static_cast<std::size_t>(n) == sizeof target) return -ENAMETOOLONG;
    out.assign(target, static_cast<std::size_t>(n));
    return 0;
}

std::int64_t copy_out(const std::string& text, char* buffer, std::size_t size) {
    if (text.size() + 1 > size) return -ENAMETOOLONG;
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    return static_cast<std::int64_t>(text.size());
}

}  // namespace

std::int64_t read_memory(pid_t tid, std::uint64_t address, void* buffer, std::size_t size) {
    if (size == 0) return 0;
    if (vm_readv_works.load(std::memory_order_relaxed)) {
        iovec local{buffer, size};
        iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(address)), size};
        ssize_t n = ::process_vm_readv(tid, &local, 1, &remote, 1, 0);
        if (n >= 0) return n;
        if (errno != ENOSYS && errno != EPERM) return -errno;
        if (errno == ENOSYS) vm_readv_works.store(false, std::memory_order_relaxed);
    }
    return read_through_proc_mem(tid, address, buffer, size);
}

std::int64_t read_string(pid_t tid, std::uint64_t address, char* buffer, std::size_t size) {
    if (size == 0) return -ENAMETOOLONG;
    static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    std::size_t length = 0;
    while (length < size) {
        // Never read across a page boundary: the next page may be unmapped.
        const std::uint64_t at = address + length;
        const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(page - at % page, size - length));
        std::int64_t n = read_memory(tid, at, buffer + length, chunk);
        if (n < 0) return n;
        if (n == 0) return -EFAULT;
        const char* nul = static_cast<const char*>(std::memchr(buffer + length, '\0', static_cast<std::size_t>(n)));
        if (nul != nullptr) return nul - buffer;
        length += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < chunk) return -EFAULT;
    }
    buffer[size - 1] = '\0';
    return -ENAMETOOLONG;
}

std::string join_caller_path(std::string_view base, std::string_view path, std::string_view root) {
    if (!path.empty() && path.front() == '/') return std::string(path);
    std::string joined(base);
    // The supervisor sees the caller's directories through its own root: take the caller's off.
    if (root.size() > 1 && joined.starts_with(root) &&
        (joined.size() == root.size() || joined[root.size()] == '/')) {
        joined.erase(0, root.size());
        if (joined.empty()) joined = "/";
    }
    if (path.empty()) return joined;
    if (joined.empty() || joined.back() != '/') joined += '/';
    joined += path;
    return joined;
}

std::int64_t resolve_path(pid_t tid, int dirfd, std::uint64_t path_address, char* buffer, std::size_t size) {
    std::string path(PATH_MAX, '\0');
    std::int64_t n = read_string(tid, path_address, path.data(), path.size());
    if (n < 0) return n;
    path.resize(static_cast<std::size_t>(n));
    if (!path.empty() && path.front() == '/') return copy_out(path, buffer, size);

    const std::string proc = "/proc/" + std::to_string(tid) + "/";
    std::string base;
    if (std::int64_t rc = read_link(dirfd == AT_FDCWD ? proc + "cwd" : proc + "fd/" + std::to_string(dirfd), base);
        rc < 0)
        return rc == -ENOENT && dirfd != AT_FDCWD ? -EBADF : rc;
    if (base.empty() || base.front() != '/') return -ENOTDIR;  // a socket, pipe or anonymous inode
    std::string root;
    if (std::int64_t rc = read_link(proc + "root", root); rc < 0) return rc;
    return copy_out(join_caller_path(base, path, root), buffer, size);
}

int open_pidfd(pid_t tid) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, tid, PIDFD_THREAD));
    if (fd >= 0) return fd;
    fd = static_cast<int>(::syscall(SYS_pidfd_open, tid, 0));
    if (fd >= 0 || errno != EINVAL) return fd >= 0 ? fd : -errno;
    // Before 6.9 only a thread-group leader has a pidfd: use the caller's process.
    auto tgid = proc::read_tgid(tid);
    if (!tgid) return -ESRCH;
    fd = static_cast<int>(::syscall(SYS_pidfd_open, *tgid, 0));
    return fd >= 0 ? fd : -errno;
}

int copy_fd(pid_t tid, int child_fd) {
    int pidfd = open_pidfd(tid);
    if (pidfd < 0) return pidfd;
    int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, child_fd, 0));
    const int error = errno;
    ::close(pidfd);
    return fd >= 0 ? fd : -error;
}

}  // namespace sandlock::notif::caller
