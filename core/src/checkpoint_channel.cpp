#include "checkpoint_channel.hpp"

#include <sandlock/errors.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace sandlock {
namespace {

using Clock = std::chrono::steady_clock;

// Exactly `size` bytes before `deadline`.
void receive(int fd, char* into, std::size_t size, Clock::time_point deadline) {
    while (size > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd readable{fd, POLLIN, 0};
        const int ready = left > 0 ? ::poll(&readable, 1, static_cast<int>(left)) : 0;
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0)
            throw CheckpointError("checkpoint: the program did not give its state on its checkpoint channel within " +
                                  std::to_string(kAppStateTimeout.count() / 1000) + " s");
        const ssize_t n = ::recv(fd, into, size, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) throw CheckpointError("checkpoint: the program closed its checkpoint channel without giving its state");
        into += n;
        size -= static_cast<std::size_t>(n);
    }
}

}  // namespace

std::string ask_app_state(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    const char request = kCheckpointRequest;
    // Never blocking: a program that reads nothing fills the channel, and must not hold us.
    while (::send(fd, &request, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
        if (errno == EINTR) continue;
        if (errno == EPIPE || errno == ECONNRESET)
            throw CheckpointError("checkpoint: the program closed its checkpoint channel without giving its state");
        if (errno != EAGAIN)
            throw CheckpointError(std::string("checkpoint: cannot ask the program for its state: ") + std::strerror(errno));
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd writable{fd, POLLOUT, 0};
        if (left <= 0 || ::poll(&writable, 1, static_cast<int>(left)) == 0)
            throw CheckpointError("checkpoint: the program does not read its checkpoint channel");
    }
    unsigned char length[8];
    receive(fd, reinterpret_cast<char*>(length), sizeof length, deadline);
    std::uint64_t size = 0;
    for (int i = 7; i >= 0; --i) size = size << 8 | length[i];
    if (size > kMaxAppState)
        throw CheckpointError("checkpoint: the program's state is " + std::to_string(size) + " bytes; at most " +
                              std::to_string(kMaxAppState >> 20) + " MiB is kept");
    std::string state(size, '\0');
    receive(fd, state.data(), state.size(), deadline);
    return state;
}

}  // namespace sandlock
