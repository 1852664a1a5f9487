#include "procfs/dirent_filter.hpp"

#include <cstring>

namespace sandlock::notif {

std::size_t filter_dirents(std::span<std::uint8_t> buffer, DirentFormat format,
                           const std::function<bool(std::string_view name)>& keep) {
    constexpr std::size_t kReclenOffset = 16;  // after d_ino and d_off in both formats
    const std::size_t name_offset = format == DirentFormat::Dirent64 ? 19 : 18;
    std::size_t read = 0;
    std::size_t written = 0;
    while (read + name_offset < buffer.size()) {
        std::uint16_t reclen;
        std::memcpy(&reclen, buffer.data() + read + kReclenOffset, sizeof reclen);
        if (reclen <= name_offset || read + reclen > buffer.size()) break;
        const char* name = reinterpret_cast<const char*>(buffer.data() + read + name_offset);
        const std::size_t name_length = ::strnlen(name, reclen - name_offset);
        if (keep(std::string_view(name, name_length))) {
            if (written != read) std::memmove(buffer.data() + written, buffer.data() + read, reclen);
            written += reclen;
        }
        read += reclen;
    }
    return written;
}

}  // namespace sandlock::notif
