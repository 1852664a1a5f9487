// What a handler acting on the caller's behalf needs beyond NotifContextApi: writing a result
// into the caller's memory, raising the signal the kernel would have raised, and telling
// whether the caller has exactly the supervisor's credentials (so that a file the supervisor
// opens for it grants nothing the caller could not have opened itself).
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

// The lines of a /proc/PID/status text that decide file access: Uid, Gid, Groups, CapEff.
std::string credential_lines(std::string_view status_text);

// Whether the thread runs with the supervisor's uids, gids, groups and effective capabilities,
// in the supervisor's user namespace.
bool has_our_credentials(pid_t tid);

}  // namespace sandlock::notif::caller
