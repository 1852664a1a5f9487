// Checks a shared object's ELF header and program headers against the file before the dynamic
// loader maps it: a file cut short inside a loaded segment would otherwise be mapped past its
// end, and the first touch of that page kills the host with SIGBUS.
#pragma once

#include <filesystem>
#include <string>

namespace sandlock {

// "" when `path` is a shared object of this machine whose headers and loaded segments lie
// within the file; otherwise the reason, e.g. "truncated: a loaded segment ends at byte 81920
// but the file has 4096 bytes".
std::string elf_problem(const std::filesystem::path& path);

}  // namespace sandlock
