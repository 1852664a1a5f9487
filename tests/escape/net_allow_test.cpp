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
    Result r = run(allowing_localhost(), {(bin_dir() / "fd_swap_send").string(), "sendto-unix", "127.0.0.1", "2000"});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    int tries = 0, succeeded = 0, received = 0;
    ASSERT_EQ(std::sscanf(r.stdout_text.c_str(), "tries %d succeeded %d received %d", &tries, &succeeded, &received), 3);
    EXPECT_GT(succeeded, 0);
    EXPECT_GT(received, 0);
    EXPECT_LE(received, succeeded);
}

// A routing header sends a packet addressed to an allowed host on to another: an IPv6 segment
// routing header on a socket, then a datagram "to ::1", left with a foreign final destination
// (before the fix; found by review). Such socket options are refused under the allowlist.
const std::string kSourceRouting =
    "import ipaddress\n"
    "srh = bytes([0, 4, 4, 1, 1, 0, 0, 0]) + ipaddress.IPv6Address('::1').packed + ipaddress.IPv6Address('2001:db8::1').packed\n"
    "s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
    "probe(s6.setsockopt, socket.IPPROTO_IPV6, 57, srh)\n"  // IPV6_RTHDR
    "probe(s6.setsockopt, socket.IPPROTO_IPV6, 5, srh)\n"   // IPV6_2292RTHDR
    "s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "probe(s4.setsockopt, socket.IPPROTO_IP, 4, bytes([1, 1, 1, 0]))\n"  // IP_OPTIONS: NOPs
    "probe(s4.setsockopt, socket.IPPROTO_IP, socket.IP_TOS, 16)\n";      // other options still work

TEST(EscapeNetAllow, SourceRoutingOptionsAreRefused) {
    Result r = python(allowing_localhost(), kSourceRouting);
    EXPECT_EQ(r.stdout_text, "EACCES\nEACCES\nEACCES\nok\n") << r.stderr_text;
}

TEST(EscapeNetAllow, WithoutTheAllowlistSourceRoutingOptionsAreTheKernels) {
    Policy p = system_policy();
    Result r = python(p, kSourceRouting);
    EXPECT_EQ(r.stdout_text, "ok\nok\nok\nok\n") << r.stderr_text;
}

// The supervisor copies a sendmsg's control messages to forward them: a header claiming more
// bytes than the copy holds must be EINVAL, as the kernel says, never read or written past the
// copy (before the fix: sandlock aborted with "double free or corruption").
TEST(EscapeNetAllow, AnOversizedControlHeaderIsRefusedAndSandlockLives) {
    for (const char* claimed : {"24", "4096", "1000000"}) {
        Result r = run(allowing_localhost(), {(bin_dir() / "cmsg_overflow").string(), claimed});
        EXPECT_EQ(r.exit_code, 0) << claimed << ": " << r.stderr_text << r.error;
        EXPECT_EQ(r.stdout_text, "sendmsg EINVAL\n") << claimed;
    }
}

// A connect performed on the caller's behalf to a silent host (here a loopback listener whose
// accept queue is full, so its SYNs go unanswered: nothing leaves the machine) waits for the
// caller's SO_SNDTIMEO. Meanwhile 1,000 other supervised calls (socket()) must not wait behind
// it: before, they took the whole timeout; the connect still ends the kernel's way (EINPROGRESS).
TEST(EscapeNetAllow, ASlowConnectDoesNotStallOtherSupervisedCalls) {
    Result r = python(allowing_localhost(),
                      "import threading, time, struct\n"
                      "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(0); PORT = srv.getsockname()[1]\n"
                      "fill = []\n"
                      "for _ in range(3):\n"
                      "    f = socket.socket(); f.setblocking(False); f.connect_ex(('127.0.0.1', PORT)); fill.append(f)\n"
                      "time.sleep(0.2)\n"
                      "result = []\n"
                      "def slow():\n"
                      "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack('ll', 3, 0))\n"
                      "    t = time.monotonic(); rc = s.connect_ex(('127.0.0.1', PORT))\n"
                      "    result.append((errno.errorcode.get(rc, rc), time.monotonic() - t))\n"
                      "t = threading.Thread(target=slow); t.start(); time.sleep(0.3)\n"
                      "start = time.monotonic()\n"
                      "for _ in range(1000): socket.socket().close()\n"
                      "others = time.monotonic() - start\n"
                      "t.join()\n"
                      "print('others prompt', others < 1.0, 'connect', result[0][0], 'waited', result[0][1] > 2.5)\n");
    EXPECT_EQ(r.stdout_text, "others prompt True connect EINPROGRESS waited True\n") << r.stderr_text;
}

}  // namespace
}  // namespace sandlock::test
