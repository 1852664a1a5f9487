// What one memory syscall adds to a process's private memory, judged from its integer
// arguments alone (values, not pointers: nothing the caller can swap after the decision).
//
// Counted, as the kernel's commit charge counts them: private writable mappings (anonymous or
// copy-on-write file mappings, thread stacks), heap growth through brk, mremap growth, and
// mprotect making memory writable. Shared mappings are not: their pages belong to a file or
// to several processes. Each figure is an upper bound (an mmap over an existing mapping or an
// mprotect of already-writable memory counts in full); the account re-measures the truth
// from /proc after the call, so an overestimate never sticks.
#pragma once

#include <cstdint>

namespace sandlock::notif::memory {

std::uint64_t round_to_pages(std::uint64_t bytes);  // saturates instead of overflowing

// The MAP_TYPE value of MAP_DROPPABLE (Linux 6.11; Debian 12's headers lack it).
inline constexpr std::uint64_t kMapDroppable = 0x08;

// `stack_limit`: what a MAP_GROWSDOWN mapping may grow to by page faults, with no call to
// judge (the pinned RLIMIT_STACK): charged when it is made.
std::uint64_t mmap_cost(std::uint64_t length, std::uint64_t prot, std::uint64_t flags, std::uint64_t stack_limit = 0);
std::uint64_t mremap_cost(std::uint64_t old_length, std::uint64_t new_length, std::uint64_t flags);
std::uint64_t mprotect_cost(std::uint64_t length, std::uint64_t prot);
// brk(new_end) with the heap currently ending at `heap_end`; brk(0) only asks, and costs nothing.
std::uint64_t brk_cost(std::uint64_t new_end, std::uint64_t heap_end);

// How a clone(2) flags word creates its child.
enum class CloneKind { Thread, SharedMemory, Copy };
CloneKind clone_kind(std::uint64_t flags);

}  // namespace sandlock::notif::memory
