// Checkpoint: the saved state of a running sandbox — its policy, each process as the kernel
// holds it (registers, memory, files: taken with ptrace, without the program's cooperation),
// and optional app state from the exec's save_fn — kept in the user's store,
// $XDG_DATA_HOME/sandlock/checkpoints/NAME/ (0700). The plugin `checkpoint` does the work.
//
//   sandlock::Sandbox sb(policy);
//   sb.exec({"./counter"});
//   sandlock::Checkpoint cp = sb.checkpoint();   // the counter keeps running
//   cp.save("counter-at-noon");
//
//   auto saved = sandlock::Checkpoint::load("counter-at-noon");
//   sandlock::Sandbox again(saved.policy());
//   again.restore(saved, sandlock::ExecIo::inherit());  // counts on from where it was
#pragma once

#include <sandlock/policy.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sandlock {

// One process of a checkpoint.
struct CheckpointProcess {
    pid_t pid = 0;  // as sandlock saw it
    std::string exe;
    std::vector<std::string> argv;
    std::size_t threads = 0;
    std::uint64_t memory_bytes = 0;  // the pages it wrote, as saved
    // Why it cannot be restored in place at all (several threads), else empty.
    std::string restore_refusal;
};

// Where checkpoints are kept and where the checkpoint plugin is found.
struct CheckpointOptions {
    std::string store;                     // a store directory; empty: the default one (above)
    std::vector<std::string> plugin_path;  // searched before SANDLOCK_PLUGIN_PATH and defaults
};

class Checkpoint {
public:
    // A saved checkpoint, checked whole (manifest, every file's size and hash). Throws
    // CheckpointError for an unknown name or a damaged, truncated or foreign one.
    static Checkpoint load(const std::string& name, const CheckpointOptions& options = {});
    // The saved names, sorted.
    static std::vector<std::string> list(const CheckpointOptions& options = {});
    static void remove(const std::string& name, const CheckpointOptions& options = {});

    Checkpoint(Checkpoint&& other) noexcept;
    Checkpoint& operator=(Checkpoint&& other) noexcept;
    Checkpoint(const Checkpoint&) = delete;
    Checkpoint& operator=(const Checkpoint&) = delete;
    // A checkpoint never saved is discarded with its data.
    ~Checkpoint();

    // Keeps it under `name` (a fresh checkpoint), or a copy of it (a loaded one), in its store
    // or in `store` when given (a copy there). Throws CheckpointError for a bad name or one in
    // use.
    void save(const std::string& name, const std::string& store = {});
    // Empty until saved.
    const std::string& name() const { return name_; }
    // The directory that holds its files.
    const std::string& directory() const { return directory_; }
    // The policy it ran under; when it ran on a branch (fs_isolation = branchfs), a sandbox
    // built from this policy runs on a new branch of its own nested on the checkpoint's
    // snapshot of that branch (plugin option branchfs.branch_from).
    const Policy& policy() const { return policy_; }
    // The branch snapshot (a kept, frozen branch: sandlock branch show ID), if it ran on one.
    // It stays when the checkpoint is deleted (sandlock branch abort ID removes it).
    const std::optional<std::string>& branch() const { return branch_; }
    // What the exec's save_fn returned, if one was given.
    const std::optional<std::string>& app_state() const { return app_state_; }
    const std::vector<CheckpointProcess>& processes() const { return processes_; }
    // What cannot be recreated (sockets, pipes to other processes, devices, deleted
    // files): restore refuses unless told to skip it.
    const std::vector<std::string>& unrestorable() const { return unrestorable_; }

private:
    friend class CheckpointAccess;  // the core's side: taking and restoring (checkpoint_commands.hpp)
    Checkpoint() = default;
    // From the plugin's answer to "dump" or "load".
    static Checkpoint from_answer(const std::string& answer, const CheckpointOptions& options, bool staged);
    std::string directory_;
    std::string name_;
    bool staged_ = false;  // directory_ is a staging directory of the store
    bool saved_ = false;   // saved somewhere: its branch snapshot is a saved checkpoint's
    CheckpointOptions options_;
    Policy policy_;
    std::optional<std::string> app_state_;
    std::vector<CheckpointProcess> processes_;
    std::vector<std::string> unrestorable_;
    std::optional<std::string> branch_;
};

}  // namespace sandlock
