// ptrace belongs to the thread that attached: each checkpoint and each restore runs on a thread
// of its own, whose exit lets go of whatever it still traces (a thread that never stopped, a
// process that died half-way), so that nothing stays stopped or traced behind a failure.
#pragma once

#include <exception>
#include <thread>
#include <utility>

namespace sandlock {

// Runs `work` on a new thread and waits for it; what it throws is rethrown here.
template <class Work>
void on_tracer_thread(Work&& work) {
    std::exception_ptr error;
    std::thread([&] {
        try {
            work();
        } catch (...) {
            error = std::current_exception();
        }
    }).join();
    if (error) std::rethrow_exception(error);
}

}  // namespace sandlock
