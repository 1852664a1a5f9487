#include "supervisor/wake_up_mode.hpp"

#include "supervisor/unotify.hpp"

namespace sandlock::notif {

bool WakeUpMode::start(int listener) noexcept {
    listener_ = listener;
    // The flag goes by value: a pointer to it is refused with EINVAL. Linux < 6.6 lacks it.
    const auto flags = static_cast<unsigned long>(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    available_ = ::ioctl(listener_, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0;
    synchronous_ = available_;
    return available_;
}

bool WakeUpMode::wants_a_look() noexcept {
    if (!available_) return false;
    if (!synchronous_) return true;
    if (++since_look_ < kLookEvery) return false;
    since_look_ = 0;
    return true;
}

void WakeUpMode::answered(bool another_waiting) noexcept {
    if (!available_) return;
    if (another_waiting) {
        quiet_ = 0;
        if (synchronous_) set(false);
        return;
    }
    if (!synchronous_ && ++quiet_ >= kQuietAnswersToResume) set(true);
}

void WakeUpMode::set(bool synchronous) noexcept {
    const auto flags = static_cast<unsigned long>(synchronous ? SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP : 0);
    if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0) synchronous_ = synchronous;
    quiet_ = 0;
}

}  // namespace sandlock::notif
