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

}  // namespace

void CpuThrottle::configure(const ModuleSetup& setup) {
    if (!setup.policy.max_cpu) return;
    const std::uint32_t percent = *setup.policy.max_cpu;
    if (percent < 1 || percent > 100)
        throw sdk::Error("max_cpu: " + std::to_string(percent) +
                         "% is not a share of one core; give 1% to 100%, e.g. \"50%\"");
    host_ = &setup.host;
    percent_ = percent;
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
    CpuBudget budget(percent_, kPeriod);
    bool stopped = false;
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, kSample, [this] { return stopping_; })) {
        lock.unlock();
        try {
            const auto now = std::chrono::steady_clock::now();
            processes_.refresh();
            const bool may_run = budget.update(now - last, sample_usage());
            last = now;
            if (!may_run) {
                // Every sample while in debt, so a process born meanwhile is stopped too.
                processes_.signal_all(SIGSTOP);
                stopped = true;
            } else if (stopped) {
                processes_.signal_all(SIGCONT);
                stopped = false;
            }
        } catch (const std::exception&) {
            // Out of memory in the supervisor: resume the sandbox and try again next sample.
            processes_.signal_all(SIGCONT);
            stopped = false;
        }
        lock.lock();
    }
    lock.unlock();
    if (stopped) processes_.signal_all(SIGCONT);  // never leave the sandbox frozen behind us
}

}  // namespace sandlock::notif
