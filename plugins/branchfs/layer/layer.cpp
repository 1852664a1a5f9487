// Placeholder until the layer engine lands (same branch of work): every entry point refuses.
#include "layer/layer.hpp"

namespace sandlock::branchfs {

std::vector<Change> diff_layer(const std::filesystem::path&, const std::filesystem::path&) {
    throw LayerError("branchfs: the layer engine is not built yet");
}
std::vector<std::string> find_conflicts(const std::filesystem::path&, const std::filesystem::path&, TargetKind,
                                        timespec) {
    throw LayerError("branchfs: the layer engine is not built yet");
}
std::vector<Change> apply_layer(const std::filesystem::path&, const std::filesystem::path&, TargetKind,
                                const std::filesystem::path&, timespec) {
    throw LayerError("branchfs: the layer engine is not built yet");
}
bool recover(const std::filesystem::path&) { return false; }
bool journal_complete(const std::filesystem::path&) { return false; }

}  // namespace sandlock::branchfs
