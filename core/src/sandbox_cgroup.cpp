#include "sandbox_cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>

namespace sandlock {
namespace {

std::atomic<unsigned> next_cgroup{0};

// The cgroup v2 hierarchy's mount point, or "".
std::string v2_mount() {
    for (const char* candidate : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        struct statfs fs {};
        if (::statfs(candidate, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return candidate;
    }
    return {};
}

// This process's cgroup in the v2 hierarchy ("0::/path" in /proc/self/cgroup).
std::string own_v2_cgroup() {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("0::")) return line.substr(3);
    return {};
}

bool write_file_at(int dir, const char* name, const char* text) {
    const int fd = ::openat(dir, name, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const auto length = static_cast<ssize_t>(std::strlen(text));
    const bool ok = ::write(fd, text, static_cast<std::size_t>(length)) == length;
    ::close(fd);
    return ok;
}

// Removes the empty cgroups a SIGKILLed sandlock left under `parent` ("sandlock-PID-N" whose PID
// is gone); one still holding processes, or of a live sandlock, stays.
void remove_stale(const std::string& parent) {
    DIR* dir = ::opendir(parent.c_str());
    if (dir == nullptr) return;
    while (dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (!name.starts_with("sandlock-")) continue;
        const pid_t owner = static_cast<pid_t>(std::strtol(name.c_str() + 9, nullptr, 10));
        if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) ::rmdir((parent + "/" + name).c_str());
    }
    ::closedir(dir);
}

}  // namespace

std::unique_ptr<SandboxCgroup> SandboxCgroup::create() {
    const std::string mount = v2_mount();
    const std::string own = own_v2_cgroup();
    if (mount.empty() || own.empty() || own.find("..") != std::string::npos) return nullptr;
    const std::string parent = mount + (own == "/" ? "" : own);
    remove_stale(parent);
    const std::string path =
        parent + "/sandlock-" + std::to_string(::getpid()) + "-" + std::to_string(next_cgroup++);
    if (::mkdir(path.c_str(), 0755) != 0) return nullptr;
    Fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    // A cgroup without the freeze file (an old kernel) is of no use here.
    if (!dir || ::faccessat(dir.get(), "cgroup.freeze", W_OK, 0) != 0) {
        ::rmdir(path.c_str());
        return nullptr;
    }
    return std::unique_ptr<SandboxCgroup>(new SandboxCgroup(path, std::move(dir)));
}

SandboxCgroup::~SandboxCgroup() {
    // The init's death kills the rest asynchronously: wait (briefly) until they are all gone.
    set_frozen(false, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (event("populated") == 1 && std::chrono::steady_clock::now() < deadline) {
        write_file_at(dir_.get(), "cgroup.kill", "1");
        ::usleep(1000);
    }
    dir_.reset();
    ::rmdir(path_.c_str());
}

int SandboxCgroup::event(const char* key) const {
    const int fd = ::openat(dir_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buffer[256] = {};
    const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    if (n <= 0) return -1;
    const std::string text(buffer, static_cast<std::size_t>(n));
    const std::string needle = std::string(key) + " ";
    const std::size_t at = text.find(needle);
    return at == std::string::npos ? -1 : text[at + needle.size()] - '0';
}

bool SandboxCgroup::set_frozen(bool frozen, int wait_ms) {
    if (!write_file_at(dir_.get(), "cgroup.freeze", frozen ? "1" : "0")) return false;
    // cgroup.events changes when the state is reached; poll(2) reports it as POLLPRI.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
        if (event("frozen") == (frozen ? 1 : 0)) return true;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return false;
        const int fd = ::openat(dir_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (fd < 0) return false;
        char drain[256];
        [[maybe_unused]] ssize_t n = ::read(fd, drain, sizeof drain);
        pollfd changed{fd, POLLPRI, 0};
        ::poll(&changed, 1, static_cast<int>(std::min<long long>(left, 10)));
        ::close(fd);
    }
}

bool cgroup_freezer_available() { return SandboxCgroup::create() != nullptr; }

}  // namespace sandlock
