// Threads that answer the notifications whose handlers may wait (a connect or send performed
// on the caller's behalf), so one slow call never stalls every other supervised call of the
// sandbox: the supervisor thread hands such a notification over and goes back to receiving.
// Answers may then go out of order, which SECCOMP_IOCTL_NOTIF_SEND allows from any thread.
//
// A job runs on an idle worker, else on a new one up to `max_threads`, else it waits in order.
// Jobs must end promptly once their caller is gone or the supervisor stops (the on-behalf waits
// check NotifContext::still_valid() every 50 ms, and it turns false on stop), so stop() is
// bounded.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sandlock::notif {

class WorkerPool {
public:
    explicit WorkerPool(std::size_t max_threads) : max_threads_(max_threads) {}
    ~WorkerPool() { stop(); }
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Never blocks. Returns false when no thread could be started and none exists (the caller
    // then runs the job itself) or after stop().
    bool submit(std::function<void()> job);
    // Lets the queued and running jobs finish, then joins every worker.
    void stop() noexcept;

private:
    void work() noexcept;

    const std::size_t max_threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    std::size_t idle_ = 0;
    bool stopping_ = false;
};

}  // namespace sandlock::notif
