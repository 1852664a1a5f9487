// /proc and /sys in real sandboxes, as the kernel holds them in the sandbox's namespaces:
// kernel secrets denied through every way of naming them (open, openat, openat2,
// dirfd-relative, self/thread-self, magic links, reopening an O_PATH fd), foreign pids absent
// from opens and listings, the sandbox's own entries working, the mount tables virtualized by
// the notif layer, and a path swapped by another thread never reaching a secret.
#include "feature_check.hpp"
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <string>

namespace sandlock::test {
namespace {

SandboxOptions notif_layers() {
    SandboxOptions options;
    options.plugins = {"landlock", "seccomp", "notif"};
    return options;
}

// A readable /proc needs the sandbox's own namespaces (sandlock refuses it without them).
#define REQUIRE_OWN_PROC() SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces")

Policy with_proc() {
    Policy p = system_policy();
    p.fs_readable.push_back("/proc");
    return p;
}

// Python helpers: openat2 through the raw syscall (flags only), and a dirfd-relative open.
const std::string kOpenat2 =
    "def at(dirfd, path, flags=os.O_RDONLY):\n"
    "    return lambda: os.close(os.open(path, flags, dir_fd=dirfd))\n"
    "class open_how(ctypes.Structure):\n"
    "    _fields_ = [('flags', ctypes.c_uint64), ('mode', ctypes.c_uint64), ('resolve', ctypes.c_uint64)]\n"
    "def openat2(path, dirfd=-100, flags=0, resolve=0):\n"
    "    how = open_how(flags, 0, resolve)\n"
    "    fd = libc.syscall(437, dirfd, path.encode(), ctypes.byref(how), ctypes.sizeof(how))\n"
    "    if fd < 0: raise OSError(ctypes.get_errno(), 'openat2')\n"
    "    os.close(fd)\n";

// What a masked file's open answers: EACCES, or ENOENT where this kernel has no such file
// (probed unconfined: kcore and sched_debug are build options).
std::string masked(const std::string& path) { return ::access(path.c_str(), F_OK) == 0 ? "EACCES\n" : "ENOENT\n"; }

TEST(NotifProcFs, KernelSecretsAreDeniedHoweverTheyAreNamed) {
    REQUIRE_OWN_PROC();
    Result r = python(with_proc(),
                      kOpenat2 +
                          "proc = os.open('/proc', os.O_RDONLY | os.O_DIRECTORY)\n"
                          "probe(os.open, '/proc/kallsyms', os.O_RDONLY)\n"
                          "probe(at(proc, 'kallsyms'))\n"
                          "probe(openat2, '/proc/config.gz')\n"
                          "probe(openat2, 'keys', proc)\n"
                          "probe(os.open, '/proc/self/../kallsyms', os.O_RDONLY)\n"
                          "probe(os.open, '/proc/self/root/proc/kallsyms', os.O_RDONLY)\n"
                          "probe(os.open, '/proc//./timer_list', os.O_RDONLY)\n"
                          "probe(os.open, '/proc/kcore', os.O_RDONLY)\n"
                          "os.chdir('/proc'); probe(os.open, 'sched_debug', os.O_RDONLY)\n"
                          "fd = os.open('/proc/kallsyms', os.O_PATH); probe(os.open, '/proc/self/fd/%d' % fd, os.O_RDONLY)\n"
                          "probe(os.open, '/proc/kmsg', os.O_RDONLY | os.O_NONBLOCK)\n"  // item 9: readable as root before
                          "probe(os.open, '/proc/cpuinfo', os.O_RDONLY)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, masked("/proc/kallsyms") + masked("/proc/kallsyms") + masked("/proc/config.gz") +
                                 masked("/proc/keys") + masked("/proc/kallsyms") + masked("/proc/kallsyms") +
                                 masked("/proc/timer_list") + masked("/proc/kcore") + masked("/proc/sched_debug") +
                                 masked("/proc/kallsyms") + masked("/proc/kmsg") + "ok\n")
        << r.stderr_text;
}

TEST(NotifProcFs, SysKernelFirmwareAndCgroupAreDenied) {
    REQUIRE_OWN_PROC();
    Policy p = with_proc();
    p.fs_readable.push_back("/sys");
    Result r = python(p,
                      "probe(os.open, '/sys/kernel', os.O_RDONLY | os.O_DIRECTORY)\n"
                      "probe(os.open, '/sys/kernel/mm/transparent_hugepage/enabled', os.O_RDONLY)\n"
                      "probe(os.open, '/sys/fs/cgroup', os.O_RDONLY | os.O_DIRECTORY)\n"
                      "probe(os.open, '/sys/firmware', os.O_RDONLY | os.O_DIRECTORY)\n"
                      "probe(os.open, '/sys/class', os.O_RDONLY | os.O_DIRECTORY)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "EACCES\nEACCES\nEACCES\nEACCES\nok\n") << r.stderr_text;
}

TEST(NotifProcFs, ForeignPidsDoNotExist) {
    REQUIRE_OWN_PROC();
    const std::string outside = std::to_string(::getpid());  // the test process: not in the sandbox
    Result r = python(with_proc(),
                      kOpenat2 +
                          "proc = os.open('/proc', os.O_RDONLY | os.O_DIRECTORY)\n"
                          "probe(os.open, '/proc/" + outside + "/status', os.O_RDONLY)\n"
                          "probe(os.open, '/proc/" + outside + "', os.O_RDONLY | os.O_DIRECTORY)\n"
                          "probe(os.open, '/proc/" + outside + "/cmdline', os.O_RDONLY)\n"
                          "probe(at(proc, '" + outside + "/environ'))\n"
                          "probe(openat2, '/proc/" + outside + "/stat')\n"
                          "probe(os.open, '/proc/" + outside + "/root/etc/hostname', os.O_RDONLY)\n"
                          // pid 1 is the sandbox's own init: present, but nothing of it is readable.
                          "probe(os.open, '/proc/1/environ', os.O_RDONLY)\n"
                          "probe(os.open, '/proc/1/root/etc/hostname', os.O_RDONLY)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "ENOENT\nENOENT\nENOENT\nENOENT\nENOENT\nENOENT\nEACCES\nEACCES\n") << r.stderr_text;
}

TEST(NotifProcFs, TheSandboxsOwnEntriesWork) {
    REQUIRE_OWN_PROC();
    Result r = python(with_proc(),
                      kOpenat2 +
                          "import threading, subprocess\n"
                          "pid = str(os.getpid())\n"
                          "def field(path, name):\n"
                          "    return [l.split()[1] for l in open(path) if l.startswith(name + ':')][0]\n"
                          "print(field('/proc/self/status', 'Pid') == pid)\n"
                          "print(field('/proc/' + pid + '/status', 'Pid') == pid)\n"
                          "print(field('/proc/thread-self/status', 'Tgid') == pid)\n"
                          "proc = os.open('/proc', os.O_RDONLY | os.O_DIRECTORY)\n"
                          "probe(at(proc, 'self/stat'))\n"
                          "probe(openat2, '/proc/self/cmdline')\n"
                          "child = subprocess.Popen(['/bin/sleep', '5'])\n"
                          "import time\n"
                          "for _ in range(200):  # until the child has exec'd\n"
                          "    cmd = open('/proc/%d/cmdline' % child.pid).read().split('\\0')[0]\n"
                          "    if cmd == '/bin/sleep': break\n"
                          "    time.sleep(0.01)\n"
                          "print(cmd)\n"
                          "child.kill(); child.wait()\n"
                          "got = []\n"
                          "t = threading.Thread(target=lambda: got.append(field('/proc/thread-self/status', 'Pid')))\n"
                          "t.start(); t.join(); print(got[0] != pid)\n"
                          "print(len(os.listdir('/proc/self/fd')) > 2)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "True\nTrue\nTrue\nok\nok\n/bin/sleep\nTrue\nTrue\n") << r.stderr_text;
}

TEST(NotifProcFs, ListingProcShowsOnlyTheSandbox) {
    REQUIRE_OWN_PROC();
    // The host has more processes than the sandbox will: init, this test, sandlock's own.
    int host_pids = 0;
    if (DIR* proc = ::opendir("/proc")) {
        while (dirent* entry = ::readdir(proc)) host_pids += (entry->d_name[0] >= '1' && entry->d_name[0] <= '9');
        ::closedir(proc);
    }
    ASSERT_GT(host_pids, 2);
    Result r = python(with_proc(),
                      "import subprocess\n"
                      "child = subprocess.Popen(['/bin/sleep', '5'])\n"
                      "grandchild = subprocess.Popen(['/bin/sh', '-c', 'sleep 5 & wait'])\n"
                      "import time\n"
                      "for _ in range(500):  # until sh has started its sleep\n"
                      "    seen = sorted(int(n) for n in os.listdir('/proc') if n.isdigit())\n"
                      "    if len(seen) >= 5: break\n"
                      "    time.sleep(0.01)\n"
                      "expected = {os.getpid(), child.pid, grandchild.pid}\n"
                      "print(expected <= set(seen), len(seen))\n"
                      "print('self' in os.listdir('/proc'), 'cpuinfo' in os.listdir('/proc'))\n"
                      "child.kill(); grandchild.kill()\n",
                      notif_layers());
    // The sandbox's init (pid 1 of its namespace), python, sleep, sh and the sh's own sleep:
    // waited for all five, so a loaded machine cannot catch the listing early or late.
    EXPECT_EQ(r.stdout_text, "True 5\nTrue True\n") << r.stderr_text;
}

TEST(NotifProcFs, MountTablesAreVirtual) {
    REQUIRE_OWN_PROC();
    Result r = python(with_proc(),
                      "for path in ['/proc/self/mounts', '/proc/mounts', '/proc/thread-self/mounts',\n"
                      "             '/proc/%d/mounts' % os.getpid()]:\n"
                      "    print([l.split()[1] for l in open(path)])\n"
                      "print([l.split()[4] for l in open('/proc/self/mountinfo')])\n"
                      "probe(os.open, '/proc/self/mounts', os.O_WRONLY)\n"
                      "probe(os.open, '/proc/99999/mounts', os.O_RDONLY)\n"  // no such pid in the sandbox
                      // A directory open is the kernel's own (it skips the supervisor); a
                      // path-only open is served too, so its reopen through the fd is virtual.
                      "probe(os.open, '/proc/self/mounts', os.O_RDONLY | os.O_DIRECTORY)\n"
                      "fd = os.open('/proc/self/mounts', os.O_PATH)\n"
                      "print([l.split()[1] for l in open('/proc/self/fd/%d' % fd)])\n"
                      "probe(os.open, '/proc/self/mounts', os.O_RDWR)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text,
              "['/', '/proc']\n['/', '/proc']\n['/', '/proc']\n['/', '/proc']\n['/', '/proc']\nEACCES\nENOENT\n"
              "ENOTDIR\n['/', '/proc']\nEACCES\n")
        << r.stderr_text;
}

TEST(NotifProcFs, ASwappedPathNeverOpensTheDeniedFile) {
    REQUIRE_OWN_PROC();
    // The caller opens through a path in shared memory that a forked flipper rewrites without
    // pause between an allowed /proc file and /proc/kallsyms (which the kernel lets anyone
    // open): whatever the caller gets is never kallsyms' content (the mount namespace masks it
    // with /dev/null). (Answering the allowed path with
    // Continue instead, the same loop opens kallsyms a hundred times and more.)
    Result r = python(with_proc(),
                      "import mmap, signal\n"
                      "good, bad = b'/proc/self/stat\\0', b'/proc/kallsyms\\0\\0'\n"
                      "shared = mmap.mmap(-1, 4096)\n"
                      "shared[0:16] = good\n"
                      "base = ctypes.addressof(ctypes.c_char.from_buffer(shared))\n"
                      "w0, w1 = ctypes.c_uint64.from_buffer(shared, 0), ctypes.c_uint64.from_buffer(shared, 8)\n"
                      "g0, g1 = int.from_bytes(good[:8], 'little'), int.from_bytes(good[8:], 'little')\n"
                      "b0, b1 = int.from_bytes(bad[:8], 'little'), int.from_bytes(bad[8:], 'little')\n"
                      "flipper = os.fork()\n"
                      "if flipper == 0:\n"
                      "    while True:\n"
                      "        w1.value = b1; w0.value = b0\n"
                      "        w0.value = g0; w1.value = g1\n"
                      "libc.open.argtypes = [ctypes.c_void_p, ctypes.c_int]\n"
                      "denied = leaked = 0\n"
                      "for i in range(2000):\n"
                      "    fd = libc.open(base, os.O_RDONLY)\n"
                      "    if fd < 0: denied += 1; continue\n"
                      "    if os.readlink('/proc/self/fd/%d' % fd) == '/proc/kallsyms' and os.read(fd, 64): leaked += 1\n"
                      "    os.close(fd)\n"
                      "os.kill(flipper, signal.SIGKILL); os.waitpid(flipper, 0)\n"
                      "print('leaked', leaked, 'raced', denied > 0)\n"
                      "shared[0:16] = good\n"
                      "fd = libc.open(base, os.O_RDONLY); print(os.readlink('/proc/self/fd/%d' % fd).endswith('/stat'))\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "leaked 0 raced True\nTrue\n") << r.stderr_text;
}

TEST(NotifProcFs, OffWhenProcIsNotGranted) {
    // Without /proc in the policy, Landlock refuses it whole and no /proc rule runs: opens of
    // other files are not supervised for it (the mount table would be EACCES, not virtual).
    Result r = python(system_policy(), "probe(os.open, '/proc/self/mounts', os.O_RDONLY)\n", notif_layers());
    EXPECT_EQ(r.stdout_text, "EACCES\n") << r.stderr_text;
}

}  // namespace
}  // namespace sandlock::test
