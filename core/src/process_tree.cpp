#include "process_tree.hpp"

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace sandlock {
namespace {

// The main processes of every sandbox this process is running: what one run's clean-up must
// leave to the others. Held across fork so a new main child is never seen unregistered.
std::mutex registry_mutex;
std::set<pid_t> running_mains;

// The children of every thread of this process (/proc/self/task/*/children).
std::vector<pid_t> current_children() {
    std::vector<pid_t> children;
    DIR* tasks = ::opendir("/proc/self/task");
    if (tasks == nullptr) return children;
    while (dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.') continue;
        std::ifstream list(std::string("/proc/self/task/") + entry->d_name + "/children");
        for (pid_t pid; list >> pid;) children.push_back(pid);
    }
    ::closedir(tasks);
    return children;
}

}  // namespace

ProcessTree::~ProcessTree() {
    std::lock_guard lock(registry_mutex);
    running_mains.erase(main_);
}

pid_t ProcessTree::fork_main() {
    std::lock_guard lock(registry_mutex);
    pid_t pid = ::fork();
    if (pid > 0) {
        main_ = pid;
        running_mains.insert(pid);
    }
    return pid;
}

ProcessTree::ProcessTree() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    for (pid_t pid : current_children()) foreign_children_.insert(pid);
}

void ProcessTree::kill_all(pid_t pgid, pid_t keep) {
    if (pgid > 0) ::kill(-pgid, SIGKILL);
    if (keep > 0) {
        // SIGKILL is asynchronous: wait until `keep` has exited (left unreaped) so its
        // children have been re-parented here before the first look.
        ::kill(keep, SIGKILL);
        siginfo_t info{};
        while (::waitid(P_PID, static_cast<id_t>(keep), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
        }
    }
    // Each round kills and reaps the current generation; their orphans are re-parented here
    // before the reap returns, so the next round sees them. A tree cannot outgrow this: every
    // process killed can fork no more.
    for (;;) {
        std::lock_guard lock(registry_mutex);
        std::vector<pid_t> ours;
        for (pid_t pid : current_children())
            if (pid != keep && !foreign_children_.contains(pid) && !running_mains.contains(pid)) ours.push_back(pid);
        if (ours.empty()) return;
        for (pid_t pid : ours) ::kill(pid, SIGKILL);
        for (pid_t pid : ours)
            while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
            }
    }
}

}  // namespace sandlock
