// Plugin discovery, for listings and checks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock {

// Where plugins are looked for, in order: explicit dirs (--plugin-path), SANDLOCK_PLUGIN_PATH,
// ../lib/sandlock/plugins and ../LIBDIR/sandlock/plugins next to the executable (LIBDIR is
// lib/<multiarch> in the Debian packages), the system directory.
std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::string>& explicit_dirs);

// A plugin's manifest as read from its file.
struct PluginInfo {
    std::string name;
    std::filesystem::path path;
    std::uint32_t abi = 0;
    std::string description;
    std::vector<std::string> owned_fields;
    std::string error;  // why it cannot be loaded; empty when it can
};

// Runs a command of plugin `plugin` outside any run (`sandlock branch list` asks plugin
// branchfs): `request_json` is a JSON object whose "command" names the action. Returns the
// command's output; throws PluginError when the plugin is missing or the command fails.
std::string run_plugin_command(std::string_view plugin, const std::string& request_json,
                               const std::vector<std::string>& plugin_path);

// Every NAME.so in the search path (the first of each name wins), with its manifest.
std::vector<PluginInfo> discover_plugins(const std::vector<std::filesystem::path>& search_path);

}  // namespace sandlock
