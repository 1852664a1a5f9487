#include "capture/capture.hpp"

#include "capture/memory_map.hpp"
#include "capture/proc_files.hpp"
#include "image/page_file.hpp"
#include "ptrace/proc_memory.hpp"
#include "ptrace/tracee.hpp"

#include <sandlock/sdk/plugin.hpp>
#include <sandlock/sdk/sandbox_process.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace sandlock::checkpoint {
namespace {
namespace fs = std::filesystem;

constexpr std::size_t kCopyChunk = 4u << 20;
constexpr std::uint64_t kPage = 4096;

std::vector<pid_t> list_threads(pid_t pid) {
    std::vector<pid_t> tids;
    DIR* dir = ::opendir(proc_path(pid, "task").c_str());
    if (dir == nullptr) return tids;
    while (dirent* entry = ::readdir(dir))
        if (entry->d_name[0] != '.') tids.push_back(static_cast<pid_t>(std::atoi(entry->d_name)));
    ::closedir(dir);
    return tids;
}

bool exiting(pid_t tid) {
    const auto stat = read_proc_file(proc_path(tid, "stat"));
    if (!stat) return true;
    const auto close = stat->rfind(')');
    return close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] == 'Z' || (*stat)[close + 2] == 'X';
}

// Every process of the sandbox now (sdk/sandbox_process.hpp), but its spawner.
std::vector<pid_t> sandbox_processes(const SandboxIdentity& sandbox) {
    std::vector<pid_t> pids;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return pids;
    while (dirent* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        const auto pid = static_cast<pid_t>(std::atoi(entry->d_name));
        if (pid != sandbox.spawner && sdk::in_sandbox(pid, sandbox.init, sandbox.pid_namespace)) pids.push_back(pid);
    }
    ::closedir(proc);
    return pids;
}

// Seizes every thread of every process of the sandbox until a pass finds no new one: a thread
// that cloned or forked before it was stopped has its new thread or child (wherever it went in
// the sandbox) seized in the next pass. A thread is checked to be the sandbox's once seized
// (its pid can no longer be reused then).
std::map<pid_t, std::vector<Tracee>> stop_everything(std::vector<pid_t>& pids, const SandboxIdentity& sandbox) {
    std::map<pid_t, std::vector<Tracee>> stopped;
    std::set<pid_t> seen, known(pids.begin(), pids.end());
    for (bool more = true; more;) {
        more = false;
        for (std::size_t i = 0; i < pids.size(); ++i) {
            const pid_t pid = pids[i];
            for (pid_t tid : list_threads(pid)) {
                if (!seen.insert(tid).second) continue;
                more = true;
                try {
                    Tracee thread = Tracee::seize(tid);
                    if (!sdk::in_sandbox(tid, sandbox.init, sandbox.pid_namespace) || tid == sandbox.spawner)
                        throw sdk::Error("checkpoint: thread " + std::to_string(tid) + " is not the sandbox's (its pid was reused)");
                    stopped[pid].push_back(std::move(thread));
                } catch (const sdk::Error&) {
                    // Exiting or gone meanwhile (ptrace refuses a zombie): nothing to keep of it.
                    if (!exiting(tid)) throw;
                }
            }
        }
        for (pid_t pid : sandbox_processes(sandbox))
            if (known.insert(pid).second) {
                pids.push_back(pid);
                more = true;
            }
    }
    return stopped;
}

std::vector<std::string> fields_after_command(const std::string& stat) {
    std::vector<std::string> fields;
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return fields;
    std::istringstream in(stat.substr(close + 2));
    for (std::string field; in >> field;) fields.push_back(field);
    return fields;
}

// The mm layout from /proc/PID/stat (fields 26-28 and 45-51; the tracer may read them).
MmLayout read_mm_layout(pid_t pid, pid_t& ppid) {
    auto stat = read_proc_file(proc_path(pid, "stat"));
    const auto f = stat ? fields_after_command(*stat) : std::vector<std::string>{};
    if (f.size() < 49) throw sdk::Error("checkpoint: cannot read /proc/" + std::to_string(pid) + "/stat");
    auto at = [&](int field) { return std::stoull(f[static_cast<std::size_t>(field - 3)]); };
    ppid = static_cast<pid_t>(at(4));
    MmLayout mm;
    mm.start_code = at(26);
    mm.end_code = at(27);
    mm.start_stack = at(28);
    mm.start_data = at(45);
    mm.end_data = at(46);
    mm.start_brk = at(47);
    mm.arg_start = at(48);
    mm.arg_end = at(49);
    mm.env_start = at(50);
    mm.env_end = at(51);
    if (auto auxv = read_proc_file(proc_path(pid, "auxv"))) mm.auxv.assign(auxv->begin(), auxv->end());
    return mm;
}

std::uint64_t status_field(const std::string& status, const std::string& name, int base) {
    const auto at = status.find("\n" + name + ":");
    if (at == std::string::npos) return 0;
    return std::stoull(status.substr(at + name.size() + 2), nullptr, base);
}

bool is_harmless_device(const std::string& path) {
    static const char* const kDevices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};
    return std::any_of(std::begin(kDevices), std::end(kDevices), [&](const char* d) { return path == d; });
}

FdEntry read_fd(pid_t pid, int fd, std::vector<std::string>& unrestorable) {
    FdEntry entry;
    entry.fd = fd;
    const std::string link = proc_path(pid, "fd/" + std::to_string(fd));
    entry.target = read_proc_link(link).value_or("");
    if (auto info = read_proc_file(proc_path(pid, "fdinfo/" + std::to_string(fd)))) {
        const std::string text = "\n" + *info;
        entry.position = status_field(text, "pos", 10);
        entry.flags = static_cast<std::uint32_t>(status_field(text, "flags", 8));
        entry.close_on_exec = (entry.flags & O_CLOEXEC) != 0;
        entry.flags &= ~static_cast<std::uint32_t>(O_CLOEXEC);
    }
    const std::string& t = entry.target;
    struct stat st {};
    if (t.rfind("pipe:", 0) == 0)
        entry.kind = FdKind::Pipe;
    else if (t.rfind("socket:", 0) == 0)
        entry.kind = FdKind::Socket;
    else if (!t.empty() && t[0] == '/' && ::stat(link.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            entry.kind = FdKind::Directory;
        else if (S_ISREG(st.st_mode))
            entry.kind = FdKind::File;
        else if (S_ISCHR(st.st_mode))
            entry.kind = t.rfind("/dev/pts/", 0) == 0 || t.rfind("/dev/tty", 0) == 0 ? FdKind::Terminal : FdKind::Device;
    }
    const bool deleted = t.size() > 10 && t.compare(t.size() - 10, 10, " (deleted)") == 0;
    const std::string what = "fd " + std::to_string(fd) + " (" + t + ")";
    if (fd <= 2) {
        // A standard stream: whoever restores it gives its own (as whoever started it did).
    } else if (deleted)
        unrestorable.push_back(what + ": a deleted file");
    else if (entry.kind == FdKind::Device && !is_harmless_device(t))
        unrestorable.push_back(what + ": a device");
    else if (entry.kind == FdKind::Pipe) {
        // Judged with the process's other pipe ends (read_fds).
    }    else if (entry.kind == FdKind::Socket)
        unrestorable.push_back(what + ": a socket");
    else if (entry.kind == FdKind::Terminal)
        unrestorable.push_back(what + ": a terminal");
    else if (entry.kind == FdKind::Other)
        unrestorable.push_back(what + ": a kernel object sandlock cannot recreate");
    return entry;
}

constexpr std::size_t kMaxPipeData = 1u << 20;

// What is buffered in the pipe whose read end the process has as `fd`, left in place: a copy
// of the read end (pidfd_getfd), tee'd into a pipe of ours. nullopt when it holds more than
// kMaxPipeData or cannot be read so.
std::optional<std::vector<std::uint8_t>> pipe_contents(pid_t pid, int fd) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return std::nullopt;
    const int end = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0));
    ::close(pidfd);
    if (end < 0) return std::nullopt;
    int ours[2];
    if (::pipe2(ours, O_CLOEXEC | O_NONBLOCK) != 0) {
        ::close(end);
        return std::nullopt;
    }
    std::optional<std::vector<std::uint8_t>> data;
    int buffered = 0;
    if (::ioctl(end, FIONREAD, &buffered) == 0 && static_cast<std::size_t>(buffered) <= kMaxPipeData &&
        ::fcntl(ours[1], F_SETPIPE_SZ, static_cast<int>(kMaxPipeData)) >= buffered) {
        data.emplace();
        const ssize_t copied = buffered == 0 ? 0 : ::tee(end, ours[1], static_cast<std::size_t>(buffered), SPLICE_F_NONBLOCK);
        if (copied == buffered) {
            data->resize(static_cast<std::size_t>(buffered));
            if (buffered > 0 && ::read(ours[0], data->data(), data->size()) != buffered) data.reset();
        } else {
            data.reset();
        }
    }
    ::close(end);
    ::close(ours[0]);
    ::close(ours[1]);
    return data;
}

// Pipes (fds 3 and up) are restorable when the process holds both ends of each: recreated as a
// pipe with what was buffered in it. A pipe to another process is not.
void judge_pipes(pid_t pid, std::vector<FdEntry>& fds, std::vector<std::string>& unrestorable) {
    std::map<std::string, std::pair<FdEntry*, bool>> pipes;  // target: first read end, a write end
    for (FdEntry& e : fds) {
        if (e.fd <= 2 || e.kind != FdKind::Pipe) continue;
        auto& [reader, writer] = pipes[e.target];
        if ((e.flags & O_ACCMODE) == O_RDONLY) {
            if (reader == nullptr) reader = &e;
        } else {
            writer = true;
        }
    }
    std::size_t kept = 0;  // pipe contents, all pipes together
    for (FdEntry& e : fds) {
        if (e.fd <= 2 || e.kind != FdKind::Pipe) continue;
        auto& [reader, writer] = pipes[e.target];
        const std::string what = "fd " + std::to_string(e.fd) + " (" + e.target + ")";
        if (reader == nullptr || !writer) {
            unrestorable.push_back(what + ": a pipe to another process (only standard streams are reconnected)");
        } else if (reader == &e) {
            auto data = kept < kMaxPipeData * 16 ? pipe_contents(pid, e.fd) : std::nullopt;
            if (!data) {
                unrestorable.push_back(what + ": a pipe whose contents could not be kept (over 1 MiB, or 16 MiB in all)");
            } else {
                kept += data->size();
                e.pipe_data = std::move(*data);
            }
        }
    }
}

std::vector<FdEntry> read_fds(pid_t pid, std::vector<std::string>& unrestorable) {
    std::vector<int> numbers;
    DIR* dir = ::opendir(proc_path(pid, "fd").c_str());
    if (dir == nullptr) throw sdk::Error("checkpoint: cannot list the files of process " + std::to_string(pid));
    while (dirent* entry = ::readdir(dir))
        if (entry->d_name[0] != '.') numbers.push_back(std::atoi(entry->d_name));
    ::closedir(dir);
    if (numbers.size() > 65536)
        throw sdk::Error("checkpoint: process " + std::to_string(pid) + " has more than 65536 open files");
    std::sort(numbers.begin(), numbers.end());
    std::vector<FdEntry> fds;
    for (int fd : numbers) fds.push_back(read_fd(pid, fd, unrestorable));
    judge_pipes(pid, fds, unrestorable);
    return fds;
}

// Copies the process's own pages into its page file; fills each mapping's runs.
void copy_pages(pid_t pid, std::vector<Vma>& vmas, PageFileWriter& out) {
    const int pagemap = ::open(proc_path(pid, "pagemap").c_str(), O_RDONLY | O_CLOEXEC);
    if (pagemap < 0) throw sdk::Error("checkpoint: cannot read the page map of process " + std::to_string(pid));
    ProcMemory memory(pid);
    std::vector<char> buffer(kCopyChunk);
    try {
        for (Vma& vma : vmas) {
            if (!holds_own_pages(vma)) continue;
            vma.runs = own_page_runs(pagemap, vma);
            for (PageRun& run : vma.runs) {
                run.data_offset = out.size();
                for (std::uint64_t done = 0; done < run.pages * kPage;) {
                    const std::size_t size = std::min<std::uint64_t>(run.pages * kPage - done, buffer.size());
                    const std::uint64_t address = vma.start + run.first_page * kPage + done;
                    if (!memory.read(address, buffer.data(), size))
                        throw sdk::Error("checkpoint: cannot read the memory of process " + std::to_string(pid) +
                                         " at " + std::to_string(address));
                    out.append(buffer.data(), size);
                    done += size;
                }
            }
        }
    } catch (...) {
        ::close(pagemap);
        throw;
    }
    ::close(pagemap);
}

// A page the stopped process is lent for what the calls it is made to run write back (its own
// memory stays untouched: a stack it may be short of, say), and takes back after.
class ScratchPage {
public:
    ScratchPage(Tracee& main, std::uintptr_t instruction) : main_(main), instruction_(instruction) {
        const long got = main.inject(instruction, SYS_mmap,
                                     {0, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                      static_cast<std::uint64_t>(-1), 0});
        if (got < 0 && got > -4096)
            throw sdk::Error("checkpoint: process " + std::to_string(main.tid()) + " cannot be lent a page (" +
                             std::strerror(static_cast<int>(-got)) + ")");
        address_ = static_cast<std::uint64_t>(got);
    }
    ~ScratchPage() {
        try {
            main_.inject(instruction_, SYS_munmap, {address_, kPage});
        } catch (...) {
            // It ended meanwhile: nothing to take back.
        }
    }
    ScratchPage(const ScratchPage&) = delete;
    ScratchPage& operator=(const ScratchPage&) = delete;
    std::uint64_t address() const { return address_; }

private:
    Tracee& main_;
    std::uintptr_t instruction_;
    std::uint64_t address_ = 0;
};

struct Injector {
    Tracee& thread;
    std::uintptr_t instruction;
    const ProcMemory& memory;
    std::uint64_t scratch;
};

void read_thread(Tracee& tracee, ThreadImage& image, const Injector* injector) {
    image.tid = tracee.tid();
    const user_regs_struct regs = tracee.registers();
    image.registers.assign(reinterpret_cast<const std::uint8_t*>(&regs), reinterpret_cast<const std::uint8_t*>(&regs) + sizeof regs);
    image.fpu = tracee.extended_state();
    image.signal_mask = tracee.signal_mask();
    __ptrace_rseq_configuration rseq{};
    if (::ptrace(static_cast<__ptrace_request>(PTRACE_GET_RSEQ_CONFIGURATION), tracee.tid(),
                 reinterpret_cast<void*>(sizeof rseq), &rseq) > 0 &&
        rseq.rseq_abi_pointer != 0) {
        image.rseq_address = rseq.rseq_abi_pointer;
        image.rseq_size = rseq.rseq_abi_size;
        image.rseq_signature = rseq.signature;
    }
    void* head = nullptr;
    std::size_t size = 0;
    if (::syscall(SYS_get_robust_list, tracee.tid(), &head, &size) == 0) {
        image.robust_list = reinterpret_cast<std::uint64_t>(head);
        image.robust_list_size = size;
    }
    if (injector != nullptr &&
        tracee.inject(injector->instruction, SYS_prctl, {PR_GET_TID_ADDRESS, injector->scratch, 0, 0, 0}) == 0)
        injector->memory.read(injector->scratch, &image.tid_address, sizeof image.tid_address);
}

// What a handler of each caught signal is (rt_sigaction, run by the stopped main thread).
std::vector<SignalAction> read_signal_actions(const std::string& status, const Injector& in) {
    std::vector<SignalAction> actions;
    const std::uint64_t caught = status_field(status, "SigCgt", 16);
    const std::uint64_t ignored = status_field(status, "SigIgn", 16);
    for (int sig = 1; sig <= 64; ++sig) {
        const std::uint64_t bit = 1ull << (sig - 1);
        if (ignored & bit) {
            actions.push_back({sig, 1 /* SIG_IGN */, 0, 0, 0});
        } else if (caught & bit) {
            struct {
                std::uint64_t handler, flags, restorer, mask;
            } action{};
            in.thread.inject_or_throw(in.instruction, SYS_rt_sigaction,
                                      {static_cast<std::uint64_t>(sig), 0, in.scratch, 8}, "rt_sigaction");
            if (!in.memory.read(in.scratch, &action, sizeof action))
                throw sdk::Error("checkpoint: cannot read the handler of signal " + std::to_string(sig));
            actions.push_back({sig, action.handler, action.flags, action.restorer, action.mask});
        }
    }
    return actions;
}

ProcessImage capture_process(pid_t pid, std::vector<Tracee>& threads, const fs::path& directory) {
    ProcessImage image;
    image.pid = pid;
    image.mm = read_mm_layout(pid, image.ppid);
    image.exe = read_proc_link(proc_path(pid, "exe")).value_or("");
    image.cwd = read_proc_link(proc_path(pid, "cwd")).value_or("/");
    // For show and list only, and the process's to make as long as it likes: the first 128 KiB.
    if (auto cmdline = read_proc_file(proc_path(pid, "cmdline"), 128u << 10)) {
        std::size_t at = 0;
        while (at < cmdline->size() && image.argv.size() < 4096) {
            const auto end = cmdline->find('\0', at);
            image.argv.push_back(cmdline->substr(at, end - at));
            if (end == std::string::npos) break;
            at = end + 1;
        }
    }
    const std::string status = read_proc_file(proc_path(pid, "status")).value_or("");
    image.umask = static_cast<std::uint32_t>(status_field("\n" + status, "Umask", 8));
    if (image.exe.empty() || image.exe.find(" (deleted)") != std::string::npos)
        image.unrestorable.push_back("its program " + image.exe + " is gone");
    if (image.cwd.find(" (deleted)") != std::string::npos) image.unrestorable.push_back("its working directory is gone");

    image.vmas = read_memory_map(pid);
    for (const Vma& vma : image.vmas)
        if (vma.kind == VmaKind::File && vma.name.find(" (deleted)") != std::string::npos)
            image.unrestorable.push_back("memory " + vma.name + ": a deleted file");
    image.page_file = "pages-" + std::to_string(pid) + ".bin";
    PageFileWriter pages(directory / image.page_file);
    copy_pages(pid, image.vmas, pages);
    image.page_bytes = pages.size();
    image.page_hash = pages.finish();
    image.fds = read_fds(pid, image.unrestorable);

    // The main thread first: it runs the few calls that read what /proc does not show.
    std::vector<Tracee*> order;
    for (Tracee& thread : threads) order.insert(thread.tid() == pid ? order.begin() : order.end(), &thread);
    if (order.front()->tid() != pid) throw sdk::Error("checkpoint: process " + std::to_string(pid) + " has lost its main thread");
    const std::uintptr_t instruction = find_syscall_instruction(pid);
    if (instruction == 0) throw sdk::Error("checkpoint: process " + std::to_string(pid) + " has no system call instruction to use");
    ProcMemory memory(pid);
    const ScratchPage scratch(*order.front(), instruction);
    for (Tracee* thread : order) {
        Injector in{*thread, instruction, memory, scratch.address()};
        image.threads.emplace_back();
        read_thread(*thread, image.threads.back(), &in);
    }
    Injector main{*order.front(), instruction, memory, scratch.address()};
    image.signal_actions = read_signal_actions("\n" + status, main);
    image.dumpable = main.thread.inject(instruction, SYS_prctl, {PR_GET_DUMPABLE, 0, 0, 0, 0}) != 0;
    const long brk = main.thread.inject(instruction, SYS_brk, {0});
    image.mm.brk = brk > 0 ? static_cast<std::uint64_t>(brk) : image.mm.start_brk;
    return image;
}

}  // namespace

StoppedProcesses stop_processes(std::vector<pid_t> pids, const SandboxIdentity& sandbox) {
    auto stopped = stop_everything(pids, sandbox);
    StoppedProcesses out;
    for (pid_t pid : pids) {
        auto it = stopped.find(pid);
        if (it == stopped.end() || it->second.empty()) continue;
        for (Tracee& thread : it->second) out[pid].push_back(thread.release());
    }
    return out;
}

std::vector<ProcessImage> capture_processes(const StoppedProcesses& stopped, const fs::path& directory) {
    std::map<pid_t, std::vector<Tracee>> threads;
    for (const auto& [pid, tids] : stopped)
        for (pid_t tid : tids) threads[pid].push_back(Tracee::adopt_stopped(tid));
    std::vector<ProcessImage> images;
    for (auto& [pid, list] : threads) images.push_back(capture_process(pid, list, directory));
    return images;  // the Tracees detach here, each thread going on as it was
}

void release_processes(const StoppedProcesses& stopped) {
    for (const auto& [pid, tids] : stopped)
        for (pid_t tid : tids) Tracee::adopt_stopped(tid);  // detached as it goes
}

}  // namespace sandlock::checkpoint
