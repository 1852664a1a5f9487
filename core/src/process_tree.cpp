#include "process_tree.hpp"

#include "init_record.hpp"
#include "kernel.hpp"
#include "proc_read.hpp"

#include <sandlock/sandbox.hpp>

#include <dirent.h>
#include <poll.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <sstream>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sandlock {
namespace {

// The main processes of every sandbox this process is running: what one run's clean-up must
// leave to the others. Held across fork so a new main child is never seen unregistered.
std::mutex registry_mutex;

constexpr unsigned long kNamespaces = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS;

// How long an init asked to end may take to kill and reap the sandbox before it is killed.
constexpr int kGracefulEndMs = 5000;
std::set<pid_t> running_mains;

// The children of every thread of this process (/proc/self/task/*/children).
std::vector<pid_t> current_children() {
    std::vector<pid_t> children;
    DIR* tasks = ::opendir("/proc/self/task");
    if (tasks == nullptr) return children;
    while (dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.') continue;
        std::istringstream list(read_proc_file(std::string("/proc/self/task/") + entry->d_name + "/children"));
        for (pid_t pid; list >> pid;) children.push_back(pid);
    }
    ::closedir(tasks);
    return children;
}

void wait_until_exited(pid_t pid) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
}

}  // namespace

bool namespaces_refused(int error) {
    return error == EPERM || error == EINVAL || error == ENOSPC || error == EUSERS || error == ENOSYS ||
           error == EACCES;
}

ProcessTree::~ProcessTree() {
    std::lock_guard lock(registry_mutex);
    running_mains.erase(main_);
}

pid_t ProcessTree::clone_namespaced(int& cgroup_fd) {
    std::lock_guard lock(registry_mutex);
    // The raw system call, like fork(2) but into new namespaces. The child runs only the
    // prepared child stages (no allocation), so fork's atfork handlers are not needed.
    long pid = -1;
    if (cgroup_fd >= 0) {
        clone_args args{};
        args.flags = kNamespaces | CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
        pid = ::syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0) cgroup_fd = -1;  // refused (an old kernel, no permission): without it
    }
    if (cgroup_fd < 0) pid = ::syscall(SYS_clone, kNamespaces | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid > 0) register_namespaced(static_cast<pid_t>(pid));
    return static_cast<pid_t>(pid);
}

pid_t ProcessTree::clone_namespaced_in_our_memory(int (*entry)(void*) noexcept, char* stack_top, void* arg) {
    std::lock_guard lock(registry_mutex);
    const pid_t pid = ::clone(entry, stack_top, kNamespaces | CLONE_VM | SIGCHLD, arg);
    try {
        if (pid > 0) register_namespaced(pid);
    } catch (...) {  // out of memory: the init must not outlive the stack and plan it runs on
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        throw;
    }
    return pid;
}

void ProcessTree::register_namespaced(pid_t init) {
    main_ = init;
    namespaced_ = true;
    running_mains.insert(main_);
}

namespace {

// A caller's ForkHooks (sandbox.hpp) around one fork(2): `before` now, `in_parent` when the
// caller returns (after the registry lock is released; errno kept), `in_child` by child().
class HookedFork {
public:
    explicit HookedFork(const ForkHooks* hooks) : hooks_(hooks) {
        if (hooks_ != nullptr && hooks_->before) hooks_->before();
    }
    ~HookedFork() {
        if (hooks_ == nullptr || !hooks_->in_parent) return;
        const int saved = errno;
        hooks_->in_parent();
        errno = saved;
    }
    HookedFork(const HookedFork&) = delete;
    HookedFork& operator=(const HookedFork&) = delete;
    void child() {
        const ForkHooks* hooks = std::exchange(hooks_, nullptr);
        if (hooks != nullptr && hooks->in_child) hooks->in_child();
    }

private:
    const ForkHooks* hooks_;
};

}  // namespace

pid_t ProcessTree::fork_namespaced(int report, const ForkHooks* hooks) {
    HookedFork hooked(hooks);
    std::lock_guard lock(registry_mutex);
    const pid_t helper = ::fork();
    if (helper == 0) hooked.child();
    if (helper <= 0) return helper;
    while (::waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
    }
    // The helper's report; the init's records may come before it (they are kept).
    pid_t init = -ECHILD;  // the helper died before reporting
    for (;;) {
        InitRecord record{};
        if (::read(report, &record, sizeof record) != sizeof record) break;
        if (record.kind == InitRecordKind::InitPid) {
            init = record.value;
            break;
        }
        init_records_.push_back(record);
    }
    if (init < 0) {
        errno = -init;
        return -1;
    }
    main_ = init;
    namespaced_ = true;
    running_mains.insert(main_);
    return init;
}

pid_t ProcessTree::fork_main(const ForkHooks* hooks) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    for (pid_t pid : current_children()) foreign_children_.insert(pid);
    HookedFork hooked(hooks);
    std::lock_guard lock(registry_mutex);
    pid_t pid = ::fork();
    if (pid == 0) hooked.child();
    if (pid > 0) {
        main_ = pid;
        running_mains.insert(pid);
    }
    return pid;
}

void ProcessTree::kill_all(pid_t main, bool setup_over) {
    if (main <= 0) return;
    if (namespaced_) {
        // The init ends the rest and exits once it has reaped them all. Before the main process
        // has started the init may be suspended (vfork) and cannot act: it is killed, and its
        // death takes every process of its PID namespace with it. Either way its exit completes
        // only once they are all gone.
        if (!setup_over) {
            ::kill(main, SIGKILL);
            return;
        }
        ::kill(main, SIGCONT);  // a CPU throttle may have stopped it
        ::kill(main, SIGTERM);
        // A safety net, not a timing assumption: an init that has not finished by then (a
        // process stuck exiting) is killed, which still takes everything with it.
        const int pidfd = pidfd_open(main);
        pollfd exited{pidfd, POLLIN, 0};
        if (pidfd >= 0 && ::poll(&exited, 1, kGracefulEndMs) != 1) ::kill(main, SIGKILL);
        if (pidfd >= 0) ::close(pidfd);
        return;
    }
    ::kill(-main, SIGKILL);
    // SIGKILL is asynchronous: wait until `main` has exited (left unreaped) so its children
    // have been re-parented here before the first look.
    ::kill(main, SIGKILL);
    wait_until_exited(main);
    // Each round kills and reaps the current generation; their orphans are re-parented here
    // before the reap returns, so the next round sees them. A tree cannot outgrow this: every
    // process killed can fork no more.
    for (;;) {
        std::lock_guard lock(registry_mutex);
        std::vector<pid_t> ours;
        for (pid_t pid : current_children())
            if (pid != main && !foreign_children_.contains(pid) && !running_mains.contains(pid)) ours.push_back(pid);
        if (ours.empty()) return;
        for (pid_t pid : ours) ::kill(pid, SIGKILL);
        for (pid_t pid : ours)
            while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
            }
    }
}

}  // namespace sandlock
