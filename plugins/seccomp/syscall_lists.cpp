#include "syscall_lists.hpp"

namespace sandlock::seccomp {
namespace {

constexpr std::string_view kDefaultDeny[] = {
    // Debugging and reading or writing other processes.
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    // Mounts, namespaces and the root directory (the core's chroot stage runs before seccomp).
    "mount", "umount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    // Kernel code, BPF, perf and raw hardware access.
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "bpf", "perf_event_open", "ioperm", "iopl", "uselib",
    // Host-wide state: power, swap, clocks, accounting, quotas, the kernel log, the terminal.
    "reboot", "swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime",
    "adjtimex", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup", "lookup_dcookie",
    // The kernel keyring.
    "add_key", "request_key", "keyctl",
    // Bypasses of path-based confinement and classic exploitation primitives.
    "open_by_handle_at", "name_to_handle_at", "userfaultfd",
    // io_uring runs syscalls the filter never sees.
    "io_uring_setup", "io_uring_enter", "io_uring_register",
};

// clone3 is absent on purpose: it always fails with ENOSYS (see syscall_plan.cpp).
constexpr std::string_view kDefaultAllow[] = {
    // Processes and threads.
    "execve", "execveat", "exit", "exit_group", "clone", "fork", "vfork", "wait4", "waitid",
    "getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid", "getsid", "setsid",
    "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal",
    "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex", "futex_waitv",
    "arch_prctl", "prctl", "prlimit64", "getrlimit", "setrlimit", "getrusage", "times",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
    "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "getpriority", "setpriority", "umask", "uname", "sysinfo", "getcpu", "capget",
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
    // Signals and timers.
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
    "rt_sigtimedwait", "sigaltstack", "alarm", "pause", "getitimer", "setitimer",
    "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
    "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
    // Memory.
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore",
    "membarrier", "memfd_create", "get_mempolicy", "set_mempolicy",
    // File descriptors and I/O.
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "lseek", "close", "close_range", "dup", "dup2", "dup3", "fcntl",
    "ioctl", "pipe", "pipe2", "flock", "fsync", "fdatasync", "ftruncate", "fallocate",
    "fadvise64", "readahead", "sendfile", "splice", "tee", "copy_file_range",
    "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd",
    "signalfd4", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "getrandom",
    // Paths and metadata.
    "open", "openat", "openat2", "creat", "stat", "fstat", "lstat", "newfstatat", "statx",
    "statfs", "fstatfs", "access", "faccessat", "faccessat2", "getdents", "getdents64",
    "getcwd", "chdir", "fchdir", "truncate", "rename", "renameat", "renameat2",
    "mkdir", "mkdirat", "rmdir", "link", "linkat", "unlink", "unlinkat", "symlink",
    "symlinkat", "readlink", "readlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2",
    "chown", "fchown", "lchown", "fchownat", "utime", "utimes", "utimensat", "futimesat",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    // Sockets (which addresses may be reached is the landlock and notif layers' business).
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "getsockname", "getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
    "recvmmsg", "shutdown", "setsockopt", "getsockopt",
    // Confining oneself further, so sandlock can nest.
    "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
};

}  // namespace

std::span<const std::string_view> default_deny_list() { return kDefaultDeny; }
std::span<const std::string_view> default_allow_list() { return kDefaultAllow; }

}  // namespace sandlock::seccomp
