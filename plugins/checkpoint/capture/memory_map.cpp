#include "capture/memory_map.hpp"

#include "capture/proc_files.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <optional>
#include <sstream>

namespace sandlock::checkpoint {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kPresent = 1ull << 63, kSwapped = 1ull << 62, kFilePage = 1ull << 61;

VmaKind kind_of(const std::string& name) {
    if (name == "[heap]") return VmaKind::Heap;
    if (name == "[stack]") return VmaKind::Stack;
    if (name == "[vdso]") return VmaKind::Vdso;
    if (name.rfind("[vvar", 0) == 0) return VmaKind::Vvar;
    if (name == "[vsyscall]") return VmaKind::Vsyscall;
    if (!name.empty() && name[0] == '/') return VmaKind::File;
    return VmaKind::Anonymous;
}

}  // namespace

std::vector<Vma> read_memory_map(pid_t pid) {
    constexpr std::size_t kMaxMap = 16u << 20;  // some 150,000 mappings: past what the kernel allows
    auto text = read_proc_file(proc_path(pid, "maps"), kMaxMap);
    if (!text) throw sdk::Error("checkpoint: cannot read the memory map of process " + std::to_string(pid));
    if (text->size() >= kMaxMap) throw sdk::Error("checkpoint: process " + std::to_string(pid) + " has a memory map over 16 MiB");
    std::vector<Vma> vmas;
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream in(line);
        std::string range, perms, offset, device, inode;
        in >> range >> perms >> offset >> device >> inode;
        std::string name;
        std::getline(in >> std::ws, name);
        const auto dash = range.find('-');
        if (dash == std::string::npos || perms.size() != 4) continue;
        Vma vma;
        vma.start = std::stoull(range.substr(0, dash), nullptr, 16);
        vma.end = std::stoull(range.substr(dash + 1), nullptr, 16);
        vma.read = perms[0] == 'r';
        vma.write = perms[1] == 'w';
        vma.exec = perms[2] == 'x';
        vma.shared = perms[3] == 's';
        vma.offset = std::stoull(offset, nullptr, 16);
        vma.name = name;
        vma.kind = kind_of(name);
        vmas.push_back(std::move(vma));
    }
    return vmas;
}

bool holds_own_pages(const Vma& vma) {
    switch (vma.kind) {
        case VmaKind::Vdso:
        case VmaKind::Vvar:
        case VmaKind::Vsyscall:
            return false;
        case VmaKind::File:
            return !vma.shared;
        default:
            return true;
    }
}

namespace {

// PAGEMAP_SCAN (Linux 6.7): the kernel walks the page tables and returns runs of pages by kind,
// skipping what was never touched — a huge, mostly empty mapping costs nothing. The uapi of
// linux/fs.h, which Debian 12's headers predate.
struct PageRegion {
    std::uint64_t start, end, categories;
};
struct PmScanArg {
    std::uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    std::uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr std::uint64_t kIsFile = 1u << 2, kIsPresent = 1u << 3, kIsSwapped = 1u << 4, kIsPfnZero = 1u << 5;

// The runs, or nullopt where the kernel has no PAGEMAP_SCAN.
std::optional<std::vector<PageRun>> scanned_runs(int pagemap_fd, const Vma& vma) {
    std::vector<PageRun> runs;
    PageRegion regions[256];
    // Present or swapped; not the shared zero page; for a file mapping, not the file's own pages.
    const std::uint64_t excluded = kIsPfnZero | (vma.kind == VmaKind::File ? kIsFile : 0);
    for (std::uint64_t at = vma.start; at < vma.end;) {
        PmScanArg arg{};
        arg.size = sizeof arg;
        arg.start = at;
        arg.end = vma.end;
        arg.vec = reinterpret_cast<std::uint64_t>(regions);
        arg.vec_len = std::size(regions);
        arg.category_inverted = excluded;
        arg.category_mask = excluded;
        arg.category_anyof_mask = kIsPresent | kIsSwapped;
        arg.return_mask = kIsPresent | kIsSwapped;
        const int found = ::ioctl(pagemap_fd, kPagemapScan, &arg);
        if (found < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOTTY || errno == EINVAL) return std::nullopt;
            throw sdk::Error("checkpoint: cannot scan the page map of " + (vma.name.empty() ? "a mapping" : vma.name));
        }
        for (int i = 0; i < found; ++i) {
            const std::uint64_t first = (regions[i].start - vma.start) / kPage;
            const std::uint64_t pages = (regions[i].end - regions[i].start) / kPage;
            if (!runs.empty() && runs.back().first_page + runs.back().pages == first)
                runs.back().pages += pages;
            else
                runs.push_back({first, pages, 0});
        }
        if (arg.walk_end <= at) break;
        at = arg.walk_end;
    }
    return runs;
}

}  // namespace

std::vector<PageRun> own_page_runs(int pagemap_fd, const Vma& vma) {
    if (auto runs = scanned_runs(pagemap_fd, vma)) return *runs;
    std::vector<PageRun> runs;
    const std::uint64_t pages = (vma.end - vma.start) / kPage;
    const bool anonymous = vma.kind != VmaKind::File;
    std::vector<std::uint64_t> entries(std::min<std::uint64_t>(pages, 1u << 16));
    for (std::uint64_t first = 0; first < pages;) {
        const std::uint64_t count = std::min<std::uint64_t>(pages - first, entries.size());
        const off_t at = static_cast<off_t>((vma.start / kPage + first) * sizeof(std::uint64_t));
        ssize_t n;
        while ((n = ::pread(pagemap_fd, entries.data(), count * sizeof(std::uint64_t), at)) < 0 && errno == EINTR) {
        }
        if (n != static_cast<ssize_t>(count * sizeof(std::uint64_t)))
            throw sdk::Error("checkpoint: cannot read the page map of " + (vma.name.empty() ? "a mapping" : vma.name));
        for (std::uint64_t i = 0; i < count; ++i) {
            const std::uint64_t e = entries[i];
            const bool own = (e & (kPresent | kSwapped)) != 0 && (anonymous || (e & kFilePage) == 0);
            if (!own) continue;
            if (!runs.empty() && runs.back().first_page + runs.back().pages == first + i)
                ++runs.back().pages;
            else
                runs.push_back({first + i, 1, 0});
        }
        first += count;
    }
    return runs;
}

}  // namespace sandlock::checkpoint
