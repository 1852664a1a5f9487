// Profiles: saved policies as TOML files, searched in $XDG_CONFIG_HOME/sandlock/profiles
// (else ~/.config/sandlock/profiles), then /etc/sandlock/profiles. Keys equal Policy fields.
// The plugin list is `plugins = [...]`, or `enabled = [...]` inside a [plugins] table when
// [plugins.NAME] option tables are present too (TOML cannot hold both under one key).
#pragma once

#include <sandlock/policy.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock {

std::vector<std::filesystem::path> profile_dirs();

struct ProfileEntry {
    std::string name;
    std::filesystem::path path;
};
// Every profile found, the first of each name winning (in search order).
std::vector<ProfileEntry> list_profiles();

// The file of profile `name`; throws PolicyError when there is none.
std::filesystem::path find_profile(std::string_view name);

// Throw PolicyError naming file:line and the field for unknown fields and wrong types.
Policy load_profile(std::string_view name);
Policy parse_profile(std::string_view toml_text, const std::string& source);

// The policy as a profile: parse_profile() of the text gives the same policy back.
std::string policy_to_toml(const Policy& policy);

}  // namespace sandlock
