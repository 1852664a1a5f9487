#include "restore/restorer.hpp"

#include "capture/memory_map.hpp"
#include "image/page_file.hpp"
#include "ptrace/proc_memory.hpp"
#include "ptrace/tracee.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <fcntl.h>
#include <linux/prctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

namespace sandlock::checkpoint {
namespace {
namespace fs = std::filesystem;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kScratchData = 64u << 10;  // paths, the mm map, handlers
constexpr std::size_t kCopyChunk = 4u << 20;

bool overlaps(std::uint64_t start, std::uint64_t end, const std::vector<Vma>& vmas) {
    return std::any_of(vmas.begin(), vmas.end(), [&](const Vma& v) { return start < v.end && v.start < end; });
}

bool special(const Vma& v) { return v.kind == VmaKind::Vdso || v.kind == VmaKind::Vvar || v.kind == VmaKind::Vsyscall; }

int prot_of(const Vma& v) {
    return (v.read ? PROT_READ : 0) | (v.write ? PROT_WRITE : 0) | (v.exec ? PROT_EXEC : 0);
}

bool fd_restorable(const FdEntry& e) {
    switch (e.kind) {
        case FdKind::File:
        case FdKind::Directory:
            return e.target.find(" (deleted)") == std::string::npos;
        case FdKind::Device:
            return e.target == "/dev/null" || e.target == "/dev/zero" || e.target == "/dev/full" ||
                   e.target == "/dev/random" || e.target == "/dev/urandom";
        default:
            return false;
    }
}

// Where the rebuilding runs from: one code page holding a `syscall` instruction and a data area
// for what the calls read, placed where neither the process now nor its image has anything,
// with room behind it to park the vDSO while the old mappings go.
class Rebuild {
public:
    Rebuild(Tracee& tracee, const ProcessImage& image, const std::vector<Vma>& now)
        : tracee_(tracee), memory_(tracee.tid()) {
        for (const Vma& v : now)
            if (special(v) && v.kind != VmaKind::Vsyscall) specials_now_.push_back(v);
        std::uint64_t park = 0;
        for (const Vma& v : specials_now_) park += v.end - v.start;
        size_ = kPage + kScratchData + park;
        const std::uintptr_t bootstrap = find_syscall_instruction(tracee.tid());
        if (bootstrap == 0) throw sdk::Error("restore: the new process has no system call instruction to start from");
        for (std::uint64_t at = 1ull << 30; at < (1ull << 46); at += 1ull << 30)
            if (!overlaps(at, at + size_, now) && !overlaps(at, at + size_, image.vmas)) {
                base_ = at;
                break;
            }
        if (base_ == 0) throw sdk::Error("restore: no room to work in the new process");
        const long got = tracee_.inject(bootstrap, SYS_mmap,
                                        {base_, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                                         static_cast<std::uint64_t>(-1), 0});
        if (got != static_cast<long>(base_)) fail("mmap of its work area", got);
        static constexpr unsigned char kSyscall[] = {0x0f, 0x05};
        put(base_, kSyscall, sizeof kSyscall);
        const long protected_ = tracee_.inject(bootstrap, SYS_mprotect, {base_, kPage, PROT_READ | PROT_EXEC});
        if (protected_ != 0) fail("mprotect of its work area", protected_);
    }

    [[noreturn]] void fail(const std::string& what, long result) const {
        throw sdk::Error("restore: " + what + " failed: " + std::strerror(static_cast<int>(-result)));
    }
    std::uint64_t call(long nr, std::initializer_list<std::uint64_t> args, const std::string& what) {
        return call_in(tracee_, nr, args, what);
    }
    // The same in another thread of the process (one made by new_thread).
    std::uint64_t call_in(Tracee& thread, long nr, std::initializer_list<std::uint64_t> args, const std::string& what) {
        const long result = thread.inject(base_, nr, args);
        if (result < 0 && result > -4096) fail(what, result);
        return static_cast<std::uint64_t>(result);
    }
    // A new thread of the process, stopped before it ran anything.
    Tracee new_thread() {
        constexpr std::uint64_t kThread =
            CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
        return Tracee::adopt_stopped(tracee_.inject_clone(base_, kThread));
    }
    long try_call(long nr, std::initializer_list<std::uint64_t> args) { return tracee_.inject(base_, nr, args); }
    void put(std::uint64_t address, const void* data, std::size_t size) {
        if (!memory_.write(address, data, size)) throw sdk::Error("restore: cannot write into the new process");
    }
    // A string or struct in the data area, for the next call.
    std::uint64_t stage(const void* data, std::size_t size) {
        if (size > kScratchData) throw sdk::Error("restore: an argument is too large");
        put(data_area(), data, size);
        return data_area();
    }
    std::uint64_t stage(const std::string& text) { return stage(text.c_str(), text.size() + 1); }
    std::uint64_t data_area() const { return base_ + kPage; }
    std::uint64_t park_area() const { return base_ + kPage + kScratchData; }
    std::uint64_t base() const { return base_; }
    std::uint64_t size() const { return size_; }
    const std::vector<Vma>& specials_now() const { return specials_now_; }
    const ProcMemory& memory() const { return memory_; }

private:
    Tracee& tracee_;
    ProcMemory memory_;
    std::vector<Vma> specials_now_;
    std::uint64_t base_ = 0, size_ = 0;
};

void unmap_everything_else(Rebuild& r, const std::vector<Vma>& now) {
    for (const Vma& v : now)
        if (!special(v) && !(v.start >= r.base() && v.end <= r.base() + r.size()))
            r.call(SYS_munmap, {v.start, v.end - v.start}, "munmap of " + (v.name.empty() ? "a mapping" : v.name));
}

// The vDSO and its data pages go where the image had them (its code keeps pointers into them):
// parked behind the work area first, so no move lands on another special mapping.
void move_kernel_mappings(Rebuild& r, const ProcessImage& image) {
    std::vector<const Vma*> wanted;
    for (const Vma& v : image.vmas)
        if (special(v) && v.kind != VmaKind::Vsyscall) wanted.push_back(&v);
    const auto& now = r.specials_now();
    bool same = wanted.size() == now.size();
    for (std::size_t i = 0; same && i < now.size(); ++i)
        same = wanted[i]->name == now[i].name && wanted[i]->end - wanted[i]->start == now[i].end - now[i].start;
    if (!same)
        throw sdk::Error("restore: this kernel's vDSO is laid out unlike the one the checkpoint was taken on (restore on "
                         "the same kernel)");
    std::uint64_t parked = r.park_area();
    std::vector<std::uint64_t> at;
    for (const Vma& v : now) {
        const std::uint64_t size = v.end - v.start;
        r.call(SYS_mremap, {v.start, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, parked}, "mremap of " + v.name);
        at.push_back(parked);
        parked += size;
    }
    for (std::size_t i = 0; i < now.size(); ++i) {
        const std::uint64_t size = now[i].end - now[i].start;
        r.call(SYS_mremap, {at[i], size, size, MREMAP_MAYMOVE | MREMAP_FIXED, wanted[i]->start}, "mremap of " + now[i].name);
    }
}

void fill_pages(Rebuild& r, const Vma& v, const PageFileReader& pages, std::vector<char>& buffer) {
    for (const PageRun& run : v.runs)
        for (std::uint64_t done = 0; done < run.pages * kPage;) {
            const std::size_t size = std::min<std::uint64_t>(run.pages * kPage - done, buffer.size());
            pages.read(run.data_offset + done, buffer.data(), size);
            r.put(v.start + run.first_page * kPage + done, buffer.data(), size);
            done += size;
        }
}

void recreate_memory(Rebuild& r, const ProcessImage& image, const PageFileReader& pages) {
    std::vector<char> buffer(kCopyChunk);
    std::string open_name;
    long open_fd = -1;
    auto close_open = [&] {
        if (open_fd >= 0) r.try_call(SYS_close, {static_cast<std::uint64_t>(open_fd)});
        open_fd = -1;
        open_name.clear();
    };
    for (const Vma& v : image.vmas) {
        if (special(v)) continue;
        const int prot = prot_of(v);
        const int writable = v.runs.empty() ? prot : prot | PROT_WRITE;
        const std::uint64_t size = v.end - v.start;
        const std::string what = "mapping " + (v.name.empty() ? std::string("anonymous") : v.name);
        if (v.kind == VmaKind::File) {
            if (v.name != open_name) {
                close_open();
                // Non-blocking: a FIFO swapped in for the file must not hold the restore.
                const int mode = (v.shared && v.write ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC;
                open_fd = static_cast<long>(r.call(SYS_openat, {static_cast<std::uint64_t>(AT_FDCWD), r.stage(v.name),
                                                                static_cast<std::uint64_t>(mode), 0},
                                                   "open of " + v.name));
                open_name = v.name;
            }
            r.call(SYS_mmap,
                   {v.start, size, static_cast<std::uint64_t>(writable),
                    static_cast<std::uint64_t>(MAP_FIXED | (v.shared ? MAP_SHARED : MAP_PRIVATE)),
                    static_cast<std::uint64_t>(open_fd), v.offset},
                   what);
        } else {
            const int flags = MAP_FIXED | MAP_ANONYMOUS | (v.shared ? MAP_SHARED : MAP_PRIVATE) |
                              (v.kind == VmaKind::Stack ? MAP_GROWSDOWN : 0);
            r.call(SYS_mmap, {v.start, size, static_cast<std::uint64_t>(writable), static_cast<std::uint64_t>(flags),
                              static_cast<std::uint64_t>(-1), 0},
                   what);
        }
        fill_pages(r, v, pages, buffer);
        if (writable != prot) r.call(SYS_mprotect, {v.start, size, static_cast<std::uint64_t>(prot)}, "mprotect of " + what);
    }
    close_open();
}

// prctl(PR_SET_MM_MAP): code, data, break, stack, arguments, environment and auxv as they were
// (what /proc/PID/cmdline and brk(2) use). Needs no privilege when the exe stays.
void set_mm_layout(Rebuild& r, const MmLayout& mm) {
    struct prctl_mm_map map {};
    map.start_code = mm.start_code;
    map.end_code = mm.end_code;
    map.start_data = mm.start_data;
    map.end_data = mm.end_data;
    map.start_brk = mm.start_brk;
    map.brk = mm.brk;
    map.start_stack = mm.start_stack;
    map.arg_start = mm.arg_start;
    map.arg_end = mm.arg_end;
    map.env_start = mm.env_start;
    map.env_end = mm.env_end;
    map.exe_fd = static_cast<__u32>(-1);
    std::vector<std::uint8_t> block(sizeof map + mm.auxv.size());
    const std::uint64_t area = r.data_area();
    if (!mm.auxv.empty()) {
        map.auxv = reinterpret_cast<__u64*>(area + sizeof map);
        map.auxv_size = static_cast<__u32>(mm.auxv.size());
    }
    std::memcpy(block.data(), &map, sizeof map);
    std::memcpy(block.data() + sizeof map, mm.auxv.data(), mm.auxv.size());
    r.stage(block.data(), block.size());
    r.call(SYS_prctl, {PR_SET_MM, PR_SET_MM_MAP, area, sizeof map, 0}, "prctl(PR_SET_MM_MAP)");
}

// A pipe the process held both ends of: made anew, with what was buffered in it, its ends
// parked above every saved fd until each fd that had one gets its copy.
struct PipeEnds {
    bool reader = false, writer = false;
    std::uint64_t read_end = 0, write_end = 0;
};

std::map<std::string, PipeEnds> recreate_pipes(Rebuild& r, const ProcessImage& image) {
    std::map<std::string, PipeEnds> pipes;
    int highest = 2;
    for (const FdEntry& e : image.fds) {
        highest = std::max(highest, e.fd);
        if (e.fd <= 2 || e.kind != FdKind::Pipe) continue;
        PipeEnds& ends = pipes[e.target];
        ((e.flags & O_ACCMODE) == O_RDONLY ? ends.reader : ends.writer) = true;
    }
    for (auto& [target, ends] : pipes) {
        if (!ends.reader || !ends.writer) continue;
        r.call(SYS_pipe2, {r.data_area(), O_CLOEXEC | O_NONBLOCK}, "pipe2 for " + target);
        int pair[2] = {-1, -1};
        if (!r.memory().read(r.data_area(), pair, sizeof pair)) throw sdk::Error("restore: cannot read a new pipe's fds");
        const auto park = [&](int fd) {
            const std::uint64_t high = r.call(SYS_fcntl, {static_cast<std::uint64_t>(fd), F_DUPFD_CLOEXEC,
                                                           static_cast<std::uint64_t>(highest + 1)},
                                              "fcntl for " + target);
            r.try_call(SYS_close, {static_cast<std::uint64_t>(fd)});
            return high;
        };
        ends.read_end = park(pair[0]);
        ends.write_end = park(pair[1]);
        for (const FdEntry& e : image.fds) {
            if (e.target != target || e.pipe_data.empty()) continue;
            if (e.pipe_data.size() > 65536)
                r.call(SYS_fcntl, {ends.write_end, F_SETPIPE_SZ, e.pipe_data.size()}, "F_SETPIPE_SZ for " + target);
            for (std::size_t done = 0; done < e.pipe_data.size();) {
                const std::size_t size = std::min<std::size_t>(e.pipe_data.size() - done, 65536);
                done += r.call(SYS_write, {ends.write_end, r.stage(e.pipe_data.data() + done, size), size},
                               "write into " + target);
            }
        }
    }
    return pipes;
}

void recreate_files(Rebuild& r, const ProcessImage& image, const RestoreOptions& options) {
    r.call(SYS_close_range, {3, ~0u, 0}, "close_range");
    auto saved = [&](int fd) {
        return std::any_of(image.fds.begin(), image.fds.end(), [fd](const FdEntry& e) { return e.fd == fd; });
    };
    // The standard streams are the restorer's, whatever they were (a file, a pipe, a terminal
    // of whoever started the checkpointed process); one it had closed stays closed.
    for (int fd = 0; fd <= 2; ++fd)
        if (!saved(fd)) r.try_call(SYS_close, {static_cast<std::uint64_t>(fd)});
    const std::map<std::string, PipeEnds> pipes = recreate_pipes(r, image);
    constexpr std::uint32_t kStatusFlags = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC;
    for (const FdEntry& e : image.fds) {
        if (e.fd <= 2) continue;
        const auto pipe = pipes.find(e.target);
        if (e.kind == FdKind::Pipe && pipe != pipes.end() && pipe->second.reader && pipe->second.writer) {
            const bool reads = (e.flags & O_ACCMODE) == O_RDONLY;
            r.call(SYS_dup3, {reads ? pipe->second.read_end : pipe->second.write_end, static_cast<std::uint64_t>(e.fd),
                              e.close_on_exec ? O_CLOEXEC : 0u},
                   "dup3 of " + e.target);
            r.call(SYS_fcntl, {static_cast<std::uint64_t>(e.fd), F_SETFL, e.flags & kStatusFlags}, "fcntl of " + e.target);
            continue;
        }
        if (!fd_restorable(e)) {
            if (options.skip_unrestorable) continue;
            throw sdk::Error("restore: fd " + std::to_string(e.fd) + " (" + e.target + ") cannot be recreated");
        }
        // Opened non-blocking (a FIFO swapped in must not hold the restore), checked to be what
        // it was, then given its own status flags.
        const std::uint64_t flags = (e.flags & ~static_cast<std::uint32_t>(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) |
                                    (e.close_on_exec ? O_CLOEXEC : 0) | O_NONBLOCK |
                                    (e.kind == FdKind::Directory ? O_DIRECTORY : 0);
        const std::string what = "open of " + e.target + " (fd " + std::to_string(e.fd) + ")";
        const std::uint64_t got = r.call(SYS_openat, {static_cast<std::uint64_t>(AT_FDCWD), r.stage(e.target), flags, 0}, what);
        if (e.kind == FdKind::File) {
            struct stat st {};
            r.call(SYS_fstat, {got, r.data_area()}, "fstat of " + e.target);
            if (!r.memory().read(r.data_area(), &st, sizeof st) || !S_ISREG(st.st_mode))
                throw sdk::Error("restore: " + e.target + " (fd " + std::to_string(e.fd) + ") is no longer a regular file");
        }
        r.call(SYS_fcntl, {got, F_SETFL, e.flags & kStatusFlags}, "fcntl of " + e.target);
        if (got != static_cast<std::uint64_t>(e.fd)) {
            r.call(SYS_dup3, {got, static_cast<std::uint64_t>(e.fd), e.close_on_exec ? O_CLOEXEC : 0u}, "dup3 for " + what);
            r.try_call(SYS_close, {got});
        }
        if (e.kind == FdKind::File && e.position != 0 && (e.flags & O_APPEND) == 0)
            r.call(SYS_lseek, {static_cast<std::uint64_t>(e.fd), e.position, SEEK_SET}, "lseek of " + e.target);
    }
    for (const auto& [target, ends] : pipes)
        if (ends.reader && ends.writer) {
            r.try_call(SYS_close, {ends.read_end});
            r.try_call(SYS_close, {ends.write_end});
        }
}

void recreate_process_state(Rebuild& r, const ProcessImage& image) {
    r.call(SYS_chdir, {r.stage(image.cwd)}, "chdir to " + image.cwd);
    r.call(SYS_umask, {image.umask}, "umask");
    for (const SignalAction& a : image.signal_actions) {
        const std::uint64_t action[4] = {a.handler, a.flags, a.restorer, a.mask};
        r.call(SYS_rt_sigaction, {static_cast<std::uint64_t>(a.signal), r.stage(action, sizeof action), 0, 8},
               "rt_sigaction of signal " + std::to_string(a.signal));
    }
}

// What the kernel keeps per thread, set by the thread itself.
void recreate_thread_state(Rebuild& r, Tracee& thread, const ThreadImage& t) {
    if (t.rseq_address != 0)
        r.call_in(thread, SYS_rseq, {t.rseq_address, t.rseq_size, 0, t.rseq_signature}, "rseq registration");
    if (t.robust_list != 0) r.call_in(thread, SYS_set_robust_list, {t.robust_list, t.robust_list_size}, "set_robust_list");
    if (t.tid_address != 0) {
        // The C library keeps the thread's id where the kernel clears it at exit: the new id.
        const std::uint64_t tid = r.call_in(thread, SYS_set_tid_address, {t.tid_address}, "set_tid_address");
        const auto id = static_cast<std::int32_t>(tid);
        r.put(t.tid_address, &id, sizeof id);
    }
}

}  // namespace

std::string restore_refusal(const ProcessImage& image, const RestoreOptions& options) {
    if (!image.refusal.empty()) return "process " + std::to_string(image.pid) + ": " + image.refusal;
    if (!options.skip_unrestorable && !image.unrestorable.empty())
        return "process " + std::to_string(image.pid) + ": " + image.unrestorable.front() +
               " (--skip-unrestorable restores it without)";
    return "";
}

void restore_process(pid_t pid, const ProcessImage& image, const fs::path& directory, const RestoreOptions& options) {
    Tracee tracee = Tracee::adopt_at_exec(pid);
    std::vector<Tracee> others;  // outlives the try: on failure the process dies before they detach
    try {
        if (const std::string why = restore_refusal(image, options); !why.empty()) throw sdk::Error("restore: " + why);
        const PageFileReader pages(directory / image.page_file, image.page_bytes, image.page_hash);
        const std::vector<Vma> now = read_memory_map(pid);
        Rebuild rebuild(tracee, image, now);
        unmap_everything_else(rebuild, now);
        move_kernel_mappings(rebuild, image);
        recreate_memory(rebuild, image, pages);
        set_mm_layout(rebuild, image.mm);
        recreate_files(rebuild, image, options);
        recreate_process_state(rebuild, image);
        // The other threads, each cloned by the main thread and set up by itself.
        for (std::size_t i = 1; i < image.threads.size(); ++i) {
            others.push_back(rebuild.new_thread());
            recreate_thread_state(rebuild, others.back(), image.threads[i]);
        }
        recreate_thread_state(rebuild, tracee, image.threads.front());
        // Last of what it writes: undumpable, nothing may read its memory any more, us included.
        if (!image.dumpable) rebuild.call(SYS_prctl, {PR_SET_DUMPABLE, 0, 0, 0, 0}, "prctl(PR_SET_DUMPABLE)");
        rebuild.call(SYS_munmap, {rebuild.base(), rebuild.size()}, "munmap of the work area");
        for (std::size_t i = 0; i < image.threads.size(); ++i) {
            const ThreadImage& t = image.threads[i];
            Tracee& thread = i == 0 ? tracee : others[i - 1];
            user_regs_struct regs{};
            std::memcpy(&regs, t.registers.data(), sizeof regs);
            thread.set_extended_state(t.fpu);
            thread.set_signal_mask(t.signal_mask);
            if (i > 0) thread.detach_with(regs);
        }
        // The main thread last: the process runs its own code only once everything is back.
        user_regs_struct regs{};
        std::memcpy(&regs, image.threads.front().registers.data(), sizeof regs);
        tracee.detach_with(regs);
    } catch (...) {
        tracee.kill();
        throw;
    }
}

}  // namespace sandlock::checkpoint
