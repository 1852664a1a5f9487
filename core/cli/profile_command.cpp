// `sandlock profile list` and `sandlock profile show NAME`.
#include "commands.hpp"

#include <sandlock/profile.hpp>

#include <fstream>
#include <iostream>
#include <memory>

namespace sandlock::cli {

std::function<int()> add_profile_command(CLI::App& profile_app, const GlobalOptions&) {
    CLI::App* profile = &profile_app;
    profile->require_subcommand(1);
    CLI::App* list = profile->add_subcommand("list", "List the profiles found, in search order");
    CLI::App* show = profile->add_subcommand("show", "Check a profile and print it");
    auto name = std::make_shared<std::string>();
    show->add_option("name", *name, "Profile name")->required();

    return [list, show, name] {
                if (list->parsed()) {
                    auto profiles = list_profiles();
                    if (profiles.empty()) {
                        std::cout << "no profiles (searched:";
                        for (const auto& dir : profile_dirs()) std::cout << " " << dir.string();
                        std::cout << ")\n";
                    }
                    for (const auto& p : profiles) std::cout << p.name << "\t" << p.path.string() << "\n";
                    return 0;
                }
                if (show->parsed()) {
                    load_profile(*name);  // refuses an invalid profile with file:line
                    std::ifstream in(find_profile(*name));
                    std::cout << "# " << find_profile(*name).string() << "\n" << in.rdbuf();
                    return 0;
                }
                return kExitSandlockFailed;
            };
}

}  // namespace sandlock::cli
