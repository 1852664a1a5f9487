// max_cpu = "N%": the whole sandbox — every process and thread together — gets at most N% of
// one core, averaged over time (1% to 100%).
//
// How: a timer thread in the supervising process samples the CPU time of every member process
// every 25 ms (cpu_meter.hpp: its own time, and that of the children it waited for, which
// catches processes too short-lived to be sampled) and keeps a token bucket (cpu_budget.hpp):
// the sandbox earns N% of the wall-clock time, spends what it uses, and may save at most one
// 100 ms period's earnings. While the balance is negative every member is stopped with SIGSTOP
// (sent to each process through its pidfd and to the process group); once repaid, SIGCONT
// resumes them. So a busy loop under 50% runs ~50 ms, pauses ~50 ms; with two busy threads it
// runs ~50 ms and pauses ~150 ms.
//
// What to know: the throttle is a duty cycle, not a scheduler share — an interactive program
// feels 100 ms hiccups; members see SIGCONT (and their parents SIGCHLD) each cycle, and a
// member's own SIGSTOP may be undone by the throttle's SIGCONT; the time of a short-lived
// process counts only once its parent waits for it (an orphan's last moments go unmeasured).
// Whatever happens, the sandbox is resumed before the throttle stops, and stopped processes
// still die on SIGKILL, so timeouts and kills work as always (the timeout is wall-clock time,
// stopped time included).
//
// While the host holds the sandbox paused (paused(true) .. paused(false)) the throttle neither
// stops nor resumes anything: its SIGCONT would thaw a paused sandbox. The share can change
// while the sandbox runs (update); it applies from the next sample.
#pragma once

#include "supervisor/builtin_module.hpp"
#include "cpu/cpu_budget.hpp"
#include "cpu/cpu_meter.hpp"
#include "processes/process_table.hpp"

#include <atomic>
#include <array>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace sandlock::notif {

class CpuThrottle final : public BuiltinModule {
public:
    explicit CpuThrottle(ProcessTable& processes) : processes_(processes) {}
    ~CpuThrottle() override { on_exit(); }

    std::string_view rule() const override { return "max_cpu"; }
    void configure(const ModuleSetup& setup) override;
    void after_fork(const sdk::ParentContext& ctx) override;
    void on_exit() noexcept override;
    void check_update(const Policy& policy) const override;
    // A nested sandbox's own max_cpu is refused: the throttle stops the whole sandbox at once.
    void check_nest(const Policy& policy) const override;
    void apply_update(const Policy& policy) noexcept override;
    void paused(bool frozen) noexcept override;
    void status(boost::json::object& out) const override;

private:
    void run() noexcept;
    // The CPU time the members used since the last sample.
    CpuBudget::Duration sample_usage();

    ProcessTable& processes_;
    const sdk::Host* host_ = nullptr;
    std::atomic<std::uint32_t> percent_{0};  // 0: no max_cpu, the throttle never runs
    CpuMeter meter_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    // The CPU the sandbox used in each of the last samples it spent stopped (the thread's own).
    std::array<CpuBudget::Duration, 8> stopped_use_{};
    std::size_t stopped_samples_ = 0;
    bool escaped_ = false;
    // Held while deciding and signalling, so paused(true) returns only once a SIGCONT underway
    // has been sent: the host's SIGSTOP then comes after it.
    std::mutex signal_mutex_;
    bool paused_ = false;               // under signal_mutex_
    bool stopped_ = false;              // under signal_mutex_: the throttle sent SIGSTOP last
    // Under signal_mutex_: how many samples in a row ended with the sandbox held stopped. Only
    // an interval that began with it stopped a whole sample already shows CPU an honest
    // sandbox cannot have used: the first one still holds the run up to the stop (the signal
    // takes a moment, and /proc counts whole ticks of every process).
    std::uint32_t held_samples_ = 0;
    std::atomic<bool> throttled_{false};  // the throttle holds the sandbox stopped (status)
    std::thread thread_;
};

}  // namespace sandlock::notif
