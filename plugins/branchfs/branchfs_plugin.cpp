// The branchfs plugin: copy-on-write branches of a workspace (work in progress).
#include <sandlock/sdk/export.hpp>

namespace sandlock::branchfs {
namespace {

constexpr std::string_view kOwnedFields[] = {"fs_isolation", "fs_mount", "fs_storage",
                                             "max_disk",     "on_exit",  "on_error"};

constexpr sdk::Manifest kManifest{
    .name = "branchfs",
    .description = "copy-on-write branches of a workspace: commit, abort, keep, nest, quota",
    .owned_fields = kOwnedFields,
    .child_stages = sdk::stage_bit(sdk::Stage::Filesystem),
};

class BranchfsPlugin : public sdk::Plugin {
public:
    explicit BranchfsPlugin(const sdk::HostApi* api) : Plugin(api, kManifest.name) {}
};

}  // namespace
}  // namespace sandlock::branchfs

SANDLOCK_EXPORT_PLUGIN(sandlock::branchfs::BranchfsPlugin, sandlock::branchfs::kManifest)
