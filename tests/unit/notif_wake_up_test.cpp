// WakeUpMode: synchronous wake-up while calls come one at a time, off while they overlap, on
// again after a quiet run. Checked on a real listener (in a forked child that installs a filter
// routing only getppid), whose flag the kernel reports through a second SET_FLAGS.
#include "filter_install.hpp"
#include "supervisor/wake_up_mode.hpp"

#include <gtest/gtest.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sandlock::notif {
namespace {

// A listener of a filter that notifies getppid only (the child never calls it).
int listener_in_this_process() {
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return seccomp::install_filter_with_listener(program);
}

// Runs `body` with a WakeUpMode started on a fresh listener, in a child; its exit code.
template <class Body>
int in_child(Body body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int listener = listener_in_this_process();
        if (listener < 0) ::_exit(100);
        WakeUpMode mode;
        if (!mode.start(listener)) ::_exit(101);  // Linux < 6.6: nothing to switch
        ::_exit(body(mode));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

TEST(NotifWakeUp, OffWhileCallsOverlapAndOnAgainAfterAQuietRun) {
    const int code = in_child([](WakeUpMode& mode) {
        if (!mode.synchronous()) return 1;
        // While synchronous it looks only now and then (a look delays the caller just answered).
        unsigned looks = 0;
        for (unsigned i = 0; i < 4 * WakeUpMode::kLookEvery; ++i) looks += mode.wants_a_look();
        if (looks != 4) return 7;
        mode.answered(false);
        if (!mode.synchronous()) return 2;
        mode.answered(true);  // another call was waiting: parallel callers
        if (mode.synchronous()) return 3;
        if (!mode.wants_a_look() || !mode.wants_a_look()) return 8;  // after every answer now
        for (unsigned i = 0; i + 1 < WakeUpMode::kQuietAnswersToResume; ++i) mode.answered(false);
        if (mode.synchronous()) return 4;  // not yet
        mode.answered(true);               // overlap again: the count starts over
        for (unsigned i = 0; i + 1 < WakeUpMode::kQuietAnswersToResume; ++i) mode.answered(false);
        if (mode.synchronous()) return 5;
        mode.answered(false);
        return mode.synchronous() ? 0 : 6;
    });
    EXPECT_EQ(code, 0) << "101: this kernel has no synchronous wake-up (Linux 6.6)";
}

}  // namespace
}  // namespace sandlock::notif
