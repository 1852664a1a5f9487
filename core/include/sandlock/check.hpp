// What this kernel and installation offer: `sandlock check`.
#pragma once

#include <sandlock/plugins.hpp>

#include <string>
#include <vector>

namespace sandlock {

struct Feature {
    std::string name;
    bool available = false;
    std::string detail;  // e.g. "needs Landlock ABI 4"
};

struct SystemReport {
    int landlock_abi = 0;
    std::vector<Feature> features;
    std::vector<std::filesystem::path> plugin_dirs;
    std::vector<PluginInfo> plugins;
};

SystemReport check_system(const std::vector<std::string>& plugin_path);
std::string to_json(const SystemReport& report);

}  // namespace sandlock
