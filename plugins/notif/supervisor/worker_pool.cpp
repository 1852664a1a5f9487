#include "supervisor/worker_pool.hpp"

#include "supervisor/supervisor_thread.hpp"

#include <system_error>

namespace sandlock::notif {

bool WorkerPool::submit(std::function<void()> job) {
    std::unique_lock lock(mutex_);
    if (stopping_) return false;
    if (idle_ == 0 && threads_.size() < max_threads_) {
        try {
            threads_.push_back(start_supervisor_thread([this] { work(); }));
        } catch (const std::system_error&) {
            if (threads_.empty()) return false;  // no thread at all: the caller runs it
        }
    }
    jobs_.push_back(std::move(job));
    lock.unlock();
    wake_.notify_one();
    return true;
}

void WorkerPool::stop() noexcept {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        threads.swap(threads_);
    }
    wake_.notify_all();
    for (std::thread& thread : threads) thread.join();
}

void WorkerPool::work() noexcept {
    std::unique_lock lock(mutex_);
    for (;;) {
        ++idle_;
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        --idle_;
        if (jobs_.empty()) return;  // stopping, nothing left
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        job();  // noexcept by contract: the supervisor's jobs catch everything
        lock.lock();
    }
}

}  // namespace sandlock::notif
