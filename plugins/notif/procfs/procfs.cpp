#include "procfs/procfs.hpp"

#include "paths/open_path.hpp"

#include <sandlock/sdk/owned_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace sandlock::notif {
namespace {

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

// Whether the caller sees a process `pid` in its own /proc.
bool caller_sees(pid_t tid, pid_t pid) {
    const int proc = open_caller_proc(tid);
    if (proc < 0) return false;
    sdk::OwnedFd owned(proc);
    return ::faccessat(proc, std::to_string(pid).c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

}  // namespace

void ProcFsModule::configure(const ModuleSetup& setup) {
    if (!proc_is_readable(setup.policy)) return;
    devices_ = mount_devices(setup.policy);
    add_file_open_handlers(setup, sdk::handler_fn<&ProcFsModule::on_open>(), this);
    setup.host.debug("/proc is readable: its mount tables are virtual");
}

sdk::NotifVerdict ProcFsModule::on_open(sdk::NotifContext& call) {
    if (surely_outside_proc(call)) return sdk::Verdict::next();  // most opens: one short read
    const auto open = open_call(call);
    if (open->error != 0) return sdk::Verdict::error(open->error);
    const auto table = mount_table_path(open->path);
    if (!table) return sdk::Verdict::next();  // nothing to decide: the kernel holds /proc
    if (!caller_sees(call.pid(), table->pid)) return sdk::Verdict::error(ENOENT);
    return serve_content(*open, virtual_mount_file(table->file, devices_));
}

}  // namespace sandlock::notif
