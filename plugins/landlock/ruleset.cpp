#include "ruleset.hpp"

#include <sandlock/sdk/plugin.hpp>
#include <sandlock/sdk/resolved_path.hpp>

#include <fcntl.h>
#include <sys/prctl.h>

#include <cstring>
#include <utility>

namespace sandlock::landlock {

namespace {

std::string errno_text(int err) { return std::string(::strerrorname_np(err)) + " (" + std::strerror(err) + ")"; }

void add_path_rule(int ruleset_fd, const PathRule& rule, std::vector<std::string>& vanished) {
    // The plan names resolved paths; an entry (or a directory on the way) swapped for a symlink
    // since then must not move the rule onto whatever the link points to.
    int fd = sdk::open_resolved_path(rule.path.c_str());
    if (fd < 0 && errno == ENOENT) {
        vanished.push_back(rule.path);
        return;
    }
    if (fd < 0) throw sdk::Error("landlock: cannot open " + rule.path + ": " + errno_text(errno));
    PathBeneathAttr attr{rule.access, fd};
    int rc = add_rule(ruleset_fd, kRulePathBeneath, &attr);
    int err = errno;
    ::close(fd);
    if (rc != 0)
        throw sdk::Error("landlock: cannot add the rule for " + rule.path + ": " + errno_text(err));
}

void add_port_rule(int ruleset_fd, const PortRule& rule) {
    NetPortAttr attr{rule.access, rule.port};
    if (add_rule(ruleset_fd, kRuleNetPort, &attr) != 0)
        throw sdk::Error("landlock: cannot add the rule for TCP port " + std::to_string(rule.port) +
                         ": " + errno_text(errno));
}

}  // namespace

Ruleset::~Ruleset() {
    if (fd_ >= 0) ::close(fd_);
}

Ruleset::Ruleset(Ruleset&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), late_rules_(std::move(other.late_rules_)) {}

Ruleset& Ruleset::operator=(Ruleset&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        late_rules_ = std::move(other.late_rules_);
    }
    return *this;
}

Ruleset Ruleset::build(const RulesetAttr& attr, const std::vector<PathRule>& paths,
                       const std::vector<PortRule>& ports, std::vector<std::string>& vanished) {
    // The kernel makes ruleset fds close-on-exec itself.
    int fd = create_ruleset(&attr, sizeof(attr), 0);
    if (fd < 0) throw sdk::Error("landlock: cannot create the ruleset: " + errno_text(errno));
    Ruleset ruleset(fd);
    for (const auto& rule : paths) add_path_rule(fd, rule, vanished);
    for (const auto& rule : ports) add_port_rule(fd, rule);
    return ruleset;
}

int Ruleset::enforce() const noexcept {
    if (fd_ < 0) return 0;
    int rc = 0;
    for (const PathRule& rule : late_rules_) {
        // What the sandbox shows there (a kept branch's workspace, say) may hold a symlink a
        // previous run swapped in: the rule is for the planned path only.
        const int fd = sdk::open_resolved_path(rule.path.c_str());
        if (fd < 0 && errno == ENOENT) continue;  // gone: nothing to allow
        if (fd < 0) return -errno;
        PathBeneathAttr attr{rule.access, fd};
        const int added = add_rule(fd_, kRulePathBeneath, &attr);
        const int error = errno;
        ::close(fd);
        if (added != 0) return -error;
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || restrict_self(fd_) != 0) rc = -errno;
    ::close(fd_);
    return rc;
}

}  // namespace sandlock::landlock
