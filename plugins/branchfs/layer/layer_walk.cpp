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

void read_dir(int dirfd, LayerNode& dir) {
    for (auto& name : list_names(dirfd)) {
        LayerNode node;
        node.path = join_path(dir.path, name);
        node.name = std::move(name);
        auto st = lstat_at(dirfd, node.name);
        if (!st) continue;  // gone between readdir and stat: nothing to apply
        node.st = *st;
        node.type = classify(node.st, node.path);
        if (node.type == EntryType::Dir) {
            UniqueFd sub = open_entry(dirfd, node, O_RDONLY | O_DIRECTORY);
            node.opaque = get_xattr(sub.get(), kOpaqueXattr) == std::optional<std::string>("y");
            node.origin = get_xattr(sub.get(), kOriginXattr);
            refuse_marker(sub.get(), kRedirectXattr, node.path);
            read_dir(sub.get(), node);
        } else if (node.type == EntryType::File) {
            UniqueFd file = open_entry(dirfd, node, O_RDONLY | O_NONBLOCK | O_NOCTTY);
            node.origin = get_xattr(file.get(), kOriginXattr);
            refuse_marker(file.get(), kMetacopyXattr, node.path);
        }
        dir.children.push_back(std::move(node));
    }
}

}  // namespace

LayerNode read_layer(int root_fd) {
    LayerNode root;
    if (::fstat(root_fd, &root.st) != 0) throw_errno("cannot stat the branch's", "", errno);
    read_dir(root_fd, root);
    return root;
}

}  // namespace sandlock::branchfs
