// One thread under ptrace, seized by the calling thread (ptrace belongs to the thread that
// attached, so every call on a Tracee must come from that thread), and the system calls it can
// be made to run: how the checkpoint layer reads what /proc does not show (signal handlers, the
// exact break) and rebuilds a process in place on restore. x86_64.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace sandlock::checkpoint {

class Tracee {
public:
    // PTRACE_SEIZE + PTRACE_INTERRUPT, then waits for the stop. Throws Error naming the thread
    // when it cannot be seized or exits first.
    static Tracee seize(pid_t tid);
    // A thread this thread seized (with PTRACE_O_TRACESYSGOOD) that is stopped at its exec
    // (PTRACE_EVENT_EXEC): let on to the end of the execve call, where calls can be injected.
    static Tracee adopt_at_exec(pid_t tid);
    // A thread this thread traces that is stopped now (one inject_clone made).
    static Tracee adopt_stopped(pid_t tid) { return Tracee(tid); }

    Tracee(Tracee&& other) noexcept : tid_(other.tid_), injected_(other.injected_) { other.tid_ = 0; }
    Tracee& operator=(Tracee&&) = delete;
    ~Tracee();  // detaches (the thread goes on as it was left)

    pid_t tid() const { return tid_; }

    user_regs_struct registers() const;
    void set_registers(const user_regs_struct& regs);
    // The FPU/SSE/AVX state (NT_X86_XSTATE), as the kernel lays it out.
    std::vector<std::uint8_t> extended_state() const;
    void set_extended_state(const std::vector<std::uint8_t>& state);
    std::uint64_t signal_mask() const;
    void set_signal_mask(std::uint64_t mask);

    // Runs system call `nr` with `args` in the thread, from the `syscall` instruction at
    // `instruction` in its memory, every signal blocked meanwhile; returns what the kernel
    // returned (-errno on failure). The thread's registers and mask are put back afterwards.
    long inject(std::uintptr_t instruction, long nr, std::initializer_list<std::uint64_t> args);
    // Runs clone(flags) as inject does; the new thread starts traced by this thread and stopped
    // (PTRACE_O_TRACECLONE), before it runs anything. Its tid as this process names it.
    pid_t inject_clone(std::uintptr_t instruction, std::uint64_t flags);
    // As inject, and throws Error naming `what` when the call failed.
    std::uint64_t inject_or_throw(std::uintptr_t instruction, long nr, std::initializer_list<std::uint64_t> args,
                                  const std::string& what);

    // Leaves the thread with `regs` (a restart of the system call it was stopped in is made
    // explicit, as the kernel would have done) and detaches.
    void detach_with(user_regs_struct regs);
    // Kills the thread's process (a restore that failed half-way) and forgets it.
    void kill();
    // Forgets the thread without detaching: it stays stopped, traced by this thread, for a
    // later adopt_stopped (the next step of a checkpoint).
    pid_t release() { return std::exchange(tid_, 0); }

private:
    explicit Tracee(pid_t tid) : tid_(tid) {}
    // Until the thread's next syscall stop; a clone event on the way names the new thread.
    void wait_syscall_stop(const char* which, pid_t* cloned = nullptr);
    long run_call(std::uintptr_t instruction, long nr, std::initializer_list<std::uint64_t> args, pid_t* cloned);

    pid_t tid_ = 0;
    bool injected_ = false;  // the kernel's own restart of an interrupted call no longer applies
};

// Registers as they must be to continue: a system call that the stop interrupted and that the
// kernel would restart is set up to run again (rax = its number, rip back on the instruction).
user_regs_struct with_restart_applied(user_regs_struct regs);

// Where a `syscall` instruction (0f 05) is in the process's executable memory (its vDSO
// first), or 0.
std::uintptr_t find_syscall_instruction(pid_t pid);

}  // namespace sandlock::checkpoint
