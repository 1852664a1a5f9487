#include "memory/memory_cost.hpp"

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <limits>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

namespace sandlock::notif::memory {

std::uint64_t round_to_pages(std::uint64_t bytes) {
    static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    if (bytes > std::numeric_limits<std::uint64_t>::max() - page) return std::numeric_limits<std::uint64_t>::max();
    return (bytes + page - 1) / page * page;
}

std::uint64_t mmap_cost(std::uint64_t length, std::uint64_t prot, std::uint64_t flags, std::uint64_t stack_limit) {
    // MAP_DROPPABLE (Linux 6.11) is private anonymous memory the kernel may free under
    // pressure: counted like any other until it does.
    const bool is_private = (flags & MAP_TYPE) == MAP_PRIVATE || (flags & MAP_TYPE) == kMapDroppable;
    if (!is_private || !(prot & PROT_WRITE)) return 0;
    const std::uint64_t mapped = round_to_pages(length);
    if (!(flags & MAP_GROWSDOWN)) return mapped;
    const std::uint64_t growth = round_to_pages(stack_limit);
    return growth > std::numeric_limits<std::uint64_t>::max() - mapped ? std::numeric_limits<std::uint64_t>::max()
                                                                        : mapped + growth;
}

std::uint64_t mremap_cost(std::uint64_t old_length, std::uint64_t new_length, std::uint64_t flags) {
    // MREMAP_DONTUNMAP moves the pages and leaves the old range mapped: all of it is new.
    if (flags & MREMAP_DONTUNMAP) return round_to_pages(new_length);
    return new_length > old_length ? round_to_pages(new_length) - round_to_pages(old_length) : 0;
}

std::uint64_t mprotect_cost(std::uint64_t length, std::uint64_t prot) {
    return (prot & PROT_WRITE) ? round_to_pages(length) : 0;
}

std::uint64_t brk_cost(std::uint64_t new_end, std::uint64_t heap_end) {
    if (new_end == 0) return 0;
    const std::uint64_t end = round_to_pages(new_end);
    return end > heap_end ? end - round_to_pages(heap_end) : 0;
}

CloneKind clone_kind(std::uint64_t flags) {
    if (flags & CLONE_THREAD) return CloneKind::Thread;
    if (flags & CLONE_VM) return CloneKind::SharedMemory;  // vfork, posix_spawn: no copy is made
    return CloneKind::Copy;
}

}  // namespace sandlock::notif::memory
