#include "supervisor/caller_actions.hpp"

#include "procfs/proc_files.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <optional>
#include <vector>

namespace sandlock::notif::caller {
namespace {

std::optional<std::string> read_link(const std::string& path) {
    char buffer[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
    if (n < 0 || static_cast<std::size_t>(n) == sizeof buffer) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace

int write_memory(pid_t tid, std::span<const MemoryWrite> writes) {
    std::vector<iovec> local;
    std::vector<iovec> remote;
    for (const MemoryWrite& write : writes) {
        if (write.size == 0) continue;
        local.push_back({const_cast<void*>(write.data), write.size});
        remote.push_back({reinterpret_cast<void*>(static_cast<std::uintptr_t>(write.address)), write.size});
    }
    // process_vm_writev takes at most IOV_MAX vectors per call.
    for (std::size_t at = 0; at < local.size(); at += IOV_MAX) {
        const std::size_t count = std::min<std::size_t>(IOV_MAX, local.size() - at);
        std::size_t expected = 0;
        for (std::size_t i = at; i < at + count; ++i) expected += local[i].iov_len;
        ssize_t n = ::process_vm_writev(tid, &local[at], count, &remote[at], count, 0);
        if (n < 0) return -errno;
        if (static_cast<std::size_t>(n) != expected) return -EFAULT;
    }
    return 0;
}

void raise_signal(pid_t tid, int sig) {
    if (auto tgid = proc::read_tgid(tid)) ::syscall(SYS_tgkill, *tgid, tid, sig);
}

std::string credential_lines(std::string_view status_text) {
    static constexpr std::string_view kKeys[] = {"Uid:", "Gid:", "Groups:", "CapEff:"};
    std::string out;
    while (!status_text.empty()) {
        std::size_t end = status_text.find('\n');
        std::string_view line = status_text.substr(0, end);
        status_text.remove_prefix(end == std::string_view::npos ? status_text.size() : end + 1);
        for (std::string_view key : kKeys)
            if (line.starts_with(key)) out += std::string(line) + "\n";
    }
    return out;
}

bool has_our_credentials(pid_t tid) {
    const std::string proc = "/proc/" + std::to_string(tid);
    auto theirs = proc::read_small_file(proc + "/status");
    auto ours = proc::read_small_file("/proc/thread-self/status");
    if (!theirs || !ours) return false;
    const std::string their_lines = credential_lines(*theirs);
    if (their_lines.empty() || their_lines != credential_lines(*ours)) return false;
    auto their_ns = read_link(proc + "/ns/user");
    auto our_ns = read_link("/proc/thread-self/ns/user");
    return their_ns && our_ns && *their_ns == *our_ns;
}

}  // namespace sandlock::notif::caller
