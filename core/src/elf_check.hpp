// Checks a shared object's ELF header and program headers against the file before the dynamic
// loader maps it: a file cut short inside a loaded segment would otherwise be mapped past its
// end, and the first touch of that page kills the host with SIGBUS.
#pragma once

#include "fd.hpp"

#include <elf.h>

#include <array>
#include <filesystem>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock {

// One shared object, opened once: its headers checked, its notes read from the same open file.
class ElfFile {
public:
    explicit ElfFile(const std::filesystem::path& path);

    // "" when the file is a shared object of this machine whose headers and loaded segments lie
    // within the file; otherwise the reason, e.g. "truncated: a loaded segment ends at byte
    // 81920 but the file has 4096 bytes".
    const std::string& problem() const { return problem_; }
    // The descriptors of the notes owned by `owner` with type `type` in the PT_NOTE segments
    // (nothing is mapped or run); none when problem() is not empty.
    std::vector<std::string> notes(std::string_view owner, std::uint32_t type) const;

private:
    std::string check();
    // `size` bytes at `offset`, from the file's first bytes when they lie in them (the headers
    // and a plugin's notes do: one read instead of three).
    bool read(void* out, std::size_t size, std::uint64_t offset) const;

    Fd fd_;
    std::array<char, 1024> head_;  // on the stack: a start touches no new heap page for it
    std::size_t head_size_ = 0;
    std::vector<Elf64_Phdr> segments_;
    std::string problem_;
};

inline std::string elf_problem(const std::filesystem::path& path) { return ElfFile(path).problem(); }

}  // namespace sandlock
