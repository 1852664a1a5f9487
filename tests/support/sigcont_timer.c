/* A process that undoes a SIGSTOP from inside: it has the kernel send it SIGCONT every N
 * microseconds (argv[1], default 20000; a POSIX timer), and each time it runs it continues every
 * process of its PID namespace (kill(-1)). Used by tests/integration to prove that pause() and
 * the max_cpu throttle hold all the same. */
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void continue_everyone(int sig) {
    (void)sig;
    kill(-1, SIGCONT);
}

int main(int argc, char** argv) {
    const long micros = argc > 1 ? atol(argv[1]) : 20000;
    struct sigaction on_cont = {0};
    on_cont.sa_handler = continue_everyone;
    sigaction(SIGCONT, &on_cont, 0);
    struct sigevent event = {0};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGCONT;
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) return 1;
    const struct timespec period = {micros / 1000000, (micros % 1000000) * 1000};
    struct itimerspec every = {period, period};
    if (timer_settime(timer, 0, &every, 0) != 0) return 1;
    for (;;) pause();
}
