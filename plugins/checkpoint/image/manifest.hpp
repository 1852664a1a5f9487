// A checkpoint's manifest.json: a versioned Boost.JSON document that names everything in the
// checkpoint's directory (the policy, the processes, their page files with sizes and hashes,
// the app state, the branch snapshot). Reading one checks it whole: a foreign format or
// version, a missing or mistyped field is refused with a message naming it.
#pragma once

#include "image/process_image.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sandlock::checkpoint {

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kFormatName = "sandlock-checkpoint";
inline constexpr std::int64_t kFormatVersion = 1;

struct AppState {
    std::string file;  // beside the manifest
    std::uint64_t size = 0;
    std::uint64_t hash = 0;
};

struct Manifest {
    std::string created;   // UTC, ISO 8601
    std::string kernel;    // uname -r of the machine it was taken on
    std::string machine;   // x86_64
    boost::json::object policy;
    std::optional<AppState> app_state;
    std::optional<std::string> branch;  // a branchfs snapshot id
    std::vector<ProcessImage> processes;
};

boost::json::object to_json(const Manifest& manifest);
// Throws Error "checkpoint manifest: FIELD: why" for anything malformed.
Manifest manifest_from_json(const boost::json::value& json);

Manifest read_manifest(const std::filesystem::path& directory);
// Written to a temporary name, flushed and renamed into place.
void write_manifest(const std::filesystem::path& directory, const Manifest& manifest);

// Every reason a process of the checkpoint cannot be restored, "pid N: why".
std::vector<std::string> unrestorable(const Manifest& manifest);

}  // namespace sandlock::checkpoint
