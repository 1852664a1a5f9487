// The cost of a supervised call, against the floor, in one run:
//   raw      a child whose filter routes openat to a listener, served by a plain C-style loop
//            (blocking NOTIF_RECV, answer CONTINUE, synchronous wake-up set);
//   sandlock the same openat+close pairs in a real sandbox (Sandbox::call) whose notif plugin
//            supervises openat through a third-party handler with no opinion (the notif_probe
//            test plugin), so the full supervisor path runs: poll, receive, chain, answer;
//   /proc    (when the /proc module is built) the same with -r /proc, whose real handler reads
//            and normalizes every path.
// Each prints the median, over rounds, of the mean time of one openat+close pair.
//
// Then 64 threads making calls at once, against one thread making as many.
//
//   notif_bench [PAIRS_PER_ROUND [ROUNDS]]
#include <sandlock/policy.hpp>
#include <sandlock/sandbox.hpp>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace {

constexpr const char* kFile = "/etc/passwd";

// Times `rounds` rounds of `pairs` openat+close; returns the mean µs per pair of each round.
std::vector<double> time_pairs(int pairs, int rounds) {
    std::vector<double> means;
    for (int r = 0; r < rounds; ++r) {
        auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < pairs; ++i) {
            int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, kFile, O_RDONLY | O_CLOEXEC));
            if (fd < 0) return {};
            ::close(fd);
        }
        std::chrono::duration<double, std::micro> spent = std::chrono::steady_clock::now() - start;
        means.push_back(spent.count() / pairs);
    }
    return means;
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

std::string serialize(const std::vector<double>& values) {
    std::ostringstream out;
    for (double v : values) out << v << ' ';
    return out.str();
}

std::vector<double> parse(const std::string& text) {
    std::istringstream in(text);
    std::vector<double> values;
    for (double v; in >> v;) values.push_back(v);
    return values;
}

// The same total of pairs made by `threads` threads at once (each `pairs` pairs), then by one
// thread: the wall-clock µs per pair of each, "one many".
std::string time_threads(int threads, int pairs) {
    auto wall = [&](int count, int each) {
        auto start = std::chrono::steady_clock::now();
        std::vector<std::thread> workers;
        for (int t = 0; t < count; ++t) workers.emplace_back([each] { time_pairs(each, 1); });
        for (auto& w : workers) w.join();
        std::chrono::duration<double, std::micro> spent = std::chrono::steady_clock::now() - start;
        return spent.count() / (static_cast<double>(threads) * pairs);
    };
    const double one = wall(1, threads * pairs);
    const double many = wall(threads, pairs);
    return serialize({one, many});
}

// ---- the raw loop ----------------------------------------------------------------------------

void send_fd(int socket, int fd) {
    char data = 0;
    iovec iov{&data, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    if (::sendmsg(socket, &msg, 0) != 1) _exit(3);
}

int receive_fd(int socket) {
    char data = 0;
    iovec iov{&data, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(socket, &msg, 0) != 1) return -1;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
    return fd;
}

// The child: openat goes to the listener, everything else is allowed.
[[noreturn]] void raw_child(int socket, int results, int pairs, int rounds) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(2);
    int listener =
        static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program));
    if (listener < 0) _exit(2);
    send_fd(socket, listener);
    ::close(listener);
    char go = 0;
    if (::read(socket, &go, 1) != 1) _exit(3);
    std::string text = serialize(time_pairs(pairs, rounds));
    if (::write(results, text.data(), text.size()) != static_cast<ssize_t>(text.size())) _exit(4);
    _exit(0);
}

void raw_supervisor(int listener) {
    for (;;) {
        seccomp_notif request;
        std::memset(&request, 0, sizeof request);
        if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) {
            if (errno == ENOENT || errno == EINTR) continue;
            return;  // the listener is closed under us: the run is over
        }
        seccomp_notif_resp response;
        std::memset(&response, 0, sizeof response);
        response.id = request.id;
        response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response);
    }
}

std::vector<double> run_raw(int pairs, int rounds) {
    int sockets[2], results[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0 || ::pipe2(results, O_CLOEXEC) != 0)
        return {};
    pid_t pid = ::fork();
    if (pid == 0) raw_child(sockets[1], results[1], pairs, rounds);
    ::close(sockets[1]);
    ::close(results[1]);
    int listener = receive_fd(sockets[0]);
    if (listener < 0) return {};
    const auto sync_wake_up = static_cast<unsigned long>(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);  // by value
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, sync_wake_up) != 0)
        std::fprintf(stderr, "raw: no synchronous wake-up (%s)\n", std::strerror(errno));
    // The blocking receive never returns once the child is gone: detach and let exit end it.
    std::thread(raw_supervisor, listener).detach();
    char go = 1;
    if (::write(sockets[0], &go, 1) != 1) return {};
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(results[0], buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<std::size_t>(n));
    ::waitpid(pid, nullptr, 0);
    return parse(text);
}

// ---- sandlock --------------------------------------------------------------------------------

std::filesystem::path bin_dir() { return std::filesystem::read_symlink("/proc/self/exe").parent_path(); }

std::vector<double> run_sandboxed(sandlock::Policy policy, sandlock::SandboxOptions options, int pairs, int rounds) {
    try {
        const sandlock::Sandbox sandbox(std::move(policy), std::move(options));
        sandlock::CallResult r =
            sandbox.call([&] { return serialize(time_pairs(pairs, rounds)); }, std::chrono::minutes(5));
        if (!r.value) {
            std::fprintf(stderr, "sandboxed run failed: %s\n", r.error.c_str());
            return {};
        }
        return parse(*r.value);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sandboxed run refused: %s\n", e.what());
        return {};
    }
}

// The sandbox of the "sandlock" figures: openat supervised by a handler with no opinion.
bool probe_sandbox(sandlock::Policy& policy, sandlock::SandboxOptions& options) {
    const auto test_plugins = (bin_dir() / "../lib/sandlock/test-plugins").lexically_normal();
    if (!std::filesystem::exists(test_plugins / "notif_probe.so")) {
        std::fprintf(stderr, "sandlock: %s/notif_probe.so not built (SANDLOCK_BUILD_TESTS=OFF?)\n",
                     test_plugins.c_str());
        return false;
    }
    policy.plugin_options["notif_probe"] =
        R"({"rules": [{"syscall": )" + std::to_string(SYS_openat) + R"(, "action": "next"}]})";
    options.plugins = {"seccomp", "notif", "notif_probe"};
    options.plugin_path = {test_plugins.string()};
    return true;
}

std::vector<double> run_probe(int pairs, int rounds) {
    sandlock::Policy policy;
    sandlock::SandboxOptions options;
    if (!probe_sandbox(policy, options)) return {};
    return run_sandboxed(policy, options, pairs, rounds);
}

// time_threads() in the probe's sandbox: {one, many}, or nothing.
std::vector<double> run_threads_supervised(int threads, int pairs) {
    sandlock::Policy policy;
    sandlock::SandboxOptions options;
    if (!probe_sandbox(policy, options)) return {};
    try {
        const sandlock::Sandbox sandbox(std::move(policy), std::move(options));
        sandlock::CallResult r = sandbox.call([&] { return time_threads(threads, pairs); }, std::chrono::minutes(5));
        if (r.value) return parse(*r.value);
        std::fprintf(stderr, "sandboxed threads failed: %s\n", r.error.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sandboxed threads refused: %s\n", e.what());
    }
    return {};
}

std::vector<double> run_procfs(int pairs, int rounds) {
    sandlock::Policy policy;
    policy.fs_readable = {"/proc", "/etc", "/usr", "/lib", "/lib64"};
    sandlock::SandboxOptions options;
    options.plugins = {"landlock", "seccomp", "notif"};
    return run_sandboxed(policy, options, pairs, rounds);
}

}  // namespace

int main(int argc, char** argv) {
    const int pairs = argc > 1 ? std::atoi(argv[1]) : 2000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 15;
    if (pairs <= 0 || rounds <= 0) {
        std::fprintf(stderr, "usage: notif_bench [PAIRS_PER_ROUND [ROUNDS]]\n");
        return 2;
    }
    std::printf("supervised openat+close of %s: median over %d rounds of %d pairs\n", kFile, rounds, pairs);
    const double unsupervised = median(time_pairs(pairs, rounds));
    std::printf("  %-10s %8.2f us/pair\n", "none", unsupervised);
    const double raw = median(run_raw(pairs, rounds));
    std::printf("  %-10s %8.2f us/pair\n", "raw", raw);
    const double probe = median(run_probe(pairs, rounds));
    if (probe > 0 && raw > 0) std::printf("  %-10s %8.2f us/pair  %.2fx raw\n", "sandlock", probe, probe / raw);
    const double procfs = median(run_procfs(pairs, rounds));
    if (procfs > 0 && raw > 0) {
        // Without the /proc module nothing routes openat and the figure is Landlock's alone.
        const bool supervised = procfs > (unsupervised + raw) / 2;
        std::printf("  %-10s %8.2f us/pair  %.2fx raw %s\n", "/proc", procfs, procfs / raw,
                    supervised ? "(the /proc module's handler)" : "(not supervised: no /proc module)");
    }
    // 64 threads making calls at once, against one thread making as many, with and without
    // the supervisor (wall-clock µs per pair).
    constexpr int kThreads = 64;
    const int each = std::max(1, pairs / 16);
    const std::vector<double> bare = parse(time_threads(kThreads, each));
    const std::vector<double> supervised = run_threads_supervised(kThreads, each);
    if (bare.size() == 2 && supervised.size() == 2)
        std::printf("  %d threads at once, %d pairs each: unsupervised %.2f us/pair (%.2fx one thread), "
                    "supervised %.2f us/pair (%.2fx one thread, %.2fx unsupervised)\n",
                    kThreads, each, bare[1], bare[1] / bare[0], supervised[1], supervised[1] / supervised[0],
                    supervised[1] / bare[1]);
    return raw > 0 && probe > 0 ? 0 : 1;
}
