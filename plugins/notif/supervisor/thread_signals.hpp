// Starts the notif layer's threads with every signal blocked, so signals meant for the host
// (SIGINT, SIGCHLD, a library user's own) never land on them and interrupt nothing of ours.
#pragma once

#include <signal.h>

#include <thread>
#include <utility>

namespace sandlock::notif {

template <class Fn>
std::thread start_quiet_thread(Fn&& fn) {
    struct MaskAll {
        sigset_t old;
        MaskAll() {
            sigset_t all;
            sigfillset(&all);
            ::pthread_sigmask(SIG_BLOCK, &all, &old);
        }
        ~MaskAll() { ::pthread_sigmask(SIG_SETMASK, &old, nullptr); }
    } masked;  // the new thread inherits the mask; this one gets its own back, even on a throw
    return std::thread(std::forward<Fn>(fn));
}

}  // namespace sandlock::notif
