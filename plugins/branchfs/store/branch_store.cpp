#include "store/branch_store.hpp"

#include "layer/layer.hpp"
#include "layer/safe_fs.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace sandlock::branchfs {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

constexpr int kMetaVersion = 1;

std::string new_id() {
    unsigned char bytes[6];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        throw sdk::Error("branchfs: no random bytes for a branch id: " + std::string(std::strerror(errno)));
    static const char hex[] = "0123456789abcdef";
    std::string id;
    for (unsigned char b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 15];
    }
    return id;
}

std::string_view to_name(BranchState state) {
    switch (state) {
        case BranchState::Running: return "running";
        case BranchState::Kept: return "kept";
        case BranchState::Committing: return "committing";
    }
    return "running";
}

BranchState state_from(std::string_view name) {
    if (name == "kept") return BranchState::Kept;
    if (name == "committing") return BranchState::Committing;
    if (name == "running") return BranchState::Running;
    throw sdk::Error("unknown state \"" + std::string(name) + "\"");
}

void write_file_atomically(const fs::path& path, const std::string& text) {
    const fs::path temp = path.string() + ".new";
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    const int error = errno;
    if (fd >= 0) ::close(fd);
    if (!ok || ::rename(temp.c_str(), path.c_str()) != 0)
        throw sdk::Error("branchfs: cannot write " + path.string() + ": " + std::strerror(ok ? errno : error));
}

bool before(const timespec& a, const timespec& b) {
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// The timestamp the kernel gives a file changed now, once it has moved past the one it gave a
// moment ago: every file changed before this call has a ctime below the result, every file
// changed after it one at or above it, so conflicts are exact, ties included. Read off a file
// (touching `dir`), not off CLOCK_REALTIME_COARSE: with multigrain timestamps a file's ctime
// can be ahead of that clock. Waits at most one timer tick.
timespec next_file_timestamp(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw sdk::Error("branchfs: cannot open " + dir.string() + ": " + std::strerror(errno));
    auto stamp = [&] {
        struct stat st {};
        if (::futimens(fd, nullptr) != 0 || ::fstat(fd, &st) != 0) {
            const int error = errno;
            ::close(fd);
            throw sdk::Error("branchfs: cannot stamp " + dir.string() + ": " + std::strerror(error));
        }
        return st.st_ctim;
    };
    const timespec first = stamp();
    timespec now = first;
    while (!before(first, now)) {
        const timespec pause{0, 100'000};
        ::nanosleep(&pause, nullptr);
        now = stamp();
    }
    ::close(fd);
    return now;
}

}  // namespace

UniqueFd open_workspace(const BranchMeta& meta) {
    UniqueFd fd;
    std::string why = "moved or replaced";
    try {
        fd = open_dir_no_symlinks(meta.workspace, "the workspace");
    } catch (const LayerError& e) {
        why = e.what();
    }
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || st.st_dev != meta.workspace_dev || st.st_ino != meta.workspace_ino)
        throw sdk::Error("the workspace " + meta.workspace + " is no longer the directory branch " + meta.id +
                         " was made of (" + why + "); nothing applied");
    return fd;
}

bool valid_branch_id(const std::string& id) {
    return id.size() == 12 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

std::string state_name(const BranchMeta& meta, bool in_use) {
    if (meta.state == BranchState::Kept) return "kept";
    return in_use ? std::string(to_name(meta.state)) : "interrupted";
}

BranchLock::BranchLock(BranchLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
BranchLock& BranchLock::operator=(BranchLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}
BranchLock::~BranchLock() {
    if (fd_ >= 0) ::close(fd_);
}

BranchMeta BranchStore::create(const std::string& workspace, const std::optional<std::string>& parent) const {
    BranchMeta meta;
    for (int attempt = 0;; ++attempt) {
        meta.id = new_id();
        if (::mkdir(dir(meta.id).c_str(), 0700) == 0) break;
        if (errno != EEXIST || attempt > 8)
            throw sdk::Error("branchfs: cannot create a branch in " + root_.string() + ": " + std::strerror(errno));
    }
    for (const fs::path& sub : {upper(meta.id), work(meta.id), quota(meta.id)})
        if (::mkdir(sub.c_str(), 0700) != 0)
            throw sdk::Error("branchfs: cannot create " + sub.string() + ": " + std::strerror(errno));
    meta.workspace = workspace;
    meta.parent = parent;
    {
        const UniqueFd fd = open_dir_no_symlinks(workspace, "fs_mount");
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw sdk::Error("fs_mount: cannot stat " + workspace + ": " + std::strerror(errno));
        meta.workspace_dev = st.st_dev;
        meta.workspace_ino = st.st_ino;
    }
    meta.created = next_file_timestamp(dir(meta.id));
    meta.state = BranchState::Running;
    save(meta);
    return meta;
}

void BranchStore::save(const BranchMeta& meta) const {
    json::object o;
    o["version"] = kMetaVersion;
    o["id"] = meta.id;
    o["workspace"] = meta.workspace;
    o["workspace_dev"] = meta.workspace_dev;
    o["workspace_ino"] = meta.workspace_ino;
    o["parent"] = meta.parent ? json::value(*meta.parent) : json::value(nullptr);
    o["created_sec"] = static_cast<std::int64_t>(meta.created.tv_sec);
    o["created_nsec"] = static_cast<std::int64_t>(meta.created.tv_nsec);
    o["state"] = to_name(meta.state);
    if (!meta.journal_dir.empty()) o["journal_dir"] = meta.journal_dir;
    if (meta.frozen) o["frozen"] = true;
    write_file_atomically(dir(meta.id) / "meta.json", json::serialize(o) + "\n");
}

BranchMeta BranchStore::load(const std::string& id) const {
    if (!valid_branch_id(id))
        throw sdk::Error("branch: invalid id \"" + id + "\" (an id is 12 hex digits; see `sandlock branch list`)");
    std::ifstream in(dir(id) / "meta.json");
    if (!in)
        throw sdk::Error("branch " + id + ": no such branch in " + root_.string() +
                         " (see `sandlock branch list`, or give its --fs-storage)");
    std::stringstream text;
    text << in.rdbuf();
    try {
        const json::object o = json::parse(text.str()).as_object();
        if (o.at("version").to_number<int>() != kMetaVersion) throw sdk::Error("unknown version");
        BranchMeta meta;
        meta.id = json::value_to<std::string>(o.at("id"));
        if (meta.id != id) throw sdk::Error("id does not match its directory");
        meta.workspace = json::value_to<std::string>(o.at("workspace"));
        meta.workspace_dev = o.at("workspace_dev").to_number<std::uint64_t>();
        meta.workspace_ino = o.at("workspace_ino").to_number<std::uint64_t>();
        if (!o.at("parent").is_null()) meta.parent = json::value_to<std::string>(o.at("parent"));
        meta.created.tv_sec = o.at("created_sec").to_number<std::int64_t>();
        meta.created.tv_nsec = o.at("created_nsec").to_number<long>();
        meta.state = state_from(json::value_to<std::string>(o.at("state")));
        if (const auto* j = o.if_contains("journal_dir")) meta.journal_dir = json::value_to<std::string>(*j);
        if (const auto* f = o.if_contains("frozen")) meta.frozen = f->as_bool();
        if (meta.parent && !valid_branch_id(*meta.parent)) throw sdk::Error("bad parent id");
        return meta;
    } catch (const std::exception& e) {
        throw sdk::Error("branch " + id + ": " + (dir(id) / "meta.json").string() + " is damaged (" + e.what() +
                         "); `sandlock branch abort " + id + "` removes it");
    }
}

std::vector<BranchMeta> BranchStore::list() const {
    std::vector<BranchMeta> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_, ec)) {
        const std::string id = entry.path().filename().string();
        if (!valid_branch_id(id) || !fs::exists(entry.path() / "meta.json")) continue;
        try {
            out.push_back(load(id));
        } catch (const sdk::Error&) {  // half-made or damaged: shown by `show`, not by the list
        }
    }
    std::sort(out.begin(), out.end(), [](const BranchMeta& a, const BranchMeta& b) {
        return std::tie(a.created.tv_sec, a.created.tv_nsec, a.id) < std::tie(b.created.tv_sec, b.created.tv_nsec, b.id);
    });
    return out;
}

void BranchStore::remove(const std::string& id) const {
    if (!valid_branch_id(id)) return;
    // Out of the listing at once (a rename), then deleted: a crash or a failure half-way leaves
    // trash that the next look at the store clears, never a half-branch that looks whole.
    const fs::path trash = root_ / (".trash-" + id);
    if (::rename(dir(id).c_str(), trash.c_str()) != 0 && errno != ENOENT)
        throw sdk::Error("branch " + id + ": cannot remove " + dir(id).string() + ": " + std::strerror(errno));
    remove_tree(trash);
}

void BranchStore::clear_trash() const {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_, ec))
        if (entry.path().filename().string().starts_with(".trash-")) {
            try {
                remove_tree(entry.path());
            } catch (const std::exception&) {  // another sandlock is clearing it; the next look retries
            }
        }
}

std::vector<std::string> BranchStore::children(const std::string& id) const {
    std::vector<std::string> out;
    for (const BranchMeta& meta : list())
        if (meta.parent == id) out.push_back(meta.id);
    return out;
}

std::vector<fs::path> BranchStore::layers_below(const BranchMeta& meta) const {
    std::vector<fs::path> layers;
    std::optional<std::string> next = meta.parent;
    while (next) {
        if (layers.size() > 64) throw sdk::Error("branch " + meta.id + ": its parents form a loop or nest too deep");
        const BranchMeta parent = load(*next);
        layers.push_back(upper(parent.id));
        next = parent.parent;
    }
    return layers;
}

BranchLock BranchStore::lock(const std::string& id, bool exclusive) const {
    const fs::path path = dir(id) / "lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw sdk::Error("branch " + id + ": cannot open " + path.string() + ": " + std::strerror(errno));
    if (::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        ::close(fd);
        return {};
    }
    return BranchLock(fd);
}

bool BranchStore::in_use(const std::string& id) const { return !lock(id, true); }

}  // namespace sandlock::branchfs
