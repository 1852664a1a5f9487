// Small /proc files read with plain read(2): a process that exits meanwhile yields nothing
// rather than an exception from an iostream.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace sandlock::checkpoint {

std::optional<std::string> read_proc_file(const std::string& path);
std::optional<std::string> read_proc_link(const std::string& path);
std::string proc_path(pid_t pid, const std::string& entry);

}  // namespace sandlock::checkpoint
