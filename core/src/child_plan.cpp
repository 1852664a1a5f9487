#include "child_plan.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>

namespace sandlock {

CStringArray::CStringArray(std::vector<std::string> strings) : strings_(std::move(strings)) { point(); }

CStringArray& CStringArray::operator=(CStringArray&& other) noexcept {
    strings_ = std::move(other.strings_);
    point();
    other.pointers_.clear();
    return *this;
}

void CStringArray::point() {
    pointers_.clear();
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
}

std::vector<std::string> build_environment(const Policy& policy, char** environ_now) {
    static constexpr std::array<std::string_view, 6> kCleanKeep = {"PATH", "HOME", "USER", "TERM", "LANG", "SHELL"};
    std::vector<std::string> env;
    for (char** entry = environ_now; entry != nullptr && *entry != nullptr; ++entry) {
        std::string_view var(*entry);
        std::string_view key = var.substr(0, var.find('='));
        if (policy.env.contains(std::string(key))) continue;
        if (policy.clean_env && std::find(kCleanKeep.begin(), kCleanKeep.end(), key) == kCleanKeep.end()) continue;
        env.emplace_back(var);
    }
    for (const auto& [key, value] : policy.env) env.push_back(key + "=" + value);
    return env;
}

std::vector<std::string> exec_candidates(const std::string& command, const std::vector<std::string>& envp) {
    if (command.find('/') != std::string::npos) return {command};
    std::string path = "/usr/local/bin:/usr/bin:/bin";  // glibc's default when PATH is unset
    for (const auto& var : envp)
        if (var.starts_with("PATH=")) path = var.substr(5);
    std::vector<std::string> candidates;
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');)
        candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + command);
    if (!path.empty() && path.back() == ':') candidates.push_back("./" + command);
    return candidates;
}

}  // namespace sandlock
