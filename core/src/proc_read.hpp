// Reading a /proc file of a process that may exit meanwhile (sdk/small_file.hpp): what could
// be read, "" when nothing.
#pragma once

#include <sandlock/sdk/small_file.hpp>

#include <string>

namespace sandlock {

inline std::string read_proc_file(const std::string& path) { return sdk::read_small_file(path).value_or(""); }

}  // namespace sandlock
