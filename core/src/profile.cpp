#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/sdk/policy_schema.hpp>
#include <sandlock/profile.hpp>
#include <sandlock/units.hpp>

#include <boost/json.hpp>

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace sandlock {
namespace fs = std::filesystem;
namespace {

// Reads one profile's fields into a Policy, naming source:line in every error.
class ProfileReader {
public:
    ProfileReader(const std::string& source, Policy& policy) : source_(source), policy_(policy) {}

    void read(const toml::table& root) {
        for (const auto& [key, node] : root) field(std::string(key.str()), node);
    }

private:
    [[noreturn]] void fail(const toml::node& node, const std::string& message) const {
        throw PolicyError(source_ + ":" + std::to_string(node.source().begin.line) + ": " + message);
    }
    [[noreturn]] void wrong_type(const std::string& key, const toml::node& node, std::string_view expected) const {
        fail(node, "field '" + key + "' expects " + std::string(expected) + ", got " + type_name(node));
    }
    static std::string type_name(const toml::node& node) {
        std::ostringstream out;
        out << node.type();
        return out.str();
    }

    bool boolean(const std::string& key, const toml::node& node) const {
        if (auto v = node.value<bool>(); v && node.is_boolean()) return *v;
        wrong_type(key, node, "a boolean (true or false)");
    }
    // Every string is checked where it is read, so the error names file:line.
    std::string string(const std::string& key, const toml::node& node, TextKind kind) const {
        if (!node.is_string()) wrong_type(key, node, "a string");
        std::string value = *node.value<std::string>();
        checked(key, value, kind, node);
        return value;
    }
    std::vector<std::string> strings(const std::string& key, const toml::node& node, TextKind kind) const {
        const toml::array* array = node.as_array();
        if (array == nullptr) wrong_type(key, node, "an array of strings");
        std::vector<std::string> out;
        for (const auto& item : *array) {
            if (!item.is_string()) wrong_type(key, item, "an array of strings");
            out.push_back(*item.value<std::string>());
            checked(key, out.back(), kind, item);
        }
        return out;
    }
    void checked(const std::string& key, std::string_view value, TextKind kind, const toml::node& node) const {
        try {
            check_text(key, value, kind);
        } catch (const PolicyError& e) {
            fail(node, e.what());
        }
    }
    // A string parsed by `parse`, or an integer taken as its decimal text.
    template <class Parse>
    auto string_or_integer(const std::string& key, const toml::node& node, Parse parse, std::string_view expected) const {
        try {
            if (node.is_integer()) return parse(key, std::to_string(*node.value<std::int64_t>()));
            if (node.is_string()) return parse(key, *node.value<std::string>());
        } catch (const PolicyError& e) {
            fail(node, e.what());
        }
        wrong_type(key, node, expected);
    }
    std::vector<PortRange> ports(const std::string& key, const toml::node& node) const {
        const toml::array* array = node.as_array();
        if (array == nullptr) wrong_type(key, node, "an array of ports (80) or ranges (\"8000-9000\")");
        std::vector<PortRange> out;
        for (const auto& item : *array)
            out.push_back(string_or_integer(key, item, parse_port_range, "a port (80) or a range (\"8000-9000\")"));
        return out;
    }
    template <class Enum>
    Enum choice(const std::string& key, const toml::node& node,
                std::initializer_list<std::pair<std::string_view, Enum>> choices) const {
        std::string value = string(key, node, TextKind::Name);
        std::string names;
        for (const auto& [name, e] : choices) {
            if (name == value) return e;
            names += names.empty() ? std::string(name) : ", " + std::string(name);
        }
        fail(node, "field '" + key + "' is " + quote_value(value) + ", expected one of: " + names);
    }
    void plugins_table(const toml::table& table) {
        for (const auto& [name, node] : table) {
            std::string key(name.str());
            if (key == "enabled") {
                policy_.plugins = strings("plugins.enabled", node, TextKind::Name);
            } else if (const toml::table* options = node.as_table()) {
                checked("plugins", key, TextKind::Name, node);
                std::ostringstream json;
                json << toml::json_formatter{*options};
                try {
                    boost::json::parse_options limits;
                    limits.max_depth = kPluginOptionsMaxDepth;
                    policy_.plugin_options[key] =
                        boost::json::serialize(boost::json::parse(json.str(), {}, limits));  // compact
                } catch (const std::exception& e) {
                    fail(node, "[plugins." + key + "]: the options cannot be passed to the plugin as JSON (" +
                                   e.what() + "; nest tables and arrays at most " +
                                   std::to_string(kPluginOptionsMaxDepth) + " levels deep)");
                }
            } else {
                wrong_type("plugins." + one_line(key, 64), node, "a table of that plugin's options");
            }
        }
    }

    void field(const std::string& key, const toml::node& node) {
        Policy& p = policy_;
        if (key == "fs_writable") p.fs_writable = strings(key, node, TextKind::Path);
        else if (key == "fs_readable") p.fs_readable = strings(key, node, TextKind::Path);
        else if (key == "fs_denied") p.fs_denied = strings(key, node, TextKind::Path);
        else if (key == "deny_syscalls") p.deny_syscalls = strings(key, node, TextKind::Name);
        else if (key == "allow_syscalls") p.allow_syscalls = strings(key, node, TextKind::Name);
        else if (key == "net_allow_hosts") p.net_allow_hosts = strings(key, node, TextKind::Name);
        else if (key == "net_bind") p.net_bind = ports(key, node);
        else if (key == "net_connect") p.net_connect = ports(key, node);
        else if (key == "isolate_ipc") p.isolate_ipc = boolean(key, node);
        else if (key == "isolate_signals") p.isolate_signals = boolean(key, node);
        else if (key == "max_memory") p.max_memory = string_or_integer(key, node, parse_size, "a size such as \"512M\"");
        else if (key == "max_disk") p.max_disk = string_or_integer(key, node, parse_size, "a size such as \"1G\"");
        else if (key == "max_processes") p.max_processes = string_or_integer(key, node, parse_count, "a whole number");
        else if (key == "max_cpu") p.max_cpu = string_or_integer(key, node, parse_cpu_percent, "a share such as \"50%\"");
        else if (key == "clean_env") p.clean_env = boolean(key, node);
        else if (key == "close_fds") p.close_fds = boolean(key, node);
        else if (key == "strict") p.strict = boolean(key, node);
        else if (key == "privileged") p.privileged = boolean(key, node);
        else if (key == "chroot") p.chroot = string(key, node, TextKind::Path);
        else if (key == "fs_mount") p.fs_mount = string(key, node, TextKind::Path);
        else if (key == "fs_storage") p.fs_storage = string(key, node, TextKind::Path);
        else if (key == "fs_isolation")
            p.fs_isolation = choice<FsIsolation>(key, node, {{"none", FsIsolation::None}, {"branchfs", FsIsolation::BranchFs}});
        else if (key == "on_exit" || key == "on_error") {
            auto action = choice<BranchAction>(
                key, node, {{"commit", BranchAction::Commit}, {"abort", BranchAction::Abort}, {"keep", BranchAction::Keep}});
            (key == "on_exit" ? p.on_exit : p.on_error) = action;
        } else if (key == "env") {
            const toml::table* table = node.as_table();
            if (table == nullptr) wrong_type(key, node, "a table of strings ([env])");
            for (const auto& [name, value] : *table) {
                const std::string env_name(name.str());
                checked("env", env_name, TextKind::EnvName, value);
                p.env[env_name] = string("env." + env_name, value, TextKind::EnvValue);
            }
        } else if (key == "plugins") {
            if (node.is_array()) p.plugins = strings(key, node, TextKind::Name);
            else if (const toml::table* table = node.as_table()) plugins_table(*table);
            else wrong_type(key, node, "an array of plugin names or a [plugins] table");
        } else {
            fail(node, "unknown field " + quote_value(key) + " (fields are named like the Policy: fs_readable, max_memory, ...)");
        }
    }

    const std::string& source_;
    Policy& policy_;
};

// TOML allows non-ASCII text only inside strings and comments. toml++ 3.3 (Debian 12) reaches a
// __builtin_unreachable() (undefined behaviour) when it asks whether some non-ASCII characters
// are whitespace (U+00A1-U+0499, U+2C6E-U+3067, U+F8F6-U+FEFE; found by tests/fuzz/profile_fuzz),
// which it does wherever a token may end. parse_toml below makes sure it is only ever given
// non-ASCII text inside the strings and comments of a well-formed document.
void refuse_non_ascii_outside_strings(std::string_view text, const std::string& source) {
    std::size_t line = 1;
    std::size_t i = 0;
    auto skip_string = [&](char quote) {
        const std::string triple(3, quote);
        const bool multiline = text.substr(i, 3) == triple;
        i += multiline ? 3 : 1;
        while (i < text.size()) {
            if (multiline && text.substr(i, 3) == triple) {
                i += 3;
                while (i < text.size() && text[i] == quote) ++i;  // up to two quotes end the content
                return;
            }
            if (!multiline && text[i] == quote) {
                ++i;
                return;
            }
            if (text[i] == '\n') {
                if (!multiline) return;  // unterminated: toml++ reports it
                ++line;
            }
            if (quote == '"' && text[i] == '\\') ++i;  // an escape: skip what it escapes
            ++i;
        }
    };
    while (i < text.size()) {
        const char c = text[i];
        if (c == '"' || c == '\'') {
            skip_string(c);
            continue;
        }
        if (c == '#') {
            while (i < text.size() && text[i] != '\n') ++i;
            continue;
        }
        if (c == '\n') ++line;
        if (static_cast<unsigned char>(c) >= 0x80)
            throw PolicyError(source + ":" + std::to_string(line) +
                              ": a non-ASCII character outside a string (TOML allows it only in strings and "
                              "comments; quote the key or value)");
        ++i;
    }
}

toml::table parse_toml_as_is(std::string_view text, const std::string& source) {
    try {
        return toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        throw PolicyError(source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
}

// First the structure, on a copy with every non-ASCII byte replaced by 'x' (lines unchanged);
// then, once the document is known to be well formed and its non-ASCII text known to sit in
// strings and comments, the text itself.
toml::table parse_toml(std::string_view text, const std::string& source) {
    const bool ascii = std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (!ascii) {
        std::string masked(text);
        for (char& c : masked)
            if (static_cast<unsigned char>(c) >= 0x80) c = 'x';
        parse_toml_as_is(masked, source);
        refuse_non_ascii_outside_strings(text, source);
    }
    return parse_toml_as_is(text, source);
}

bool valid_profile_name(std::string_view name) {
    return !name.empty() && name.front() != '.' && name.find('/') == std::string_view::npos &&
           std::none_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

std::vector<fs::path> profile_dirs() {
    std::vector<fs::path> dirs;
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0')
        dirs.push_back(fs::path(xdg) / "sandlock/profiles");
    else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
        dirs.push_back(fs::path(home) / ".config/sandlock/profiles");
    dirs.emplace_back("/etc/sandlock/profiles");
    return dirs;
}

std::vector<ProfileEntry> list_profiles() {
    std::vector<ProfileEntry> found;
    std::set<std::string> seen;
    for (const auto& dir : profile_dirs()) {
        std::error_code ec;
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".toml") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const auto& file : files)
            if (seen.insert(file.stem().string()).second) found.push_back({file.stem().string(), file});
    }
    return found;
}

fs::path find_profile(std::string_view name) {
    if (!valid_profile_name(name))
        throw PolicyError("profile: invalid name " + quote_value(name) + " (a file name without '/')");
    std::string searched;
    for (const auto& dir : profile_dirs()) {
        fs::path file = dir / (std::string(name) + ".toml");
        std::error_code ec;
        if (fs::is_regular_file(file, ec)) return file;
        searched += (searched.empty() ? "" : ", ") + dir.string();
    }
    throw PolicyError("profile: no profile named " + quote_value(name) + " (searched: " + searched +
                      "; see 'sandlock profile list')");
}

Policy parse_profile(std::string_view toml_text, const std::string& source) {
    toml::table root = parse_toml(toml_text, source);
    Policy policy;
    ProfileReader(source, policy).read(root);
    return policy;
}

Policy load_profile(std::string_view name) {
    fs::path file = find_profile(name);
    std::ifstream in(file);
    if (!in) throw PolicyError("profile: cannot read " + file.string());
    std::stringstream text;
    text << in.rdbuf();
    return parse_profile(text.str(), file.string());
}

}  // namespace sandlock
