// A Landlock ruleset: built in the parent before fork, enforced in the child.
#pragma once

#include "landlock_abi.hpp"
#include "port_rules.hpp"
#include "ruleset_plan.hpp"

#include <string>
#include <vector>

namespace sandlock::landlock {

class Ruleset {
public:
    Ruleset() = default;
    ~Ruleset();
    Ruleset(Ruleset&& other) noexcept;
    Ruleset& operator=(Ruleset&& other) noexcept;
    Ruleset(const Ruleset&) = delete;
    Ruleset& operator=(const Ruleset&) = delete;

    // Creates the ruleset and adds every rule. Throws sdk::Error naming the path or port and
    // the errno. A path that vanished since planning is skipped and appended to `vanished`.
    static Ruleset build(const RulesetAttr& attr, const std::vector<PathRule>& paths,
                         const std::vector<PortRule>& ports, std::vector<std::string>& vanished);

    bool empty() const { return fd_ < 0; }
    int fd() const { return fd_; }

    // Rules added in the child just before enforce(): paths whose inodes exist only there.
    // The sandbox's fresh /proc is mounted by its init after fork, and a rule on the host's
    // /proc does not reach it (Landlock skips covered mount points on its way up).
    void add_in_child(std::vector<PathRule> rules) { late_rules_ = std::move(rules); }

    // In the child, between fork and exec: sets no_new_privs (required without
    // CAP_SYS_ADMIN), restricts the calling thread and closes the child's copy of the fd.
    // Async-signal-safe: no allocation, locks or logging; const, since the child may run in
    // sandlock's own memory. Returns 0 or -errno; does nothing when empty().
    int enforce() const noexcept;

private:
    explicit Ruleset(int fd) : fd_(fd) {}
    int fd_ = -1;
    std::vector<PathRule> late_rules_;
};

}  // namespace sandlock::landlock
