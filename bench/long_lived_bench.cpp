// Long-lived sandboxes, measured against baselines in the same run:
//   pause + resume of a 50-process tree (Sandbox::pause/resume: the init's kill(-1)) against
//     a C loop sending SIGSTOP then SIGCONT to each of the same 50 pids;
//   exec of /bin/true into a running sandbox (Sandbox::exec + wait) against a fresh sandbox
//     for each (Sandbox::run), and against a bare fork+exec+wait.
// Medians over interleaved rounds. Usage: long_lived_bench [ROUNDS]
#include <sandlock/sandbox.hpp>

#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Every process named `name` in the PID namespace of `pid`.
std::vector<pid_t> tree_of(pid_t pid, const std::string& name) {
    std::vector<pid_t> found;
    struct stat ns {};
    if (::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &ns) != 0) return found;
    DIR* proc = ::opendir("/proc");
    while (dirent* e = ::readdir(proc)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        const std::string dir = std::string("/proc/") + e->d_name;
        struct stat its {};
        if (::stat((dir + "/ns/pid").c_str(), &its) != 0 || its.st_ino != ns.st_ino) continue;
        std::ifstream comm(dir + "/comm");
        std::string c;
        std::getline(comm, c);
        if (c == name) found.push_back(std::atoi(e->d_name));
    }
    ::closedir(proc);
    return found;
}

sandlock::Policy system_policy() {
    sandlock::Policy p;
    p.fs_readable = {"/usr", "/lib", "/lib64", "/bin", "/etc"};
    return p;
}

double bare_true() {
    const auto start = Clock::now();
    char arg0[] = "/bin/true";
    char* argv[] = {arg0, nullptr};
    pid_t pid = 0;
    ::posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ);
    ::waitpid(pid, nullptr, 0);
    return micros(Clock::now() - start);
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 100;

    // ---- pause + resume of 50 processes ----
    sandlock::Sandbox sb(system_policy());
    sandlock::Process& tree = sb.exec({"/bin/sh", "-c", "for i in $(seq 49); do sleep 1000 & done; wait"});
    std::vector<pid_t> pids;
    for (int i = 0; i < 200 && pids.size() < 50; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        pids = tree_of(tree.pid(), "sleep");
        pids.push_back(tree.pid());
    }
    if (pids.size() != 50) {
        std::fprintf(stderr, "long_lived_bench: the tree has %zu processes, not 50\n", pids.size());
        return 1;
    }
    std::vector<double> sandbox_pause, loop_pause;
    for (int i = 0; i < rounds; ++i) {
        auto start = Clock::now();
        sb.pause();
        sb.resume();
        sandbox_pause.push_back(micros(Clock::now() - start));
        start = Clock::now();
        for (pid_t pid : pids) ::kill(pid, SIGSTOP);
        for (pid_t pid : pids) ::kill(pid, SIGCONT);
        loop_pause.push_back(micros(Clock::now() - start));
    }

    // ---- exec into a running sandbox vs a fresh sandbox ----
    std::vector<double> exec_times, fresh_times, bare_times;
    for (int i = 0; i < rounds; ++i) {
        auto start = Clock::now();
        sb.exec({"/bin/true"}).wait();
        exec_times.push_back(micros(Clock::now() - start));
        start = Clock::now();
        sandlock::Sandbox(system_policy()).run({"/bin/true"});
        fresh_times.push_back(micros(Clock::now() - start));
        bare_times.push_back(bare_true());
    }
    tree.kill();
    sb.close();

    const double sp = median(sandbox_pause), lp = median(loop_pause);
    const double ex = median(exec_times), fr = median(fresh_times), ba = median(bare_times);
    std::printf("pause+resume of 50 processes  sandbox %8.0f us   C kill loop %8.0f us   ratio %.2f\n", sp, lp, sp / lp);
    std::printf("exec /bin/true + wait         running %8.0f us   fresh sandbox %6.0f us   ratio %.2f   (bare %.0f us)\n",
                ex, fr, ex / fr, ba);
    return 0;
}
