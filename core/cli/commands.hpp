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

// Each fills in the flags of its (already created) subcommand and returns how to run it.
std::function<int()> add_run_command(CLI::App& run, const GlobalOptions& global);
std::function<int()> add_profile_command(CLI::App& profile, const GlobalOptions& global);
std::function<int()> add_check_command(CLI::App& check, const GlobalOptions& global);
std::function<int()> add_plugins_command(CLI::App& plugins, const GlobalOptions& global);
std::function<int()> add_branch_command(CLI::App& branch, const GlobalOptions& global);
// Named sandboxes (named_commands.cpp).
std::function<int()> add_ps_command(CLI::App& ps, const GlobalOptions& global);
std::function<int()> add_inspect_command(CLI::App& inspect, const GlobalOptions& global);
std::function<int()> add_pause_command(CLI::App& pause, const GlobalOptions& global);
std::function<int()> add_resume_command(CLI::App& resume, const GlobalOptions& global);
std::function<int()> add_kill_command(CLI::App& kill, const GlobalOptions& global);
std::function<int()> add_update_command(CLI::App& update, const GlobalOptions& global);
// Checkpoints (checkpoint_command.cpp).
std::function<int()> add_checkpoint_command(CLI::App& checkpoint, const GlobalOptions& global);
std::function<int()> add_restore_command(CLI::App& restore, const GlobalOptions& global);

// Throws PolicyError for an empty or valueless --plugins / --plugin-path (before CLI11 parses).
void check_global_arguments(int argc, char** argv);
// Throws PolicyError naming the first option of `app` given with an empty value.
void refuse_empty_values(const CLI::App& app);

// Exit code for failures of sandlock itself (bad input, policy, plugin, confinement).
inline constexpr int kExitSandlockFailed = 125;

}  // namespace sandlock::cli
