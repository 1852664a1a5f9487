// The checkpoint channel of an exec'd command (ExecIo::checkpoint_channel): how a checkpoint
// asks a program that is not ours for its own state. The program finds the channel as fd 3
// (SANDLOCK_CHECKPOINT_FD=3); sandlock writes one byte, 'C'; the program answers with an
// 8-byte little-endian length and that many bytes of state.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace sandlock {

inline constexpr char kCheckpointRequest = 'C';
inline constexpr std::size_t kMaxAppState = 16u << 20;
inline constexpr std::chrono::milliseconds kAppStateTimeout{10'000};

// The state the program on the other end of `fd` gives. Throws CheckpointError when it closed
// the channel, answers too much or not within `timeout`.
std::string ask_app_state(int fd, std::chrono::milliseconds timeout = kAppStateTimeout);

}  // namespace sandlock
