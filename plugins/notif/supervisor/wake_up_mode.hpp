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
    // Whether to look, after this answer, for another call already waiting: after each one
    // while asynchronous, every kLookEvery-th while synchronous.
    bool wants_a_look() noexcept;
    // What the look found.
    void answered(bool another_waiting) noexcept;
    bool synchronous() const noexcept { return synchronous_; }

    static constexpr unsigned kQuietAnswersToResume = 512;
    static constexpr unsigned kLookEvery = 16;

private:
    void set(bool synchronous) noexcept;

    int listener_ = -1;
    bool available_ = false;
    bool synchronous_ = false;
    unsigned quiet_ = 0;  // looks in a row that found no other call waiting
    unsigned since_look_ = 0;
};

}  // namespace sandlock::notif
