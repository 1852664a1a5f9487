// Checks a shared object's ELF header and program headers against the file before the dynamic
// loader maps it: a file cut short inside a loaded segment would otherwise be mapped past its
// end, and the first touch of that page kills the host with SIGBUS.
#pragma once

#include <filesystem>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock {

// "" when `path` is a shared object of this machine whose headers and loaded segments lie
// within the file; otherwise the reason, e.g. "truncated: a loaded segment ends at byte 81920
// but the file has 4096 bytes".
std::string elf_problem(const std::filesystem::path& path);

// The descriptors of the notes owned by `owner` with type `type` in the PT_NOTE segments of a
// file elf_problem() accepted, read from the file (nothing is mapped or run).
std::vector<std::string> elf_notes(const std::filesystem::path& path, std::string_view owner, std::uint32_t type);

}  // namespace sandlock
