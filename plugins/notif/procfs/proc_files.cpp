#include "procfs/proc_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace sandlock::notif::proc {
namespace {

// Splits off the next space-separated word of `text`.
std::string_view next_word(std::string_view& text) {
    std::size_t start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        text = {};
        return {};
    }
    text.remove_prefix(start);
    std::size_t end = text.find_first_of(" \n");
    std::string_view word = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    return word;
}

template <class T>
std::optional<T> to_number(std::string_view word, int base = 10) {
    T value{};
    auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), value, base);
    if (ec != std::errc{} || ptr != word.data() + word.size() || word.empty()) return std::nullopt;
    return value;
}

std::string pid_path(pid_t pid, const char* leaf) { return "/proc/" + std::to_string(pid) + "/" + leaf; }

}  // namespace

std::optional<StatFields> parse_stat(std::string_view text) {
    // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: split after the last ')'.
    std::size_t close = text.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(close + 1);
    // Field 3 onwards (1-based numbering of proc(5)).
    std::vector<std::string_view> fields;
    for (std::string_view word = next_word(rest); !word.empty(); word = next_word(rest)) fields.push_back(word);
    auto field = [&](std::size_t number) -> std::string_view {
        return number - 3 < fields.size() ? fields[number - 3] : std::string_view{};
    };
    StatFields out;
    if (field(3).size() != 1) return std::nullopt;
    out.state = field(3)[0];
    auto ppid = to_number<pid_t>(field(4));
    auto utime = to_number<std::uint64_t>(field(14));
    auto stime = to_number<std::uint64_t>(field(15));
    auto cutime = to_number<std::uint64_t>(field(16));
    auto cstime = to_number<std::uint64_t>(field(17));
    if (!ppid || !utime || !stime || !cutime || !cstime) return std::nullopt;
    out.ppid = *ppid;
    out.cpu_ticks = *utime + *stime;
    out.children_ticks = *cutime + *cstime;
    out.start_brk = to_number<std::uint64_t>(field(47)).value_or(0);
    return out;
}

std::optional<std::uint64_t> parse_statm_data_pages(std::string_view text) {
    // size resident shared text lib data dt
    std::string_view word;
    for (int i = 0; i < 6; ++i) word = next_word(text);
    return to_number<std::uint64_t>(word);
}

std::optional<std::int64_t> parse_status_last_number(std::string_view text, std::string_view name) {
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ':') {
            line.remove_prefix(name.size() + 1);
            const std::size_t last = line.find_last_not_of(" \t");
            if (last == std::string_view::npos) return std::nullopt;
            line = line.substr(0, last + 1);
            const std::size_t start = line.find_last_of(" \t");
            return to_number<std::int64_t>(start == std::string_view::npos ? line : line.substr(start + 1));
        }
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return std::nullopt;
}

std::optional<std::int64_t> parse_status_number(std::string_view text, std::string_view name) {
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ':') {
            line.remove_prefix(name.size() + 1);
            std::size_t start = line.find_first_not_of(" \t");
            if (start == std::string_view::npos) return std::nullopt;
            line.remove_prefix(start);
            return to_number<std::int64_t>(line.substr(0, line.find_first_of(" \t")));
        }
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return std::nullopt;
}

std::vector<pid_t> parse_pid_list(std::string_view text) {
    std::vector<pid_t> pids;
    for (std::string_view word = next_word(text); !word.empty(); word = next_word(text))
        if (auto pid = to_number<pid_t>(word); pid && *pid > 0) pids.push_back(*pid);
    return pids;
}

namespace {

// Whether a maps line is the heap's: "start-end rw?p offset dev 0   [heap]". Only the
// kernel's own name counts: a file ("/tmp/x[heap]") or a named anonymous mapping
// ("[anon:[heap]]") of the sandbox's could otherwise pose as the heap. And only a private
// writable one (see writable_private below).
bool is_heap_line(std::string_view line) {
    std::size_t pos = 0;
    for (int field = 0; field < 5; ++field) {  // range, perms, offset, dev, inode
        const std::size_t start = line.find_first_not_of(' ', pos);
        if (start == std::string_view::npos) return false;
        pos = line.find(' ', start);
        if (pos == std::string_view::npos) return false;
        const std::string_view value = line.substr(start, pos - start);
        if (field == 1 && (value.size() != 4 || value[1] != 'w' || value[3] != 'p')) return false;
        if (field == 4 && value != "0") return false;
    }
    const std::size_t name = line.find_first_not_of(' ', pos);
    return name != std::string_view::npos && line.substr(name) == "[heap]";
}

}  // namespace

std::optional<std::uint64_t> parse_heap_end(std::string_view maps_text) {
    for (std::size_t pos = 0; pos < maps_text.size();) {
        std::size_t end = maps_text.find('\n', pos);
        std::string_view line =
            maps_text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (is_heap_line(line)) {
            std::size_t dash = line.find('-');
            std::size_t space = line.find(' ');
            if (dash == std::string_view::npos || space == std::string_view::npos || space < dash) return std::nullopt;
            return to_number<std::uint64_t>(line.substr(dash + 1, space - dash - 1), 16);
        }
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return std::nullopt;
}

std::optional<StatFields> read_stat(pid_t pid) {
    auto text = read_small_file(pid_path(pid, "stat"));
    return text ? parse_stat(*text) : std::nullopt;
}

namespace {

bool statm_is_empty(std::string_view text) { return next_word(text) == "0"; }

// A leader whose main thread has exited while other threads run on has no memory of its own
// any more: its statm reads zeros (and its maps nothing, so its brk finds no heap and is
// refused), though the process's memory is in use; read so, the memory limit measured such a
// process as empty. Its other threads share that memory: the statm of the first of them that
// still has it (one past its own exit reads zeros too), or nullopt.
std::optional<std::string> live_thread_statm(pid_t pid) {
    const std::string task_dir = pid_path(pid, "task");
    DIR* tasks = ::opendir(task_dir.c_str());
    if (tasks == nullptr) return std::nullopt;
    std::optional<std::string> found;
    while (const dirent* entry = ::readdir(tasks)) {
        const auto tid = to_number<pid_t>(entry->d_name);
        if (!tid || *tid == pid) continue;
        auto text = read_small_file(task_dir + "/" + entry->d_name + "/statm");
        if (text && !statm_is_empty(*text)) {
            found = std::move(text);
            break;
        }
    }
    ::closedir(tasks);
    return found;
}

}  // namespace

std::optional<std::uint64_t> read_data_bytes(pid_t pid) {
    auto text = read_small_file(pid_path(pid, "statm"));
    if (text && statm_is_empty(*text))
        if (auto thread = live_thread_statm(pid)) text = std::move(thread);
    if (!text) return std::nullopt;
    auto pages = parse_statm_data_pages(*text);
    if (!pages) return std::nullopt;
    return *pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::optional<pid_t> read_tgid(pid_t tid) {
    auto text = read_small_file(pid_path(tid, "status"));
    if (!text) return std::nullopt;
    auto tgid = parse_status_number(*text, "Tgid");
    if (!tgid || *tgid <= 0) return std::nullopt;
    return static_cast<pid_t>(*tgid);
}

std::optional<OwnIds> read_own_ids(pid_t tid) {
    auto text = read_small_file(pid_path(tid, "status"));
    if (!text) return std::nullopt;
    auto own_tid = parse_status_last_number(*text, "NSpid");
    auto own_tgid = parse_status_last_number(*text, "NStgid");
    if (!own_tid || !own_tgid || *own_tid <= 0 || *own_tgid <= 0) return std::nullopt;
    return OwnIds{static_cast<pid_t>(*own_tid), static_cast<pid_t>(*own_tgid)};
}

namespace {

// PROCMAP_QUERY (Linux 6.11, <linux/fs.h>): one mapping of an open /proc/PID/maps, found by
// address, without the text. Declared here: the build's kernel headers may predate it.
struct ProcmapQuery {
    std::uint64_t size;
    std::uint64_t query_flags;
    std::uint64_t query_addr;
    std::uint64_t vma_start;
    std::uint64_t vma_end;
    std::uint64_t vma_flags;
    std::uint64_t vma_page_size;
    std::uint64_t vma_offset;
    std::uint64_t inode;
    std::uint32_t dev_major;
    std::uint32_t dev_minor;
    std::uint32_t vma_name_size;
    std::uint32_t build_id_size;
    std::uint64_t vma_name_addr;
    std::uint64_t build_id_addr;
};
constexpr unsigned long kProcmapQuery = _IOWR('f', 17, ProcmapQuery);
constexpr std::uint64_t kCoveringOrNextMapping = 0x10;
// The kernel names [heap] any mapping that overlaps the heap's range, however far past the
// break it reaches: a read-only one (never judged, so free) laid over the heap made a brk up to
// its end look free, and unmapped between that judging and the kernel's brk, the heap grew
// there uncharged. Only a private writable mapping is taken for the heap: one past the break
// was charged when it was mapped (or made writable), so no brk into it is free twice.
constexpr std::uint64_t kVmaWritable = 0x2;  // PROCMAP_QUERY_VMA_WRITABLE
constexpr std::uint64_t kVmaShared = 0x8;    // PROCMAP_QUERY_VMA_SHARED
bool writable_private(const ProcmapQuery& query) {
    return (query.vma_flags & kVmaWritable) != 0 && (query.vma_flags & kVmaShared) == 0;
}
// [heap] follows the executable's few mappings; a process without a heap yet is not searched further.
constexpr int kMappingsBeforeHeap = 32;

enum class HeapSearch { Found, NotFound, Unsupported };

// The anonymous mapping at or after `address` (the kernel's search), when it is private and
// writable and the kernel names it [heap] (it overlaps the heap's range; a file or a named
// mapping cannot be called so).
bool heap_mapping_from(int maps_fd, std::uint64_t address, std::uint64_t& start, std::uint64_t& end) {
    char name[8] = {};
    ProcmapQuery query{};
    query.size = sizeof query;
    query.query_flags = kCoveringOrNextMapping;
    query.query_addr = address;
    query.vma_name_size = sizeof name;
    query.vma_name_addr = reinterpret_cast<std::uintptr_t>(name);
    if (::ioctl(maps_fd, kProcmapQuery, &query) != 0 || query.inode != 0 || query.vma_name_size == 0 ||
        !writable_private(query))
        return false;
    if (std::string_view(name, query.vma_name_size - 1) != "[heap]") return false;
    start = query.vma_start;
    end = query.vma_end;
    return true;
}

// The first mapping the kernel itself names [heap] (an anonymous one: a file or a named
// mapping cannot be), scanning up from address 0 and, in the usual search, stopping once past
// the executable's image (a mapping of another file, or [stack]), as the text reader does.
HeapSearch query_heap_end(int maps_fd, HeapSearchDepth depth, std::uint64_t& heap_start, std::uint64_t& heap_end) {
    const bool thorough = depth == HeapSearchDepth::Thorough;
    std::uint64_t address = 0;
    std::uint64_t image_inode = 0;
    for (int i = 0; thorough || i < kMappingsBeforeHeap; ++i) {
        ProcmapQuery query{};
        query.size = sizeof query;
        query.query_flags = kCoveringOrNextMapping;
        query.query_addr = address;
        if (::ioctl(maps_fd, kProcmapQuery, &query) != 0)
            return errno == ENOENT ? HeapSearch::NotFound : HeapSearch::Unsupported;
        if (query.inode != 0) {
            if (!thorough && image_inode != 0 && query.inode != image_inode) return HeapSearch::NotFound;
            image_inode = query.inode;
        } else {
            // Only an anonymous mapping's name is asked for: no path to format.
            char name[8] = {};
            ProcmapQuery named = query;
            named.query_flags = kCoveringOrNextMapping;
            named.query_addr = query.vma_start;
            named.vma_name_size = sizeof name;
            named.vma_name_addr = reinterpret_cast<std::uintptr_t>(name);
            const bool short_name = ::ioctl(maps_fd, kProcmapQuery, &named) == 0;
            if (!short_name && errno != ENAMETOOLONG) return HeapSearch::Unsupported;
            const std::string_view found =
                short_name && named.vma_name_size > 0 ? std::string_view(name, named.vma_name_size - 1) : "";
            if (short_name && named.vma_start == query.vma_start && named.inode == 0 && found == "[heap]" &&
                writable_private(named)) {
                heap_start = named.vma_start;
                heap_end = named.vma_end;
                return HeapSearch::Found;
            }
            if (!thorough && found == "[stack]") return HeapSearch::NotFound;
        }
        address = query.vma_end;
    }
    return HeapSearch::NotFound;
}

std::optional<std::uint64_t> text_heap_end(int maps_fd, HeapSearchDepth depth) {
    std::string text;
    char buffer[1024];
    for (;;) {
        ssize_t n = ::read(maps_fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
        // Only whole lines are parsed; the heap line sits before the first shared library.
        std::string_view whole(text.data(), text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
        if (auto heap_end = parse_heap_end(whole)) return heap_end;
        if (depth == HeapSearchDepth::Usual &&
            (whole.find(".so") != std::string_view::npos || whole.find("[stack]") != std::string_view::npos))
            break;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> read_heap_end(pid_t pid, HeapSearchDepth depth, std::uint64_t* hint) {
    const int fd = ::open(pid_path(pid, "maps").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::uint64_t hinted_start = 0;
    std::uint64_t hinted_end = 0;
    if (hint != nullptr && *hint != 0 && heap_mapping_from(fd, *hint, hinted_start, hinted_end)) {
        ::close(fd);
        *hint = hinted_start;
        return hinted_end;
    }
    if (hint != nullptr) *hint = 0;
    // The query asks for a few mappings without formatting any path; older kernels get the
    // text, which the kernel formats only about as far as a read asks (so the reads are small).
    std::uint64_t queried_start = 0;
    std::uint64_t queried_end = 0;
    std::optional<std::uint64_t> heap_end;
    switch (query_heap_end(fd, depth, queried_start, queried_end)) {
        case HeapSearch::Found:
            heap_end = queried_end;
            if (hint != nullptr) *hint = queried_start;
            break;
        case HeapSearch::NotFound: break;
        case HeapSearch::Unsupported: heap_end = text_heap_end(fd, depth); break;
    }
    ::close(fd);
    if (heap_end) return heap_end;
    auto stat = read_stat(pid);  // no [heap] yet: the heap is empty and ends where it starts
    if (!stat || stat->start_brk == 0) return std::nullopt;
    return stat->start_brk;
}

std::optional<std::vector<pid_t>> read_thread_children(pid_t tid) {
    const std::string thread = std::to_string(tid);
    auto text = read_small_file("/proc/" + thread + "/task/" + thread + "/children");
    if (!text) return std::nullopt;
    return parse_pid_list(*text);
}

std::vector<std::pair<pid_t, std::vector<pid_t>>> read_children_by_thread(pid_t pid) {
    std::vector<std::pair<pid_t, std::vector<pid_t>>> out;
    const std::string task_dir = pid_path(pid, "task");
    DIR* tasks = ::opendir(task_dir.c_str());
    if (tasks == nullptr) return out;
    while (dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.') continue;
        auto tid = to_number<pid_t>(entry->d_name);
        if (!tid) continue;
        if (auto text = read_small_file(task_dir + "/" + entry->d_name + "/children")) {
            std::vector<pid_t> children = parse_pid_list(*text);
            if (!children.empty()) out.emplace_back(*tid, std::move(children));
        }
    }
    ::closedir(tasks);
    return out;
}

}  // namespace sandlock::notif::proc
