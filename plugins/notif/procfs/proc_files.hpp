// Reading the few /proc files the notif layer needs (stat, statm, status, children, maps), split
// into small readers and pure parsers so the parsing is unit-tested without processes.
#pragma once

#include <sandlock/sdk/small_file.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sandlock::notif::proc {

// The fields of /proc/PID/stat the notif layer uses.
struct StatFields {
    char state = '?';           // R, S, D, Z, T, ...
    pid_t ppid = 0;
    std::uint64_t cpu_ticks = 0;        // utime + stime of the whole process, in clock ticks
    std::uint64_t children_ticks = 0;   // cutime + cstime: its children it has waited for
    std::uint64_t start_brk = 0;  // where the heap begins
};

// Parsers: nullopt when the text is not in the expected shape.
std::optional<StatFields> parse_stat(std::string_view text);
// The "data" column of /proc/PID/statm (private writable plus stack mappings), in pages.
std::optional<std::uint64_t> parse_statm_data_pages(std::string_view text);
// The numeric value of a "Name:\tvalue" line of /proc/PID/status.
std::optional<std::int64_t> parse_status_number(std::string_view text, std::string_view name);
// The last numeric value of a "Name:\tv1\tv2..." line: for NSpid and NStgid, the id in the
// innermost PID namespace — as the process itself names it.
std::optional<std::int64_t> parse_status_last_number(std::string_view text, std::string_view name);
// The pids of a /proc/PID/task/TID/children file.
std::vector<pid_t> parse_pid_list(std::string_view text);
// The end of the [heap] mapping in /proc/PID/maps text, if the text has a private writable one.
std::optional<std::uint64_t> parse_heap_end(std::string_view maps_text);

// Readers: the whole file (small files only), or nullopt when it cannot be read.
using sdk::read_small_file;

std::optional<StatFields> read_stat(pid_t pid);
std::optional<std::uint64_t> read_data_bytes(pid_t pid);  // statm data × page size
std::optional<pid_t> read_tgid(pid_t tid);                // Tgid: of /proc/TID/status
// Thread `tid` (as we name it) and its thread group, as that thread names them (inside the
// sandbox's PID namespace: the namespace's own numbers).
struct OwnIds {
    pid_t tid = 0;
    pid_t tgid = 0;
};
std::optional<OwnIds> read_own_ids(pid_t tid);
// The current end of the heap: the end of [heap], or start_brk when the heap is empty. The
// usual search gives up a few mappings past the executable's (start_brk then, an end too low,
// which only overcharges); a thorough one looks through every mapping, for the break a refused
// brk must report exactly (libc takes it as its new break).
// Only a private writable mapping the kernel names [heap] is taken for the heap (one reaching
// past the break was charged when it was mapped). `hint`, when given: where the heap began when
// last found (0: unknown), asked for first, and updated; a stale one (the process exec'd, its
// heap was freed) costs one query more, and whatever it finds passes the same test.
enum class HeapSearchDepth { Usual, Thorough };
std::optional<std::uint64_t> read_heap_end(pid_t pid, HeapSearchDepth depth = HeapSearchDepth::Usual,
                                           std::uint64_t* hint = nullptr);
// The children of thread `tid` (its /proc/TID/task/TID/children); nullopt when unreadable.
std::optional<std::vector<pid_t>> read_thread_children(pid_t tid);
// The children of each thread of `pid`: (thread id, its children) pairs.
std::vector<std::pair<pid_t, std::vector<pid_t>>> read_children_by_thread(pid_t pid);

}  // namespace sandlock::notif::proc
