// Memory a child runs on until it execs, with an inaccessible page below it: an overflow
// faults instead of corrupting what lies there (sandlock's own heap, where the child shares
// sandlock's memory). Pages are only touched as the stack grows.
#pragma once

#include <cstddef>

namespace sandlock {

class GuardedStack {
public:
    // Throws ConfinementError when the memory cannot be had.
    explicit GuardedStack(std::size_t size);
    ~GuardedStack();
    GuardedStack(const GuardedStack&) = delete;
    GuardedStack& operator=(const GuardedStack&) = delete;

    char* top() const { return base_ + length_; }  // stacks grow down

private:
    char* base_ = nullptr;  // the guard page, then `size` bytes
    std::size_t length_ = 0;
};

}  // namespace sandlock
