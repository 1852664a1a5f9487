#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <algorithm>

namespace sandlock {
namespace {

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// The first offending byte, as the message names it.
std::string describe(unsigned char c) {
    if (c == 0) return "a NUL byte";
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("the control character \\x") + kHex[c >> 4] + kHex[c & 0xf];
}

[[noreturn]] void refuse(std::string_view field, std::string_view value, const std::string& why) {
    throw PolicyError(std::string(field) + ": invalid value " + quote_value(value) + " (" + why + ")");
}

template <class Bad>
const char* find_bad(std::string_view value, Bad bad) {
    auto it = std::find_if(value.begin(), value.end(), [&](char c) { return bad(static_cast<unsigned char>(c)); });
    return it == value.end() ? nullptr : &*it;
}

}  // namespace

namespace {

// `value` with quotes, backslashes (when `quoting`) and control characters escaped, at most
// `limit` bytes of it, plus the full length when cut.
std::string escaped(std::string_view value, std::size_t limit, bool quoting) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    const std::size_t shown = std::min(value.size(), limit);
    for (std::size_t i = 0; i < shown; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (quoting && (c == '"' || c == '\\')) {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (is_control(c)) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (shown < value.size()) out += "... (" + std::to_string(value.size()) + " bytes)";
    return out;
}

}  // namespace

std::string quote_value(std::string_view value, std::size_t limit) {
    std::string out = "\"" + escaped(value.substr(0, limit), limit, true) + "\"";
    if (value.size() > limit) out += "... (" + std::to_string(value.size()) + " bytes)";
    return out;
}

std::string one_line(std::string_view message, std::size_t limit) { return escaped(message, limit, false); }

void check_text(std::string_view field, std::string_view value, TextKind kind) {
    const std::string fix = kind == TextKind::Path ? "write the path without control characters"
                                                   : "write it without control characters";
    if (kind == TextKind::EnvValue) {
        // Only NUL: a C string ends there, so the variable would silently be cut short. Other
        // control characters are legitimate in values (multi-line variables, ESC in PS1 or
        // LS_COLORS) and reach the program intact.
        if (value.find('\0') != std::string_view::npos)
            refuse(field, value, "contains a NUL byte, which would cut the value short; remove it");
        return;
    }
    if (value.empty()) {
        refuse(field, value, kind == TextKind::Path ? "empty; give a path or leave the entry out"
                                                    : "empty; give a name or leave the entry out");
    }
    if (const char* bad = find_bad(value, is_control)) refuse(field, value, "contains " + describe(static_cast<unsigned char>(*bad)) + "; " + fix);
    if (kind == TextKind::Name && value.find(' ') != std::string_view::npos)
        refuse(field, value, "contains a space; give one name per entry");
    if (kind == TextKind::EnvName && value.find('=') != std::string_view::npos)
        refuse(field, value, "a variable name cannot contain '='; write NAME = \"value\"");
}

void check_policy_text(const Policy& p) {
    auto each = [](std::string_view field, const auto& values, TextKind kind) {
        for (const auto& value : values) check_text(field, value, kind);
    };
    each("fs_writable", p.fs_writable, TextKind::Path);
    each("fs_readable", p.fs_readable, TextKind::Path);
    each("fs_denied", p.fs_denied, TextKind::Path);
    if (p.deny_syscalls) each("deny_syscalls", *p.deny_syscalls, TextKind::Name);
    if (p.allow_syscalls) each("allow_syscalls", *p.allow_syscalls, TextKind::Name);
    each("net_allow_hosts", p.net_allow_hosts, TextKind::Name);
    for (const auto& [name, value] : p.env) {
        check_text("env", name, TextKind::EnvName);
        check_text("env." + name, value, TextKind::EnvValue);
    }
    if (p.fs_mount) check_text("fs_mount", *p.fs_mount, TextKind::Path);
    if (p.fs_storage) check_text("fs_storage", *p.fs_storage, TextKind::Path);
    if (p.chroot) check_text("chroot", *p.chroot, TextKind::Path);
    each("plugins", p.plugins, TextKind::Name);
    for (const auto& [name, options] : p.plugin_options) {
        check_text("plugins", name, TextKind::Name);
        // Each plugin parses the options out of the policy JSON: they must be an object that
        // stays within Boost.JSON's depth once wrapped there.
        boost::system::error_code ec;
        boost::json::parse_options limits;
        limits.max_depth = kPluginOptionsMaxDepth;
        const boost::json::value parsed = boost::json::parse(options, ec, {}, limits);
        if (ec || !parsed.is_object())
            throw PolicyError("plugin_options." + name + ": invalid value " + quote_value(options) + " (" +
                              (ec ? ec.message() : std::string("not a JSON object")) +
                              "; give a JSON object nested at most " + std::to_string(kPluginOptionsMaxDepth) +
                              " levels deep)");
    }
}

}  // namespace sandlock
