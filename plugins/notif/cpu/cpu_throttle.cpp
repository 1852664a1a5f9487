#include "cpu/cpu_throttle.hpp"

#include "procfs/proc_files.hpp"
#include "supervisor/supervisor_thread.hpp"

#include <unistd.h>

#include <csignal>
#include <string>

namespace sandlock::notif {
namespace {

using namespace std::chrono_literals;

constexpr auto kPeriod = 100ms;  // the longest burst the sandbox may save up for
constexpr auto kSample = 25ms;   // how often usage is measured and the decision renewed
// CPU time the sandbox may show, over the last kEscapeWindow samples, for samples it spent
// stopped: a stopped process uses none (but the work in flight when the stop arrived, and the
// rounding of /proc's clock ticks). More means a process of it runs although stopped.
constexpr auto kStoppedSlack = 20ms;

void refuse_out_of_range(std::uint32_t percent) {
    if (percent < 1 || percent > 100)
        throw sdk::Error("max_cpu: " + std::to_string(percent) +
                         "% is not a share of one core; give 1% to 100%, e.g. \"50%\"");
}

}  // namespace

void CpuThrottle::configure(const ModuleSetup& setup) {
    if (!setup.policy.max_cpu) return;
    const std::uint32_t percent = *setup.policy.max_cpu;
    refuse_out_of_range(percent);
    host_ = &setup.host;
    percent_ = percent;
}

void CpuThrottle::check_update(const Policy& policy) const {
    const std::uint32_t percent = percent_.load(std::memory_order_relaxed);
    if (percent == 0 && policy.max_cpu)
        throw sdk::Error("max_cpu: cannot set " + std::to_string(*policy.max_cpu) +
                         "%: this sandbox started without a CPU limit, so none can be set while it runs "
                         "(start it with one, e.g. -c 50%)");
    if (percent != 0 && !policy.max_cpu)
        throw sdk::Error("max_cpu: this sandbox started with a limit of " + std::to_string(percent) +
                         "%, which cannot be removed while it runs (give 100% instead, -c 100%)");
    if (policy.max_cpu) refuse_out_of_range(*policy.max_cpu);
}

void CpuThrottle::check_nest(const Policy& policy) const {
    if (policy.max_cpu)
        throw sdk::Error("max_cpu: a nested sandbox cannot have a CPU share of its own yet; the parent's max_cpu "
                         "applies to it");
}

void CpuThrottle::apply_update(const Policy& policy) noexcept {
    if (percent_.load(std::memory_order_relaxed) != 0 && policy.max_cpu)
        percent_.store(*policy.max_cpu, std::memory_order_relaxed);
}

void CpuThrottle::paused(bool frozen) noexcept {
    std::lock_guard hold(signal_mutex_);
    paused_ = frozen;
    // After the host's resume the throttle's own stop may hold or not (a signal resume
    // continued everything, a thawed cgroup did not): everything runs again, and the next
    // sample stops it anew if the sandbox is still in debt. Left as it was, the CPU it used
    // meanwhile read as used while stopped: an escape.
    if (!frozen && stopped_) {
        processes_.signal_all(SIGCONT);
        stopped_ = false;
        held_samples_ = 0;
        throttled_.store(false, std::memory_order_relaxed);
    }
}

void CpuThrottle::status(boost::json::object& out) const {
    const std::uint32_t percent = percent_.load(std::memory_order_relaxed);
    if (percent == 0) return;
    out["max_cpu_percent"] = percent;
    out["cpu_throttled"] = throttled_.load(std::memory_order_relaxed);
}

void CpuThrottle::after_fork(const sdk::ParentContext&) {
    if (percent_ == 0) return;
    host_->debug("max_cpu: throttling the sandbox to " + std::to_string(percent_) + "% of one core");
    thread_ = start_supervisor_thread([this] { run(); });
}

void CpuThrottle::on_exit() noexcept {
    if (!thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

CpuBudget::Duration CpuThrottle::sample_usage() {
    static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    std::vector<CpuSample> samples;
    for (pid_t pid : processes_.live_processes())
        if (auto stat = proc::read_stat(pid))
            samples.push_back({pid, stat->ppid, stat->cpu_ticks, stat->children_ticks});
    const std::uint64_t ticks = meter_.update(samples);
    return std::chrono::duration_cast<CpuBudget::Duration>(std::chrono::seconds(ticks)) / ticks_per_second;
}

void CpuThrottle::run() noexcept {
    CpuBudget budget(percent_.load(std::memory_order_relaxed), kPeriod);
    auto resume = [&] {  // signal_mutex_ held
        processes_.signal_all(SIGCONT);
        stopped_ = false;
        held_samples_ = 0;
        throttled_.store(false, std::memory_order_relaxed);
    };
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, kSample, [this] { return stopping_; })) {
        lock.unlock();
        try {
            const auto now = std::chrono::steady_clock::now();
            processes_.refresh();
            if (const std::uint32_t percent = percent_.load(std::memory_order_relaxed); percent != budget.percent())
                budget.set_percent(percent);
            const CpuBudget::Duration used = sample_usage();
            const bool may_run = budget.update(now - last, used);
            last = now;
            std::lock_guard hold(signal_mutex_);
            // SIGSTOP is what the throttle has, and a process of the sandbox can undo it: it may
            // have the kernel send it SIGCONT (a timer, F_SETSIG, a parent-death signal) and then
            // continue the others. Then max_cpu no longer holds, and the sandbox must not go on.
            stopped_use_[stopped_samples_++ % stopped_use_.size()] =
                stopped_ && !paused_ && held_samples_ >= 2 ? used : CpuBudget::Duration::zero();
            CpuBudget::Duration used_while_stopped{};
            for (const auto& sample : stopped_use_) used_while_stopped += sample;
            escaped_ = used_while_stopped > kStoppedSlack;
            if (escaped_) {
                host_->abort_run("max_cpu: a process of the sandbox kept running while throttled (it resumed "
                                 "itself with a SIGCONT it had the kernel send), so the CPU limit no longer held");
                break;
            }
            if (paused_) {
                // The host holds every process stopped and resumes them itself: hands off.
            } else if (!may_run) {
                // Every sample while in debt, so a process born meanwhile is stopped too.
                processes_.signal_all(SIGSTOP);
                stopped_ = true;
                throttled_.store(true, std::memory_order_relaxed);
            } else if (stopped_) {
                resume();
            }
            held_samples_ = stopped_ && !paused_ ? held_samples_ + 1 : 0;
        } catch (const std::exception&) {
            // Out of memory in the supervisor: resume the sandbox and try again next sample.
            std::lock_guard hold(signal_mutex_);
            if (!paused_) resume();
            held_samples_ = 0;
        }
        lock.lock();
    }
    if (lock.owns_lock()) lock.unlock();
    if (escaped_) return;  // the host kills the sandbox; nothing to resume
    std::lock_guard hold(signal_mutex_);
    if (stopped_ && !paused_) resume();  // never leave the sandbox frozen behind us
}

}  // namespace sandlock::notif
