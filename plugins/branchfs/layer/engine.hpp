// The engine's steps on an already-read layer, shared by the public entry points in layer.hpp
// (apply_layer reads the layer once and checks, lists and stages from that one reading).
#pragma once

#include "layer/journal.hpp"
#include "layer/layer.hpp"
#include "layer/layer_walk.hpp"

namespace sandlock::branchfs {

// diff.cpp: what `layer` changes on the open directory `below`, sorted by path.
std::vector<Change> diff_tree(const LayerNode& layer, int below_fd);

// conflicts.cpp: the layer's paths the open `target` changed at or after `since`, sorted.
std::vector<std::string> conflicts_in(const LayerNode& layer, int target_fd, TargetKind kind, timespec since);

// stage.cpp: copies every file, symlink and fifo of the layer (and, onto a layer, every
// whiteout) into the open `staging_fd` as entries named 0, 1, ... and returns the steps that
// move them into place (journal.target left empty).
Journal stage_layer(const LayerNode& layer, int layer_fd, int target_fd, TargetKind kind, int staging_fd);

// replay.cpp: runs every step of `journal` on the open `target_fd`; each step is idempotent,
// so replaying a journal whose replay was interrupted anywhere finishes it.
void replay_journal(const Journal& journal, int target_fd, int staging_fd);

}  // namespace sandlock::branchfs
