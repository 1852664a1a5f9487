// The memory limit's pure parts: what each call costs, and the account's bookkeeping.
#include "memory/memory_account.hpp"
#include "memory/memory_cost.hpp"

#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <cstdint>
#include <limits>

namespace sandlock::notif {
namespace {

using namespace std::chrono_literals;
using Clock = MemoryAccount::Clock;

constexpr std::uint64_t MiB = 1 << 20;

TEST(NotifMemoryCost, PrivateWritableMappingsCostTheirPages) {
    EXPECT_EQ(memory::mmap_cost(MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS), MiB);
    EXPECT_EQ(memory::mmap_cost(1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS), memory::round_to_pages(1));
    EXPECT_EQ(memory::mmap_cost(MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE), MiB);  // copy-on-write file
    EXPECT_EQ(memory::mmap_cost(MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE), MiB);
}

TEST(NotifMemoryCost, GrowsDownMappingsCostTheStackTheyMayGrowTo) {
    const std::uint64_t growsdown = MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN;
    EXPECT_EQ(memory::mmap_cost(4096, PROT_READ | PROT_WRITE, growsdown, 8 * MiB), 4096 + 8 * MiB);
    EXPECT_EQ(memory::mmap_cost(4096, PROT_READ, growsdown, 8 * MiB), 0u);  // charged when made writable
    EXPECT_EQ(memory::mmap_cost(4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 8 * MiB), 4096u);
    EXPECT_EQ(memory::mmap_cost(~0ull, PROT_READ | PROT_WRITE, growsdown, 8 * MiB), ~0ull);  // saturates
}

TEST(NotifMemoryCost, DroppableMappingsCountAsPrivate) {
    EXPECT_EQ(memory::mmap_cost(8192, PROT_READ | PROT_WRITE, memory::kMapDroppable | MAP_ANONYMOUS), 8192u);
    EXPECT_EQ(memory::mmap_cost(8192, PROT_READ, memory::kMapDroppable | MAP_ANONYMOUS), 0u);
}

TEST(NotifMemoryCost, ReadOnlyReservedAndSharedMappingsCostNothing) {
    EXPECT_EQ(memory::mmap_cost(MiB, PROT_READ, MAP_PRIVATE), 0u);  // a library's text
    EXPECT_EQ(memory::mmap_cost(MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS), 0u);  // a reservation
    EXPECT_EQ(memory::mmap_cost(MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS), 0u);
    EXPECT_EQ(memory::mmap_cost(MiB, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE), 0u);
}

TEST(NotifMemoryCost, HugeLengthsSaturateInsteadOfWrapping) {
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(memory::round_to_pages(max - 1), max);
    EXPECT_EQ(memory::mmap_cost(max, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS), max);
}

TEST(NotifMemoryCost, MremapCostsOnlyItsGrowth) {
    EXPECT_EQ(memory::mremap_cost(MiB, 3 * MiB, 1), 2 * MiB);
    EXPECT_EQ(memory::mremap_cost(3 * MiB, MiB, 1), 0u);
    EXPECT_EQ(memory::mremap_cost(MiB, MiB, 1 | 4), MiB);  // MREMAP_DONTUNMAP leaves the old range
}

TEST(NotifMemoryCost, MprotectCostsWhenItGrantsWrite) {
    EXPECT_EQ(memory::mprotect_cost(MiB, PROT_READ | PROT_WRITE), MiB);
    EXPECT_EQ(memory::mprotect_cost(MiB, PROT_READ), 0u);
}

TEST(NotifMemoryCost, BrkCostsTheGrowthOfTheHeap) {
    const std::uint64_t end = 0x555555600000;
    EXPECT_EQ(memory::brk_cost(0, end), 0u);  // a query
    EXPECT_EQ(memory::brk_cost(end + MiB, end), MiB);
    EXPECT_EQ(memory::brk_cost(end - MiB, end), 0u);  // shrinking
    EXPECT_EQ(memory::brk_cost(end + 1, end), memory::round_to_pages(1));
}

TEST(NotifMemoryCost, CloneKinds) {
    EXPECT_EQ(memory::clone_kind(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD),
              memory::CloneKind::Thread);
    EXPECT_EQ(memory::clone_kind(CLONE_VM | CLONE_VFORK | SIGCHLD), memory::CloneKind::SharedMemory);
    EXPECT_EQ(memory::clone_kind(SIGCHLD), memory::CloneKind::Copy);
}

TEST(NotifMemoryAccount, GrantsStayWithinTheLimit) {
    MemoryAccount account(100 * MiB);
    const auto now = Clock::now();
    account.set_usage(1, 40 * MiB);
    EXPECT_TRUE(account.try_grant(1, 1, 50 * MiB, now));
    EXPECT_EQ(account.total(), 90 * MiB);
    EXPECT_FALSE(account.try_grant(1, 2, 20 * MiB, now));  // another thread: 110 > 100
    EXPECT_TRUE(account.try_grant(1, 2, 10 * MiB, now));   // exactly at the limit
    EXPECT_FALSE(account.try_grant(1, 3, 1, now));
}

TEST(NotifMemoryAccount, AThreadsNextCallFoldsItsGrantIntoTheMeasurement) {
    MemoryAccount account(100 * MiB);
    const auto now = Clock::now();
    account.set_usage(1, 10 * MiB);
    ASSERT_TRUE(account.try_grant(1, 7, 30 * MiB, now));
    // Thread 7 comes back: its mmap happened and the fresh measurement shows it.
    account.thread_returned(7);
    account.set_usage(1, 40 * MiB);
    EXPECT_EQ(account.total(), 40 * MiB);
}

TEST(NotifMemoryAccount, UnmeasuredGrantsLeaveOnlyWithAMeasurementOfEveryone) {
    MemoryAccount account(100 * MiB);
    const auto start = Clock::now();
    account.set_usage(1, 10 * MiB);
    account.set_usage(2, 1 * MiB);  // a CLONE_VM child of process 1, say
    ASSERT_TRUE(account.try_grant_unmeasured(20 * MiB, start));
    ASSERT_TRUE(account.try_grant_unmeasured(20 * MiB, start + std::chrono::milliseconds(1)));
    EXPECT_EQ(account.total(), 51 * MiB);  // never less than what may be in use
    EXPECT_FALSE(account.try_grant_unmeasured(60 * MiB, start));
    // The caller's thread coming back, or its process exiting, does not take them out: the
    // memory may be another process's now.
    account.thread_returned(2);
    account.forget_process(2);
    EXPECT_EQ(account.total(), 50 * MiB);
    // Only once everyone was measured, and only what is old enough to show in that measurement.
    account.set_usage(1, 50 * MiB);
    EXPECT_FALSE(account.has_unmeasured_older_than(start + std::chrono::milliseconds(50), std::chrono::milliseconds(100)));
    account.expire_grants(start + std::chrono::milliseconds(50), std::chrono::milliseconds(100));
    EXPECT_EQ(account.total(), 90 * MiB);
    EXPECT_TRUE(account.has_unmeasured_older_than(start + std::chrono::milliseconds(200), std::chrono::milliseconds(100)));
    account.expire_grants(start + std::chrono::milliseconds(200), std::chrono::milliseconds(100));
    EXPECT_EQ(account.total(), 50 * MiB);
}

TEST(NotifMemoryAccount, ChurnLeavesTheAccountWhereItWas) {
    MemoryAccount account(64 * MiB);
    const auto now = Clock::now();
    account.set_usage(1, 8 * MiB);
    for (int i = 0; i < 10000; ++i) {
        account.thread_returned(1);
        account.set_usage(1, 8 * MiB);  // the previous MiB was unmapped again
        ASSERT_TRUE(account.try_grant(1, 1, MiB, now)) << "cycle " << i;
    }
    EXPECT_EQ(account.total(), 9 * MiB);
}

TEST(NotifMemoryAccount, AnExitedProcessTakesItsMemoryAndGrantsAlong) {
    MemoryAccount account(100 * MiB);
    const auto now = Clock::now();
    account.set_usage(1, 10 * MiB);
    account.set_usage(2, 50 * MiB);
    ASSERT_TRUE(account.try_grant(2, 20, 30 * MiB, now));
    EXPECT_FALSE(account.try_grant(1, 1, 20 * MiB, now));
    account.forget_process(2);
    EXPECT_EQ(account.total(), 10 * MiB);
    EXPECT_TRUE(account.try_grant(1, 1, 80 * MiB, now));
    EXPECT_FALSE(account.knows(2));
}

TEST(NotifMemoryAccount, OldGrantsExpire) {
    MemoryAccount account(100 * MiB);
    const auto then = Clock::now();
    ASSERT_TRUE(account.try_grant(1, 1, 60 * MiB, then));
    ASSERT_TRUE(account.try_grant(1, 2, 30 * MiB, then + 90ms));
    account.expire_grants(then + 100ms, 100ms);
    EXPECT_EQ(account.total(), 30 * MiB);
    EXPECT_EQ(account.grants_in_flight(), 1u);
}

TEST(NotifMemoryAccount, AForksCopyIsHeldUntilTheChildIsFound) {
    MemoryAccount account(80 * MiB);
    const auto now = Clock::now();
    account.set_usage(1, 30 * MiB);
    ASSERT_TRUE(account.try_grant_fork(1, 1, 30 * MiB, now));
    // The forking thread comes back before the child is found: the copy still counts.
    account.thread_returned(1);
    EXPECT_EQ(account.total(), 60 * MiB);
    EXPECT_FALSE(account.try_grant_fork(1, 1, 30 * MiB, now)) << "a second copy would make 90 MiB";
    // Found and measured, the child counts on its own and the grant goes.
    account.set_usage(2, 30 * MiB);
    account.child_found(1);
    EXPECT_EQ(account.total(), 60 * MiB);
    EXPECT_EQ(account.grants_in_flight(), 0u);
}

TEST(NotifMemoryAccount, ForksInARowAddUp) {
    MemoryAccount account(100 * MiB);
    const auto now = Clock::now();
    account.set_usage(1, 20 * MiB);
    ASSERT_TRUE(account.try_grant_fork(1, 1, 20 * MiB, now));
    ASSERT_TRUE(account.try_grant_fork(1, 1, 20 * MiB, now));
    ASSERT_TRUE(account.try_grant_fork(1, 1, 20 * MiB, now));
    EXPECT_EQ(account.total(), 80 * MiB);
    EXPECT_FALSE(account.try_grant_fork(1, 1, 30 * MiB, now));
    account.expire_grants(now + 100ms, 100ms);
    EXPECT_EQ(account.total(), 20 * MiB);
}

TEST(NotifMemoryAccount, AnOversizedRequestNeverOverflows) {
    MemoryAccount account(100 * MiB);
    account.set_usage(1, 99 * MiB);
    EXPECT_FALSE(account.try_grant(1, 1, std::numeric_limits<std::uint64_t>::max(), Clock::now()));
    EXPECT_EQ(account.total(), 99 * MiB);
}

TEST(NotifMemoryAccount, ARaisedLimitLetsLaterCallsFit) {
    MemoryAccount account(100 * MiB);
    const auto now = Clock::now();
    account.set_usage(1, 90 * MiB);
    EXPECT_FALSE(account.try_grant(1, 1, 20 * MiB, now));
    account.set_limit(200 * MiB);
    EXPECT_EQ(account.limit(), 200 * MiB);
    EXPECT_TRUE(account.try_grant(1, 1, 20 * MiB, now));
    EXPECT_EQ(account.total(), 110 * MiB);
}

TEST(NotifMemoryAccount, ALimitLoweredBelowUseRefusesEveryCallButKeepsTheAccount) {
    MemoryAccount account(100 * MiB);
    const auto now = Clock::now();
    account.set_usage(1, 60 * MiB);
    ASSERT_TRUE(account.try_grant(1, 1, 10 * MiB, now));
    account.set_limit(50 * MiB);
    EXPECT_EQ(account.total(), 70 * MiB) << "what is in use stays: nothing is taken away";
    EXPECT_FALSE(account.try_grant(1, 2, 1, now));
    EXPECT_FALSE(account.try_grant_fork(1, 3, 1, now));
    // Memory given back below the new limit: calls fit again.
    account.thread_returned(1);
    account.set_usage(1, 40 * MiB);
    EXPECT_TRUE(account.try_grant(1, 2, 10 * MiB, now));
    EXPECT_FALSE(account.try_grant(1, 3, 1, now));
}

}  // namespace
}  // namespace sandlock::notif
