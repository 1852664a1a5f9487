#include "store/checkpoint_store.hpp"

#include "image/manifest.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sandlock::checkpoint {
namespace fs = std::filesystem;
namespace {

constexpr const char* kStagingPrefix = ".staging-";

[[noreturn]] void fail(const fs::path& path, const std::string& why) {
    throw sdk::Error("checkpoint store " + path.string() + ": " + why);
}

void make_private_directory(const fs::path& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) fail(path, std::string("cannot create it: ") + std::strerror(errno));
}

}  // namespace

void check_name(const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 64 && name[0] != '.' && name[0] != '-' &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                               c == '_' || c == '-';
                    });
    if (!ok)
        throw sdk::Error("checkpoint name \"" + name +
                         "\": use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'");
}

fs::path CheckpointStore::default_root() {
    if (const char* data = std::getenv("XDG_DATA_HOME"); data != nullptr && data[0] == '/')
        return fs::path(data) / "sandlock" / "checkpoints";
    if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/')
        return fs::path(home) / ".local" / "share" / "sandlock" / "checkpoints";
    throw sdk::Error("checkpoint store: neither XDG_DATA_HOME nor HOME is set to an absolute path (set one)");
}

CheckpointStore::CheckpointStore(fs::path root) : root_(std::move(root)) {
    if (!fs::exists(root_)) {
        std::error_code error;
        fs::create_directories(root_.parent_path().parent_path(), error);
        if (error) fail(root_, "cannot create it: " + error.message());
        make_private_directory(root_.parent_path());
        make_private_directory(root_);
    }
    struct stat st {};
    if (::lstat(root_.c_str(), &st) != 0) fail(root_, std::string("cannot read it: ") + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) fail(root_, "is not a directory");
    if (st.st_uid != ::geteuid())
        fail(root_, "belongs to uid " + std::to_string(st.st_uid) + ", not to you (uid " + std::to_string(::geteuid()) + ")");
    if ((st.st_mode & 077) != 0) fail(root_, "is open to other users (chmod 700 it)");
}

fs::path CheckpointStore::make_staging() const {
    std::string pattern = (root_ / (std::string(kStagingPrefix) + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) fail(root_, std::string("cannot create a directory in it: ") + std::strerror(errno));
    return pattern;
}

fs::path CheckpointStore::staging(const std::string& path) const {
    const fs::path p(path);
    if (p.parent_path() != root_ || p.filename().string().rfind(kStagingPrefix, 0) != 0 || !fs::is_directory(p))
        throw sdk::Error("checkpoint: " + path + " is not a checkpoint being taken");
    return p;
}

fs::path CheckpointStore::saved(const std::string& name, bool must_exist) const {
    check_name(name);
    const fs::path p = root_ / name;
    if (!must_exist) return p;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !fs::exists(p / kManifestFile))
        throw sdk::Error("checkpoint \"" + name + "\" does not exist (see `sandlock checkpoint list`)");
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid())
        fail(p, "is not a directory of yours (a link, or another user's)");
    return p;
}

void CheckpointStore::publish(const fs::path& staging, const std::string& name) const {
    const fs::path target = saved(name, false);
    if (fs::exists(target)) throw sdk::Error("checkpoint \"" + name + "\" exists already (delete it first)");
    // rename(2) onto a name that appeared meanwhile fails rather than merging.
    if (::rename(staging.c_str(), target.c_str()) != 0)
        throw sdk::Error("checkpoint \"" + name + "\": cannot save it: " + std::strerror(errno));
}

void CheckpointStore::import(const fs::path& source, const std::string& name) const {
    check_name(name);
    const fs::path staged = make_staging();
    try {
        for (const auto& entry : fs::directory_iterator(source)) {
            std::error_code error;
            fs::create_hard_link(entry.path(), staged / entry.path().filename(), error);
            if (error) fs::copy_file(entry.path(), staged / entry.path().filename());
        }
        publish(staged, name);
    } catch (...) {
        discard(staged);
        throw;
    }
}

void CheckpointStore::remove(const std::string& name) const {
    const fs::path p = saved(name);
    // Out of sight first (a rename), then gone: a crash never leaves half a checkpoint named.
    const fs::path doomed = make_staging();
    fs::remove(doomed);
    if (::rename(p.c_str(), doomed.c_str()) != 0)
        throw sdk::Error("checkpoint \"" + name + "\": cannot delete it: " + std::strerror(errno));
    fs::remove_all(doomed);
}

void CheckpointStore::discard(const fs::path& staging) const {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
}

void CheckpointStore::refuse_writable_by(const std::vector<std::string>& writable) const {
    const fs::path store = fs::weakly_canonical(root_);
    const auto within = [](const fs::path& inner, const fs::path& outer) {
        return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first == outer.end();
    };
    for (const std::string& path : writable) {
        const fs::path w = fs::weakly_canonical(path);
        if (within(store, w) || within(w, store))
            fail(root_, "overlaps the sandbox's writable path " + path +
                            ": the sandbox could rewrite its checkpoint, policy included (set XDG_DATA_HOME elsewhere)");
    }
}

std::vector<std::string> CheckpointStore::names() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(root_)) {
        const std::string name = entry.path().filename().string();
        if (name[0] != '.' && fs::exists(entry.path() / kManifestFile)) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace sandlock::checkpoint
