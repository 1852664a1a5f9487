#include "layer/layer_walk.hpp"
#include "layer/layer.hpp"
#include "layer/safe_fs.hpp"

#include <fcntl.h>

#include <cerrno>

namespace sandlock::branchfs {
namespace {

EntryType classify(const struct stat& st, const std::string& path) {
    if (S_ISREG(st.st_mode)) return EntryType::File;
    if (S_ISDIR(st.st_mode)) return EntryType::Dir;
    if (S_ISLNK(st.st_mode)) return EntryType::Symlink;
    if (S_ISFIFO(st.st_mode)) return EntryType::Fifo;
    if (is_whiteout(st)) return EntryType::Whiteout;
    throw LayerError("branchfs: the branch holds a " + std::string(S_ISSOCK(st.st_mode) ? "socket" : "device node") +
                     " at " + path + ", which a commit cannot apply (remove it in the branch)");
}

// Opens an entry to read its xattrs, checking it is still the inode we classified.
UniqueFd open_entry(int dirfd, const LayerNode& node, int flags) {
    int fd = ::openat(dirfd, node.name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open the branch's", node.path, errno);
    UniqueFd entry(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno("cannot stat the branch's", node.path, errno);
    if (st.st_ino != node.st.st_ino || st.st_dev != node.st.st_dev)
        throw LayerError("branchfs: the branch's " + node.path + " changed while it was read");
    return entry;
}

void refuse_marker(int fd, const char* xattr, const std::string& path) {
    if (get_xattr(fd, xattr))
        throw LayerError("branchfs: the branch's " + path + " carries " + xattr +
                         " (an overlay feature a commit cannot apply)");
}

// Reads the layer's directories by path from the root, a bounded number open at a time (the
// layer may be kMaxLayerDepth deep); the recursion is as deep as the layer, which is capped.
class Reader {
public:
    explicit Reader(int root_fd) : dirs_(root_fd, "the branch's directory") {}

    void read_dir(LayerNode& dir, size_t depth) {
        for (auto& name : list_names(dirs_.get(dir.path, &dir.st))) {
            LayerNode node;
            node.path = join_path(dir.path, name);
            node.name = std::move(name);
            if (depth == 0 && is_engine_name(node.name))
                throw LayerError("branchfs: the branch holds " + node.path + ", a name the commit keeps for its own " +
                                 "journal (" + std::string(kEnginePrefix) + "*); refused, nothing applied");
            int dirfd = dirs_.get(dir.path, &dir.st);  // reopened if a sibling's subtree closed it
            auto st = lstat_at(dirfd, node.name);
            if (!st) continue;  // gone between readdir and stat: nothing to apply
            node.st = *st;
            node.type = classify(node.st, node.path);
            if (node.type == EntryType::Dir) {
                if (depth + 1 > kMaxLayerDepth)
                    throw LayerError("branchfs: the branch's " + node.path.substr(0, 200) + "... lies deeper than " +
                                     std::to_string(kMaxLayerDepth) + " directory levels; refused, nothing applied");
                {
                    UniqueFd sub = open_entry(dirfd, node, O_RDONLY | O_DIRECTORY);
                    node.opaque = get_xattr(sub.get(), kOpaqueXattr) == std::optional<std::string>("y");
                    node.origin = get_xattr(sub.get(), kOriginXattr);
                    refuse_marker(sub.get(), kRedirectXattr, node.path);
                }
                read_dir(node, depth + 1);
            } else if (node.type == EntryType::File) {
                UniqueFd file = open_entry(dirfd, node, O_RDONLY | O_NONBLOCK | O_NOCTTY);
                node.origin = get_xattr(file.get(), kOriginXattr);
                refuse_marker(file.get(), kMetacopyXattr, node.path);
            }
            dir.children.push_back(std::move(node));
        }
    }

private:
    DirCache dirs_;
};

}  // namespace

LayerNode read_layer(int root_fd) {
    LayerNode root;
    if (::fstat(root_fd, &root.st) != 0) throw_errno("cannot stat the branch's", "", errno);
    Reader(root_fd).read_dir(root, 0);
    return root;
}

}  // namespace sandlock::branchfs
