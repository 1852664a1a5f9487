// A plugin's manifest, read from its ELF note (sdk/abi.hpp) before any of its code is loaded:
// the one source of truth for its name, ABI, stages, flags and the Policy fields it owns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sandlock {

struct PluginManifest {
    std::uint32_t abi = 0;
    std::string name;
    std::string description;
    std::vector<std::string> owned_fields;
    std::uint32_t child_stages = 0;
    std::uint32_t flags = 0;
};

// The manifest of the plugin file at `path`, checked (ELF headers against the file, exactly one
// well-formed note, this host's ABI, the file named after the plugin). Throws PluginError naming
// the file and what is wrong; nothing of the file is mapped or run.
PluginManifest read_plugin_manifest(const std::filesystem::path& path);

}  // namespace sandlock
