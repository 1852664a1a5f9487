#include "child_mounts.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

namespace sandlock {

// Kernel-wide secrets and attack surface: kernel memory, symbols and log, keyrings, the build
// configuration, scheduler and timer internals, loaded modules, magic SysRq.
const char* const kMaskedFiles[] = {
    "/proc/kcore",      "/proc/kallsyms",   "/proc/kmsg",          "/proc/keys",
    "/proc/key-users",  "/proc/config.gz",  "/proc/sched_debug",   "/proc/timer_list",
    "/proc/modules",    "/proc/latency_stats", "/proc/timer_stats", "/proc/sysrq-trigger",
    "/proc/vmallocinfo", "/proc/slabinfo",  "/proc/pagetypeinfo",  "/proc/kpagecount",
    "/proc/kpageflags", "/proc/kpagecgroup", nullptr,
};
const char* const kMaskedDirectories[] = {
    "/proc/acpi", "/proc/scsi", "/proc/irq", "/proc/bus", "/proc/driver", "/proc/fs",
    "/sys/kernel", "/sys/firmware", "/sys/fs/cgroup", "/sys/fs/bpf", "/sys/module", nullptr,
};
// The kernel's settings: read-only whatever fs_writable says. Without capabilities a root
// caller's sandbox is still uid 0, and sysctl and sysfs files check only the uid and the mode
// (kernel.core_pattern alone would run a program as the host's root).
const char* const kReadOnlyKernelSettings[] = {"/proc/sys", "/sys", nullptr};

namespace {

int set_attributes(const char* path, std::uint64_t set, std::uint64_t clear, bool recursive) noexcept {
    mount_attr attr{};
    attr.attr_set = set;
    attr.attr_clr = clear;
    long rc = ::syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr);
    return rc == 0 ? 0 : errno;
}

bool exists(const char* path) noexcept {
    struct stat st;
    return ::lstat(path, &st) == 0;
}

// Every open of a masked path fails with EACCES, for root inside too: a file is /dev/null
// bound on a nodev mount (the kernel refuses to open a device there, whatever the caller's
// capabilities), a directory an empty read-only tmpfs of mode 000 (no search, no listing; a
// `privileged` sandbox, which keeps its capabilities, sees it empty).
// Whether `path` lies below `dir` ("/proc" or "/sys").
bool below(const char* path, const char* dir) noexcept {
    const std::size_t n = std::strlen(dir);
    return std::strncmp(path, dir, n) == 0 && path[n] == '/';
}

// The masks under the parts of the tree the sandbox can reach.
int mask_secrets(const ChildPlan& plan) noexcept {
    auto wanted = [&](const char* path) {
        return (plan.set_up_proc && below(path, "/proc")) || (plan.set_up_sys && below(path, "/sys"));
    };
    constexpr unsigned long kLocked = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    // The first mask of each kind is made; the others are binds of it, which keep its mount
    // flags: one mount each and no new superblock (start-up time). A path this kernel does not
    // have (ENOENT) needs no mask.
    const char* file_mask = nullptr;
    for (const char* const* file = kMaskedFiles; *file != nullptr; ++file) {
        if (!wanted(*file)) continue;
        if (::mount(file_mask != nullptr ? file_mask : "/dev/null", *file, nullptr, MS_BIND, nullptr) != 0) {
            if (errno == ENOENT) continue;
            return errno;
        }
        if (file_mask != nullptr) continue;
        if (::mount(nullptr, *file, nullptr, MS_REMOUNT | MS_BIND | kLocked, nullptr) != 0) return errno;
        file_mask = *file;
    }
    const char* dir_mask = nullptr;
    for (const char* const* dir = kMaskedDirectories; *dir != nullptr; ++dir) {
        if (!wanted(*dir)) continue;
        const int rc = dir_mask != nullptr ? ::mount(dir_mask, *dir, nullptr, MS_BIND, nullptr)
                                           : ::mount("tmpfs", *dir, "tmpfs", kLocked, "size=0,mode=000");
        if (rc != 0) {
            if (errno == ENOENT) continue;
            return errno;
        }
        if (dir_mask == nullptr) dir_mask = *dir;
    }
    return 0;
}

// Directories and regular files need a read-write mount of their own; a missing path has
// nothing to allow (Landlock skips it too). Device, fifo and socket nodes do not: writing to
// them is not refused on a read-only mount, and a mount of its own would break /dev/ptmx (the
// kernel finds its devpts in the same directory as the node, which a bind of the node hides).
bool needs_own_mount(const char* path) noexcept {
    struct stat st;
    return ::stat(path, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode));
}

int read_only_outside_writable(const ChildPlan& plan) noexcept {
    if (int rc = set_attributes("/", MOUNT_ATTR_RDONLY, 0, true); rc != 0) return rc;
    for (std::size_t i = 0; i < plan.writable_trees.size(); ++i) {
        const char* tree = plan.writable_trees.data()[i];
        if (!needs_own_mount(tree)) continue;
        // A mount of its own (with whatever is mounted below it), then read-write again. A
        // mount that was read-only on the host stays so (the kernel locks that flag).
        if (::mount(tree, tree, nullptr, MS_BIND | MS_REC, nullptr) != 0) return errno;
        if (set_attributes(tree, 0, MOUNT_ATTR_RDONLY, true) != 0 && set_attributes(tree, 0, MOUNT_ATTR_RDONLY, false) != 0)
            return errno;
    }
    return 0;
}

// A mount of its own (so the flag reaches nothing beside it), then read-only with all below.
int make_read_only(const char* path) noexcept {
    if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0) return errno;
    return set_attributes(path, MOUNT_ATTR_RDONLY, 0, true);
}

}  // namespace

int set_up_mounts(const ChildPlan& plan) noexcept {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno;
    if (plan.set_up_proc && ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        return errno;
    if (int rc = mask_secrets(plan); rc != 0) return rc;
    if (plan.read_only_outside_writable)
        if (int rc = read_only_outside_writable(plan); rc != 0) return rc;
    // Last, so no writable tree can undo it.
    for (const char* const* path = kReadOnlyKernelSettings; *path != nullptr; ++path) {
        const bool wanted = std::strcmp(*path, "/sys") == 0 ? plan.set_up_sys : plan.set_up_proc;
        if (wanted && exists(*path))
            if (int rc = make_read_only(*path); rc != 0) return rc;
    }
    return 0;
}

}  // namespace sandlock
