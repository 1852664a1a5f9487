#include "supervisor/caller_actions.hpp"

#include "procfs/proc_files.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <vector>

namespace sandlock::notif::caller {
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

}  // namespace sandlock::notif::caller
