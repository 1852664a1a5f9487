#include "ptrace/tracee.hpp"

#include "ptrace/proc_memory.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sandlock::checkpoint {
namespace {

// The kernel's internal "restart this call" results, as a stopped thread's rax shows them.
constexpr long kRestartSys = -512, kRestartNoIntr = -513, kRestartNoHand = -514, kRestartBlock = -516;
constexpr long kSyscallInstructionSize = 2;

[[noreturn]] void fail(pid_t tid, const std::string& what, int error = errno) {
    throw sdk::Error("checkpoint: thread " + std::to_string(tid) + ": " + what + ": " + std::strerror(error));
}

long trace(int request, pid_t tid, void* addr, void* data) { return ::ptrace(static_cast<__ptrace_request>(request), tid, addr, data); }

// How long a traced thread may take to stop. A thread that does not (a vfork parent whose
// child never execs, a call that blocks) fails the checkpoint or restore; its tracer thread's
// exit then lets go of it (ptrace belongs to a thread: the core gives each its own).
constexpr auto kStopDeadline = std::chrono::seconds(5);

// The next stop of `tid`; polled, so that a thread that never stops cannot hold us forever.
int wait_for(pid_t tid) {
    const auto deadline = std::chrono::steady_clock::now() + kStopDeadline;
    auto pause = std::chrono::microseconds(20);
    for (;;) {
        int status = 0;
        const pid_t got = ::waitpid(tid, &status, __WALL | WNOHANG);
        if (got < 0 && errno != EINTR) fail(tid, "waitpid");
        if (got == tid) {
            if (WIFEXITED(status) || WIFSIGNALED(status))
                throw sdk::Error("checkpoint: thread " + std::to_string(tid) + " ended while it was being worked on");
            return status;
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw sdk::Error("checkpoint: thread " + std::to_string(tid) + " did not stop within " +
                             std::to_string(kStopDeadline.count()) +
                             " s (a vfork parent whose child does not exec, or a call that blocks)");
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(2000));
    }
}

// A thread that died while traced stays a zombie for its tracer to reap first.
void reap_if_dead(pid_t tid) {
    int status = 0;
    while (::waitpid(tid, &status, __WALL | WNOHANG) < 0 && errno == EINTR) {
    }
}

}  // namespace

Tracee Tracee::seize(pid_t tid) {
    if (trace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(PTRACE_O_TRACESYSGOOD)) != 0)
        fail(tid, "cannot trace it (PTRACE_SEIZE)");
    Tracee tracee(tid);
    if (trace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) fail(tid, "PTRACE_INTERRUPT");
    for (;;) {
        const int status = wait_for(tid);
        if (status >> 16 == PTRACE_EVENT_STOP) return tracee;
        // A signal was on its way: let it be delivered; the interrupt stops the thread next.
        const int sig = WSTOPSIG(status);
        if (trace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))) != 0)
            fail(tid, "PTRACE_CONT");
    }
}

Tracee Tracee::adopt_at_exec(pid_t tid) {
    Tracee tracee(tid);
    // The exec stop is inside execve: its own return comes first.
    if (trace(PTRACE_SYSCALL, tid, nullptr, nullptr) != 0) fail(tid, "PTRACE_SYSCALL");
    tracee.wait_syscall_stop("PTRACE_SYSCALL (exec)");
    return tracee;
}

Tracee::~Tracee() {
    if (tid_ == 0) return;
    try {
        if (injected_) {
            detach_with(registers());
            return;
        }
    } catch (...) {
    }
    if (trace(PTRACE_DETACH, tid_, nullptr, nullptr) != 0) reap_if_dead(tid_);
}

user_regs_struct Tracee::registers() const {
    user_regs_struct regs{};
    iovec io{&regs, sizeof regs};
    if (trace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_PRSTATUS), &io) != 0) fail(tid_, "PTRACE_GETREGSET");
    return regs;
}

void Tracee::set_registers(const user_regs_struct& regs) {
    iovec io{const_cast<user_regs_struct*>(&regs), sizeof regs};
    if (trace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(NT_PRSTATUS), &io) != 0) fail(tid_, "PTRACE_SETREGSET");
}

std::vector<std::uint8_t> Tracee::extended_state() const {
    std::vector<std::uint8_t> state(64u << 10);
    iovec io{state.data(), state.size()};
    if (trace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &io) != 0) {
        // No XSAVE: the legacy FXSAVE area.
        state.assign(sizeof(user_fpregs_struct), 0);
        io = {state.data(), state.size()};
        if (trace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_PRFPREG), &io) != 0) fail(tid_, "PTRACE_GETREGSET (FPU)");
    }
    state.resize(io.iov_len);
    return state;
}

void Tracee::set_extended_state(const std::vector<std::uint8_t>& state) {
    iovec io{const_cast<std::uint8_t*>(state.data()), state.size()};
    const unsigned long kind = state.size() == sizeof(user_fpregs_struct) ? NT_PRFPREG : NT_X86_XSTATE;
    if (trace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(kind), &io) == 0) return;
    // Another CPU's XSAVE layout: its first 512 bytes are the FXSAVE area every x86_64 has.
    if (state.size() < sizeof(user_fpregs_struct)) fail(tid_, "PTRACE_SETREGSET (FPU)");
    io = {const_cast<std::uint8_t*>(state.data()), sizeof(user_fpregs_struct)};
    if (trace(PTRACE_SETREGSET, tid_, reinterpret_cast<void*>(NT_PRFPREG), &io) != 0) fail(tid_, "PTRACE_SETREGSET (FPU)");
}

std::uint64_t Tracee::signal_mask() const {
    std::uint64_t mask = 0;
    if (trace(PTRACE_GETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask), &mask) != 0) fail(tid_, "PTRACE_GETSIGMASK");
    return mask;
}

void Tracee::set_signal_mask(std::uint64_t mask) {
    if (trace(PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof mask), &mask) != 0) fail(tid_, "PTRACE_SETSIGMASK");
}

void Tracee::wait_syscall_stop(const char* which, pid_t* cloned) {
    for (;;) {
        const int status = wait_for(tid_);
        if (WSTOPSIG(status) == (SIGTRAP | 0x80)) return;
        if (cloned != nullptr && status >> 8 == (SIGTRAP | (PTRACE_EVENT_CLONE << 8))) {
            unsigned long tid = 0;
            if (trace(PTRACE_GETEVENTMSG, tid_, nullptr, &tid) != 0) fail(tid_, "PTRACE_GETEVENTMSG");
            *cloned = static_cast<pid_t>(tid);
        }
        // Else only SIGSTOP gets through the full mask; it is dropped (the thread was stopped
        // anyway).
        if (trace(PTRACE_SYSCALL, tid_, nullptr, nullptr) != 0) fail(tid_, which);
    }
}

long Tracee::inject(std::uintptr_t instruction, long nr, std::initializer_list<std::uint64_t> args) {
    return run_call(instruction, nr, args, nullptr);
}

pid_t Tracee::inject_clone(std::uintptr_t instruction, std::uint64_t flags) {
    const long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL;
    if (trace(PTRACE_SETOPTIONS, tid_, nullptr, reinterpret_cast<void*>(options)) != 0) fail(tid_, "PTRACE_SETOPTIONS");
    pid_t cloned = 0;
    const long result = run_call(instruction, SYS_clone, {flags, 0, 0, 0, 0}, &cloned);
    if (result < 0) fail(tid_, "clone of a thread", static_cast<int>(-result));
    if (cloned <= 0) throw sdk::Error("checkpoint: thread " + std::to_string(tid_) + ": clone reported no new thread");
    for (;;) {  // its first stop, before it runs anything
        const int status = wait_for(cloned);
        if (WIFSTOPPED(status)) return cloned;
    }
}

long Tracee::run_call(std::uintptr_t instruction, long nr, std::initializer_list<std::uint64_t> args, pid_t* cloned) {
    const user_regs_struct saved = registers();
    const std::uint64_t saved_mask = signal_mask();
    set_signal_mask(~std::uint64_t{0});
    injected_ = true;
    user_regs_struct call = saved;
    call.rip = instruction;
    call.rax = static_cast<std::uint64_t>(nr);
    call.orig_rax = static_cast<std::uint64_t>(-1);  // not a call to restart, whatever the stop was
    unsigned long long* slots[] = {&call.rdi, &call.rsi, &call.rdx, &call.r10, &call.r8, &call.r9};
    std::size_t i = 0;
    for (std::uint64_t arg : args) *slots[i++] = arg;
    set_registers(call);
    try {
        if (trace(PTRACE_SYSCALL, tid_, nullptr, nullptr) != 0) fail(tid_, "PTRACE_SYSCALL");
        wait_syscall_stop("PTRACE_SYSCALL (entry)");
        if (trace(PTRACE_SYSCALL, tid_, nullptr, nullptr) != 0) fail(tid_, "PTRACE_SYSCALL");
        wait_syscall_stop("PTRACE_SYSCALL (exit)", cloned);
    } catch (...) {
        // Never left with the call's registers and every signal blocked (if it stopped at all).
        try {
            set_registers(saved);
            set_signal_mask(saved_mask);
        } catch (...) {
        }
        throw;
    }
    const long result = static_cast<long>(registers().rax);
    set_registers(saved);
    set_signal_mask(saved_mask);
    return result;
}

std::uint64_t Tracee::inject_or_throw(std::uintptr_t instruction, long nr, std::initializer_list<std::uint64_t> args,
                                      const std::string& what) {
    const long result = inject(instruction, nr, args);
    if (result < 0 && result > -4096) fail(tid_, what, static_cast<int>(-result));
    return static_cast<std::uint64_t>(result);
}

void Tracee::detach_with(user_regs_struct regs) {
    if (injected_) regs = with_restart_applied(regs);
    set_registers(regs);
    if (trace(PTRACE_DETACH, tid_, nullptr, nullptr) != 0) reap_if_dead(tid_);
    tid_ = 0;
}

void Tracee::kill() {
    if (tid_ == 0) return;
    // Not waited for: the leader's exit waits for its traced threads, which the tracer
    // thread's exit lets go of.
    ::kill(tid_, SIGKILL);
    reap_if_dead(tid_);
    tid_ = 0;
}

user_regs_struct with_restart_applied(user_regs_struct regs) {
    const long nr = static_cast<long>(regs.orig_rax);
    const long result = static_cast<long>(regs.rax);
    if (nr >= 0 && (result == kRestartSys || result == kRestartNoIntr || result == kRestartNoHand ||
                    result == kRestartBlock)) {
        // restart_syscall would need the kernel's restart block of the stopped call, which a
        // restored process does not have: the call runs again from its arguments instead.
        regs.rax = regs.orig_rax;
        regs.rip -= kSyscallInstructionSize;
    }
    regs.orig_rax = static_cast<std::uint64_t>(-1);
    return regs;
}

std::uintptr_t find_syscall_instruction(pid_t pid) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string line;
    std::vector<std::pair<std::uintptr_t, std::uintptr_t>> vdso, other;
    while (std::getline(maps, line)) {
        std::istringstream in(line);
        std::string range, perms;
        in >> range >> perms;
        if (perms.size() < 3 || perms[0] != 'r' || perms[2] != 'x') continue;
        const auto dash = range.find('-');
        const std::uintptr_t start = std::stoull(range.substr(0, dash), nullptr, 16);
        const std::uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
        (line.find("[vdso]") != std::string::npos ? vdso : other).emplace_back(start, end);
    }
    vdso.insert(vdso.end(), other.begin(), other.end());
    ProcMemory memory(pid);
    std::vector<char> bytes;
    for (const auto& [start, end] : vdso) {
        for (std::uintptr_t at = start; at < end; at += 1u << 20) {
            bytes.resize(std::min<std::uintptr_t>(end - at, 1u << 20));
            if (!memory.read(at, bytes.data(), bytes.size())) break;
            for (std::size_t i = 0; i + 1 < bytes.size(); ++i)
                if (bytes[i] == '\x0f' && bytes[i + 1] == '\x05') return at + i;
        }
    }
    return 0;
}

}  // namespace sandlock::checkpoint
