// Reading an overlayfs upper layer (userxattr mode) into a tree of typed entries.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

namespace sandlock::branchfs {

inline constexpr const char* kOpaqueXattr = "user.overlay.opaque";
inline constexpr const char* kOriginXattr = "user.overlay.origin";
// Features our mounts do not enable (and userxattr forbids): a layer using them is refused.
inline constexpr const char* kRedirectXattr = "user.overlay.redirect";
inline constexpr const char* kMetacopyXattr = "user.overlay.metacopy";

enum class EntryType { File, Symlink, Fifo, Dir, Whiteout };

struct LayerNode {
    std::string name;  // last component ("" for the layer root)
    std::string path;  // relative to the layer root ("" for the root)
    EntryType type = EntryType::Dir;
    struct stat st {};
    bool opaque = false;                // a directory hiding everything below it
    std::optional<std::string> origin;  // copied up from below (files and directories)
    std::vector<LayerNode> children;    // directories only, sorted by name
};

// Reads the layer below the open directory `root_fd`. Devices other than the 0/0 whiteout
// and sockets cannot be applied: LayerError naming the path; so are a redirected directory
// and a metacopy file (their contents live in the layer below, not in this one), an entry of
// the root named like the engine's own files (.sandlock-commit-*), and a directory deeper than
// kMaxLayerDepth levels. Symlinks are entries, not followed. The root's own xattrs (uuid,
// impure) are overlay bookkeeping and are ignored.
LayerNode read_layer(int root_fd);

// Calls fn(node) for every entry below the root, parents before their children (as deep as
// read_layer allows: kMaxLayerDepth).
template <typename Fn>
void for_each_preorder(const LayerNode& dir, Fn&& fn) {
    for (const auto& child : dir.children) {
        fn(child);
        if (child.type == EntryType::Dir) for_each_preorder(child, fn);
    }
}

}  // namespace sandlock::branchfs
