/* A process that undoes a SIGSTOP pause from inside: it has the kernel send it SIGCONT every
 * 20 ms (a POSIX timer), and each time it runs it continues every process of its PID namespace
 * (kill(-1)). Used by tests/integration to prove that pause() holds all the same. */
#include <signal.h>
#include <time.h>
#include <unistd.h>

static void continue_everyone(int sig) {
    (void)sig;
    kill(-1, SIGCONT);
}

int main(void) {
    struct sigaction on_cont = {0};
    on_cont.sa_handler = continue_everyone;
    sigaction(SIGCONT, &on_cont, 0);
    struct sigevent event = {0};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGCONT;
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) return 1;
    struct itimerspec every = {{0, 20000000}, {0, 20000000}};
    if (timer_settime(timer, 0, &every, 0) != 0) return 1;
    for (;;) pause();
}
