#include "procfs/procfs.hpp"

#include "supervisor/caller_actions.hpp"
#include "procfs/dirent_filter.hpp"
#include "procfs/proc_files.hpp"

#include <sandlock/sdk/sandbox_process.hpp>

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

namespace sandlock::notif {
namespace {

// The most a listing of /proc returns per call (the caller asks again for the rest).
constexpr std::size_t kMaxListing = 64 * 1024;
constexpr ino_t kProcRootInode = 1;

// The flags open(2)/openat(2) honour (the kernel drops the others silently; openat2 would
// refuse them), and the few that survive O_PATH.
constexpr std::uint64_t kValidOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
                                          O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW |
                                          O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE;
constexpr std::uint64_t kPathOpenFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

int as_int(std::uint64_t arg) { return static_cast<int>(static_cast<std::int32_t>(arg)); }

bool is_proc_root(int fd) {
    struct statfs fs;
    struct stat st;
    return ::fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC && ::fstat(fd, &st) == 0 &&
           S_ISDIR(st.st_mode) && st.st_ino == kProcRootInode;
}

std::optional<pid_t> as_pid(std::string_view name) {
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc{} || end != name.data() + name.size() || pid <= 0) return std::nullopt;
    return pid;
}

MountDevices mount_devices(const Policy& policy) {
    MountDevices devices;
    struct stat st;
    if (::stat(policy.chroot.value_or("/").c_str(), &st) == 0) {
        devices.root_major = major(st.st_dev);
        devices.root_minor = minor(st.st_dev);
    }
    if (::stat("/proc", &st) == 0) {
        devices.proc_major = major(st.st_dev);
        devices.proc_minor = minor(st.st_dev);
    }
    return devices;
}

int openat2(int dir, const char* path, std::uint64_t flags, std::uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dir, path, &how, sizeof how));
}

// The flags to open with for the caller: what its own call would have used, close-on-exec here.
std::uint64_t flags_for(const OpenCall& open, int syscall_nr) {
    std::uint64_t flags = open.flags;
    if (syscall_nr != SYS_openat2) {
        flags &= kValidOpenFlags;
        if ((flags & O_PATH) != 0) flags &= kPathOpenFlags;
    }
    return flags | O_CLOEXEC;
}

pid_t caller_tgid(const sdk::NotifContext& call, const OpenCall* open) {
    if (open != nullptr && open->tgid > 0) return open->tgid;
    auto tgid = proc::read_tgid(call.pid());
    if (!tgid) throw sdk::NotifError(ESRCH, "the caller is gone");
    return *tgid;
}

}  // namespace

void ProcFsModule::configure(const ModuleSetup& setup) {
    const Policy& policy = setup.policy;
    if (!proc_is_readable(policy)) return;
    enabled_ = true;
    for (const std::string& path : policy.fs_denied) denied_.push_back(normalize_lexically(path));
    devices_ = mount_devices(policy);

    add_open_handlers(setup, sdk::handler_fn<&ProcFsModule::on_open>(), this);
    std::vector<int> listings = {SYS_getdents64};
#ifdef SYS_getdents
    listings.push_back(SYS_getdents);
#endif
    for (int nr : listings) {
        setup.table.add(nr, sdk::handler_fn<&ProcFsModule::on_getdents>(), this);
        setup.host.request_notify(nr);
    }
    setup.host.debug("/proc is readable: /proc and /sys rules on");
}

void ProcFsModule::after_fork(const sdk::ParentContext& ctx) {
    if (!enabled_) return;
    kernel_holds_pids_ = sdk::sandbox_pid_namespace(ctx.child_pid).has_value();
    pids_.start(ctx.child_pid);
}

void ProcFsModule::on_exit() noexcept {
    pids_.stop();
    std::lock_guard lock(proc_dir_mutex_);
    if (proc_dir_ >= 0) ::close(proc_dir_);
    proc_dir_ = -1;
    proc_dir_tried_ = false;
}

sdk::NotifVerdict ProcFsModule::on_open(sdk::NotifContext& call) {
    const auto open = open_call(call);
    if (open->error != 0) return sdk::Verdict::error(open->error);
    const ProcPath where = classify_proc_path(open->path);
    if (where.kind == ProcPathKind::Outside && open->magic_link_pids.empty()) return sdk::Verdict::next();
    if (where.kind == ProcPathKind::Denied) return sdk::Verdict::error(EACCES);

    if (kernel_holds_pids_) {
        // Pids in the path are the sandbox's, not ours: only the mount tables are served.
        if (where.kind != ProcPathKind::MountTable) return sdk::Verdict::next();
        return serve_content(*open, virtual_mount_file(where.mount_file, devices_));
    }
    const pid_t tgid = caller_tgid(call, open.get());
    PidMemo memo;
    for (pid_t pid : open->magic_link_pids)
        if (!pids_.contains(pid, tgid, memo)) return sdk::Verdict::error(ENOENT);
    switch (where.kind) {
        case ProcPathKind::Outside:
        case ProcPathKind::Denied: return sdk::Verdict::next();
        case ProcPathKind::MountTable:
            if (!pids_.contains(where.pid, tgid, memo)) return sdk::Verdict::error(ENOENT);
            return serve_content(*open, virtual_mount_file(where.mount_file, devices_));
        case ProcPathKind::ProcessEntry:
            if (!pids_.contains(where.pid, tgid, memo)) return sdk::Verdict::error(ENOENT);
            return open_for_caller(call, *open, where, tgid);
        case ProcPathKind::Global: return open_for_caller(call, *open, where, tgid);
    }
    return sdk::Verdict::next();
}

sdk::NotifVerdict ProcFsModule::open_for_caller(const sdk::NotifContext& call, const OpenCall& open,
                                                const ProcPath& where, pid_t tgid) {
    // Only where the supervisor's open grants exactly what the caller's would (see header).
    if (open.writes() || (open.flags & O_NOFOLLOW) != 0 || open.resolve != 0) return sdk::Verdict::next();
    if (where.kind == ProcPathKind::ProcessEntry && where.pid != tgid) return sdk::Verdict::next();
    if (std::any_of(denied_.begin(), denied_.end(), [&](const std::string& d) { return path_is_within(open.path, d); }))
        return sdk::Verdict::next();
    if (!caller::has_our_credentials(call.pid())) return sdk::Verdict::next();
    const int dir = proc_dir(call.pid());
    if (dir < 0) return sdk::Verdict::next();

    const std::string relative = open.path == "/proc" ? "." : open.path.substr(6);
    const int fd = openat2(dir, relative.c_str(), flags_for(open, call.syscall()),
                           RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
    if (fd >= 0) return sdk::Verdict::inject(fd, open.inject_flags());
    // A symlink or a mount on the way, or flags we read differently: the kernel decides.
    if (errno == ELOOP || errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EAGAIN)
        return sdk::Verdict::next();
    return sdk::Verdict::error(errno);
}

int ProcFsModule::proc_dir(pid_t tid) {
    std::lock_guard lock(proc_dir_mutex_);
    if (proc_dir_tried_) return proc_dir_;
    proc_dir_tried_ = true;
    // The sandbox's root (a chroot, perhaps) as its processes see it; one root for all of them.
    const int root = ::open(("/proc/" + std::to_string(tid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return -1;
    int proc = openat2(root, "proc", O_PATH | O_DIRECTORY | O_CLOEXEC,
                       RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    ::close(root);
    if (proc >= 0 && !is_proc_root(proc)) {
        ::close(proc);
        proc = -1;
    }
    proc_dir_ = proc;
    return proc_dir_;
}

sdk::NotifVerdict ProcFsModule::on_getdents(sdk::NotifContext& call) {
    if (kernel_holds_pids_) return sdk::Verdict::next();  // its own /proc lists only its pids
    sdk::OwnedFd dir = call.get_fd(as_int(call.arg(0)));
    if (!is_proc_root(dir.get())) return sdk::Verdict::next();

    // Done on the copy of the caller's fd: the same open file description, so the directory
    // offset moves for the caller too. Chunks that hold only foreign pids are skipped, since an
    // empty answer would mean the end of the directory.
    const pid_t tgid = caller_tgid(call, nullptr);
    const DirentFormat format = call.syscall() == SYS_getdents64 ? DirentFormat::Dirent64 : DirentFormat::Legacy;
    std::vector<std::uint8_t> buffer(std::min<std::size_t>(static_cast<std::uint32_t>(call.arg(2)), kMaxListing));
    PidMemo memo;
    auto keep = [&](std::string_view name) {
        auto pid = as_pid(name);
        return !pid || pids_.contains(*pid, tgid, memo);
    };
    std::size_t kept = 0;
    while (kept == 0) {
        const long n = ::syscall(call.syscall(), dir.get(), buffer.data(), buffer.size());
        if (n < 0) return sdk::Verdict::error(errno);
        if (n == 0) return sdk::Verdict::value(0);
        kept = filter_dirents(std::span(buffer.data(), static_cast<std::size_t>(n)), format, keep);
    }
    if (!call.still_valid()) return sdk::Verdict::error(EINTR);  // nobody reads this answer
    const caller::MemoryWrite write{call.arg(1), buffer.data(), kept};
    if (int rc = caller::write_memory(call.pid(), std::span(&write, 1)); rc < 0) return sdk::Verdict::error(-rc);
    return sdk::Verdict::value(static_cast<std::int64_t>(kept));
}

}  // namespace sandlock::notif
