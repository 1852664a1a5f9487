// Everything the child needs between fork and exec, built in the parent so the child stages
// only read it: no allocation, locks, logging or exceptions happen after fork.
#pragma once

#include "guarded_stack.hpp"
#include "plugin_host.hpp"

#include <sandlock/policy.hpp>

#include <sys/syscall.h>
#include <sys/types.h>

#include <array>
#include <functional>
#include <string>
#include <memory>
#include <vector>

namespace sandlock {

// NUL-terminated string arrays whose storage lives with the object.
class CStringArray {
public:
    CStringArray() = default;
    explicit CStringArray(std::vector<std::string> strings);
    CStringArray(CStringArray&& other) noexcept { *this = std::move(other); }
    CStringArray& operator=(CStringArray&& other) noexcept;
    char* const* data() const { return pointers_.data(); }
    std::size_t size() const { return strings_.size(); }

private:
    void point();
    std::vector<std::string> strings_;
    std::vector<char*> pointers_;
};

// What the main process calls once sandlock took its listener, where it runs in sandlock's
// memory: sandlock seals that memory before its ack (running_sandbox.cpp), so a supervisor
// could no longer read it (nor its fds) and none of these may be routed to one: close the
// listener and the fds, exec each candidate, look at one that failed, report, exit.
inline constexpr int kCallsAfterSealing[] = {SYS_close,     SYS_close_range, SYS_execve, SYS_execveat, SYS_faccessat,
                                             SYS_faccessat2, SYS_write,       SYS_exit,   SYS_exit_group};

struct ChildPlan {
    // Stage 9: the candidates (PATH lookup as the child will see it) tried in order.
    CStringArray exec_paths;
    CStringArray argv;
    CStringArray envp;  // stage 8
    const std::function<std::string()>* function = nullptr;  // call(): runs instead of exec

    // A long-lived sandbox: the main process becomes the spawner (spawn_protocol.hpp) instead
    // of exec'ing; it serves requests on spawn_fd with this memory, allocated before fork.
    bool spawner = false;
    int spawn_fd = -1;
    std::unique_ptr<char[]> spawn_buffer;   // spawn::kMaxRequest plus the request header
    std::unique_ptr<char*[]> spawn_strings;  // spawn::kMaxStrings pointers into it
    std::unique_ptr<char[]> spawn_stack;    // where each command runs until it exec'd
    std::size_t spawn_stack_size = 0;

    int channel_fd = -1;       // child end of the setup channel
    int result_fd = -1;        // call(): where the function's outcome goes
    int stdin_fd = -1;         // dup2'ed onto 0/1/2 when >= 0
    int stdout_fd = -1;
    int stderr_fd = -1;
    int terminal_fd = -1;      // take the terminal's foreground in stage 1 when >= 0

    bool new_user_namespace = false;  // stage 2
    std::array<char, 64> uid_map{};  // "inside outside 1\n", formatted before fork
    std::array<char, 64> gid_map{};

    pid_t parent_pid = 0;              // the child dies with it (PR_SET_PDEATHSIG)

    // The sandbox's own user + PID + mount namespaces (child_mounts.hpp): the child is their
    // init (pid 1), sets up the mounts, starts the main process on main_stack (sharing its
    // memory until exec, like posix_spawn), reaps orphans and writes the main process's wait
    // status to status_fd. When it dies, even because sandlock did, the kernel kills the tree.
    // The init itself is a copy of sandlock, or runs in sandlock's own memory (launcher.cpp).
    bool pid_namespace = false;
    int parent_pidfd = -1;             // sandlock's pidfd: the init checks it is still alive
    int status_fd = -1;
    bool read_only_outside_writable = false;
    bool set_up_proc = true;           // a fresh /proc, its masks, /proc/sys read-only
    bool set_up_sys = true;            // the masks under /sys, /sys read-only
    CStringArray writable_trees;       // resolved fs_writable paths, bound read-write
    // Whether the init's memory (a copy of sandlock's, or sandlock's own) is made non-dumpable
    // before the main process exists rather than later: always, unless sandlock must take a
    // listener from it (pidfd_getfd), or it is a function's or spawner's copy.
    bool seal_before_main = false;
    // Otherwise, for an init in sandlock's own memory: sandlock seals it once it took the
    // listener, or was told that none came after all (a layer degraded).
    bool seal_at_listener = false;
    std::unique_ptr<GuardedStack> main_stack;  // untouched until the main process runs on it
    bool drop_capabilities = true;     // everything but `privileged` runs without any
    const char* chroot_dir = nullptr;  // stage 4
    bool close_fds = true;              // stage 7

    // Plugins in stage order: plugins[i] runs for stage s when runs_in(s).
    std::vector<LoadedPlugin*> plugins;
    int landlock_abi = 0;
};

// The child's environment: the caller's (or, with clean_env, only PATH HOME USER TERM LANG
// SHELL of it), then policy.env on top.
std::vector<std::string> build_environment(const Policy& policy, char** environ_now);
// Where execvp would look for `command` given the child's environment.
std::vector<std::string> exec_candidates(const std::string& command, const std::vector<std::string>& envp);

// Runs the child stages 1-9; never returns.
[[noreturn]] void run_child(const ChildPlan& plan) noexcept;
// The same as a clone(2) entry point: `plan` is a const ChildPlan*.
int child_entry(void* plan) noexcept;

}  // namespace sandlock
