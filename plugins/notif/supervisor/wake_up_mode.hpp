// Synchronous wake-up (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6) hands the CPU straight
// from a caller to the supervisor and back: the fastest round trip while calls come one at a
// time (gcc, python3: 10-20 % faster runs). With callers running in parallel it pulls each of
// them onto the supervisor's CPU, where they queue (make -j2 on 2 cores: 316 ms with it, 243 ms
// without). So it is on while calls come one at a time, off as soon as another call was already
// waiting when one had been answered, and on again after a long run of calls that found none.
#pragma once

namespace sandlock::notif {

class WakeUpMode {
public:
    // Sets the flag on `listener` when the kernel has it; false when it does not.
    bool start(int listener) noexcept;
    // After each answer: whether another call was waiting by then.
    void answered(bool another_waiting) noexcept;
    bool synchronous() const noexcept { return synchronous_; }

    static constexpr unsigned kQuietAnswersToResume = 512;

private:
    void set(bool synchronous) noexcept;

    int listener_ = -1;
    bool available_ = false;
    bool synchronous_ = false;
    unsigned quiet_ = 0;  // answers in a row that found no other call waiting
};

}  // namespace sandlock::notif
