// /proc entries of a process being checkpointed: files read with plain read(2) (a process
// that exits meanwhile yields nothing rather than an exception) and links.
#pragma once

#include <sandlock/sdk/small_file.hpp>

#include <sys/types.h>

#include <optional>
#include <string>

namespace sandlock::checkpoint {

// Whole: a memory map may be long.
inline std::optional<std::string> read_proc_file(const std::string& path) {
    return sdk::read_small_file(path, std::string().max_size());
}
std::optional<std::string> read_proc_link(const std::string& path);
std::string proc_path(pid_t pid, const std::string& entry);

}  // namespace sandlock::checkpoint
