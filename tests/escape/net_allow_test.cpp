// Attacks on the host allowlist (net_allow_hosts) from inside the sandbox. Each race runs
// 20,000 tries and must see no success. The refused address is 127.0.0.2: loopback, so nothing
// can leave the machine even if a check broke, and refused since loopback is no wildcard (only
// what `localhost` resolves to, 127.0.0.1 and ::1, is allowed). A receiver bound to it inside
// the sandbox counts what arrived, so a broken check shows up both ways.
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sandlock::test {
namespace {

constexpr int kTries = 20000;

Policy allowing_localhost() {
    Policy p = system_policy();
    p.fs_readable.push_back(bin_dir().string());
    p.net_allow_hosts = {"localhost"};
    return p;
}

std::string attack(const std::string& mode) {
    Result r = run(allowing_localhost(), {(bin_dir() / "fd_swap_send").string(), mode, "127.0.0.2",
                                          std::to_string(kTries)});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    return r.stdout_text;
}

const std::string kNoSuccess = "tries 20000 succeeded 0 received 0\n";

// Before the fix a decoy the supervisor let through (CONTINUE) was swapped for a UDP socket
// before the kernel read the fd number again: 20,000 tries reached the refused address
// thousands of times. Every call with an address is now performed on the socket it checked.
TEST(EscapeNetAllow, SendtoThroughASwappedUnixSocketNeverArrives) { EXPECT_EQ(attack("sendto-unix"), kNoSuccess); }
TEST(EscapeNetAllow, SendtoThroughASwappedTcpSocketNeverArrives) { EXPECT_EQ(attack("sendto-tcp"), kNoSuccess); }
TEST(EscapeNetAllow, SendmsgThroughASwappedTcpSocketNeverArrives) { EXPECT_EQ(attack("sendmsg-tcp"), kNoSuccess); }
TEST(EscapeNetAllow, ConnectThroughASwappedUnixSocketNeverConnects) { EXPECT_EQ(attack("connect-unix"), kNoSuccess); }

// The other way: the same program, allowed to reach its receiver, gets its datagrams through.
TEST(EscapeNetAllow, TheAttackProgramReachesAnAllowedAddress) {
    Result r = run(allowing_localhost(), {(bin_dir() / "fd_swap_send").string(), "sendto-unix", "127.0.0.1", "100"});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    int tries = 0, succeeded = 0, received = 0;
    ASSERT_EQ(std::sscanf(r.stdout_text.c_str(), "tries %d succeeded %d received %d", &tries, &succeeded, &received), 3);
    EXPECT_GT(succeeded, 0);
    EXPECT_GT(received, 0);
    EXPECT_LE(received, succeeded);
}

}  // namespace
}  // namespace sandlock::test
