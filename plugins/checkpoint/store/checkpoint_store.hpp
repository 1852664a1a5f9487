// Where checkpoints live: $XDG_DATA_HOME/sandlock/checkpoints/NAME/ (else
// ~/.local/share/sandlock/checkpoints), a directory per checkpoint with its manifest and data
// files. The store is the user's own: created 0700, and refused when another user owns it or
// others may enter it. A checkpoint is written under a hidden staging name and only appears
// under its name once whole (a rename), so a crash never leaves half a checkpoint behind a name.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sandlock::checkpoint {

class CheckpointStore {
public:
    // The default root from the environment; Error when neither XDG_DATA_HOME nor HOME is set.
    static std::filesystem::path default_root();
    // Opens (creating it 0700 when missing) and checks the store.
    explicit CheckpointStore(std::filesystem::path root);

    const std::filesystem::path& root() const { return root_; }
    // A new, empty staging directory for a checkpoint being taken.
    std::filesystem::path make_staging() const;
    // A staging directory of this store (Error for any other path).
    std::filesystem::path staging(const std::string& path) const;
    // The directory of saved checkpoint `name` (Error for a bad name, or, when `must_exist`, an
    // unknown one).
    std::filesystem::path saved(const std::string& name, bool must_exist = true) const;
    // Gives a staged checkpoint its name.
    void publish(const std::filesystem::path& staging, const std::string& name) const;
    // Saves a copy of the checkpoint in `source` (of this store or another) as `name` (hard
    // links where they can be: its files never change).
    void import(const std::filesystem::path& source, const std::string& name) const;
    void remove(const std::string& name) const;
    void discard(const std::filesystem::path& staging) const;
    // Saved names, sorted.
    std::vector<std::string> names() const;
    // Error when the store lies in one of `writable` (a sandbox's writable paths): that sandbox
    // could rewrite its own checkpoint, policy included, before it is restored.
    void refuse_writable_by(const std::vector<std::string>& writable) const;

private:
    std::filesystem::path root_;
};

// Error unless `name` is a checkpoint name: letters, digits, '.', '_' and '-', 1 to 64, not
// starting with '.' or '-'.
void check_name(const std::string& name);

}  // namespace sandlock::checkpoint
