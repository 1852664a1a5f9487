// `sandlock-init STATUS_FD MAIN_PID`: pid 1 of a sandbox whose init started in sandlock's own
// memory (launcher.cpp) and exec'd this once the main process had exec'd. It serves as the
// init from then on (init_loop.hpp). The signals it handles were held across the exec.
#include "init_loop.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace {

// A whole decimal number greater than 0 (or, for an fd, 0), else -1.
long parse_number(const char* text) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    return end != text && *end == '\0' && value >= 0 && value <= 0x7fffffff ? value : -1;
}

}  // namespace

int main(int argc, char** argv) {
    // First: the sandbox may not read or trace its init.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    const long status_fd = argc == 3 ? parse_number(argv[1]) : -1;
    const long main_pid = argc == 3 ? parse_number(argv[2]) : -1;
    if (status_fd < 0 || main_pid <= 0) {
        static const char usage[] = "sandlock-init: started by sandlock only (STATUS_FD MAIN_PID)\n";
        if (::write(2, usage, sizeof usage - 1) < 0) {
            // nothing more to say
        }
        return 125;
    }
    sandlock::install_init_handlers(static_cast<int>(status_fd));
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    sandlock::serve_until_main_ends(static_cast<int>(status_fd), static_cast<pid_t>(main_pid));
}
