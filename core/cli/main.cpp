// sandlock: argv -> Policy -> Sandbox. Exit codes: the command's own; 128+N when killed by
// signal N; 124 on timeout; 125 when sandlock itself failed; 126/127 when the command cannot
// be run / is not found.
#include "commands.hpp"
#include "logging.hpp"

#include <sandlock/errors.hpp>

#include <iostream>

int main(int argc, char** argv) {
    using namespace sandlock::cli;
    CLI::App app{"sandlock: a lightweight process sandbox (Landlock, seccomp, user notification)", "sandlock"};
    app.require_subcommand(1);
    GlobalOptions global;
    app.add_option("--plugins", global.plugins, "Layers to run, e.g. landlock,seccomp (default: what the policy needs)")
        ->delimiter(',');
    app.add_option("--plugin-path", global.plugin_path, "Directory searched first for plugins (repeatable)");
    app.add_flag("-v,--verbose", global.verbose, "Log what sandlock does (or SANDLOCK_LOG=debug)");

    const Subcommand commands[] = {add_run_command(app, global), add_profile_command(app),
                                   add_check_command(app, global), add_plugins_command(app, global)};

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        std::cerr << "sandlock: error: " << e.what() << " (see 'sandlock --help')\n";
        return kExitSandlockFailed;
    }
    if (global.verbose) sandlock::logging::set_threshold(sandlock::logging::Level::Debug);
    try {
        for (const auto& command : commands)
            if (command.app->parsed()) return command.run();
    } catch (const std::exception& e) {
        std::cerr << "sandlock: error: " << e.what() << "\n";
    }
    return kExitSandlockFailed;
}
