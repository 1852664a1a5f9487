// The `sandlock` subcommands. Each registers its flags and returns the exit code when run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace sandlock::cli {

// Options given before the subcommand.
struct GlobalOptions {
    std::vector<std::string> plugins;
    std::vector<std::string> plugin_path;
    bool verbose = false;
};

struct Subcommand {
    CLI::App* app;
    std::function<int()> run;  // called after parsing when this subcommand was chosen
};

Subcommand add_run_command(CLI::App& app, const GlobalOptions& global);
Subcommand add_profile_command(CLI::App& app);
Subcommand add_check_command(CLI::App& app, const GlobalOptions& global);
Subcommand add_plugins_command(CLI::App& app, const GlobalOptions& global);

// Exit code for failures of sandlock itself (bad input, policy, plugin, confinement).
inline constexpr int kExitSandlockFailed = 125;

}  // namespace sandlock::cli
