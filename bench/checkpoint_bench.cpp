// Checkpoint and restore of a process holding 256 MiB of touched private memory: sandlock
// (Sandbox::checkpoint, Sandbox::restore) against CRIU (`criu dump`, `criu restore -d`) on the
// same program, interleaved rounds in one run, medians; time and MiB/s of each. CRIU needs
// root and the Debian package criu; without them only sandlock is measured.
//   checkpoint_bench [MIB] [ROUNDS]
#include <sandlock/checkpoint.hpp>
#include <sandlock/sandbox.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void wait_for(const fs::path& file) {
    for (int i = 0; i < 3000 && !fs::exists(file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!fs::exists(file)) {
        std::fprintf(stderr, "checkpoint_bench: the holder never got ready\n");
        std::exit(1);
    }
}

bool criu_usable() {
    return ::geteuid() == 0 && std::system("criu check > /dev/null 2>&1") == 0;
}

// One CRIU round on a holder started outside any sandbox: dump (which ends it) and restore.
bool criu_round(const fs::path& holder, const fs::path& work, long mib, double& dump_ms, double& restore_ms) {
    const fs::path ready = work / "criu-ready", images = work / "criu-images";
    fs::remove(ready);
    fs::remove_all(images);
    fs::create_directories(images);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        std::freopen("/dev/null", "r", stdin);
        std::freopen("/dev/null", "w", stdout);
        std::freopen("/dev/null", "w", stderr);
        ::execl(holder.c_str(), holder.c_str(), std::to_string(mib).c_str(), ready.c_str(), nullptr);
        ::_exit(127);
    }
    wait_for(ready);
    const std::string dump = "criu dump -t " + std::to_string(pid) + " -D " + images.string() + " -o dump.log";
    auto start = Clock::now();
    const int dumped = std::system(dump.c_str());
    dump_ms = ms_since(start);
    ::waitpid(pid, nullptr, 0);  // criu dump ends it
    if (dumped != 0) return false;
    const std::string restore = "criu restore -d -D " + images.string() + " -o restore.log";
    start = Clock::now();
    const int restored = std::system(restore.c_str());
    restore_ms = ms_since(start);
    ::kill(pid, SIGKILL);  // restored with its pid, a child of init now
    return restored == 0;
}

}  // namespace

int main(int argc, char** argv) {
    const long mib = argc > 1 ? std::atol(argv[1]) : 256;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    const fs::path holder = fs::canonical("/proc/self/exe").parent_path() / "memory_holder";
    char pattern[] = "/var/tmp/sandlock-checkpoint-bench-XXXXXX";
    const fs::path work = ::mkdtemp(pattern);
    ::chmod(work.c_str(), 0755);
    ::setenv("XDG_DATA_HOME", (work / "data").c_str(), 1);
    sandlock::Policy policy;
    policy.fs_readable = {"/usr", "/lib", "/lib64", "/bin", "/etc", holder.parent_path().string()};
    const fs::path run = work / "run";  // what the holder may write; the store lies beside it
    fs::create_directories(run);
    ::chmod(run.c_str(), 0755);
    policy.fs_writable = {run.string()};
    const bool criu = criu_usable();

    std::vector<double> dump, restore, criu_dump, criu_restore;
    std::uint64_t saved_bytes = 0;
    for (int round = 0; round < rounds; ++round) {
        const fs::path ready = run / "ready";
        fs::remove(ready);
        {
            sandlock::Sandbox sb(policy);
            sb.exec({holder.string(), std::to_string(mib), ready.string()});
            wait_for(ready);
            auto start = Clock::now();
            sandlock::Checkpoint cp = sb.checkpoint();
            dump.push_back(ms_since(start));
            saved_bytes = cp.processes().at(0).memory_bytes;
            cp.save("bench");
            sb.close();
            sandlock::Sandbox again(cp.policy());
            start = Clock::now();
            sandlock::Process& p = again.restore(cp);
            restore.push_back(ms_since(start));
            if (!p.running()) std::fprintf(stderr, "checkpoint_bench: the restored holder is not running\n");
            again.close();
            sandlock::Checkpoint::remove("bench");
        }
        double d = 0, r = 0;
        if (criu && criu_round(holder, work, mib, d, r)) {
            criu_dump.push_back(d);
            criu_restore.push_back(r);
        }
    }
    const double saved_mib = static_cast<double>(saved_bytes) / (1u << 20);
    std::printf("checkpoint and restore of %ld MiB of touched memory (%.1f MiB saved), %d rounds, medians\n", mib,
                saved_mib, rounds);
    std::printf("  sandlock checkpoint  %8.1f ms  %7.0f MiB/s\n", median(dump), saved_mib / median(dump) * 1000);
    std::printf("  sandlock restore     %8.1f ms  %7.0f MiB/s\n", median(restore), saved_mib / median(restore) * 1000);
    if (!criu_dump.empty()) {
        std::printf("  criu dump            %8.1f ms  %7.0f MiB/s\n", median(criu_dump), mib / median(criu_dump) * 1000);
        std::printf("  criu restore -d      %8.1f ms  %7.0f MiB/s\n", median(criu_restore), mib / median(criu_restore) * 1000);
        std::printf("  ratio sandlock/criu: checkpoint %.2f, restore %.2f (below 1: sandlock is faster)\n",
                    median(dump) / median(criu_dump), median(restore) / median(criu_restore));
    } else {
        std::printf("  criu: not measured (needs root, the package criu, and `criu check` to pass)\n");
    }
    fs::remove_all(work);
}
