// What a checkpoint holds of one process: enough to rebuild it in place (restore/) — its
// threads' registers, its memory map with the pages it wrote, its files, handlers and mm layout.
// Page contents live in a data file beside the manifest (image/page_file.hpp); everything else
// is in the manifest (image/manifest.hpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sandlock::checkpoint {

enum class VmaKind { Anonymous, File, Heap, Stack, Vdso, Vvar, Vsyscall };

// A run of pages of a mapping whose contents are in the page file.
struct PageRun {
    std::uint64_t first_page = 0;   // from the mapping's start
    std::uint64_t pages = 0;
    std::uint64_t data_offset = 0;  // in the page file
};

struct Vma {
    std::uint64_t start = 0, end = 0;
    bool read = false, write = false, exec = false, shared = false;
    VmaKind kind = VmaKind::Anonymous;
    std::string name;           // a file's path, or the kernel's [name]
    std::uint64_t offset = 0;   // in the file
    std::vector<PageRun> runs;  // what the process wrote (private) or holds (shared anonymous)
};

enum class FdKind { File, Directory, Pipe, Socket, Terminal, Device, Other };

struct FdEntry {
    int fd = 0;
    FdKind kind = FdKind::Other;
    std::string target;  // readlink of /proc/PID/fd/N
    std::uint32_t flags = 0;  // open flags (fdinfo)
    std::uint64_t position = 0;
    bool close_on_exec = false;
    // A pipe whose both ends the process holds (fds 3 and up): what was buffered in it, kept on
    // the first fd of its read end.
    std::vector<std::uint8_t> pipe_data;
};

struct SignalAction {
    int signal = 0;
    std::uint64_t handler = 0, flags = 0, restorer = 0, mask = 0;
};

struct ThreadImage {
    pid_t tid = 0;
    std::vector<std::uint8_t> registers;  // user_regs_struct
    std::vector<std::uint8_t> fpu;        // NT_X86_XSTATE (or the FXSAVE area)
    std::uint64_t signal_mask = 0;
    std::uint64_t rseq_address = 0, rseq_size = 0, rseq_signature = 0;
    std::uint64_t robust_list = 0, robust_list_size = 0;
    std::uint64_t tid_address = 0;  // set_tid_address / CLONE_CHILD_CLEARTID
};

// The mm fields prctl(PR_SET_MM_MAP) sets back (/proc/PID/stat and brk(0)).
struct MmLayout {
    std::uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
    std::uint64_t start_brk = 0, brk = 0, start_stack = 0;
    std::uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
    std::vector<std::uint8_t> auxv;
};

struct ProcessImage {
    pid_t pid = 0;   // as sandlock saw it
    pid_t ppid = 0;
    std::string exe;
    std::vector<std::string> argv;
    std::string cwd;
    std::uint32_t umask = 022;
    bool dumpable = true;  // prctl(PR_GET_DUMPABLE): one that made itself undumpable stays so
    MmLayout mm;
    std::vector<SignalAction> signal_actions;
    std::vector<ThreadImage> threads;
    std::vector<Vma> vmas;
    std::vector<FdEntry> fds;
    std::string page_file;  // beside the manifest
    std::uint64_t page_bytes = 0;
    std::uint64_t page_hash = 0;  // XXH3-64 of the page file
    // What cannot be recreated and may be left out (a socket, a deleted file, ...).
    std::vector<std::string> unrestorable;
    // Why it must not be restored at all (confinement of its own), or empty.
    std::string refusal;
};

const char* to_string(VmaKind kind);
const char* to_string(FdKind kind);

}  // namespace sandlock::checkpoint
