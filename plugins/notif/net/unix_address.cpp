#include "net/unix_address.hpp"

#include "supervisor/caller_access.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <string>

namespace sandlock::notif {
namespace {

int read_link(const std::string& path, std::string& out) {
    char target[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    if (n < 0) return -errno;
    if (static_cast<std::size_t>(n) == sizeof target) return -ENAMETOOLONG;
    out.assign(target, static_cast<std::size_t>(n));
    return 0;
}

// The socket file `path` names for the caller, opened O_PATH inside the caller's root.
int open_in_caller_root(pid_t tid, const std::string& path, sdk::OwnedFd& out) {
    const std::string proc = "/proc/" + std::to_string(tid) + "/";
    std::string absolute = path;
    if (path.front() != '/') {
        std::string cwd, root;
        if (int rc = read_link(proc + "cwd", cwd); rc < 0) return rc;
        if (int rc = read_link(proc + "root", root); rc < 0) return rc;
        absolute = caller::join_caller_path(cwd, path, root);
    }
    sdk::OwnedFd root(::open((proc + "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (root.get() < 0) return -errno;
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const int fd = static_cast<int>(::syscall(SYS_openat2, root.get(), absolute.c_str(), &how, sizeof how));
    if (fd < 0) return -errno;
    out = sdk::OwnedFd(fd);
    return 0;
}

}  // namespace

int unix_address_for_caller(pid_t tid, std::span<const std::uint8_t> caller_sockaddr, bool abstract_allowed,
                            SupervisorAddress& out) {
    constexpr std::size_t kPathAt = offsetof(sockaddr_un, sun_path);
    if (caller_sockaddr.size() < sizeof(sa_family_t) || caller_sockaddr.size() > sizeof(sockaddr_un)) return -EINVAL;
    out.sockaddr.assign(caller_sockaddr.begin(), caller_sockaddr.end());
    sa_family_t family;
    std::memcpy(&family, caller_sockaddr.data(), sizeof family);
    if (family != AF_UNIX) return 0;  // the kernel refuses it (EINVAL) on this AF_UNIX socket
    if (caller_sockaddr.size() <= kPathAt) return 0;  // unnamed: autobind on send, EINVAL on connect
    if (caller_sockaddr[kPathAt] == 0) return abstract_allowed ? 0 : -EPERM;

    // A pathname ends at its first NUL or at the end of the sockaddr, as the kernel reads it.
    const auto* begin = reinterpret_cast<const char*>(caller_sockaddr.data() + kPathAt);
    const std::size_t room = caller_sockaddr.size() - kPathAt;
    const std::string path(begin, std::find(begin, begin + room, '\0'));
    if (int rc = open_in_caller_root(tid, path, out.file); rc < 0) return rc;

    sockaddr_un named{};
    named.sun_family = AF_UNIX;
    const std::string via = "/proc/self/fd/" + std::to_string(out.file.get());
    std::memcpy(named.sun_path, via.c_str(), via.size() + 1);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&named);
    out.sockaddr.assign(bytes, bytes + kPathAt + via.size() + 1);
    return 0;
}

}  // namespace sandlock::notif
