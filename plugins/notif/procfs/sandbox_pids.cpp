#include "procfs/sandbox_pids.hpp"

#include "procfs/proc_files.hpp"

#include <charconv>
#include <string>
#include <vector>

namespace sandlock::notif {
namespace {

// Parents are followed at most this far (a chain is never this deep; a loop cannot be).
constexpr int kMaxDepth = 256;

std::optional<PidLinks> read_links(pid_t pid) {
    auto text = proc::read_small_file("/proc/" + std::to_string(pid) + "/stat", 1024);
    return text ? parse_pid_links(*text) : std::nullopt;
}

std::optional<pid_t> next_number(std::string_view& text) {
    std::size_t start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    text.remove_prefix(start);
    pid_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{}) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return value;
}

}  // namespace

std::optional<PidLinks> parse_pid_links(std::string_view text) {
    // "pid (comm) state ppid pgrp ...": comm may hold anything, so start after the last ')'.
    std::size_t close = text.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    text.remove_prefix(close + 1);
    std::size_t state = text.find_first_not_of(' ');
    if (state == std::string_view::npos) return std::nullopt;
    text.remove_prefix(state + 1);
    auto ppid = next_number(text);
    auto pgrp = next_number(text);
    if (!ppid || !pgrp) return std::nullopt;
    return PidLinks{*ppid, *pgrp};
}

bool descends_from(pid_t pid, pid_t root, const PidLinkReader& read, PidMemo& memo) {
    std::vector<pid_t> walked;
    bool belongs = false;
    pid_t current = pid;
    for (int depth = 0; depth < kMaxDepth && current > 0; ++depth) {
        if (current == root) {
            belongs = true;
            break;
        }
        if (auto known = memo.find(current); known != memo.end()) {
            belongs = known->second;
            break;
        }
        walked.push_back(current);
        auto links = read(current);
        if (!links) break;
        if (links->pgrp == root) {
            belongs = true;
            break;
        }
        current = links->ppid;
    }
    for (pid_t seen : walked) memo[seen] = belongs;
    return belongs;
}

bool SandboxPids::contains(pid_t pid, pid_t caller_tgid, PidMemo& memo) const {
    if (pid == caller_tgid) return true;
    const pid_t root = root_.load(std::memory_order_relaxed);
    if (root <= 0) return false;
    return descends_from(pid, root, read_links, memo);
}

}  // namespace sandlock::notif
