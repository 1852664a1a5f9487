#include "net/control_messages.hpp"

#include <linux/udp.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace sandlock::notif {
namespace {

// More than the kernel's default net.core.optmem_max (20 KiB) lets any sendmsg carry.
constexpr std::size_t kMaxControl = 64 * 1024;
// The kernel's SCM_MAX_FD: more fds in one message are EINVAL.
constexpr std::size_t kMaxFds = 253;

bool passes_unchanged(const cmsghdr& header) {
    switch (header.cmsg_level) {
        case SOL_UDP: return header.cmsg_type == UDP_SEGMENT;
        case SOL_IP: return header.cmsg_type == IP_TOS || header.cmsg_type == IP_TTL;
        case SOL_IPV6: return header.cmsg_type == IPV6_TCLASS || header.cmsg_type == IPV6_HOPLIMIT;
        default: return false;
    }
}

}  // namespace

int control_for_caller(const sdk::NotifContext& call, const msghdr& message, SupervisorControl& out) {
    if (message.msg_control == nullptr || message.msg_controllen == 0) return 0;
    if (message.msg_controllen > kMaxControl) return -ENOBUFS;
    out.bytes.resize(message.msg_controllen);
    call.read_memory(reinterpret_cast<std::uintptr_t>(message.msg_control), out.bytes.data(), out.bytes.size());

    // The CMSG_* macros walk a msghdr: one over the copy, never the caller's.
    msghdr copy{};
    copy.msg_control = out.bytes.data();
    copy.msg_controllen = out.bytes.size();
    for (cmsghdr* header = CMSG_FIRSTHDR(&copy); header != nullptr; header = CMSG_NXTHDR(&copy, header)) {
        // The caller wrote cmsg_len: it must lie within the copy, as the kernel insists, or
        // the fd numbers below would be read and rewritten past its end.
        const std::size_t offset = static_cast<std::size_t>(reinterpret_cast<unsigned char*>(header) - out.bytes.data());
        if (header->cmsg_len < CMSG_LEN(0) || header->cmsg_len > out.bytes.size() - offset) return -EINVAL;
        if (passes_unchanged(*header)) continue;
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) return -EACCES;
        const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        if (out.fds.size() + count > kMaxFds) return -EINVAL;
        auto* numbers = reinterpret_cast<unsigned char*>(CMSG_DATA(header));
        for (std::size_t i = 0; i < count; ++i) {
            int caller_fd;
            std::memcpy(&caller_fd, numbers + i * sizeof(int), sizeof(int));
            out.fds.push_back(call.get_fd(caller_fd));  // EBADF for a closed number, like the kernel
            const int ours = out.fds.back().get();
            std::memcpy(numbers + i * sizeof(int), &ours, sizeof(int));
        }
    }
    return 0;
}

}  // namespace sandlock::notif
