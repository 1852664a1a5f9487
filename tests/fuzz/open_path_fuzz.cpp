// Path joining and normalization of the notif layer (open_path.hpp) on arbitrary paths and
// magic-link targets: the result is absolute, normalized (no "//", "." or ".." left) and stable
// when normalized again.
#include "paths/open_path.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using sandlock::notif::ProcLinkSource;

// Magic links lead wherever the input's second half says.
class FuzzLinks final : public ProcLinkSource {
public:
    explicit FuzzLinks(std::string_view target) : target_(target) {}
    pid_t caller_tid() override { return 101; }
    pid_t caller_tgid() override { return 100; }
    int link_target(std::string_view, std::string_view link, std::string& target) override {
        if (link.starts_with("fd/") && link.size() > 4) return -ENOTDIR;
        target = target_;
        return 0;
    }

private:
    std::string target_;
};

void check_normal(const std::string& path) {
    if (path.empty() || path.front() != '/') std::abort();
    if (path.size() > 1 && path.back() == '/') std::abort();
    if (path.find("//") != std::string::npos || path.find("/./") != std::string::npos ||
        path.find("/../") != std::string::npos || path.ends_with("/.") || path.ends_with("/.."))
        std::abort();
    if (sandlock::notif::normalize_lexically(path) != path) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t split = input.find('\0');
    const std::string path = "/" + std::string(input.substr(0, split));
    const std::string target = split == std::string_view::npos ? "/" : "/" + std::string(input.substr(split + 1));

    check_normal(sandlock::notif::normalize_lexically(path));
    FuzzLinks links(target);
    const sandlock::notif::NormalizedPath normalized = sandlock::notif::normalize_path(path, links);
    if (normalized.error == 0) check_normal(normalized.path);
    if (const auto self = sandlock::notif::self_form(normalized.path, 100)) {
        if (!self->starts_with("/proc/self")) std::abort();
    }
    return 0;
}
