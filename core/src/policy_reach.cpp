#include "policy_reach.hpp"

#include <algorithm>
#include <filesystem>
#include <string>

namespace sandlock {
namespace {

namespace fs = std::filesystem;

// The normal form of an absolute path, without a trailing '/' (but "/" itself).
std::string normal_form(const fs::path& path) {
    std::string normal = path.lexically_normal().string();
    if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    return normal;
}

// Component-wise: /proc/1 is at or below /proc, /procfs is not.
bool at_or_below(std::string_view inner, std::string_view outer) {
    return inner == outer || outer == "/" || (inner.starts_with(outer) && inner[outer.size()] == '/');
}

}  // namespace

bool restricts_filesystem(const Policy& policy) {
    return !policy.fs_readable.empty() || !policy.fs_writable.empty() || !policy.fs_denied.empty();
}

PolicyReach::PolicyReach(const Policy& policy)
    : restricts_(restricts_filesystem(policy)), granted_(resolve(policy.fs_readable)), denied_(resolve(policy.fs_denied)) {
    std::vector<Entry> writable = resolve(policy.fs_writable);
    granted_.insert(granted_.end(), writable.begin(), writable.end());
}

std::vector<PolicyReach::Entry> PolicyReach::resolve(const std::vector<std::string>& entries) {
    std::vector<Entry> out;
    out.reserve(entries.size());
    for (const std::string& entry : entries) {
        std::error_code ec;
        const fs::path resolved = fs::weakly_canonical(entry, ec);
        out.push_back({normal_form(entry), ec ? std::string() : normal_form(resolved)});
    }
    return out;
}

bool PolicyReach::lists_under(std::string_view dir) const {
    // Either form counts: as written, and where its symlinks lead.
    auto either = [](const Entry& entry, auto test) {
        return test(entry.written) || (!entry.resolved.empty() && test(entry.resolved));
    };
    // Listed: the entry is at or above `dir` (it covers it) or below it (part of it is granted).
    auto listed = [&](const Entry& entry) {
        return either(entry, [&](std::string_view p) { return at_or_below(dir, p) || at_or_below(p, dir); });
    };
    // Denied: the entry takes all of `dir` away (a denial below it leaves the rest reachable).
    auto denied = [&](const Entry& entry) {
        return either(entry, [&](std::string_view p) { return at_or_below(dir, p); });
    };
    return std::any_of(granted_.begin(), granted_.end(), listed) && std::none_of(denied_.begin(), denied_.end(), denied);
}

bool PolicyReach::reaches(std::string_view dir) const { return !restricts_ || lists_under(dir); }

}  // namespace sandlock
