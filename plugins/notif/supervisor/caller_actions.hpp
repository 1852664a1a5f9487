// What a handler acting on the caller's behalf needs beyond NotifContextApi: writing a result
// into the caller's memory and raising the signal the kernel would have raised. (What it does
// for the caller it does without capabilities: supervisor_thread.hpp.)
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sandlock::notif::caller {

struct MemoryWrite {
    std::uint64_t address;
    const void* data;
    std::size_t size;
};

// Copies each chunk into the caller's memory (process_vm_writev). Returns 0, or -errno
// (EFAULT when any chunk lands on memory that is not mapped writable). Check the notification
// is still valid just before: the thread is then alive and its pid not recycled.
int write_memory(pid_t tid, std::span<const MemoryWrite> writes);

// Sends `sig` to the calling thread, as the kernel does for SIGPIPE on a broken connection.
void raise_signal(pid_t tid, int sig);

}  // namespace sandlock::notif::caller
