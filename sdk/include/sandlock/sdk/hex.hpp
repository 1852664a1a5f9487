// Bytes as lowercase hex text, and back: how binary data (an app state, registers) crosses
// JSON between the core and a plugin, and sits in a checkpoint's manifest. Header-only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sandlock::sdk {

inline std::string hex_encode(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

// nullopt unless `text` is lowercase hex of whole bytes.
inline std::optional<std::string> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out(text.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int high = digit(text[2 * i]), low = digit(text[2 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        out[i] = static_cast<char>(high << 4 | low);
    }
    return out;
}

}  // namespace sandlock::sdk
