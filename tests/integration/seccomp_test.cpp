// The seccomp layer in real sandboxes: the default deny list, argument filters, clone3,
// custom lists, allowlist mode, foreign architectures and the notify listener hand-off.
#include "foreign_arch.hpp"
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>

#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <cstdlib>
#include <string>

namespace sandlock::test {
namespace {

using namespace std::chrono_literals;

// Raw syscalls whose unfiltered outcome is not EPERM.
const std::string kPtraceAttach = "16, 0x3fffffff, 0, 0";  // PTRACE_ATTACH to a pid that cannot exist
const std::string kCloneNewUser = std::to_string(CLONE_NEWUSER | CLONE_FS | SIGCHLD);  // EINVAL unfiltered

// A python line printing "<label> <ok|ERRNO>" for a raw syscall.
std::string probe_line(const std::string& label, long nr, const std::string& args) {
    return "print('" + label + "', end=' '); sys_probe(" + std::to_string(nr) + (args.empty() ? "" : ", ") +
           args + ")\n";
}

Policy with_allowlist(std::vector<std::string> names) {
    Policy p = system_policy();
    p.allow_syscalls = std::move(names);
    return p;
}

struct DeniedCall {
    const char* name;
    long nr;
    const char* args;
};

// Arguments chosen so that, unfiltered, the call fails with something else (ESRCH, EFAULT,
// EINVAL, EBADF, ENOSYS) or succeeds harmlessly: EPERM can only come from the filter. For an
// unprivileged user fsopen, pivot_root, swapon and syslog are EPERM anyway (capability
// checks come first); as root they discriminate too.
const DeniedCall kDefaultDenied[] = {
    {"ptrace", SYS_ptrace, "16, 0x3fffffff, 0, 0"},
    {"mount", SYS_mount, "0, 0, 0, 0, 0"},
    {"umount2", SYS_umount2, "0, 0x100"},
    {"unshare", SYS_unshare, "0"},
    {"setns", SYS_setns, "-1, 0"},
    {"bpf", SYS_bpf, "9999, 0, 0"},
    {"perf_event_open", SYS_perf_event_open, "0, 0, -1, -1, 0"},
    {"io_uring_setup", SYS_io_uring_setup, "0, 0"},
    {"io_uring_enter", SYS_io_uring_enter, "-1, 0, 0, 0, 0, 0"},
    {"fsopen", SYS_fsopen, "0, 0"},
    {"open_tree", SYS_open_tree, "-1, 0, 0xffffffff"},
    {"mount_setattr", SYS_mount_setattr, "-1, 0, 0, 0, 0"},
    {"pivot_root", SYS_pivot_root, "0, 0"},
    {"chroot", SYS_chroot, "0"},
    {"swapon", SYS_swapon, "0, 0"},
    {"syslog", SYS_syslog, "9999, 0, 0"},
    {"kexec_load", SYS_kexec_load, "0, 0, 0, 0xffff0000"},
    {"init_module", SYS_init_module, "0, 0, 0"},
    {"delete_module", SYS_delete_module, "0, 0"},
    {"userfaultfd", SYS_userfaultfd, "0xffff"},
    {"keyctl", SYS_keyctl, "9999, 0, 0, 0, 0"},
    {"add_key", SYS_add_key, "0, 0, 0, 0, 0"},
    {"process_vm_readv", SYS_process_vm_readv, "0x3fffffff, 0, 0, 0, 0, 0"},
    {"pidfd_getfd", SYS_pidfd_getfd, "-1, 0, 0"},
    {"open_by_handle_at", SYS_open_by_handle_at, "-1, 0, 0"},
    {"clock_settime", SYS_clock_settime, "999, 0"},
    {"quotactl", SYS_quotactl, "0, 0, 0, 0"},
};

TEST(Seccomp, DefaultListDeniesWithEperm) {
    std::string code;
    std::string expected;
    for (const DeniedCall& call : kDefaultDenied) {
        code += probe_line(call.name, call.nr, call.args);
        expected += std::string(call.name) + " EPERM\n";
    }
    code += probe_line("getpid", SYS_getpid, "");  // the filter is not a blanket deny
    expected += "getpid ok\n";
    Result r = python(system_policy(), code);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, expected);
}

TEST(Seccomp, CloneWithNamespaceFlagsIsDenied) {
    // Unfiltered these flag mixes fail with EINVAL (a user or mount namespace cannot share
    // the filesystem context), so no process is created either way.
    Result r = python(system_policy(),
                      probe_line("newuser", SYS_clone, kCloneNewUser) +
                          probe_line("newns", SYS_clone, std::to_string(CLONE_NEWNS | CLONE_FS | SIGCHLD)));
    EXPECT_EQ(r.stdout_text, "newuser EPERM\nnewns EPERM\n") << r.stderr_text;
}

TEST(Seccomp, Clone3FailsWithEnosys) {
    // Unfiltered, a zero-sized clone_args is EINVAL.
    Result r = python(system_policy(), probe_line("clone3", SYS_clone3, "0, 0"));
    EXPECT_EQ(r.stdout_text, "clone3 ENOSYS\n") << r.stderr_text;
}

TEST(Seccomp, ThreadsStillWork) {
    Result r = python(system_policy(),
                      "import threading\n"
                      "out = []\n"
                      "ts = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]\n"
                      "[t.start() for t in ts]; [t.join() for t in ts]\n"
                      "print(sorted(out))\n");
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.stdout_text, "[0, 1, 2, 3]\n");
}

TEST(Seccomp, ParallelSortWorks) {
    // A 64M buffer makes sort read all lines at once and split them across threads.
    Result r = run(system_policy(), {"/bin/sh", "-c", "seq 300000 | sort -rn -S 64M --parallel=4 | head -1"});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.stdout_text, "300000\n");
}

TEST(Seccomp, TerminalInjectionIsDenied) {
    // Unfiltered, TIOCSTI on fd -1 is EBADF, and on a pty of our own it succeeds (root) or is
    // EIO (dev.tty.legacy_tiocsti = 0); TCGETS passing through shows only the two are denied.
    Result r = python(Policy{},
                      "import fcntl, termios\n" + probe_line("raw", SYS_ioctl, "-1, 0x5412, 0") +
                          "master, slave = os.openpty()\n"
                          "print('pty', end=' '); probe(fcntl.ioctl, slave, termios.TIOCSTI, b'x')\n" +
                          probe_line("tcgets", SYS_ioctl, "-1, 0x5401, 0"));
    EXPECT_EQ(r.stdout_text, "raw EPERM\npty EPERM\ntcgets EBADF\n") << r.stderr_text;
}

TEST(Seccomp, DefaultGroupExtendsACustomDenyList) {
    Policy p = system_policy();
    p.deny_syscalls = std::vector<std::string>{"@default", "getpid"};
    // libc may cache getpid: the raw syscall is what the filter sees.
    Result r = python(p, probe_line("getpid", SYS_getpid, "") +
                             probe_line("ptrace", SYS_ptrace, kPtraceAttach) +
                             probe_line("getppid", SYS_getppid, ""));
    EXPECT_EQ(r.stdout_text, "getpid EPERM\nptrace EPERM\ngetppid ok\n") << r.stderr_text;
}

TEST(Seccomp, ACustomDenyListReplacesTheDefaultButNeverFreesTheViewChanges) {
    Policy p = system_policy();
    p.deny_syscalls = std::vector<std::string>{"getpid"};
    // process_vm_readv of nothing from itself succeeds unfiltered; the default list denies it.
    // unshare and umount2 would let a sandbox with capabilities in its user namespace (privileged)
    // lift the masks over kernel secrets: they stay denied whatever the lists say.
    Result r = python(p, probe_line("getpid", SYS_getpid, "") +
                             probe_line("process_vm_readv", SYS_process_vm_readv, "os.getpid(), 0, 0, 0, 0, 0") +
                             probe_line("unshare", SYS_unshare, "0") +
                             probe_line("umount2", SYS_umount2, "b'/proc/kallsyms', 2"));
    EXPECT_EQ(r.stdout_text, "getpid EPERM\nprocess_vm_readv ok\nunshare EPERM\numount2 EPERM\n") << r.stderr_text;
}

TEST(Seccomp, UnknownSyscallNameIsRefusedBeforeRunning) {
    Policy p = system_policy();
    p.deny_syscalls = std::vector<std::string>{"@default", "foo"};
    try {
        run(p, {"/bin/true"});
        FAIL() << "a policy naming an unknown syscall ran";
    } catch (const PolicyError& e) {
        EXPECT_NE(std::string(e.what()).find("deny_syscalls: unknown syscall 'foo'"), std::string::npos)
            << e.what();
    }
}

TEST(Seccomp, AllowlistRunsShellAndCoreutils) {
    const Policy p = with_allowlist({"@default"});
    Result pipe = run(p, {"/bin/sh", "-c", "echo hi | cat"});
    EXPECT_EQ(pipe.exit_code, 0) << pipe.stderr_text << pipe.error;
    EXPECT_EQ(pipe.stdout_text, "hi\n");
    Result ls = run(p, {"ls", "/usr"});
    EXPECT_EQ(ls.exit_code, 0) << ls.stderr_text;
    EXPECT_NE(ls.stdout_text.find("bin\n"), std::string::npos);
    Result sort = run(p, {"/bin/sh", "-c", "seq 300000 | sort -rn -S 64M --parallel=4 | head -1"});
    EXPECT_EQ(sort.stdout_text, "300000\n") << sort.stderr_text;
}

TEST(Seccomp, AllowlistRunsPythonWithThreadsAndDeniesTheRest) {
    Result r = python(with_allowlist({"@default"}),
                      "import threading\n"
                      "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n" +
                          probe_line("syncfs", SYS_syncfs, "-1") +  // harmless, just not listed
                          probe_line("ptrace", SYS_ptrace, kPtraceAttach) +
                          probe_line("clone3", SYS_clone3, "0, 0") +
                          probe_line("newuser", SYS_clone, kCloneNewUser));
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.stdout_text, "thread\nsyncfs EPERM\nptrace EPERM\nclone3 ENOSYS\nnewuser EPERM\n");
}

TEST(Seccomp, AllowlistDenyWins) {
    Policy p = with_allowlist({"@default"});
    p.deny_syscalls = std::vector<std::string>{"@default", "getppid"};
    Result r = python(p, probe_line("getppid", SYS_getppid, "") + probe_line("getpid", SYS_getpid, ""));
    EXPECT_EQ(r.stdout_text, "getppid EPERM\ngetpid ok\n") << r.stderr_text;
}

#if defined(__x86_64__)
TEST(Seccomp, ForeignArchitectureCallsKillTheProcess) {
    CallResult r = Sandbox(system_policy()).call(
        [] {
            const rlimit no_core{0, 0};
            ::setrlimit(RLIMIT_CORE, &no_core);
            ia32_getpid();
            return std::string("survived");
        },
        20s);
    EXPECT_FALSE(r.value.has_value());
    // SIGSYS from the filter; SIGSEGV where the kernel has no i386 entry (probed unconfined).
    EXPECT_EQ(r.process.term_signal, expected_ia32_death())
        << r.error << ", i386 entry " << (ia32_entry_available() ? "present" : "absent");
}
#endif

TEST(Seccomp, NotifyRoutingReachesAPluginsListener) {
    SandboxOptions options;
    options.plugins = {"seccomp", "notify_echo"};
    options.plugin_path = {test_plugin_dir()};
    Result r = python(Policy{}, "print(os.getppid())\n", options);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "4242\n");
}

}  // namespace
}  // namespace sandlock::test
