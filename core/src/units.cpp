#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/units.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>

namespace sandlock {
namespace {

[[noreturn]] void bad(std::string_view field, std::string_view text, std::string_view expected) {
    throw PolicyError(std::string(field) + ": invalid value " + quote_value(text) + " (expected " +
                      std::string(expected) + ")");
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A decimal number with an optional fraction, all of `text`; nullopt otherwise.
std::optional<double> parse_decimal(std::string_view text) {
    // Digits and at most one point: from_chars alone would also take "1e3", "inf" or "nan".
    if (text.empty() || std::count(text.begin(), text.end(), '.') > 1 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }))
        return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

template <class T>
std::optional<T> parse_whole(std::string_view text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::uint64_t parse_size(std::string_view field, std::string_view text) {
    constexpr std::string_view expected = "a size such as 512M, 1.5G, 100K or a number of bytes";
    std::string s = lower(text);
    if (s.ends_with("ib")) s.resize(s.size() - 2);  // "1.5GiB"
    else if (s.ends_with('b')) s.pop_back();         // "512MB", "4096b"
    double multiplier = 1;
    if (!s.empty()) {
        switch (s.back()) {
            case 'k': multiplier = 1024.0; break;
            case 'm': multiplier = 1024.0 * 1024; break;
            case 'g': multiplier = 1024.0 * 1024 * 1024; break;
            case 't': multiplier = 1024.0 * 1024 * 1024 * 1024; break;
            default: break;
        }
        if (multiplier != 1) s.pop_back();
    }
    auto number = parse_decimal(s);
    if (!number) bad(field, text, expected);
    double bytes = std::floor(*number * multiplier);
    if (bytes < 1 || bytes > 1.8e19) bad(field, text, "a size greater than 0 and below 16 EiB");
    return static_cast<std::uint64_t>(bytes);
}

PortRange parse_port_range(std::string_view field, std::string_view text) {
    constexpr std::string_view expected = "a TCP port 1-65535 or a range such as 8000-9000";
    auto port = [&](std::string_view part) {
        auto value = parse_whole<std::uint32_t>(part);
        if (!value || *value == 0 || *value > 65535) bad(field, text, expected);
        return static_cast<std::uint16_t>(*value);
    };
    auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        auto p = port(text);
        return {p, p};
    }
    PortRange range{port(text.substr(0, dash)), port(text.substr(dash + 1))};
    if (range.first > range.last) bad(field, text, "a range whose first port is not above its last");
    return range;
}

std::uint32_t parse_cpu_percent(std::string_view field, std::string_view text) {
    std::string_view number = text;
    if (number.ends_with('%')) number.remove_suffix(1);
    auto value = parse_whole<std::uint32_t>(number);
    if (!value || *value < 1 || *value > 100) bad(field, text, "a share of one core from 1% to 100%");
    return *value;
}

std::uint32_t parse_count(std::string_view field, std::string_view text) {
    auto value = parse_whole<std::uint32_t>(text);
    if (!value) bad(field, text, "a whole number from 0 to 4294967295");
    return *value;
}

double parse_seconds(std::string_view field, std::string_view text) {
    auto value = parse_decimal(text);
    if (!value || *value <= 0 || *value > 1e9) bad(field, text, "a number of seconds greater than 0, such as 30 or 1.5");
    return *value;
}

std::pair<std::string, std::string> parse_env_assignment(std::string_view field, std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) bad(field, text, "KEY=VALUE");
    std::pair<std::string, std::string> kv{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
    check_text(field, kv.first, TextKind::EnvName);
    check_text(field, kv.second, TextKind::EnvValue);
    return kv;
}

}  // namespace sandlock
