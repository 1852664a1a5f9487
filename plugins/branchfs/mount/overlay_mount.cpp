#include "mount/overlay_mount.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sandlock::branchfs {
namespace {

long fsopen(const char* type) noexcept { return ::syscall(SYS_fsopen, type, FSOPEN_CLOEXEC); }
long fsconfig(int fd, unsigned cmd, const char* key, const void* value) noexcept {
    return ::syscall(SYS_fsconfig, fd, cmd, key, value, 0);
}

// The RDONLY flag of a read-write bind is cleared with mount_setattr (the flag was set in this
// namespace by the sandbox's init, so it is not locked).
int make_writable(const char* dir) noexcept {
    if (::mount(dir, dir, nullptr, MS_BIND, nullptr) != 0) return -errno;
    mount_attr attr{};
    attr.attr_clr = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, dir, 0, &attr, sizeof attr) != 0) return -errno;
    return 0;
}

int set_up_quota(const OverlayPlan& plan, int* handover_fd) noexcept {
    if (::mount("tmpfs", plan.quota_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, plan.quota_options.c_str()) != 0)
        return -errno;
    if (::mkdir(plan.upper.c_str(), 0700) != 0 || ::chmod(plan.upper.c_str(), plan.root_mode) != 0 ||
        ::mkdir(plan.work.c_str(), 0700) != 0)
        return -errno;
    const int fd = ::open(plan.quota_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    *handover_fd = fd;
    return 0;
}

int create_overlay(const OverlayPlan& plan) noexcept {
    const int fs = static_cast<int>(fsopen("overlay"));
    if (fs < 0) return -errno;
    int rc = 0;
    // One lower layer per call ("lowerdir+", Linux 6.8): no escaping of ':' or ',' in paths.
    for (const std::string& lower : plan.lowers)
        if (rc == 0 && fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lower.c_str()) != 0) rc = -errno;
    if (rc == 0 && fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", plan.upper.c_str()) != 0) rc = -errno;
    if (rc == 0 && fsconfig(fs, FSCONFIG_SET_STRING, "workdir", plan.work.c_str()) != 0) rc = -errno;
    // user.overlay.* xattrs: what an overlay in a user namespace can write, root or not.
    if (rc == 0 && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", nullptr) != 0) rc = -errno;
    if (rc == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr) != 0) rc = -errno;
    int mnt = -1;
    if (rc == 0 && (mnt = static_cast<int>(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0))) < 0) rc = -errno;
    ::close(fs);
    if (rc != 0) return rc;
    if (::syscall(SYS_move_mount, mnt, "", AT_FDCWD, plan.workspace.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) rc = -errno;
    ::close(mnt);
    return rc;
}

}  // namespace

int mount_overlay(const OverlayPlan& plan, int* handover_fd) noexcept {
    // A mount namespace of the branch's own (inside the sandbox's, or the only private one when
    // the system gave no sandbox namespaces): nothing mounted here reaches the host.
    if (::unshare(CLONE_NEWNS) != 0) return -errno;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return -errno;
    int rc = plan.quota_dir.empty() ? make_writable(plan.writable_dir.c_str()) : set_up_quota(plan, handover_fd);
    if (rc == 0) rc = create_overlay(plan);
    // The overlay holds its own private copies of the layers: the way to them is hidden again.
    const std::string& helper_mount = plan.quota_dir.empty() ? plan.writable_dir : plan.quota_dir;
    if (rc == 0 && ::umount2(helper_mount.c_str(), MNT_DETACH) != 0) rc = -errno;
    if (rc == 0 && !plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) rc = -errno;
    return rc;
}

}  // namespace sandlock::branchfs
