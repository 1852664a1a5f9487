// sandlock: argv -> Policy -> Sandbox. Exit codes: the command's own; 128+N when killed by
// signal N; 124 on timeout; 125 when sandlock itself failed; 126/127 when the command cannot
// be run / is not found.
#include "commands.hpp"
#include "logging.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string_view>

namespace {

using namespace sandlock::cli;

struct CommandSpec {
    const char* name;
    const char* about;
    std::function<int()> (*add)(CLI::App&, const GlobalOptions&);
};

constexpr CommandSpec kCommands[] = {
    {"run", "Run a command in a sandbox: sandlock run [flags] -- CMD ARGS...", &add_run_command},
    {"profile", "List and show saved profiles", &add_profile_command},
    {"check", "Report kernel features and the plugins found", &add_check_command},
    {"plugins", "List the plugins found and the policy fields each enforces", &add_plugins_command},
    {"branch", "List, show, commit and abort the branches of fs_isolation = branchfs", &add_branch_command},
    {"ps", "List the running named sandboxes (run --name) with their use and limits", &add_ps_command},
    {"inspect", "Show a named sandbox: policy, process tree, supervisor counters", &add_inspect_command},
    {"pause", "Freeze every process of a named sandbox", &add_pause_command},
    {"resume", "Thaw a paused named sandbox", &add_resume_command},
    {"kill", "Kill every process of a named sandbox", &add_kill_command},
    {"update", "Change a named sandbox's limits: sandlock update NAME -m 256M -P 8", &add_update_command},
    {"checkpoint", "Checkpoint a named sandbox (NAME --save CP); list, show and delete checkpoints", &add_checkpoint_command},
    {"restore", "Continue a checkpoint's process in a new sandbox where it stopped", &add_restore_command},
};

// The subcommand argv names (the first word that is not a global option or its value). Only
// that one gets its flags: building every flag of every subcommand costs more at start than
// the whole sandbox should.
std::string_view chosen_command(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg(argv[i]);
        if (arg == "--plugins" || arg == "--plugin-path") ++i;
        else if (!arg.starts_with('-')) return arg;
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"sandlock: a lightweight process sandbox (Landlock, seccomp, user notification)", "sandlock"};
    app.require_subcommand(1);
    GlobalOptions global;
    app.add_option("--plugins", global.plugins, "Layers to run, e.g. landlock,seccomp (default: what the policy needs)")
        ->delimiter(',');
    app.add_option("--plugin-path", global.plugin_path, "Directory searched first for plugins (repeatable)")
        ->allow_extra_args(false);
    app.add_flag("-v,--verbose", global.verbose, "Log what sandlock does (or SANDLOCK_LOG=debug)");

    CLI::App* chosen = nullptr;
    std::function<int()> run_chosen;
    const std::string_view name = chosen_command(argc, argv);
    for (const CommandSpec& command : kCommands) {
        CLI::App* sub = app.add_subcommand(command.name, command.about);
        if (name == command.name) {
            chosen = sub;
            run_chosen = command.add(*sub, global);
        }
    }

    try {
        check_global_arguments(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "sandlock: error: " << sandlock::one_line(e.what()) << "\n";
        return kExitSandlockFailed;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        std::cerr << "sandlock: error: " << sandlock::one_line(e.what()) << " (see 'sandlock " << (name.empty() ? "" : std::string(name) + " ")
                  << "--help')\n";
        return kExitSandlockFailed;
    }
    if (global.verbose) sandlock::logging::set_threshold(sandlock::logging::Level::Debug);
    try {
        if (chosen != nullptr && chosen->parsed()) {
            const int code = run_chosen();
            // Everything is reported and reaped, and each command cleaned up after itself when
            // it returned: skip the teardown (the CLI's tree, static destructors, unloading
            // the plugins), whose writes only fault in copy-on-write pages.
            std::cout.flush();
            std::cerr.flush();
            std::fflush(nullptr);
            ::_exit(code);
        }
    } catch (const std::exception& e) {
        std::cerr << "sandlock: error: " << sandlock::one_line(e.what()) << "\n";
    }
    return kExitSandlockFailed;
}
