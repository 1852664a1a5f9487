// `sandlock plugins [--json]`: every plugin found, with its path, ABI and owned fields.
#include "commands.hpp"

#include <sandlock/check.hpp>

#include <iostream>
#include <map>
#include <string>
#include <vector>
#include <memory>

namespace sandlock::cli {

std::function<int()> add_plugins_command(CLI::App& plugins, const GlobalOptions& global) {
    auto json = std::make_shared<bool>(false);
    plugins.add_flag("--json", *json, "Machine-readable output (the 'plugins' part of check --json)");

    return [json, &global] {
                SystemReport report;
                report.plugin_dirs = plugin_search_path(global.plugin_path);
                report.plugins = discover_plugins(report.plugin_dirs);
                if (*json) {
                    std::cout << to_json(report) << "\n";
                    return 0;
                }
                std::cout << "searched:";
                for (const auto& dir : report.plugin_dirs) std::cout << " " << dir.string();
                std::cout << "\n";
                // Two plugins owning one field: a run setting it is refused, naming both.
                std::map<std::string, std::string> owner_of;
                std::vector<std::string> conflicts;
                for (const auto& p : report.plugins)
                    for (const auto& field : p.owned_fields)
                        if (auto [it, fresh] = owner_of.emplace(field, p.name); !fresh)
                            conflicts.push_back(field + " is owned by " + it->second + " and " + p.name);
                for (const auto& conflict : conflicts) std::cout << "conflict: " << conflict << "\n";
                for (const auto& p : report.plugins) {
                    std::cout << p.name << "\n  path:   " << p.path.string() << "\n";
                    if (!p.error.empty()) {
                        std::cout << "  error:  " << p.error << "\n";
                        continue;
                    }
                    std::cout << "  abi:    " << p.abi << "\n  about:  " << p.description << "\n  fields:";
                    for (const auto& f : p.owned_fields) std::cout << " " << f;
                    std::cout << (p.owned_fields.empty() ? " (none)\n" : "\n");
                }
                return 0;
            };
}

}  // namespace sandlock::cli
