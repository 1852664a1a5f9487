#include "guarded_stack.hpp"

#include <sandlock/errors.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sandlock {

GuardedStack::GuardedStack(std::size_t size) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    length_ = page + (size + page - 1) / page * page;
    void* memory = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (memory == MAP_FAILED || ::mprotect(memory, page, PROT_NONE) != 0) {
        const int error = errno;
        if (memory != MAP_FAILED) ::munmap(memory, length_);
        throw ConfinementError("cannot map a stack for the sandbox's child: " + std::string(std::strerror(error)));
    }
    base_ = static_cast<char*>(memory);
}

GuardedStack::~GuardedStack() { ::munmap(base_, length_); }

}  // namespace sandlock
