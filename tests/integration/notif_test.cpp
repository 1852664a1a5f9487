// The notif layer in real sandboxes: the memory, process and CPU limits each way, the
// supervisor under concurrent load, a caller killed mid-call, failing third-party handlers
// (fail closed), the order of built-in and third-party handlers, and the verdict kinds.
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace sandlock::test {
namespace {

using namespace std::chrono_literals;

// ctypes access to the raw memory calls, so the tests control exactly what is mapped.
const std::string kMemoryPrelude = R"(
import time
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.mremap.restype = ctypes.c_void_p
libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
raw = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long, ctypes.c_long)(('syscall', libc))
MiB = 1 << 20
FAILED = ctypes.c_void_p(-1).value
def err():
    return errno.errorcode.get(ctypes.get_errno(), '?')
def anon(size, prot=3):  # MAP_PRIVATE | MAP_ANONYMOUS
    p = libc.mmap(None, size, prot, 0x22, -1, 0)
    return None if p == FAILED else p
def outcome(p):
    return 'ok' if p else err()
)";

const std::vector<std::string> kLayers = {"landlock", "seccomp", "notif"};

SandboxOptions notif_options() {
    SandboxOptions options;
    options.plugins = kLayers;
    return options;
}

// The layers plus the notif_probe test plugin with the given rules (a JSON array).
Policy with_probe(Policy policy, const std::string& rules) {
    policy.plugin_options["notif_probe"] = R"({"rules": )" + rules + "}";
    return policy;
}

SandboxOptions probe_options() {
    SandboxOptions options;
    options.plugins = kLayers;
    options.plugins.push_back("notif_probe");
    options.plugin_path = {test_plugin_dir()};
    return options;
}

Policy memory_policy(std::uint64_t mebibytes) {
    Policy p = system_policy();
    p.max_memory = mebibytes << 20;
    return p;
}

Policy process_policy(std::uint32_t max) {
    Policy p = system_policy();
    p.max_processes = max;
    return p;
}

Policy cpu_policy(std::uint32_t percent) {
    Policy p = system_policy();
    p.max_cpu = percent;
    return p;
}

Result memory_python(const Policy& policy, const std::string& code, SandboxOptions options = notif_options()) {
    return python(policy, kMemoryPrelude + code, std::move(options));
}

// ---- max_memory ------------------------------------------------------------------------------

TEST(NotifMemory, AnAllocationUnderTheLimitWorks) {
    Result r = python(memory_policy(128), "b = bytearray(16 << 20); print('ok', len(b) >> 20)\n", notif_options());
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "ok 16\n");
}

// Under a syscall allowlist the filter routes every prctl to the limit's handler, which judges
// only PR_SET_MM (before: every option was EPERM, a process's name too).
TEST(NotifMemory, UnderAnAllowlistOnlyPrSetMmIsRefused) {
    Policy policy = memory_policy(128);
    policy.allow_syscalls = std::vector<std::string>{"@default"};
    policy.fs_readable.push_back("/proc");
    Result r = python(policy,
                      "import ctypes\n"
                      "libc = ctypes.CDLL(None, use_errno=True)\n"
                      "print(libc.prctl(15, b'renamed', 0, 0, 0), open('/proc/self/comm').read().strip())\n"
                      "size = ctypes.c_uint(0)\n"
                      "print(libc.prctl(35, 15, ctypes.byref(size), 0, 0), ctypes.get_errno())\n",  // PR_SET_MM_MAP_SIZE
                      notif_options());
    EXPECT_EQ(r.stdout_text, "0 renamed\n-1 1\n") << r.stderr_text << r.error;
}

TEST(NotifMemory, AnAllocationOverTheLimitRaisesMemoryError) {
    Result r = python(memory_policy(128),
                      "try:\n"
                      "    b = bytearray(400 << 20); print('allocated')\n"
                      "except MemoryError:\n"
                      "    print('MemoryError')\n",
                      notif_options());
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "MemoryError\n");
}

TEST(NotifMemory, ChurnDoesNotDrift) {
    // 10,000 MiB mapped and unmapped in turn under 64 MiB; a leaky account would refuse early.
    Result r = memory_python(memory_policy(64),
                             "fails = 0\n"
                             "for i in range(10000):\n"
                             "    p = anon(MiB)\n"
                             "    if not p: fails += 1; continue\n"
                             "    libc.munmap(p, MiB)\n"
                             "print('fails', fails, 'then', outcome(anon(32 * MiB)))\n");
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "fails 0 then ok\n");
}

TEST(NotifMemory, MremapGrowthIsCounted) {
    Result r = memory_python(memory_policy(64),
                             "p = anon(8 * MiB)\n"
                             "q = libc.mremap(p, 8 * MiB, 200 * MiB, 1)\n"  // MREMAP_MAYMOVE
                             "print('to 200M', 'ok' if q != FAILED else err())\n"
                             "q = libc.mremap(p, 8 * MiB, 16 * MiB, 1)\n"
                             "print('to 16M', 'ok' if q != FAILED else err())\n");
    EXPECT_EQ(r.stdout_text, "to 200M ENOMEM\nto 16M ok\n") << r.stderr_text;
}

TEST(NotifMemory, MprotectMakingMemoryWritableIsCounted) {
    // A PROT_NONE reservation costs nothing until it becomes writable (malloc arenas, stacks).
    Result r = memory_python(memory_policy(64),
                             "p = anon(200 * MiB, prot=0)\n"
                             "print('reserve', outcome(p))\n"
                             "print('all writable', 'ok' if libc.mprotect(p, 200 * MiB, 3) == 0 else err())\n"
                             "print('1M writable', 'ok' if libc.mprotect(p, MiB, 3) == 0 else err())\n");
    EXPECT_EQ(r.stdout_text, "reserve ok\nall writable ENOMEM\n1M writable ok\n") << r.stderr_text;
}

TEST(NotifMemory, BrkGrowthIsCountedAndRefusedTheWayBrkFails) {
    // brk(2) reports failure by returning the old break, not an errno.
    Result r = memory_python(memory_policy(64),
                             "cur = raw(12, 0)\n"
                             "big = raw(12, cur + 200 * MiB)\n"
                             "small = raw(12, cur + MiB)\n"
                             "raw(12, cur)\n"
                             "print('200M', 'refused' if big < cur + 200 * MiB else 'grown', 'at', big - cur)\n"
                             "print('1M', 'grown' if small >= cur + MiB else 'refused')\n");
    // The refusal reports the break where it is: libc takes it as its new break.
    EXPECT_EQ(r.stdout_text, "200M refused at 0\n1M grown\n") << r.stderr_text;
}

TEST(NotifMemory, BrkInSmallStepsStopsAtTheLimitBesideADecoyHeap) {
    // Each step is judged against the heap's end as the kernel names it: an anonymous mapping
    // below it, where the search starts, named like it where the kernel can name mappings
    // (CONFIG_ANON_VMA_NAME), must not be taken for it.
    Result r = memory_python(memory_policy(64),
                             "libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_char_p]\n"
                             "d = libc.mmap(0x100000, 0x10000, 3, 0x22 | 0x100000, -1, 0)\n"  // MAP_FIXED_NOREPLACE
                             "libc.prctl(0x53564d41, 0, d or 0, 0x10000, b'heap')\n"  // PR_SET_VMA_ANON_NAME
                             "cur = raw(12, 0)\n"
                             "grown = 0\n"
                             "for i in range(1, 201):\n"
                             "    if raw(12, cur + i * MiB) < cur + i * MiB: break\n"
                             "    grown = i\n"
                             "raw(12, cur)\n"
                             "print('decoy', outcome(d), 'stopped under 64M', 0 < grown < 64)\n");
    EXPECT_EQ(r.stdout_text, "decoy ok stopped under 64M True\n") << r.stderr_text;
}

TEST(NotifMemory, TheLimitCoversEveryProcessAndAKilledOneGivesItsShareBack) {
    Result r = memory_python(memory_policy(96),
                             "r, w = os.pipe()\n"
                             "pid = os.fork()\n"
                             "if pid == 0:\n"
                             "    os.write(w, b'1' if anon(60 * MiB) else b'0'); time.sleep(60); os._exit(0)\n"
                             "print('child', os.read(r, 1).decode())\n"
                             "print('while it lives', outcome(anon(60 * MiB)))\n"
                             "os.kill(pid, 9); os.waitpid(pid, 0)\n"
                             "print('once killed', outcome(anon(60 * MiB)))\n");
    EXPECT_EQ(r.stdout_text, "child 1\nwhile it lives ENOMEM\nonce killed ok\n") << r.stderr_text;
}

TEST(NotifMemory, ExitAndExecGiveMemoryBack) {
    Result r = memory_python(memory_policy(96),
                             "pid = os.fork()\n"
                             "if pid == 0:\n"
                             "    os._exit(0 if anon(60 * MiB) else 1)\n"
                             "print('child', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
                             "p = anon(60 * MiB)\n"
                             "print('after exit', outcome(p))\n"
                             "sys.stdout.flush()\n"
                             "os.execv(sys.executable, [sys.executable, '-c', '''\n"
                             "import ctypes\n"
                             "libc = ctypes.CDLL(None)\n"
                             "libc.mmap.restype = ctypes.c_void_p\n"
                             "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, "
                             "ctypes.c_int, ctypes.c_long]\n"
                             "p = libc.mmap(None, 60 << 20, 3, 0x22, -1, 0)\n"
                             "print('after exec', 'ok' if p != ctypes.c_void_p(-1).value else 'ENOMEM')\n"
                             "'''])\n");
    EXPECT_EQ(r.stdout_text, "child 0\nafter exit ok\nafter exec ok\n") << r.stderr_text;
}

// ---- max_processes ---------------------------------------------------------------------------

TEST(NotifProcesses, ForksBeyondTheLimitFailWithEagainAndAnExitFreesASlot) {
    Result r = python(process_policy(3),
                      "import time\n"
                      "kids = []\n"
                      "for i in range(3):\n"
                      "    try:\n"
                      "        pid = os.fork()\n"
                      "    except BlockingIOError:\n"
                      "        print('fork', i, 'EAGAIN'); break\n"
                      "    if pid == 0:\n"
                      "        time.sleep(60); os._exit(0)\n"
                      "    kids.append(pid); print('fork', i, 'ok')\n"
                      "os.kill(kids[0], 9); os.waitpid(kids[0], 0)\n"
                      "pid = os.fork()\n"
                      "if pid == 0: os._exit(0)\n"
                      "os.waitpid(pid, 0); print('after an exit ok')\n",
                      notif_options());
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "fork 0 ok\nfork 1 ok\nfork 2 EAGAIN\nafter an exit ok\n");
}

TEST(NotifProcesses, ThreadsDoNotCount) {
    Result r = python(process_policy(1),
                      "import threading, time\n"
                      "ts = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in range(4)]\n"
                      "[t.start() for t in ts]; [t.join() for t in ts]\n"
                      "print('threads ok')\n"
                      "print('fork', end=' '); probe(os.fork)\n",
                      notif_options());
    EXPECT_EQ(r.stdout_text, "threads ok\nfork EAGAIN\n") << r.stderr_text << r.error;
}

TEST(NotifProcesses, AnExitedChildFreesItsSlotBeforeItIsReaped) {
    Result r = python(process_policy(2),
                      "pid = os.fork()\n"
                      "if pid == 0: os._exit(0)\n"
                      "os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)\n"  // a zombie now
                      "second = os.fork()\n"
                      "if second == 0: os._exit(0)\n"
                      "print('second fork ok')\n",
                      notif_options());
    EXPECT_EQ(r.stdout_text, "second fork ok\n") << r.stderr_text << r.error;
}

// A fork stays counted in flight until it is known to be over: here, once the parent waits for
// its child. The child's own fork, the third process, then fits in 3 — well before the parent's
// fork would expire (1 s). (While the parent may still be on its way to waitpid, the child
// retries for 0.4 s.)
TEST(NotifProcesses, AParentWaitingForItsChildHoldsNoSecondSlot) {
    Result r = python(process_policy(3),
                      "import sys, time\n"
                      "pid = os.fork()\n"
                      "if pid == 0:\n"
                      "    for attempt in range(20):\n"
                      "        try:\n"
                      "            grandchild = os.fork(); break\n"
                      "        except BlockingIOError:\n"
                      "            time.sleep(0.02)\n"
                      "    else:\n"
                      "        print('grandchild EAGAIN'); sys.stdout.flush(); os._exit(1)\n"
                      "    if grandchild == 0: os._exit(0)\n"
                      "    os.waitpid(grandchild, 0); print('grandchild ok'); sys.stdout.flush(); os._exit(0)\n"
                      "os.waitpid(pid, 0)\n",
                      notif_options());
    EXPECT_EQ(r.stdout_text, "grandchild ok\n") << r.stderr_text << r.error;
}

TEST(NotifProcesses, AShellRunsManyCommandsOneAfterAnother) {
    Result r = run(process_policy(2), {"/bin/sh", "-c", "for i in $(seq 30); do /bin/true || exit 1; done; echo done"},
                   notif_options());
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "done\n");
}

// ---- max_cpu ---------------------------------------------------------------------------------

// CPU seconds a 3-second (wall-clock) busy loop used, counting `processes` busy processes.
double busy_cpu_seconds(const Policy& policy, int processes) {
    Result r = python(policy,
                      "import resource, time\n"
                      "def spin():\n"
                      "    end = time.monotonic() + 3\n"
                      "    while time.monotonic() < end: pass\n"
                      "kids = []\n"
                      "for _ in range(" + std::to_string(processes - 1) + "):\n"
                      "    pid = os.fork()\n"
                      "    if pid == 0: spin(); os._exit(0)\n"
                      "    kids.append(pid)\n"
                      "spin()\n"
                      "for pid in kids: os.waitpid(pid, 0)\n"
                      "c = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
                      "print(time.process_time() + c.ru_utime + c.ru_stime)\n",
                      notif_options());
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    return r.stdout_text.empty() ? -1 : std::stod(r.stdout_text);
}

TEST(NotifCpu, ABusyLoopIsHeldToItsShare) {
    const double used = busy_cpu_seconds(cpu_policy(50), 1);
    EXPECT_GT(used, 0.5);  // it did run
    EXPECT_LE(used, 1.7);
}

TEST(NotifCpu, TheShareIsForTheWholeSandbox) {
    const double used = busy_cpu_seconds(cpu_policy(50), 2);  // two busy processes, 2 cores
    EXPECT_GT(used, 0.5);
    EXPECT_LE(used, 1.7);
}

// CPU seconds of this process's reaped children (the sandboxes it ran).
double children_cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// SIGSTOP is what the throttle has; a process that has the kernel send it SIGCONT (a timer)
// and then continues the others would undo it. Either the throttle sees CPU time while it holds
// the sandbox stopped and kills it, or (a loaded machine gives the escape too little CPU to
// see) the sandbox stayed within its share all the same: never more.
TEST(NotifCpu, AProcessThatResumesItselfNeverGetsMoreThanItsShare) {
    Policy policy = cpu_policy(10);
    policy.fs_readable.push_back(bin_dir().string());
    const double before = children_cpu_seconds();
    try {
        Result r = Sandbox(policy, notif_options())
                       .run({"/bin/sh", "-c", sigcont_timer() + " 1000 & while :; do :; done"}, std::chrono::seconds(3));
        EXPECT_TRUE(r.timed_out) << r.exit_code;
        // 10% of 3 s, one 100 ms period saved up, and room for the samples' lag; unthrottled it
        // is about 3 s.
        EXPECT_LT(children_cpu_seconds() - before, 0.8) << "the sandbox ran past its share";
    } catch (const ConfinementError& e) {
        EXPECT_NE(std::string(e.what()).find("max_cpu: a process of the sandbox kept running while throttled"),
                  std::string::npos)
            << e.what();
    }
}

TEST(NotifCpu, WithoutALimitTheLoopUsesMore) {
    // Above what the 50% limit allows (1.7 s), with room for a loaded machine.
    EXPECT_GT(busy_cpu_seconds(system_policy(), 1), 1.8);
}


// Also proves the sandbox's CPU time reaches the caller's RUSAGE_CHILDREN: when the init of a
// PID namespace is simply killed, the kernel reaps the rest without accounting (0.002 s here).
TEST(NotifCpu, ShortLivedProcessesAreHeldToTheShareToo) {
    // Each /bin/true lives about a millisecond, far less than a sample: it is counted when
    // the shell waits for it. The sandbox (a child of this process) is timed out after 3 s.
    const double before = children_cpu_seconds();
    Result r = Sandbox(cpu_policy(30), notif_options()).run({"/bin/sh", "-c", "while :; do /bin/true; done"}, 3s);
    EXPECT_TRUE(r.timed_out) << r.stderr_text << r.error;
    const double used = children_cpu_seconds() - before;
    EXPECT_GT(used, 0.3);
    EXPECT_LE(used, 1.3);  // 30% of 3 s is 0.9 s; unthrottled the loop takes about 2.8 s
}

TEST(NotifCpu, ATimeoutStillEndsAThrottledSandbox) {
    const auto start = std::chrono::steady_clock::now();
    Result r = Sandbox(cpu_policy(5), notif_options()).run({kPython, "-c", "while True: pass"}, 2s);
    EXPECT_TRUE(r.timed_out) << r.stderr_text << r.error;
    EXPECT_EQ(r.exit_code, 124);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
}

// ---- the supervisor --------------------------------------------------------------------------

TEST(NotifSupervisor, AThousandCallsFromEightThreadsAreAllAnswered) {
    Result r = memory_python(memory_policy(256),
                             "import threading\n"
                             "done = [0] * 8\n"
                             "def work(i):\n"
                             "    for _ in range(125):\n"
                             "        p = anon(MiB)\n"
                             "        if p: done[i] += 1; libc.munmap(p, MiB)\n"
                             "ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
                             "[t.start() for t in ts]; [t.join() for t in ts]\n"
                             "print(sum(done))\n");
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "1000\n");
}

std::string rule(long syscall_nr, const std::string& action, const std::string& extra = "") {
    return R"({"syscall": )" + std::to_string(syscall_nr) + R"(, "action": ")" + action + "\"" +
           (extra.empty() ? "" : ", " + extra) + "}";
}

TEST(NotifSupervisor, ACallerKilledMidCallCostsNothing) {
    // The probe holds the supervisor 300 ms in every getppid; the child is killed while one of
    // its calls is in the handler and another waits in the queue. The parent's call after that
    // is answered as usual and the run ends on its own.
    const std::string slow = "[" + rule(SYS_getppid, "sleep", R"("sleep_ms": 300)") + "]";
    Result r = python(with_probe(system_policy(), slow),
                      "import threading, time\n"
                      "r, w = os.pipe()\n"
                      "pid = os.fork()\n"
                      "if pid == 0:\n"
                      "    for _ in range(2): threading.Thread(target=libc.syscall, args=(" +
                          std::to_string(SYS_getppid) + ",), daemon=True).start()\n"
                      "    os.write(w, b'1'); time.sleep(60); os._exit(0)\n"
                      "os.read(r, 1); time.sleep(0.1)\n"
                      "os.kill(pid, 9); os.waitpid(pid, 0)\n"
                      "print('answered' if libc.syscall(" + std::to_string(SYS_getppid) + ") > 0 else 'failed')\n",
                      probe_options());
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text << r.error;
    EXPECT_EQ(r.stdout_text, "answered\n");
}

TEST(NotifSupervisor, AThrowingHandlerDeniesWithEperm) {
    Result r = python(with_probe(system_policy(), "[" + rule(SYS_getppid, "throw") + "]"),
                      "sys_probe(" + std::to_string(SYS_getppid) + ")\n", probe_options());
    EXPECT_EQ(r.stdout_text, "EPERM\n") << r.stderr_text << r.error;
}

TEST(NotifSupervisor, AMalformedVerdictDeniesWithEperm) {
    Result r = python(with_probe(system_policy(), "[" + rule(SYS_getppid, "bad_verdict") + "]"),
                      "sys_probe(" + std::to_string(SYS_getppid) + ")\n", probe_options());
    EXPECT_EQ(r.stdout_text, "EPERM\n") << r.stderr_text << r.error;
}

TEST(NotifSupervisor, AHandlerWithoutAnOpinionLetsTheCallRun) {
    Result r = python(with_probe(system_policy(), "[" + rule(SYS_getppid, "next") + "]"),
                      "print('ppid', 'ok' if os.getppid() >= 1 else 'wrong')\n", probe_options());  // 1: its init
    EXPECT_EQ(r.stdout_text, "ppid ok\n") << r.stderr_text << r.error;
}

TEST(NotifSupervisor, VerdictsAnswerWithAValueAnErrnoOrAnInjectedFd) {
    const std::string rules = "[" + rule(SYS_getppid, "value", R"("value": 4242)") + ", " +
                              rule(SYS_getpgid, "errno", R"("arg_index": 0, "arg_value": 77777, "errno": 18)") +
                              ", " + rule(SYS_dup, "inject", R"("arg_index": 0, "arg_value": 9999)") + "]";
    Result r = python(with_probe(system_policy(), rules),
                      "print('value', os.getppid())\n"
                      "print('errno', end=' '); probe(os.getpgid, 77777)\n"
                      "fd = libc.syscall(" + std::to_string(SYS_dup) + ", 9999)\n"  // os.dup uses fcntl
                      "print('inject', os.fstat(fd).st_rdev == os.stat('/dev/null').st_rdev)\n",
                      probe_options());
    EXPECT_EQ(r.stdout_text, "value 4242\nerrno EXDEV\ninject True\n") << r.stderr_text << r.error;
}

TEST(NotifSupervisor, HandlersSeeTheCallersPathsFdsAndMemory) {
    // openat with O_NOATIME alone (no real open here uses it) resolves its path: EXDEV when
    // it is what the rule expects. The last string ends right before an unmapped page.
    auto expect = [](const std::string& path) {
        return rule(SYS_openat, "expect_path",
                    R"("arg_index": 2, "arg_value": )" + std::to_string(O_NOATIME) + R"(, "expected": ")" + path +
                        "\"");
    };
    const std::string rules = "[" + rule(SYS_fdatasync, "fd_size") + ", " + rule(SYS_fsync, "read_u32") + "]";
    const std::string code =
        "O_NOATIME = " + std::to_string(O_NOATIME) + "\n"
        "def path_probe(dirfd, path):\n"
        "    libc.syscall(" + std::to_string(SYS_openat) + ", dirfd, path, O_NOATIME)\n"
        "    print(errno.errorcode.get(ctypes.get_errno(), '?'))\n"
        "os.chdir('/usr/lib')\n"
        "path_probe(-100, b'x/../y')\n"  // AT_FDCWD
        "usr = os.open('/usr', os.O_RDONLY)\n"
        "path_probe(usr, b'share/z')\n"
        "page = 4096\n"
        "p = anon(2 * page); libc.munmap(p + page, page)\n"
        "ctypes.memmove(p + page - 6, b'/abc\\0', 5)\n"
        "path_probe(-100, ctypes.c_void_p(p + page - 6))\n"
        "fd = os.open('/etc/passwd', os.O_RDONLY)\n"
        "print('fd size', libc.syscall(" + std::to_string(SYS_fdatasync) + ", fd) == os.fstat(fd).st_size)\n"
        "word = ctypes.c_uint32(0x1234567)\n"
        "print('memory', hex(libc.syscall(" + std::to_string(SYS_fsync) + ", ctypes.byref(word))))\n"
        "print('unmapped', end=' '); sys_probe(" + std::to_string(SYS_fsync) + ", ctypes.c_void_p(p + page))\n";
    const std::string all_rules = rules.substr(0, rules.size() - 1) + ", " + expect("/usr/lib/x/../y") + ", " +
                                  expect("/usr/share/z") + ", " + expect("/abc") + "]";
    Result r = memory_python(with_probe(system_policy(), all_rules), code, probe_options());
    EXPECT_EQ(r.stdout_text, "EXDEV\nEXDEV\nEXDEV\nfd size True\nmemory 0x1234567\nunmapped EFAULT\n")
        << r.stderr_text << r.error;
}

TEST(NotifSupervisor, ThirdPartyHandlersRunAfterTheBuiltIns) {
    // The probe fails two mmap sizes with EXDEV. Over the limit the built-in memory handler
    // answers first (ENOMEM); under it, the built-in has no objection and the probe runs.
    const std::string rules = "[" + rule(SYS_mmap, "errno", R"("arg_index": 1, "arg_value": 268435456, "errno": 18)") +
                              ", " + rule(SYS_mmap, "errno", R"("arg_index": 1, "arg_value": 1191936, "errno": 18)") +
                              "]";
    Result r = memory_python(with_probe(memory_policy(64), rules),
                             "print('over the limit', outcome(anon(256 * MiB)))\n"
                             "print('under it', outcome(anon(0x123000)))\n",
                             probe_options());
    EXPECT_EQ(r.stdout_text, "over the limit ENOMEM\nunder it EXDEV\n") << r.stderr_text << r.error;
}

// ---- configuration ---------------------------------------------------------------------------

TEST(NotifConfig, UnknownOptionsAreRefusedByName) {
    Policy p = memory_policy(64);
    p.plugin_options["notif"] = R"({"bogus": 1, "max_memroy": 2})";
    try {
        run(p, {"/bin/true"}, notif_options());
        FAIL() << "a [plugins.notif] table with unknown keys ran";
    } catch (const PolicyError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("bogus"), std::string::npos) << what;
        EXPECT_NE(what.find("max_memroy"), std::string::npos) << what;
    }
}

TEST(NotifConfig, LimitsKeepTheSeccompLayerWhenThePluginListLeavesItOut) {
    // seccomp makes the listener the limits are served on: a list without it still gets it.
    SandboxOptions options;
    options.plugins = {"landlock", "notif"};
    Policy policy = system_policy();
    policy.max_processes = 2;
    Result r = python(policy,
                      "import time\npids = []\n"
                      "for i in range(4):\n"
                      "    try:\n"
                      "        pid = os.fork()\n"
                      "        if pid == 0: time.sleep(1); os._exit(0)\n"
                      "        pids.append(pid)\n"
                      "    except OSError as e: print(errno.errorcode[e.errno]); break\n"
                      "print(len(pids))\n",
                      options);
    EXPECT_EQ(r.stdout_text, "EAGAIN\n1\n") << r.stderr_text;
}

// What `sandlock -v run ARGS -- /bin/true` writes to stderr (its debug log).
std::string cli_log(const std::string& args) {
    const std::string command = sandlock_bin() + " -v run " + args + " -- /bin/true 2>&1";
    FILE* out = ::popen(command.c_str(), "r");
    if (out == nullptr) return {};
    std::string text;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, out)) > 0;) text.append(buffer, n);
    ::pclose(out);
    return text;
}

TEST(NotifConfig, AReadableProcBringsTheNotifPluginAlong) {
    const std::string loaded = "loaded plugin notif from";
    EXPECT_NE(cli_log("-r /usr -r /lib -r /lib64 -r /proc").find(loaded), std::string::npos);
    EXPECT_NE(cli_log("-r /usr -r /lib -r /lib64 -r /proc/self/../1").find(loaded), std::string::npos);
    EXPECT_EQ(cli_log("-r /usr -r /lib -r /lib64 -r /tmp/../procfs").find(loaded), std::string::npos);
    EXPECT_EQ(cli_log("-r /usr -r /lib -r /lib64").find(loaded), std::string::npos);
}

TEST(NotifConfig, AnOutOfRangeCpuShareIsRefused) {
    try {
        run(cpu_policy(150), {"/bin/true"}, notif_options());
        FAIL() << "max_cpu = 150% ran";
    } catch (const PolicyError& e) {
        EXPECT_NE(std::string(e.what()).find("max_cpu"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace sandlock::test
