// The landlock plugin: filesystem rules, TCP port rules (ABI 4) and IPC/signal scoping
// (ABI 6), planned and built in the parent, enforced in child stage 5.
#include "fs_view.hpp"
#include "landlock_config.hpp"
#include "ruleset.hpp"

#include <sandlock/sdk/export.hpp>

#include <algorithm>
#include <climits>
#include <optional>
#include <string>

namespace sandlock::landlock {

namespace {

constexpr std::string_view kOwnedFields[] = {"fs_writable", "fs_readable",  "fs_denied",
                                             "net_bind",    "net_connect",  "isolate_ipc",
                                             "isolate_signals"};

constexpr sdk::Manifest kManifest{
    .name = "landlock",
    .description = "filesystem rules, TCP port rules and IPC/signal scoping (Landlock LSM)",
    .owned_fields = kOwnedFields,
    .child_stages = sdk::stage_bit(sdk::Stage::Landlock),
};

// [plugins.landlock] max_abi = N: use at most ABI N, as if the kernel were older. Lets the
// degraded and strict paths be exercised (and a ruleset pinned) on a newer kernel.
int abi_limit(const boost::json::object& options) {
    int limit = INT_MAX;
    for (const auto& [key, value] : options) {
        if (key != "max_abi")
            throw sdk::Error("[plugins.landlock]: unknown option \"" + std::string(key) +
                             "\"; the only option is max_abi");
        boost::system::error_code ec;
        auto abi = value.to_number<std::int64_t>(ec);
        // 0 is no ABI at all: it would be reported as "this kernel has no Landlock".
        if (ec || abi < 1 || abi > INT_MAX)
            throw sdk::Error("[plugins.landlock] max_abi: " + boost::json::serialize(value) +
                             " is not a Landlock ABI version; use a whole number from 1, such as 3"
                             " (to run without Landlock, leave the landlock plugin out)");
        limit = static_cast<int>(abi);
    }
    return limit;
}

// Harmless devices nearly every program opens (2>/dev/null, a shell's background jobs,
// random numbers, the controlling terminal): readable and writable whenever the filesystem is
// restricted, unless fs_denied names them. /dev/tty reaches only the caller's own terminal,
// and TIOCSTI on it is refused by the seccomp layer.
constexpr std::string_view kDefaultDevices[] = {"/dev/null", "/dev/zero", "/dev/full",
                                                "/dev/random", "/dev/urandom", "/dev/tty"};

void add_default_devices(FsRequest& request) {
    for (std::string_view device : kDefaultDevices) {
        std::string path(device);
        if (std::find(request.denied.begin(), request.denied.end(), path) == request.denied.end())
            request.writable.push_back(path);
    }
}

std::vector<std::string> resolved(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const auto& path : paths) out.push_back(resolve_path(path));
    return out;
}

class LandlockPlugin : public sdk::Plugin {
public:
    explicit LandlockPlugin(const sdk::HostApi* api) : Plugin(api, kManifest.name) {}

    void configure(const Policy& policy, const boost::json::object& options) override {
        int abi = std::min(kernel_abi(), abi_limit(options));
        config_ = make_config(policy, abi);
        for (const auto& warning : config_.warnings) host().warning(warning);
        if (policy.fs_isolation == FsIsolation::BranchFs && policy.fs_mount) branch_workspace_ = *policy.fs_mount;
    }

    void prepare() override {
        if (!config_.active()) return;
        FsPlan plan;
        if (config_.restrict_fs) {
            FsRequest request{resolved(config_.fs.readable), resolved(config_.fs.writable),
                              resolved(config_.fs.denied)};
            add_default_devices(request);
            plan = plan_fs_rules(request, kReadableRights, writable_rights(config_.abi), RealFsView{});
            for (const auto& note : plan.notes) host().debug(note);
        }
        auto ports = plan_port_rules(config_.net_bind, config_.net_connect);
        std::vector<std::string> vanished;
        // What the sandbox sees under /proc and under a branch's workspace is mounted in its
        // own namespace (a fresh proc, an overlay): a rule on the host's inode would not reach
        // it, so those rules are added in the child, on what is mounted there.
        std::vector<std::string> remounted{"/proc"};
        if (branch_workspace_) remounted.push_back(resolve_path(*branch_workspace_));
        std::vector<PathRule> child_rules;
        std::erase_if(plan.rules, [&](const PathRule& rule) {
            const bool under = std::any_of(remounted.begin(), remounted.end(), [&](const std::string& root) {
                return rule.path == root || (rule.path.starts_with(root) && rule.path[root.size()] == '/');
            });
            if (under) child_rules.push_back(rule);
            return under;
        });
        // A nested sandbox adds every path rule in its own process, where paths mean what its
        // sandbox shows (nested()); the rest of the ruleset is the same.
        nested_rules_ = plan.rules;
        nested_rules_.insert(nested_rules_.end(), child_rules.begin(), child_rules.end());
        nested_ports_ = ports;
        ruleset_ = Ruleset::build(config_.ruleset_attr(), plan.rules, ports, vanished);
        ruleset_.add_in_child(std::move(child_rules));
        for (const auto& path : vanished) host().debug(path + " vanished before its rule was added: skipped");
        host().debug("ruleset for ABI " + std::to_string(config_.abi) + ": " +
                     std::to_string(plan.rules.size()) + " path rules, " +
                     std::to_string(ports.size()) + " port rules");
    }

    int child_stage(sdk::Stage stage, sdk::ChildContext& /*ctx*/) noexcept override {
        return stage == sdk::Stage::Landlock ? ruleset_.enforce() : 0;
    }

    void nested(sdk::NestedConfinement& out) override {
        if (!config_.active()) return;
        std::vector<std::string> vanished;
        nested_ruleset_ = Ruleset::build(config_.ruleset_attr(), {}, nested_ports_, vanished);
        late_rules_.clear();
        for (const PathRule& rule : nested_rules_) late_rules_.push_back({sdk::str(rule.path), rule.access});
        out.landlock_ruleset_fd = nested_ruleset_.fd();
        out.late_rules = late_rules_.data();
        out.late_rule_count = static_cast<std::uint32_t>(late_rules_.size());
    }

private:
    LandlockConfig config_;
    std::optional<std::string> branch_workspace_;  // fs_mount, when branchfs overlays it
    Ruleset ruleset_;  // closes the fd when the plugin is destroyed
    // A nested sandbox's: the port rules in a ruleset, the path rules added by its processes.
    std::vector<PathRule> nested_rules_;
    std::vector<PortRule> nested_ports_;
    Ruleset nested_ruleset_;
    std::vector<sdk::LatePathRule> late_rules_;  // point into nested_rules_
};

}  // namespace

}  // namespace sandlock::landlock

SANDLOCK_EXPORT_PLUGIN(sandlock::landlock::LandlockPlugin, sandlock::landlock::kManifest)
