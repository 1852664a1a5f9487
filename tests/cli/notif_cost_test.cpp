// The memory limit's calls that cannot cost memory never wait for the supervisor: the kernel's
// filter routes mmap only when private and writable, mprotect only when it adds write, brk
// only with a new break (memory_limit.cpp). Counted with the supervisor's own tally.
#include "cli_run.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sandlock::test {
namespace {

// "supervisor answered N notifications" from a debug log, or -1.
long notifications_in(const std::string& log) {
    const std::string marker = "supervisor answered ";
    const auto at = log.rfind(marker);
    return at == std::string::npos ? -1 : std::stol(log.substr(at + marker.size()));
}

long notifications_of(const std::string& prot) {
    const std::string code =
        "import mmap\n"
        "for i in range(2000):\n"
        "    m = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE, prot=" + prot + ")\n"
        "    m.close()\n";
    std::vector<std::string> args = {"run", "-m", "256M"};
    args.insert(args.end(), kSystem.begin(), kSystem.end());
    args.insert(args.end(), {"--", "python3", "-c", code});
    const CliResult r = sandlock(args, {"SANDLOCK_LOG=debug"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return notifications_in(r.err);
}

TEST(NotifCost, ReadOnlyMappingsSkipTheSupervisorAndWritableOnesDoNot) {
    const long read_only = notifications_of("mmap.PROT_READ");
    const long writable = notifications_of("mmap.PROT_READ | mmap.PROT_WRITE");
    ASSERT_GE(read_only, 0) << "no supervisor tally in the debug log";
    EXPECT_GE(writable, 2000) << "every private writable mapping is judged";
    EXPECT_LT(read_only, writable - 1900) << "read-only mappings were sent to the supervisor";
}

}  // namespace
}  // namespace sandlock::test
