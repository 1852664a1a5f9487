// `sandlock branch list|show|commit|abort|snapshot`: the kept branches of the branchfs layer.
// The work is the plugin's own (a plugin command); this file only turns flags into its request.
#include "commands.hpp"

#include <sandlock/plugins.hpp>

#include <boost/json.hpp>

#include <iostream>
#include <memory>

namespace sandlock::cli {

std::function<int()> add_branch_command(CLI::App& branch_app, const GlobalOptions& global) {
    CLI::App* branch = &branch_app;
    branch->require_subcommand(1);
    branch->fallthrough();  // `branch list --fs-storage DIR` as well as `branch --fs-storage DIR list`
    auto storage = std::make_shared<std::string>();
    auto id = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    branch->add_option("--fs-storage", *storage, "Storage directory of the branches (default: as for run)");
    struct Action {
        const char* name;
        const char* about;
        bool takes_id;
    };
    constexpr Action kActions[] = {
        {"list", "List the branches: kept, running and interrupted ones", false},
        {"show", "Show a branch and its changes (A added, M modified, D deleted)", true},
        {"commit", "Apply a kept branch to its workspace (or its parent branch)", true},
        {"abort", "Discard a kept branch", true},
        {"snapshot", "Freeze a copy of a branch (nest on it with run --branch-from ID); prints its id", true},
    };
    auto actions = std::make_shared<std::vector<std::pair<std::string, CLI::App*>>>();
    for (const Action& action : kActions) {
        CLI::App* sub = branch->add_subcommand(action.name, action.about);
        if (action.takes_id) sub->add_option("id", *id, "Branch id (see `sandlock branch list`)")->required();
        if (std::string_view(action.name) == "list" || std::string_view(action.name) == "show")
            sub->add_flag("--json", *json, "Machine-readable output");
        actions->emplace_back(action.name, sub);
    }

    return [actions, storage, id, json, branch, &global] {
                refuse_empty_values(*branch);
                boost::json::object request;
                for (const auto& [name, sub] : *actions)
                    if (sub->parsed()) request["command"] = name;
                request["id"] = *id;
                request["json"] = *json;
                if (!storage->empty()) request["fs_storage"] = *storage;
                std::cout << run_plugin_command("branchfs", boost::json::serialize(request), global.plugin_path);
                return 0;
            };
}

}  // namespace sandlock::cli
