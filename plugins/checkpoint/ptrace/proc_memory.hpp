// Another process's memory through /proc/PID/mem: reads and writes any mapping the process has,
// read-only and PROT_NONE ones included (the kernel's FOLL_FORCE), as a ptrace tracer may.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace sandlock::checkpoint {

class ProcMemory {
public:
    explicit ProcMemory(pid_t pid);  // throws Error when /proc/PID/mem cannot be opened
    ~ProcMemory();
    ProcMemory(const ProcMemory&) = delete;
    ProcMemory& operator=(const ProcMemory&) = delete;

    // The whole range, or false.
    bool read(std::uintptr_t address, void* out, std::size_t size) const;
    bool write(std::uintptr_t address, const void* data, std::size_t size) const;

private:
    int fd_ = -1;
};

}  // namespace sandlock::checkpoint
