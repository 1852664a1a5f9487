// Calls a module cannot act on never wait for the supervisor: the kernel's filter routes mmap
// only when private and writable, mprotect only when it adds write, brk only with a new break
// (memory_limit.cpp), and the /proc module's opens only when not of a directory (procfs.cpp).
// Counted with the supervisor's own tally.
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

// The supervisor's tally for python3 running `code` under `flags` (run's flags).
long notifications_running(std::vector<std::string> flags, const std::string& code) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), kSystem.begin(), kSystem.end());
    args.insert(args.end(), {"--", "python3", "-c", code});
    const CliResult r = sandlock(args, {"SANDLOCK_LOG=debug"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return notifications_in(r.err);
}

long notifications_of(const std::string& prot) {
    return notifications_running({"-m", "256M"},
                                  "import mmap\n"
                                  "for i in range(2000):\n"
                                  "    m = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE, prot=" + prot + ")\n"
                                  "    m.close()\n");
}

// Opens of `path` with `flags` (python's os names) 2000 times, with the /proc module on.
long notifications_of_opens(const std::string& path, const std::string& flags) {
    return notifications_running({"-r", "/proc"}, "import os\n"
                                                  "for i in range(2000):\n"
                                                  "    os.close(os.open('" + path + "', " + flags + "))\n");
}

TEST(NotifCost, ReadOnlyMappingsSkipTheSupervisorAndWritableOnesDoNot) {
    const long read_only = notifications_of("mmap.PROT_READ");
    const long writable = notifications_of("mmap.PROT_READ | mmap.PROT_WRITE");
    ASSERT_GE(read_only, 0) << "no supervisor tally in the debug log";
    EXPECT_GE(writable, 2000) << "every private writable mapping is judged";
    EXPECT_LT(read_only, writable - 1900) << "read-only mappings were sent to the supervisor";
}

// The /proc module serves mount tables, which a directory open cannot read (ENOTDIR): the
// kernel's filter lets those through, as python's import system makes them for every listing.
TEST(NotifCost, DirectoryOpensSkipTheProcModule) {
    const long directories = notifications_of_opens("/usr", "os.O_RDONLY | os.O_DIRECTORY");
    const long files = notifications_of_opens("/etc/passwd", "os.O_RDONLY");
    ASSERT_GE(directories, 0) << "no supervisor tally in the debug log";
    EXPECT_GE(files, 2000) << "every open of a file is judged";
    EXPECT_LT(directories, files - 1900) << "directory opens were sent to the supervisor";
}

}  // namespace
}  // namespace sandlock::test
