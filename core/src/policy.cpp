#include <sandlock/policy.hpp>

namespace sandlock {

std::vector<std::string_view> fields_set(const Policy& p) {
    std::vector<std::string_view> set;
    auto mark = [&](std::string_view name, bool is_set) {
        if (is_set) set.push_back(name);
    };
    mark("fs_writable", !p.fs_writable.empty());
    mark("fs_readable", !p.fs_readable.empty());
    mark("fs_denied", !p.fs_denied.empty());
    mark("deny_syscalls", p.deny_syscalls.has_value());
    mark("allow_syscalls", p.allow_syscalls.has_value());
    mark("net_allow_hosts", !p.net_allow_hosts.empty());
    mark("net_bind", !p.net_bind.empty());
    mark("net_connect", !p.net_connect.empty());
    mark("isolate_ipc", p.isolate_ipc);
    mark("isolate_signals", p.isolate_signals);
    mark("max_memory", p.max_memory.has_value());
    mark("max_processes", p.max_processes.has_value());
    mark("max_cpu", p.max_cpu.has_value());
    mark("clean_env", p.clean_env);
    mark("env", !p.env.empty());
    mark("fs_isolation", p.fs_isolation.has_value() && *p.fs_isolation != FsIsolation::None);
    mark("fs_mount", p.fs_mount.has_value());
    mark("fs_storage", p.fs_storage.has_value());
    mark("max_disk", p.max_disk.has_value());
    mark("on_exit", p.on_exit.has_value());
    mark("on_error", p.on_error.has_value());
    mark("chroot", p.chroot.has_value());
    mark("close_fds", !p.close_fds);
    mark("strict", !p.strict);
    mark("privileged", p.privileged);
    return set;
}

}  // namespace sandlock
