// The seccomp layer: always on. Builds its BPF programs before fork and installs them in
// child stage 6, after no_new_privs, optionally with a user-notification listener for the
// syscalls other plugins asked to supervise.
#include "baked_programs.hpp"
#include "filter_builder.hpp"
#include "filter_install.hpp"
#include "syscall_plan.hpp"

#include <sandlock/sdk/export.hpp>

#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sandlock::seccomp {
namespace {

constexpr std::string_view kOwnedFields[] = {"deny_syscalls", "allow_syscalls"};

constexpr sdk::Manifest kManifest = {
    .name = "seccomp",
    .description = "syscall deny/allow lists, argument filters, user-notification listener",
    .owned_fields = kOwnedFields,
    .child_stages = sdk::stage_bit(sdk::Stage::Seccomp),
    .flags = sdk::kPluginProvidesListener,
};

sock_fprog fprog_of(Program& program) {
    return {static_cast<unsigned short>(program.size()), program.data()};
}

class SeccompPlugin final : public sdk::Plugin {
public:
    explicit SeccompPlugin(const sdk::HostApi* api) : Plugin(api, kManifest.name) {}

    void configure(const Policy& policy, const boost::json::object& options) override {
        if (!options.empty())
            throw sdk::Error("plugins.seccomp: unknown option '" + std::string(options.begin()->key()) +
                             "' (the seccomp plugin has no options)");
        strict_ = policy.strict;
        // Refuses unknown names even when seccomp is missing.
        plan_ = policy.deny_syscalls || policy.allow_syscalls ? plan_syscalls(policy) : baked::default_plan();
        const bool ports = !policy.net_connect.empty() || !policy.net_bind.empty();
        plan_.net.fast_open = !policy.net_connect.empty();
        plan_.net.other_transports = ports || !policy.net_allow_hosts.empty();
        plan_.net.source_routing = !policy.net_allow_hosts.empty();
        if (int err = probe_filter_support()) {
            unavailable("seccomp filters are not available on this kernel", err, "syscall filtering");
            enabled_ = false;
        }
    }

    void prepare() override {
        if (!enabled_) return;
        const auto requested = host().notify_requests();
        const auto conditional = host().notify_rules();
        // The default policy's programs were compiled at build time; routing adds a small
        // program of its own after them (build_routing_program) rather than a new compile.
        std::vector<Program> baked = baked::programs_for(plan_);
        if (!requested.empty() || !conditional.empty()) {
            if (int err = probe_user_notification()) {
                unavailable("seccomp user notification is not available on this kernel", err,
                            "the " + std::to_string(requested.size() + conditional.size()) + " supervised syscalls");
            } else {
                route_to_listener(plan_, requested, conditional);
                // A listener whenever one was asked for, even if every requested syscall is
                // denied: the host waits for it before running the after_fork hooks.
                wants_listener_ = true;
            }
        }
        const char* origin = "";
        if (!baked.empty()) {
            programs_ = std::move(baked);
            origin = " baked";
            if (wants_listener_) {
                programs_.push_back(build_routing_program(plan_));
                origin = " baked and routing";
            }
        } else {
            programs_ = build_programs(plan_);
        }
        std::size_t instructions = 0;
        for (const Program& program : programs_) {
            if (program.size() > BPF_MAXINSNS)
                throw sdk::Error("a syscall program has " + std::to_string(program.size()) +
                                 " instructions, more than the kernel's " + std::to_string(BPF_MAXINSNS));
            instructions += program.size();
        }
        for (Program& program : programs_) fprogs_.push_back(fprog_of(program));
        host().debug(std::string(plan_.allowlist ? "allowlist" : "deny list") + ", " +
                     std::to_string(plan_.exceptions.size()) + " rules, " + std::to_string(programs_.size()) +
                     origin + " programs, " + std::to_string(instructions) +
                     " BPF instructions" + (wants_listener_ ? ", with a listener" : ""));
    }

    int child_stage(sdk::Stage stage, sdk::ChildContext& ctx) noexcept override {
        if (stage != sdk::Stage::Seccomp || !enabled_) return 0;
        // Required for an unprivileged filter, and keeps setuid binaries from escaping it.
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
        // In order: the last program may be an allowlist that does not let seccomp(2) through,
        // and it is the one that carries the Notify actions, so the listener comes with it.
        for (std::size_t i = 0; i + 1 < fprogs_.size(); ++i)
            if (int rc = install_filter(fprogs_[i]); rc < 0) return rc;
        if (!wants_listener_) return install_filter(fprogs_.back());
        int fd = install_filter_with_listener(fprogs_.back());
        if (fd < 0) return fd;
        ctx.listener_fd = fd;
        return 0;
    }

    void nested(sdk::NestedConfinement& out) override {
        if (!enabled_) return;
        // Only the parent's listener may serve the subtree: the kernel allows one per chain.
        if (wants_listener_) throw sdk::Error("a nested sandbox's seccomp layer cannot route syscalls to a listener");
        nested_programs_.clear();
        for (const sock_fprog& program : fprogs_) nested_programs_.push_back({program.filter, program.len, 0});
        out.seccomp_programs = nested_programs_.data();
        out.seccomp_program_count = static_cast<std::uint32_t>(nested_programs_.size());
    }

private:
    // strict: refuse with the reason; otherwise say once what goes unenforced and go on.
    void unavailable(const std::string& what, int err, const std::string& lost) {
        const std::string reason = what + " (" + std::strerror(err) + ")";
        if (strict_)
            throw sdk::Error(reason + "; set strict = false (--best-effort) to run without " + lost);
        host().warning(reason + "; running without " + lost + " because strict = false");
    }

    bool strict_ = true;
    bool enabled_ = true;
    bool wants_listener_ = false;
    SyscallPlan plan_;
    std::vector<Program> programs_;  // in install order
    std::vector<sock_fprog> fprogs_;  // point into programs_
    std::vector<sdk::BpfProgram> nested_programs_;  // the same, for a nested sandbox
};

}  // namespace
}  // namespace sandlock::seccomp

SANDLOCK_EXPORT_PLUGIN(sandlock::seccomp::SeccompPlugin, sandlock::seccomp::kManifest)
