// The /proc and /sys rules, on whenever the policy lets the sandbox read /proc (fs_readable
// or fs_writable holds /proc or a parent, fs_denied none):
//
// - Denied with EACCES: /proc/kcore, kallsyms, keys, key-users, config.gz, sched_debug,
//   timer_list, modules, and everything under /sys/kernel, /sys/firmware, /sys/fs/cgroup.
// - /proc/<pid>/mounts, mountinfo and mountstats (and /proc/mounts, /proc/self/..., the
//   task/<tid> forms) read as a two-line table — the root filesystem and /proc — instead of
//   the host's mounts (a sealed memfd; writing is EACCES).
// - /proc/<pid> of a process outside the sandbox is ENOENT, as if it did not exist, also when
//   reached through another process's root/cwd/fd link; a listing of /proc (getdents64 and
//   getdents on a procfs root directory) shows only the sandbox's pids (sandbox_pids.hpp).
// - The rules see the open family (open, openat, openat2, creat) with paths relative to any
//   dirfd, /proc/self, /proc/thread-self and /proc/<own pid> (open_path.hpp). stat, readlink,
//   access, chdir and execve are not filtered.
//
// Race safety. The decision is made on ONE copy of the path. A denied or virtualized /proc
// path is answered without the kernel ever reading the caller's path again. An allowed /proc
// path is opened by the supervisor itself — from the caller's /proc, without following any
// symlink or leaving the procfs mount — and the fd injected, so the caller cannot swap the path
// after the check; this is done only when that open can grant nothing the caller could not
// open itself: a read-only open, no O_NOFOLLOW, no openat2 RESOLVE_* flags, inside the
// caller's own /proc/<pid> or /proc's global files, outside fs_denied, and the caller holding
// exactly the supervisor's uids, gids, groups, capabilities and user namespace. Otherwise
// (writes, other processes' entries, privileged mode, ...) the call goes on to the kernel.
//
// Limits. A multithreaded caller can still pass a non-/proc path, have it allowed, and swap a
// /proc path in before the kernel reads it again; and a symlink or hard link the sandbox makes
// to a /proc file is judged by its own path. These rules are defense in depth on top of
// Landlock, not a boundary: to keep a file from the sandbox, do not grant it in Landlock.
// A listing of another directory is not re-done by the supervisor, so an fd swapped in
// between by another thread can list /proc unfiltered (it still cannot open foreign pids).
#pragma once

#include "supervisor/builtin_module.hpp"
#include "paths/open_path.hpp"
#include "procfs/proc_rules.hpp"
#include "procfs/sandbox_pids.hpp"

#include <sandlock/sdk/notif.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace sandlock::notif {

class ProcFsModule final : public BuiltinModule {
public:
    void configure(const ModuleSetup& setup) override;
    void after_fork(const sdk::ParentContext& ctx) override;
    void on_exit() noexcept override;

private:
    sdk::NotifVerdict on_open(sdk::NotifContext& call);
    sdk::NotifVerdict on_getdents(sdk::NotifContext& call);

    // An allowed /proc path: opened by the supervisor and injected when that is safe (see
    // above), else Next so the kernel opens it.
    sdk::NotifVerdict open_for_caller(const sdk::NotifContext& call, const OpenCall& open, const ProcPath& where,
                                      pid_t caller_tgid);
    // The caller's /proc directory (O_PATH, opened through its root once), or -1.
    int proc_dir(pid_t tid);

    bool enabled_ = false;
    // The sandbox has its own PID namespace and /proc (sdk/sandbox_process.hpp): the kernel
    // hides foreign pids and the init masks the secrets; only the mount tables stay virtual.
    std::atomic<bool> kernel_holds_pids_{false};
    SandboxPids pids_;
    std::vector<std::string> denied_;  // fs_denied, normalized
    MountDevices devices_;
    std::mutex proc_dir_mutex_;
    int proc_dir_ = -1;
    bool proc_dir_tried_ = false;
};

}  // namespace sandlock::notif
