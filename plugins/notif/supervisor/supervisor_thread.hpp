// Starts the notif layer's threads (the receive loop, its workers, the CPU throttle):
// - with every signal blocked, so signals meant for the host (SIGINT, SIGCHLD, a library
//   user's own) never land on them and interrupt nothing of ours;
// - without any capability. What they do on a caller's behalf (connect to a UNIX socket, open
//   a file, send) must be checked with no more power than the sandbox has: the sandbox runs
//   with the same uid and no capabilities, so a root sandlock's DAC override must not reach
//   it through us. Capabilities are per thread, so the host's other threads keep theirs.
#pragma once

#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <exception>
#include <thread>
#include <utility>

namespace sandlock::notif {

// Empties the calling thread's effective, permitted and inheritable sets; true on success.
inline bool drop_thread_capabilities() noexcept {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};  // pid 0: this thread
    __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3]{};
    return ::syscall(SYS_capset, &header, none) == 0;
}

template <class Fn>
std::thread start_supervisor_thread(Fn&& fn) {
    struct MaskAll {
        sigset_t old;
        MaskAll() {
            sigset_t all;
            sigfillset(&all);
            ::pthread_sigmask(SIG_BLOCK, &all, &old);
        }
        ~MaskAll() { ::pthread_sigmask(SIG_SETMASK, &old, nullptr); }
    } masked;  // the new thread inherits the mask; this one gets its own back, even on a throw
    return std::thread([body = std::forward<Fn>(fn)]() mutable {
        // Lowering needs no privilege, so this cannot fail; were it to, a thread with more
        // power than the sandbox must not serve it: ending sandlock ends the sandbox too.
        if (!drop_thread_capabilities()) std::terminate();
        body();
    });
}

}  // namespace sandlock::notif
