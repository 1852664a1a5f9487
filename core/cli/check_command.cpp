// `sandlock check [--json]`: what this kernel and installation offer.
#include "commands.hpp"

#include <sandlock/check.hpp>

#include <iostream>
#include <memory>

namespace sandlock::cli {

std::function<int()> add_check_command(CLI::App& check, const GlobalOptions& global) {
    auto json = std::make_shared<bool>(false);
    check.add_flag("--json", *json, "Machine-readable output");

    return [json, &global] {
                SystemReport report = check_system(global.plugin_path);
                if (*json) {
                    std::cout << to_json(report) << "\n";
                    return 0;
                }
                std::cout << "landlock ABI: " << report.landlock_abi << "\n";
                for (const auto& f : report.features)
                    std::cout << "  " << (f.available ? "yes" : "no ") << "  " << f.name << " (" << f.detail << ")\n";
                std::cout << "plugins:\n";
                for (const auto& p : report.plugins) {
                    std::cout << "  " << p.name << "  ";
                    if (p.error.empty()) std::cout << "ABI " << p.abi << "  " << p.path.string() << "\n";
                    else std::cout << "unusable: " << p.error << "\n";
                }
                if (report.plugins.empty()) std::cout << "  none found\n";
                return 0;
            };
}

}  // namespace sandlock::cli
