// The branchfs plugin: everything the sandbox writes under the workspace (fs_mount) goes to a
// copy-on-write branch, an overlayfs upper layer in the storage directory, mounted in the
// sandbox's own mount namespace in child stage 4. At the end the branch is committed,
// aborted or kept (on_exit / on_error); `sandlock branch ...` acts on kept ones.
#include "branch_commands.hpp"
#include "branch_options.hpp"
#include "mount/overlay_mount.hpp"
#include "store/branch_ops.hpp"
#include "store/storage_dir.hpp"

#include <sandlock/sdk/export.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <algorithm>
#include <climits>
#include <optional>

namespace sandlock::branchfs {
namespace {
namespace fs = std::filesystem;

constexpr std::string_view kOwnedFields[] = {"fs_isolation", "fs_mount", "fs_storage",
                                             "max_disk",     "on_exit",  "on_error"};

constexpr sdk::Manifest kManifest{
    .name = "branchfs",
    .description = "copy-on-write branches of a workspace: commit, abort, keep, nest, quota",
    .owned_fields = kOwnedFields,
    .child_stages = sdk::stage_bit(sdk::Stage::Filesystem),
    .flags = sdk::kPluginNeedsUserNamespace,
};

void write_out(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

class BranchfsPlugin : public sdk::Plugin {
public:
    explicit BranchfsPlugin(const sdk::HostApi* api) : Plugin(api, kManifest.name) {}

    void configure(const Policy& policy, const boost::json::object& options) override {
        config_ = make_run_config(policy, options);
        if (config_) check_storage_outside(storage_path(config_->storage), config_->workspace, policy.fs_writable);
    }

    void prepare() override {
        if (!config_) return;
        store_.emplace(open_storage(storage_path(config_->storage)));
        recover_interrupted(*store_);
        meta_ = open_branch();
        plan_overlay();
        run_started_ = true;
    }

    int child_stage(sdk::Stage stage, sdk::ChildContext& ctx) noexcept override {
        if (stage != sdk::Stage::Filesystem || !run_started_) return 0;
        return mount_overlay(plan_, &ctx.handover_fd);
    }

    // A checkpoint: the branch as the stopped processes left it, frozen into a snapshot that a
    // restore nests its own branch on (run --branch-from).
    void snapshot(boost::json::object& out) override {
        if (!run_started_ || !meta_) return;
        if (quota_fd_ >= 0)
            throw sdk::Error("a branch with max_disk keeps its writes in a tmpfs until the run ends; a checkpoint "
                             "cannot snapshot it yet (run without max_disk to checkpoint)");
        out["branch"] = snapshot_branch(*store_, *meta_);
    }

    void receive_fd(int fd) noexcept override {
        if (quota_fd_ >= 0) ::close(quota_fd_);
        quota_fd_ = fd;
    }

    void on_exit(const sdk::ExitInfo& info) override {
        if (!run_started_) return;
        run_started_ = false;
        const bool succeeded = info.exit_code == 0 && info.term_signal == 0 && !info.timed_out;
        BranchAction action = succeeded ? config_->on_exit : config_->on_error;
        // A quota run wrote to its tmpfs: fold that into the branch before anything else
        // (an abort needs nothing from it).
        if (quota_fd_ >= 0) {
            if (action != BranchAction::Abort || config_->dry_run) fold_quota_layer();
            ::close(quota_fd_);
            quota_fd_ = -1;
        }
        if (config_->dry_run) {
            write_out(1, format_changes(branch_changes(*store_, *meta_), config_->dry_run_json, meta_->id));
            action = BranchAction::Abort;
        }
        switch (action) {
            case BranchAction::Commit: commit_branch(*store_, *meta_); break;
            case BranchAction::Abort: abort_branch(*store_, *meta_); break;
            case BranchAction::Keep:
                keep_branch(*store_, *meta_);
                write_out(2, "sandlock: branch " + meta_->id + " kept (sandlock branch show|commit|abort " +
                                 meta_->id + ", or run --branch " + meta_->id + ")\n");
                break;
        }
        lock_ = {};
        parent_lock_ = {};
    }

    void command(const boost::json::object& request, sdk::Output& out) override {
        run_branch_command(request, out);
    }

    // A run that never reached on_exit (a later layer refused before fork): a branch made for
    // it goes, a kept one it was to run on stays kept.
    ~BranchfsPlugin() override {
        if (quota_fd_ >= 0) ::close(quota_fd_);
        if (!run_started_) return;
        try {
            if (config_->branch) keep_branch(*store_, *meta_);
            else abort_branch(*store_, *meta_);
        } catch (...) {  // left for `sandlock branch list`, as a killed run would be
        }
    }

private:
    // The branch the run writes to: a kept one (--branch), or a new one on the workspace or on
    // another branch (--branch-from), locked for the whole run.
    BranchMeta open_branch() {
        if (config_->branch) {
            BranchMeta meta = store_->load(*config_->branch);
            check_same_workspace(meta);
            if (meta.frozen)
                throw sdk::Error("branch " + meta.id + " is a snapshot: nest on it with --branch-from " + meta.id);
            if (!(lock_ = store_->lock(meta.id, true)))
                throw sdk::Error("branch " + meta.id + " is in use by another sandlock; wait for it or pick another");
            lock_parent(meta.parent);
            meta.state = BranchState::Running;
            store_->save(meta);
            return meta;
        }
        if (config_->branch_from) {
            check_same_workspace(store_->load(*config_->branch_from));
            lock_parent(config_->branch_from);
        }
        BranchMeta meta = store_->create(config_->workspace, config_->branch_from);
        lock_ = store_->lock(meta.id, true);
        return meta;
    }

    void check_same_workspace(const BranchMeta& meta) const {
        if (meta.workspace != config_->workspace)
            throw sdk::Error("branch " + meta.id + " is a branch of " + meta.workspace + ", not of fs_mount " +
                             config_->workspace + "; give --fs-mount " + meta.workspace);
        open_workspace(meta);  // checked, then closed
    }

    // A nested branch holds its parent shared: the parent can neither run nor be committed
    // while the child's overlay stands on its layer.
    void lock_parent(const std::optional<std::string>& parent) {
        if (!parent) return;
        if (!(parent_lock_ = store_->lock(*parent, false)))
            throw sdk::Error("branch " + *parent + " is in use by a running sandbox; nest on it once it is kept");
    }

    void plan_overlay() {
        plan_ = {};
        plan_.workspace = config_->workspace;
        // The upper root's mode is what the sandbox sees as the workspace's.
        struct stat st {};
        if (::stat(config_->workspace.c_str(), &st) != 0)
            throw sdk::Error("fs_mount: " + config_->workspace + ": " + std::strerror(errno));
        plan_.root_mode = st.st_mode & 07777;
        if (!config_->branch && ::chmod(store_->upper(meta_->id).c_str(), plan_.root_mode) != 0)
            throw sdk::Error("branchfs: cannot set up " + store_->upper(meta_->id).string() + ": " + std::strerror(errno));
        const bool quota = config_->max_disk.has_value();
        // With a quota the branch's own layer (empty when new) is read-only below the run's
        // tmpfs, and the run's writes join it at the end.
        if (quota) plan_.lowers.push_back(store_->upper(meta_->id).string());
        for (const fs::path& layer : store_->layers_below(*meta_)) plan_.lowers.push_back(layer.string());
        plan_.lowers.push_back(config_->workspace);
        if (quota) {
            plan_.quota_dir = store_->quota(meta_->id).string();
            // Files cost kernel memory and disk inodes beyond their bytes: one per 4 KiB of quota.
            const std::uint64_t inodes = std::max<std::uint64_t>(*config_->max_disk / 4096, 64);
            plan_.quota_options =
                "size=" + std::to_string(*config_->max_disk) + ",nr_inodes=" + std::to_string(inodes) + ",mode=0700";
            plan_.upper = plan_.quota_dir + "/upper";
            plan_.work = plan_.quota_dir + "/work";
        } else {
            plan_.writable_dir = store_->dir(meta_->id).string();
            plan_.upper = store_->upper(meta_->id).string();
            plan_.work = store_->work(meta_->id).string();
        }
        std::error_code ec;
        const std::string cwd = fs::current_path(ec).string();
        if (!ec && (cwd == config_->workspace || cwd.starts_with(config_->workspace + "/"))) plan_.cwd = cwd;
    }

    void fold_quota_layer() {
        const int upper = ::openat(quota_fd_, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (upper < 0) throw sdk::Error("branchfs: the run's layer is gone: " + std::string(std::strerror(errno)));
        const timespec never{LONG_MAX, 0};  // nothing else wrote the branch: no conflicts
        try {
            apply_layer(upper, store_->upper(meta_->id), TargetKind::Layer, store_->fold_journal(meta_->id), never);
        } catch (...) {
            ::close(upper);
            throw;
        }
        ::close(upper);
    }

    std::optional<RunConfig> config_;
    std::optional<BranchStore> store_;
    std::optional<BranchMeta> meta_;
    BranchLock lock_, parent_lock_;
    OverlayPlan plan_;
    bool run_started_ = false;
    int quota_fd_ = -1;
};

}  // namespace
}  // namespace sandlock::branchfs

SANDLOCK_EXPORT_PLUGIN(sandlock::branchfs::BranchfsPlugin, sandlock::branchfs::kManifest)
