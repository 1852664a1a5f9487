// The supervisor's pure parts: the handler chain's rules, how a caller's path is joined, and
// the /proc parsers.
#include "supervisor/call_counters.hpp"
#include "supervisor/caller_access.hpp"
#include "supervisor/handler_chain.hpp"
#include "procfs/proc_files.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <vector>

namespace sandlock::notif {
namespace {

using sdk::NotifVerdict;
namespace VerdictKind = sdk::VerdictKind;

struct Recorder {
    std::vector<std::string> calls;
    std::vector<std::string> failures;
};

struct Step {
    Recorder* recorder;
    std::string name;
    NotifVerdict verdict;
    bool throws = false;
};

void run_step(void* user, const sdk::NotifRequest*, const sdk::NotifContextApi*, NotifVerdict* verdict) {
    auto* step = static_cast<Step*>(user);
    step->recorder->calls.push_back(step->name);
    if (step->throws) throw std::runtime_error("boom");
    *verdict = step->verdict;
}

constexpr NotifVerdict kNext{VerdictKind::Next, 0, 0, -1, 0};
constexpr NotifVerdict kContinue{VerdictKind::Continue, 0, 0, -1, 0};

NotifVerdict decide(const HandlerChain& chain, Recorder& recorder, int syscall_nr = 1) {
    sdk::NotifRequest request{};
    request.syscall_nr = syscall_nr;
    sdk::NotifContextApi api{};
    return chain.decide(request, api, [&](const sdk::NotifHandlerEntry& entry, std::string_view what) {
        recorder.failures.push_back(std::string(sdk::view(entry.plugin)) + ": " + std::string(what));
    });
}

TEST(NotifHandlerChain, TheFirstVerdictThatIsNotNextWins) {
    Recorder recorder;
    Step a{&recorder, "a", kNext}, b{&recorder, "b", {VerdictKind::Errno, EACCES, 0, -1, 0}},
        c{&recorder, "c", kContinue};
    HandlerChain chain;
    chain.add({1, &run_step, &a, sdk::str("notif")});
    chain.add({1, &run_step, &b, sdk::str("notif")});
    chain.add({1, &run_step, &c, sdk::str("third")});
    NotifVerdict v = decide(chain, recorder);
    EXPECT_EQ(v.kind, VerdictKind::Errno);
    EXPECT_EQ(v.error, EACCES);
    EXPECT_EQ(recorder.calls, (std::vector<std::string>{"a", "b"}));
}

TEST(NotifHandlerChain, NoOpinionMeansContinue) {
    Recorder recorder;
    Step a{&recorder, "a", kNext};
    HandlerChain chain;
    chain.add({1, &run_step, &a, sdk::str("notif")});
    EXPECT_EQ(decide(chain, recorder).kind, VerdictKind::Continue);
    EXPECT_EQ(decide(chain, recorder, 2).kind, VerdictKind::Continue);  // no handler at all
}

TEST(NotifHandlerChain, HandlersRunOnlyForTheirSyscall) {
    Recorder recorder;
    Step a{&recorder, "a", kNext}, b{&recorder, "b", kNext};
    HandlerChain chain;
    chain.add({1, &run_step, &a, sdk::str("notif")});
    chain.add({2, &run_step, &b, sdk::str("notif")});
    decide(chain, recorder, 2);
    EXPECT_EQ(recorder.calls, (std::vector<std::string>{"b"}));
}

TEST(NotifHandlerChain, AThrowingHandlerFailsClosed) {
    Recorder recorder;
    Step a{&recorder, "a", kNext, true}, b{&recorder, "b", kContinue};
    HandlerChain chain;
    chain.add({1, &run_step, &a, sdk::str("third")});
    chain.add({1, &run_step, &b, sdk::str("third")});
    NotifVerdict v = decide(chain, recorder);
    EXPECT_EQ(v.kind, VerdictKind::Errno);
    EXPECT_EQ(v.error, EPERM);
    EXPECT_EQ(recorder.calls, (std::vector<std::string>{"a"}));  // nothing after it runs
    ASSERT_EQ(recorder.failures.size(), 1u);
    EXPECT_NE(recorder.failures[0].find("third: threw: boom"), std::string::npos) << recorder.failures[0];
}

TEST(NotifHandlerChain, MalformedVerdictsFailClosed) {
    for (NotifVerdict bad : {NotifVerdict{VerdictKind::Errno, 0, 0, -1, 0},
                             NotifVerdict{VerdictKind::Errno, -5, 0, -1, 0},
                             NotifVerdict{VerdictKind::Errno, 5000, 0, -1, 0},
                             NotifVerdict{VerdictKind::InjectFd, 0, 0, -1, 0},
                             NotifVerdict{42, 0, 0, -1, 0}}) {
        Recorder recorder;
        Step a{&recorder, "a", bad};
        HandlerChain chain;
        chain.add({1, &run_step, &a, sdk::str("third")});
        NotifVerdict v = decide(chain, recorder);
        EXPECT_EQ(v.kind, VerdictKind::Errno);
        EXPECT_EQ(v.error, EPERM);
        EXPECT_EQ(recorder.failures.size(), 1u);
    }
}

TEST(NotifHandlerChain, RefusesImpossibleSyscallNumbers) {
    Recorder recorder;
    Step a{&recorder, "a", kNext};
    HandlerChain chain;
    EXPECT_FALSE(chain.add({-1, &run_step, &a, sdk::str("third")}));
    EXPECT_FALSE(chain.add({100000, &run_step, &a, sdk::str("third")}));
    EXPECT_FALSE(chain.add({1, nullptr, &a, sdk::str("third")}));
    EXPECT_TRUE(chain.empty());
}

// The rule index decide() reports, as a name ("" for nobody).
std::string decided_by(const HandlerChain& chain, int syscall_nr) {
    sdk::NotifRequest request{};
    request.syscall_nr = syscall_nr;
    sdk::NotifContextApi api{};
    std::size_t rule = 12345;
    chain.decide(request, api, [](const sdk::NotifHandlerEntry&, std::string_view) {}, &rule);
    if (rule == HandlerChain::kNoRule) return "";
    return rule < chain.rules().size() ? chain.rules()[rule] : "out of range";
}

TEST(NotifHandlerChain, NamesTheRuleOfTheHandlerThatDecided) {
    Recorder recorder;
    Step pass{&recorder, "pass", kNext}, deny{&recorder, "deny", {VerdictKind::Errno, ENOMEM, 0, -1, 0}},
        boom{&recorder, "boom", kNext, true};
    HandlerChain chain;
    chain.add({1, &run_step, &pass, sdk::str("notif")}, "max_processes");
    chain.add({1, &run_step, &deny, sdk::str("notif")}, "max_memory");
    chain.add({2, &run_step, &pass, sdk::str("notif")}, "max_memory");  // a rule is listed once
    chain.add({2, &run_step, &boom, sdk::str("audit")});                // a plugin's: its name
    chain.add({3, &run_step, &pass, sdk::str("audit")});
    EXPECT_EQ(chain.rules(), (std::vector<std::string>{"max_processes", "max_memory", "audit"}));
    EXPECT_EQ(decided_by(chain, 1), "max_memory");
    EXPECT_EQ(decided_by(chain, 2), "audit");  // failed closed: still its verdict
    EXPECT_EQ(decided_by(chain, 3), "");       // nobody: Continue
    EXPECT_EQ(decided_by(chain, 4), "");       // no handler at all
}

TEST(NotifCallCounters, CountsEveryAnswerAndErrnoVerdictsByRule) {
    CallCounters counters({"max_memory", "audit"});
    counters.record({VerdictKind::Errno, ENOMEM, 0, -1, 0}, 0);
    counters.record({VerdictKind::Errno, ENOMEM, 0, -1, 0}, 0);
    counters.record({VerdictKind::Errno, EPERM, 0, -1, 0}, 1);
    counters.record({VerdictKind::Value, 0, 0, -1, 0}, 1);           // answered, not an errno
    counters.record(kContinue, HandlerChain::kNoRule);               // nobody decided
    counters.record({VerdictKind::Errno, EPERM, 0, -1, 0}, HandlerChain::kNoRule);
    EXPECT_EQ(counters.answered(), 6u);
    EXPECT_EQ(counters.denied(0), 2u);
    EXPECT_EQ(counters.denied(1), 1u);
    boost::json::object out;
    counters.write(out);
    EXPECT_EQ(boost::json::serialize(out), R"({"notifications":6,"denied":{"max_memory":2,"audit":1}})");
}

TEST(NotifCallerPath, JoinsRelativePathsToTheBase) {
    EXPECT_EQ(caller::join_caller_path("/home/u", "a/b", "/"), "/home/u/a/b");
    EXPECT_EQ(caller::join_caller_path("/", "etc", "/"), "/etc");
    EXPECT_EQ(caller::join_caller_path("/home/u", "/etc/passwd", "/"), "/etc/passwd");
    EXPECT_EQ(caller::join_caller_path("/home/u", "", "/"), "/home/u");  // AT_EMPTY_PATH
}

TEST(NotifCallerPath, TakesTheCallersRootOff) {
    EXPECT_EQ(caller::join_caller_path("/srv/jail/home", "x", "/srv/jail"), "/home/x");
    EXPECT_EQ(caller::join_caller_path("/srv/jail", "x", "/srv/jail"), "/x");
    EXPECT_EQ(caller::join_caller_path("/srv/jailbreak", "x", "/srv/jail"), "/srv/jailbreak/x");  // not under it
}

TEST(NotifProcFiles, ParsesStatWithAnAwkwardCommandName) {
    const std::string stat =
        "1234 (we ird) (x)) S 1000 1234 1234 0 -1 4194560 100 0 0 0 250 70 3 4 20 0 1 0 500 1000 200 "
        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 93824992231424 93824992235520 "
        "93825000000000 140 150 160 170 0\n";
    auto fields = proc::parse_stat(stat);
    ASSERT_TRUE(fields);
    EXPECT_EQ(fields->state, 'S');
    EXPECT_EQ(fields->ppid, 1000);
    EXPECT_EQ(fields->cpu_ticks, 320u);
    EXPECT_EQ(fields->start_brk, 93825000000000u);
    EXPECT_FALSE(proc::parse_stat("garbage"));
}

TEST(NotifProcFiles, ParsesStatmStatusChildrenAndMaps) {
    EXPECT_EQ(proc::parse_statm_data_pages("4142 3384 1666 1 0 2020 0\n"), 2020u);
    EXPECT_FALSE(proc::parse_statm_data_pages("1 2 3"));
    EXPECT_EQ(proc::parse_status_number("Name:\tpython3\nTgid:\t4321\nPid:\t4325\n", "Tgid"), 4321);
    EXPECT_EQ(proc::parse_status_number("Seccomp:\t2\nSeccomp_filters:\t1\n", "Seccomp"), 2);
    EXPECT_FALSE(proc::parse_status_number("Pid:\t1\n", "Tgid"));
    EXPECT_EQ(proc::parse_pid_list("12 13 14 "), (std::vector<pid_t>{12, 13, 14}));
    EXPECT_TRUE(proc::parse_pid_list("").empty());
    const std::string maps =
        "555555554000-555555558000 r--p 00000000 08:01 123 /usr/bin/python3\n"
        "555555600000-555555700000 rw-p 00000000 00:00 0                          [heap]\n"
        "7ffff7d00000-7ffff7d28000 r--p 00000000 08:01 456 /usr/lib/libc.so.6\n";
    EXPECT_EQ(proc::parse_heap_end(maps), 0x555555700000u);
    EXPECT_FALSE(proc::parse_heap_end("7ffff7d00000-7ffff7d28000 r--p 00000000 08:01 456 /usr/lib/libc.so.6\n"));
    // Only the kernel's heap: a file or a named anonymous mapping of the sandbox named like it
    // would make brk look free (a new break below it costs nothing).
    EXPECT_FALSE(proc::parse_heap_end("7f0000000000-7f0000001000 r--s 00000000 08:01 99 /tmp/x[heap]\n"));
    EXPECT_FALSE(proc::parse_heap_end("7f0000000000-7f0000001000 r--s 00000000 08:01 99 /tmp/a [heap]\n"));
    EXPECT_FALSE(proc::parse_heap_end("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 [anon:x [heap]\n"));
    // Nor a read-only or shared mapping the kernel names so (it overlaps the heap's range).
    EXPECT_FALSE(proc::parse_heap_end("555555600000-565555600000 r--p 00000000 00:00 0          [heap]\n"));
    EXPECT_FALSE(proc::parse_heap_end("555555600000-565555600000 rw-s 00000000 00:00 0          [heap]\n"));
    EXPECT_EQ(proc::parse_heap_end("7f0000000000-7f0000001000 r--s 00000000 08:01 99 /tmp/x[heap]\n"
                                   "555555554000-555555700000 rw-p 00000000 00:00 0          [heap]\n"),
              0x555555700000u);
}

TEST(NotifProcFiles, ReadsTheHeapEndOfALiveProcess) {
    constexpr std::intptr_t kGrowth = 1 << 20;
    ASSERT_NE(::sbrk(kGrowth), reinterpret_cast<void*>(-1));
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const auto brk_now = reinterpret_cast<std::uint64_t>(::sbrk(0));
    const std::uint64_t heap_end = (brk_now + page - 1) / page * page;
    EXPECT_EQ(proc::read_heap_end(::getpid()), heap_end);

    // With a hint: learnt by the first search, asked for first by the next; a stale one (here a
    // stack address, past the heap, and one below everything) still finds the heap.
    std::uint64_t hint = 0;
    EXPECT_EQ(proc::read_heap_end(::getpid(), proc::HeapSearchDepth::Usual, &hint), heap_end);
    ASSERT_NE(hint, 0u);
    EXPECT_LT(hint, heap_end);
    const std::uint64_t heap_start = hint;
    EXPECT_EQ(proc::read_heap_end(::getpid(), proc::HeapSearchDepth::Usual, &hint), heap_end);
    EXPECT_EQ(hint, heap_start);
    int on_stack = 0;
    for (std::uint64_t stale : {reinterpret_cast<std::uint64_t>(&on_stack), heap_end, std::uint64_t{1}}) {
        hint = stale;
        EXPECT_EQ(proc::read_heap_end(::getpid(), proc::HeapSearchDepth::Usual, &hint), heap_end) << stale;
        EXPECT_EQ(hint, heap_start) << stale;
    }
    ::sbrk(-kGrowth);
}

TEST(NotifProcFiles, ReadsTheLiveProcessItRunsIn) {
    auto stat = proc::read_stat(::getpid());
    ASSERT_TRUE(stat);
    EXPECT_EQ(stat->ppid, ::getppid());
    EXPECT_EQ(proc::read_tgid(::getpid()), ::getpid());
    auto data = proc::read_data_bytes(::getpid());
    ASSERT_TRUE(data);
    EXPECT_GT(*data, 0u);
}

}  // namespace
}  // namespace sandlock::notif
