// What can be done with a branch outside the sandbox that ran on it: commit, abort, keep,
// list its changes, snapshot it, and finish what a killed sandlock left half-done. The caller
// holds the branch's exclusive lock (BranchStore::lock) for all but recover_interrupted.
#pragma once

#include "layer/layer.hpp"
#include "store/branch_store.hpp"

#include <string>
#include <vector>

namespace sandlock::branchfs {

// Applies the branch onto what it is based on (its parent branch's upper layer, or the
// workspace), crash-safely, then removes it. On a conflict nothing is applied, the branch is
// kept, and sdk::Error names the paths. Returns the changes applied.
std::vector<Change> commit_branch(const BranchStore& store, BranchMeta meta);
// Removes the branch and its data; refused while nested branches sit on it.
void abort_branch(const BranchStore& store, const BranchMeta& meta);
// Leaves the branch for `sandlock branch commit|abort ID` or a later `run --branch ID`.
void keep_branch(const BranchStore& store, BranchMeta meta);
// What the branch changes on the workspace as it is now.
std::vector<Change> branch_changes(const BranchStore& store, const BranchMeta& meta);
// A frozen copy of the branch's own layer (a new branch id with the same base): it can be
// nested on (--branch-from) and committed, never run on. The checkpoint layer's snapshot.
std::string snapshot_branch(const BranchStore& store, const BranchMeta& meta);
// Commits a killed sandlock left half-way are finished (their journal was complete) or rolled
// back (it was not, and the branch is kept). Branches in use are left alone.
void recover_interrupted(const BranchStore& store);

}  // namespace sandlock::branchfs
