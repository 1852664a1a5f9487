// Filtering the records of a getdents/getdents64 buffer in place. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace sandlock::notif {

enum class DirentFormat {
    Dirent64,  // struct linux_dirent64 (getdents64): the name at offset 19
    Legacy,    // struct linux_dirent (getdents, 64-bit): the name at offset 18
};

// Drops the records whose name `keep` rejects, moving the rest to the front; returns the length
// of what is kept. A malformed record ends the walk (it and what follows are dropped).
std::size_t filter_dirents(std::span<std::uint8_t> buffer, DirentFormat format,
                           const std::function<bool(std::string_view name)>& keep);

}  // namespace sandlock::notif
