// Every value parser of the CLI and profiles (sizes, ports, percent, counts, durations, env
// assignments) and the quoting of values in messages. The first byte picks the parser.
#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/units.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

// Quoted values are one line and bounded whatever the input.
void check_quoting(std::string_view text) {
    for (const std::string& shown : {sandlock::quote_value(text), sandlock::one_line(text)}) {
        if (shown.size() > 4 * 1024 + 64) std::abort();
        for (char c : shown)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    check_quoting(text);
    try {
        switch (data[0] % 7) {
            case 0:
                if (sandlock::parse_size("f", text) == 0) std::abort();
                break;
            case 1: {
                const sandlock::PortRange range = sandlock::parse_port_range("f", text);
                if (range.first == 0 || range.first > range.last) std::abort();
                break;
            }
            case 2: {
                const auto percent = sandlock::parse_cpu_percent("f", text);
                if (percent < 1 || percent > 100) std::abort();
                break;
            }
            case 3: sandlock::parse_count("f", text); break;
            case 4:
                if (!(sandlock::parse_seconds("f", text) > 0)) std::abort();
                break;
            case 5: {
                const auto [name, value] = sandlock::parse_env_assignment("f", text);
                if (name.empty() || name.find('=') != std::string::npos || value.find('\0') != std::string::npos)
                    std::abort();
                break;
            }
            default:
                sandlock::check_text("f", text, static_cast<sandlock::TextKind>(data[0] / 7 % 4));
                break;
        }
    } catch (const sandlock::PolicyError& e) {
        // Every refusal is one line naming the field.
        const std::string_view message = e.what();
        if (!message.starts_with("f: ") || message.find('\n') != std::string_view::npos || message.size() > 512)
            std::abort();
    }
    return 0;
}
