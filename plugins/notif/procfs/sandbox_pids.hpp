// Which pids belong to the sandbox, for the /proc rules: the sandbox's first process and its
// descendants. A pid belongs when walking up its parents reaches the first process, or when
// it (or an ancestor) is still in the first process's process group — which keeps orphans
// that were re-parented to the launcher or to init. A process that both left the group
// (setsid/setpgid) and lost its parent chain counts as foreign: hidden, not exposed.
// Read from /proc/PID/stat on demand, without a cache, so a recycled pid is never mistaken.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace sandlock::notif {

struct PidLinks {
    pid_t ppid = 0;
    pid_t pgrp = 0;
};

// The ppid and pgrp fields of a /proc/PID/stat text.
std::optional<PidLinks> parse_pid_links(std::string_view stat_text);

using PidLinkReader = std::function<std::optional<PidLinks>(pid_t)>;
// Remembers answers within one decision (a /proc listing asks about many pids that share ancestors).
using PidMemo = std::unordered_map<pid_t, bool>;

// Pure: whether `pid` descends from `root` (or is in its process group), reading links with `read`.
bool descends_from(pid_t pid, pid_t root, const PidLinkReader& read, PidMemo& memo);

class SandboxPids {
public:
    // The sandbox's first process; until it is known only the caller itself belongs.
    void start(pid_t root) { root_.store(root, std::memory_order_relaxed); }
    void stop() { root_.store(0, std::memory_order_relaxed); }

    // Whether `pid` is one of the sandbox's processes (threads count as their process).
    // `caller_tgid` — the process asking — always is: only the sandbox reaches the listener.
    bool contains(pid_t pid, pid_t caller_tgid, PidMemo& memo) const;
    bool contains(pid_t pid, pid_t caller_tgid) const {
        PidMemo memo;
        return contains(pid, caller_tgid, memo);
    }

private:
    std::atomic<pid_t> root_{0};
};

}  // namespace sandlock::notif
