// The supervisor: one thread per sandbox that answers every seccomp user notification.
//
// The thread sleeps in poll(2) on the listener and on an eventfd that stops it — never epoll,
// which would lose the synchronous wake-up (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, set at start):
// with it, the woken supervisor and the blocked caller hand the CPU to each other directly, and
// a supervised call costs ~10 µs instead of ~30-80 µs. Each notification gets exactly one
// answer: the handler chain's verdict (continue, errno, value, injected fd), EPERM when a
// handler fails (fail closed), and a caller that died or was interrupted meanwhile costs nothing.
//
// Handlers that may wait on the caller's behalf (HandlerChain::may_wait) run on a WorkerPool,
// so a connect to a silent host does not hold every other call of the sandbox. If the thread
// can no longer wait for notifications (poll or receive fails), the sandbox is killed: its
// supervised calls would otherwise block forever, or — worse — never be checked. stop() tells
// every waiting handler its caller is gone (still_valid() turns false) and so never hangs.
#pragma once

#include "supervisor/call_counters.hpp"
#include "supervisor/handler_chain.hpp"
#include "supervisor/wake_up_mode.hpp"
#include "supervisor/worker_pool.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace sandlock::notif {

class Supervisor {
public:
    Supervisor(const sdk::Host& host, HandlerChain chain);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Serves `listener` (the host keeps ownership; the supervisor works on a duplicate) from a
    // new thread; `sandbox_pidfd` (duplicated too, may be -1) is what it kills when it fails.
    // Throws sdk::Error when the listener cannot be used.
    void start(int listener, int sandbox_pidfd);
    // Stops and joins the thread; pending notifications of a dead sandbox need no answer.
    void stop() noexcept;

    std::uint64_t answered() const { return counters_.answered(); }
    // What has been answered so far, by rule; readable from any thread.
    const CallCounters& counters() const { return counters_; }

private:
    void serve() noexcept;
    bool answer_one() noexcept;  // false: the supervisor failed and stops
    void decide_and_send(const sdk::NotifRequest& request) noexcept;
    // The supervisor can no longer answer: say why and kill the sandbox.
    void fail(const std::string& why) noexcept;
    void send(const sdk::NotifRequest& request, const sdk::NotifVerdict& verdict) noexcept;
    void inject_fd(const sdk::NotifRequest& request, const sdk::NotifVerdict& verdict) noexcept;
    void send_response(std::uint64_t id, std::int64_t value, int error, bool continue_call) noexcept;
    // Logs through the host without ever throwing; `message` builds the line.
    template <class Message>
    void say(sdk::LogLevel level, Message&& message) const noexcept;
    void log_handler_failure(const sdk::NotifRequest& request, std::string_view who, std::string_view what) const;

    // NotifContextApi entry points; `self` is the Supervisor.
    static std::int64_t api_read_memory(void* self, const sdk::NotifRequest* request, std::uint64_t address,
                                        void* buffer, std::size_t size) noexcept;
    static std::int64_t api_read_string(void* self, const sdk::NotifRequest* request, std::uint64_t address,
                                        char* buffer, std::size_t size) noexcept;
    static std::int64_t api_resolve_path(void* self, const sdk::NotifRequest* request, std::int32_t dirfd,
                                         std::uint64_t path_address, char* buffer, std::size_t size) noexcept;
    static std::int32_t api_still_valid(void* self, const sdk::NotifRequest* request) noexcept;
    static std::int32_t api_get_fd(void* self, const sdk::NotifRequest* request, std::int32_t child_fd) noexcept;
    static std::int32_t api_log_failure(void* self, const sdk::NotifRequest* request, sdk::Str message) noexcept;

    const sdk::Host& host_;
    HandlerChain chain_;
    sdk::NotifContextApi api_{};
    int listener_ = -1;
    WakeUpMode wake_up_;  // used by the supervisor thread only
    int stop_event_ = -1;
    std::size_t notif_size_ = 0;  // the kernel's struct seccomp_notif may be larger than ours
    int sandbox_pidfd_ = -1;
    std::atomic<bool> addfd_send_works_{true};
    std::atomic<bool> stopping_{false};
    CallCounters counters_;  // after chain_: built from its rules
    WorkerPool workers_{kMaxWorkers};
    std::thread thread_;

    // More callers waiting at once than this queue for a worker (a sandbox has few threads
    // blocked in connect/send at a time; each worker costs a stack).
    static constexpr std::size_t kMaxWorkers = 16;
};

}  // namespace sandlock::notif
