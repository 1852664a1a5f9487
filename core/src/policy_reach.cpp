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

// As written, and where its symlinks lead (Landlock follows them).
template <class Test>
bool either_form(const std::string& entry, Test test) {
    std::error_code ec;
    const fs::path resolved = fs::weakly_canonical(entry, ec);
    return test(fs::path(entry)) || (!ec && test(resolved));
}

}  // namespace

bool restricts_filesystem(const Policy& policy) {
    return !policy.fs_readable.empty() || !policy.fs_writable.empty() || !policy.fs_denied.empty();
}

bool lists_under(const Policy& policy, std::string_view dir) {
    // Listed: the entry is at or above `dir` (it covers it) or below it (part of it is granted).
    auto listed = [&](const std::string& entry) {
        return either_form(entry, [&](const fs::path& path) {
            const std::string p = normal_form(path);
            return at_or_below(dir, p) || at_or_below(p, dir);
        });
    };
    // Denied: the entry takes all of `dir` away (a denial below it leaves the rest reachable).
    auto denied = [&](const std::string& entry) {
        return either_form(entry, [&](const fs::path& path) { return at_or_below(dir, normal_form(path)); });
    };
    const bool granted = std::any_of(policy.fs_readable.begin(), policy.fs_readable.end(), listed) ||
                         std::any_of(policy.fs_writable.begin(), policy.fs_writable.end(), listed);
    return granted && std::none_of(policy.fs_denied.begin(), policy.fs_denied.end(), denied);
}

bool reaches(const Policy& policy, std::string_view dir) { return !restricts_filesystem(policy) || lists_under(policy, dir); }

}  // namespace sandlock
