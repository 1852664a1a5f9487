// User path rules from the profile's [plugins.notif] table:
//
//   [plugins.notif]
//   path_rules = [
//     {path = "/etc/motd", action = "virtualize", content = "hi\n"},
//     {prefix = "/srv/secret", action = "deny", errno = "EACCES"},
//     {glob = "/home/*/.ssh/*", action = "deny"},
//     {path = "/data", action = "allow"},
//   ]
//
// Each rule names exactly one of `path` (that path), `prefix` (that path and everything
// under it, component-wise: /srv/secret does not cover /srv/secretive) or `glob` (fnmatch(3)
// with FNM_PATHNAME: `*` stops at '/'), all absolute; and an `action`:
//   allow       the open goes on (later rules, the /proc rules and the kernel still apply —
//               allow lets the call continue, it never grants what Landlock refuses);
//   deny        the open fails with `errno` (default EACCES; a name such as "EPERM", "ENOENT");
//   virtualize  the open reads `content` (a sealed memfd; opening it for writing is EACCES).
// The first matching rule wins; rules are evaluated before the /proc rules. A rule written
// with /proc/self/... matches the caller's own /proc/<pid>/... too. Rules see the open family
// (open, openat, openat2, creat) on the normalized path (open_path.hpp); stat, exec and the
// rest pass. Deny and virtualize are answered from the one copy of the path read (never
// Continue); allow continues, so a multithreaded caller can swap the path after that check —
// like the /proc rules, path rules are defense in depth on top of Landlock, not a boundary.
#pragma once

#include "supervisor/builtin_module.hpp"
#include "paths/open_path.hpp"

#include <sandlock/sdk/notif.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sandlock::notif {

enum class PathMatch { Exact, Prefix, Glob };
enum class PathAction { Allow, Deny, Virtualize };

struct PathRule {
    PathMatch match = PathMatch::Exact;
    std::string pattern;  // normalized (exact, prefix); as written (glob)
    PathAction action = PathAction::Allow;
    int error = 0;        // deny: the errno
    std::string content;  // virtualize: what the file reads

    bool matches(std::string_view path) const;
};

// Parses the value of path_rules. Throws sdk::Error with one line naming the rule index, the
// key and the fix for anything it does not understand.
std::vector<PathRule> parse_path_rules(const boost::json::value& rules);

// The errno named `name` ("EACCES", "ENOENT", ...), or 0 when there is none by that name.
int errno_by_name(std::string_view name);

// The first rule matching `path` (or, for rules written with /proc/self, `self_path`).
const PathRule* first_match(const std::vector<PathRule>& rules, std::string_view path,
                            const std::optional<std::string>& self_path);

class PathRulesModule final : public BuiltinModule {
public:
    std::vector<std::string_view> option_keys() const override { return {"path_rules"}; }
    std::string_view rule() const override { return "paths"; }
    void configure(const ModuleSetup& setup) override;

    const std::vector<PathRule>& rules() const { return rules_; }

private:
    sdk::NotifVerdict on_open(sdk::NotifContext& call);

    std::vector<PathRule> rules_;
    bool uses_proc_self_ = false;
};

}  // namespace sandlock::notif
