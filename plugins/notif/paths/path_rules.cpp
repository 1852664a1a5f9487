#include "paths/path_rules.hpp"

#include "procfs/proc_files.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sandlock::notif {
namespace {

constexpr std::string_view kMatchKeys[] = {"path", "prefix", "glob"};
constexpr std::string_view kKnownKeys[] = {"path", "prefix", "glob", "action", "errno", "content"};

// The highest errno number glibc names (EHWPOISON).
constexpr int kLastErrno = 133;

std::string where(std::size_t index) { return "[plugins.notif] path_rules[" + std::to_string(index) + "]"; }

std::string string_field(const boost::json::value& value, const std::string& at, std::string_view key,
                         std::string_view example) {
    if (!value.is_string())
        throw sdk::Error(at + " " + std::string(key) + ": expected a string such as " + std::string(example) +
                         ", got " + boost::json::serialize(value));
    return std::string(value.as_string());
}

PathAction parse_action(const boost::json::object& rule, const std::string& at) {
    const auto* value = rule.if_contains("action");
    if (value == nullptr) throw sdk::Error(at + ": missing action; add action = \"allow\", \"deny\" or \"virtualize\"");
    const std::string action = string_field(*value, at, "action", "\"deny\"");
    if (action == "allow") return PathAction::Allow;
    if (action == "deny") return PathAction::Deny;
    if (action == "virtualize") return PathAction::Virtualize;
    throw sdk::Error(at + " action: \"" + action + "\" is not an action; use \"allow\", \"deny\" or \"virtualize\"");
}

int parse_errno(const boost::json::value& value, const std::string& at) {
    const std::string name = string_field(value, at, "errno", "\"EACCES\"");
    const int error = errno_by_name(name);
    if (error == 0)
        throw sdk::Error(at + " errno: \"" + name + "\" is not an errno name; use one such as \"EACCES\", \"EPERM\" or \"ENOENT\"");
    return error;
}

PathRule parse_rule(const boost::json::value& item, std::size_t index) {
    const std::string at = where(index);
    if (!item.is_object())
        throw sdk::Error(at + ": expected a table such as {path = \"/etc/motd\", action = \"deny\"}, got " +
                         boost::json::serialize(item));
    const boost::json::object& rule = item.as_object();
    for (const auto& entry : rule) {
        const std::string_view key = entry.key();
        if (std::find(std::begin(kKnownKeys), std::end(kKnownKeys), key) == std::end(kKnownKeys))
            throw sdk::Error(at + ": unknown key \"" + std::string(key) +
                             "\"; the keys are path, prefix, glob, action, errno and content");
    }

    PathRule out;
    int match_keys = 0;
    for (std::size_t i = 0; i < std::size(kMatchKeys); ++i) {
        const auto* value = rule.if_contains(kMatchKeys[i]);
        if (value == nullptr) continue;
        ++match_keys;
        out.match = static_cast<PathMatch>(i);
        out.pattern = string_field(*value, at, kMatchKeys[i], "\"/etc/motd\"");
        if (out.pattern.empty() || out.pattern.front() != '/')
            throw sdk::Error(at + " " + std::string(kMatchKeys[i]) + ": \"" + out.pattern +
                             "\" is not an absolute path; write it from the root, e.g. \"/srv/data\"");
        if (out.match != PathMatch::Glob) out.pattern = normalize_lexically(out.pattern);
    }
    if (match_keys != 1)
        throw sdk::Error(at + ": name exactly one of path, prefix or glob (found " + std::to_string(match_keys) + ")");

    out.action = parse_action(rule, at);
    const auto* error = rule.if_contains("errno");
    const auto* content = rule.if_contains("content");
    if (error != nullptr && out.action != PathAction::Deny)
        throw sdk::Error(at + ": errno applies only to action = \"deny\"; remove it or change the action");
    if (content != nullptr && out.action != PathAction::Virtualize)
        throw sdk::Error(at + ": content applies only to action = \"virtualize\"; remove it or change the action");
    if (out.action == PathAction::Deny) out.error = error != nullptr ? parse_errno(*error, at) : EACCES;
    if (out.action == PathAction::Virtualize) {
        if (content == nullptr) throw sdk::Error(at + ": action = \"virtualize\" needs content = \"...\" (what the file reads)");
        out.content = string_field(*content, at, "content", "\"hello\\n\"");
    }
    return out;
}

bool written_for_self(const PathRule& rule) {
    return rule.pattern == "/proc/self" || rule.pattern.starts_with("/proc/self/");
}

}  // namespace

bool PathRule::matches(std::string_view path) const {
    switch (match) {
        case PathMatch::Exact: return path == pattern;
        case PathMatch::Prefix:
            return pattern == "/" ||
                   (path.starts_with(pattern) && (path.size() == pattern.size() || path[pattern.size()] == '/'));
        case PathMatch::Glob: return ::fnmatch(pattern.c_str(), std::string(path).c_str(), FNM_PATHNAME) == 0;
    }
    return false;
}

int errno_by_name(std::string_view name) {
    // Names glibc spells differently (strerrorname_np gives one name per number).
    if (name == "EWOULDBLOCK") return EWOULDBLOCK;
    if (name == "EDEADLOCK") return EDEADLOCK;
    if (name == "ENOTSUP") return ENOTSUP;
    for (int error = 1; error <= kLastErrno; ++error) {
        const char* known = ::strerrorname_np(error);
        if (known != nullptr && name == known) return error;
    }
    return 0;
}

std::vector<PathRule> parse_path_rules(const boost::json::value& rules) {
    if (!rules.is_array())
        throw sdk::Error("[plugins.notif] path_rules: expected an array of tables such as "
                         "[{path = \"/etc/motd\", action = \"deny\"}], got " + boost::json::serialize(rules));
    std::vector<PathRule> out;
    const boost::json::array& items = rules.as_array();
    for (std::size_t i = 0; i < items.size(); ++i) out.push_back(parse_rule(items[i], i));
    return out;
}

const PathRule* first_match(const std::vector<PathRule>& rules, std::string_view path,
                            const std::optional<std::string>& self_path) {
    for (const PathRule& rule : rules) {
        if (rule.matches(path)) return &rule;
        if (self_path && written_for_self(rule) && rule.matches(*self_path)) return &rule;
    }
    return nullptr;
}

void PathRulesModule::configure(const ModuleSetup& setup) {
    const auto* value = setup.options.if_contains("path_rules");
    if (value == nullptr) return;
    rules_ = parse_path_rules(*value);
    if (rules_.empty()) return;
    uses_proc_self_ = std::any_of(rules_.begin(), rules_.end(), written_for_self);
    add_open_handlers(setup, sdk::handler_fn<&PathRulesModule::on_open>(), this);
    setup.host.debug("path_rules: " + std::to_string(rules_.size()) + " rules");
}

sdk::NotifVerdict PathRulesModule::on_open(sdk::NotifContext& call) {
    const auto open = open_call(call);
    if (open->error != 0) return sdk::Verdict::error(open->error);
    std::optional<std::string> self_path;
    if (uses_proc_self_ && open->path.starts_with("/proc/")) {
        // As the caller names itself: the path is in its view (open_path.hpp).
        pid_t tgid = open->tgid;
        if (tgid <= 0)
            if (auto ids = proc::read_own_ids(call.pid())) tgid = ids->tgid;
        self_path = self_form(open->path, tgid);
    }
    const PathRule* rule = first_match(rules_, open->path, self_path);
    if (rule == nullptr) return sdk::Verdict::next();
    switch (rule->action) {
        case PathAction::Allow: return sdk::Verdict::allow();
        case PathAction::Deny: return sdk::Verdict::error(rule->error);
        case PathAction::Virtualize: return serve_content(*open, rule->content);
    }
    return sdk::Verdict::next();
}

}  // namespace sandlock::notif
