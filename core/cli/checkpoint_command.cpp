// `sandlock checkpoint NAME --save CP`, `checkpoint list|show|delete` and `sandlock restore CP`:
// flags into requests; the work is the checkpoint plugin's (plugin commands), the named
// sandbox's (its control socket) and the library's (Sandbox::restore).
#include "commands.hpp"

#include <sandlock/checkpoint.hpp>
#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/named.hpp>
#include <sandlock/plugins.hpp>
#include <sandlock/sandbox.hpp>

#include <boost/json.hpp>

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

namespace sandlock::cli {
namespace json = boost::json;

namespace {

std::string plugin_answer(const json::object& request, const GlobalOptions& global) {
    try {
        return run_plugin_command("checkpoint", json::serialize(request), global.plugin_path);
    } catch (const PluginError& e) {
        throw CheckpointError(e.what());
    }
}

std::string mib(std::uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1u << 20));
    return text;
}

}  // namespace

std::function<int()> add_checkpoint_command(CLI::App& checkpoint_app, const GlobalOptions& global) {
    CLI::App* checkpoint = &checkpoint_app;
    checkpoint->require_subcommand(0, 1);
    auto sandbox = std::make_shared<std::string>();
    auto save = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    checkpoint->add_option("sandbox", *sandbox, "The named sandbox to checkpoint (sandlock run --name)");
    checkpoint->add_option("--save", *save, "Save the checkpoint under this name");
    CLI::App* list = checkpoint->add_subcommand("list", "List the saved checkpoints");
    list->add_flag("--json", *as_json, "Machine-readable output");
    CLI::App* show = checkpoint->add_subcommand("show", "Show a checkpoint: processes, memory, what cannot be restored");
    show->add_option("checkpoint", *name, "The checkpoint's name")->required();
    show->add_flag("--json", *as_json, "Machine-readable output");
    CLI::App* remove = checkpoint->add_subcommand("delete", "Delete a saved checkpoint");
    remove->add_option("checkpoint", *name, "The checkpoint's name")->required();

    return [=, &global] {
        refuse_empty_values(*checkpoint);
        if (list->parsed()) {
            std::cout << plugin_answer({{"command", "list"}, {"json", *as_json}}, global);
            return 0;
        }
        if (show->parsed()) {
            std::cout << plugin_answer({{"command", "show"}, {"name", *name}, {"json", *as_json}}, global);
            return 0;
        }
        if (remove->parsed()) {
            Checkpoint::remove(*name, {.plugin_path = global.plugin_path});
            return 0;
        }
        if (sandbox->empty())
            throw PolicyError("checkpoint: name the sandbox to checkpoint (sandlock checkpoint NAME --save CP), or use "
                              "list, show or delete");
        if (save->empty()) throw PolicyError("checkpoint: --save CP is required (the name to keep the checkpoint under)");
        check_sandbox_name(*sandbox);
        const json::object reply =
            json::parse(control_named_sandbox(*sandbox, json::serialize(json::object{{"command", "checkpoint"}, {"save", *save}})))
                .as_object();
        std::cout << "saved checkpoint " << *save << ": " << reply.at("processes").to_number<std::uint64_t>()
                  << " process(es), " << mib(reply.at("memory_bytes").to_number<std::uint64_t>()) << "\n";
        for (const json::value& why : reply.at("unrestorable").as_array())
            std::cout << "  cannot be restored as it was: " << one_line(std::string(why.as_string())) << "\n";
        return 0;
    };
}

std::function<int()> add_restore_command(CLI::App& restore_app, const GlobalOptions& global) {
    CLI::App* restore = &restore_app;
    auto name = std::make_shared<std::string>();
    auto sandbox_name = std::make_shared<std::string>();
    auto skip = std::make_shared<bool>(false);
    restore->add_option("checkpoint", *name, "The saved checkpoint (sandlock checkpoint list)")->required();
    restore->add_option("--name", *sandbox_name, "Register the restored sandbox under NAME while it runs (sandlock ps, ...)");
    restore->add_flag("--skip-unrestorable", *skip,
                      "Restore without what cannot be recreated (sockets, pipes, devices): those fds are closed");
    return [=, &global] {
        refuse_empty_values(*restore);
        if (!sandbox_name->empty()) check_sandbox_name(*sandbox_name);
        Checkpoint checkpoint = Checkpoint::load(*name, {.plugin_path = global.plugin_path});
        // As for run: a terminating signal to sandlock ends the whole sandbox.
        sigset_t set;
        sigemptyset(&set);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
        sigprocmask(SIG_BLOCK, &set, nullptr);
        SandboxOptions options{global.plugins, global.plugin_path, signalfd(-1, &set, SFD_CLOEXEC), *sandbox_name, {}};
        Sandbox sandbox(checkpoint.policy(), std::move(options));
        ExecIo io = ExecIo::inherit();
        if (::isatty(0)) io.stdin_fd = -1;
        Result result = sandbox.restore(checkpoint, io, {.skip_unrestorable = *skip}).wait();
        try {
            sandbox.close();
        } catch (const SandboxError& e) {
            result.error = e.what();
            result.exit_code = kExitSandlockFailed;
        }
        if (!result.error.empty()) std::cerr << "sandlock: " << one_line(result.error) << "\n";
        return result.exit_code;
    };
}

}  // namespace sandlock::cli
