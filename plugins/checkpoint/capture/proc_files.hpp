// /proc entries of a process being checkpointed: files read with plain read(2) (a process
// that exits meanwhile yields nothing rather than an exception) and links.
#pragma once

#include <sandlock/sdk/small_file.hpp>

#include <sys/types.h>

#include <optional>
#include <string>

namespace sandlock::checkpoint {

// At most `limit` bytes: what a process shows there is its to make long (its command line).
inline std::optional<std::string> read_proc_file(const std::string& path, std::size_t limit = 64 * 1024) {
    return sdk::read_small_file(path, limit);
}
std::optional<std::string> read_proc_link(const std::string& path);
std::string proc_path(pid_t pid, const std::string& entry);

}  // namespace sandlock::checkpoint
