// The ancillary data (msg_control) of a sendmsg the supervisor performs for the caller. Copied
// once and rebuilt for the supervisor: SCM_RIGHTS fd numbers are the caller's, so each is taken
// (pidfd_getfd) and the copy's number put in its place; a few messages that only tune how the
// kernel sends (GSO segment size, TOS, TTL, hop limit, traffic class) pass as they are. Anything
// else is refused with EACCES: SCM_CREDENTIALS would be checked against the supervisor's
// credentials, IP options and routing headers can name other hosts, and the rest is not vetted.
#pragma once

#include <sandlock/sdk/notif.hpp>

#include <sys/socket.h>

#include <cstdint>
#include <vector>

namespace sandlock::notif {

struct SupervisorControl {
    std::vector<std::uint8_t> bytes;  // msg_control for the supervisor's sendmsg (empty: none)
    std::vector<sdk::OwnedFd> fds;    // the taken SCM_RIGHTS fds, open until the send is done
};

// 0, or -errno for the caller.
int control_for_caller(const sdk::NotifContext& call, const msghdr& message, SupervisorControl& out);

}  // namespace sandlock::notif
