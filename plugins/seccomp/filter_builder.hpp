// Turns a SyscallPlan into classic BPF programs with libseccomp, in the parent. The child only
// hands the finished instructions to seccomp(2).
//
// Two programs are stacked. The argument program (default allow) denies clone with a
// namespace flag and the terminal-injection ioctls (and, with network fields, the guards of
// syscall_plan.hpp's NetworkGuards); the syscall program applies the plan.
// They are separate because libseccomp lets an unconditional rule swallow every conditional
// rule of the same syscall: "allow ioctl, except TIOCSTI" cannot be said in one allowlist
// program. Stacked, the kernel takes the strictest verdict (errno beats notify beats allow),
// so the argument denials hold in every mode.
#pragma once

#include "syscall_plan.hpp"

#include <linux/filter.h>

#include <vector>

namespace sandlock::seccomp {

using Program = std::vector<sock_filter>;

// Both programs kill the whole process on a foreign architecture (i386 int 0x80, x32).
Program build_argument_program(const NetworkGuards& net = {});
Program build_syscall_program(const SyscallPlan& plan, bool optimize = false);

// Only the plan's routing (its Notify actions and conditional notifications), everything else
// allowed: stacked last on the programs of the same plan without its routing (a baked default
// deny list), it routes exactly what the one program of the routed plan would, since the
// stricter verdict of the others wins. Compiling the few routing rules at start is cheaper
// than compiling the whole plan again.
Program build_routing_program(const SyscallPlan& plan);

// The programs for `plan`, in install order; the last one carries any Notify action (and so
// the listener). When the plan leaves clone and ioctl alone (a deny list that does not route
// clone), one program holds both the argument rules and the plan: half the kernel's work at
// install time. `optimize` asks libseccomp for its binary-tree layout (for baked programs).
std::vector<Program> build_programs(const SyscallPlan& plan, bool optimize = false);

}  // namespace sandlock::seccomp
