// Checks CLI11 does not make: an option given with an empty value is refused (`-m "$UNSET"`
// must not mean "no limit"), and the global options are checked before CLI11 sees them, since
// an empty `--plugins=` or a `--plugin-path` without its directory would otherwise swallow the
// subcommand and be reported as "A subcommand is required".
#include "commands.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>

#include <string_view>

namespace sandlock::cli {
namespace {

constexpr std::string_view kCommandNames[] = {"run", "profile", "check", "plugins"};

bool is_command_name(std::string_view arg) {
    for (std::string_view name : kCommandNames)
        if (arg == name) return true;
    return false;
}

void check_plugin_list(std::string_view list) {
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = list.find(',', start);
        const std::string_view item = list.substr(start, comma == std::string_view::npos ? list.npos : comma - start);
        if (item.empty())
            throw PolicyError("--plugins: invalid value " + quote_value(list) +
                              " (an empty plugin name; give names separated by commas, e.g. --plugins=landlock,seccomp)");
        if (comma == std::string_view::npos) return;
        start = comma + 1;
    }
}

}  // namespace

void check_global_arguments(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg(argv[i]);
        if (arg == "--") return;
        for (std::string_view option : {std::string_view("--plugins"), std::string_view("--plugin-path")}) {
            std::string_view value;
            if (arg == option) {
                if (i + 1 >= argc || is_command_name(argv[i + 1]) || std::string_view(argv[i + 1]).starts_with('-'))
                    throw PolicyError(std::string(option) + ": needs a value (" +
                                      (option == "--plugins" ? "plugin names, e.g. --plugins=landlock,seccomp"
                                                             : "a directory, e.g. --plugin-path ./plugins") +
                                      ")");
                value = argv[++i];
            } else if (arg.starts_with(std::string(option) + "=")) {
                value = arg.substr(option.size() + 1);
            } else {
                continue;
            }
            if (option == "--plugins") check_plugin_list(value);
            else check_text("--plugin-path", value, TextKind::Path);
        }
        if (!arg.starts_with('-')) return;  // the subcommand: its own flags are checked after parsing
    }
}

void refuse_empty_values(const CLI::App& app) {
    for (const CLI::Option* option : app.get_options()) {
        if (option->get_positional() || option->get_expected_min() == 0) continue;  // flags, the command
        for (const std::string& value : option->results())
            if (value.empty())
                throw PolicyError(option->get_name() + ": empty value; give a value or leave the flag out");
    }
}

}  // namespace sandlock::cli
