// Attacks on Landlock's port rules that avoid connect(2) and bind(2): the implicit TCP Fast
// Open connect of sendto/sendmsg/sendmmsg(MSG_FASTOPEN) against net_connect, and the ephemeral
// port listen() gives an unbound socket against net_bind. Each rule is tested both ways, and
// each attack loop runs 20,000 tries that must all fail.
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace sandlock::test {
namespace {

constexpr int kTries = 20000;
// The port the policies list. Any port would do for the rules, but the tests bind it, so it lies
// below this machine's ephemeral range (ip_local_port_range): no connection elsewhere can hold
// it as its local port (47613, inside the range, once collided with one).
int allowed_port() {
    static const int port = [] {
        std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
        int low = 32768, high = 60999;
        range >> low >> high;
        return std::max(low - 2000, 1100);
    }();
    return port;
}
const int kAllowedPort = allowed_port();

PortRange only_port(int port) { return {static_cast<std::uint16_t>(port), static_cast<std::uint16_t>(port)}; }

Policy with_attacks() {
    Policy p = system_policy();
    p.fs_readable.push_back(bin_dir().string());
    return p;
}

// A listener on 127.0.0.1 at an ephemeral port (not the allowed one) and a counter of what
// reached it; FASTOPEN(flags) sends one byte to it with sendto(MSG_FASTOPEN | flags).
const std::string kFastOpenPrelude =
    "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(64); PORT = srv.getsockname()[1]\n"
    "libc.sendto.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_uint]\n"
    "addr = ctypes.create_string_buffer(16)\n"
    "addr[0:2] = (2).to_bytes(2, 'little'); addr[2:4] = PORT.to_bytes(2, 'big'); addr[4:8] = socket.inet_aton('127.0.0.1')\n"
    "def fastopen(extra=0):\n"
    "    s = socket.socket(); rc = libc.sendto(s.fileno(), b'x', 1, socket.MSG_FASTOPEN | extra, addr, 16)\n"
    "    e = ctypes.get_errno(); s.close()\n"
    "    return 'ok' if rc == 1 else errno.errorcode.get(e, str(e))\n";

TEST(EscapePortRules, FastOpenReachesAnyPortWithoutNetConnect) {
    Result r = python(system_policy(), kFastOpenPrelude + "print(fastopen())\n");
    EXPECT_EQ(r.stdout_text, "ok\n") << r.stderr_text;
}

TEST(EscapePortRules, FastOpenIsRefusedUnderNetConnectWhateverTheOtherFlagBits) {
    Policy p = system_policy();
    p.net_connect = {only_port(kAllowedPort)};
    // Before the fix every try reached the unlisted port (20,000 in 20,000).
    Result r = python(p, kFastOpenPrelude +
                             "import collections\n"
                             "extras = [0, socket.MSG_DONTWAIT, socket.MSG_NOSIGNAL, 1 << 32, 0xffffffff00000000]\n"
                             "seen = collections.Counter(fastopen(extras[i % len(extras)]) for i in range(" +
                             std::to_string(kTries) +
                             "))\n"
                             "print(sorted(seen.items()))\n"
                             "m = socket.socket(); probe(m.sendmsg, [b'x'], [], socket.MSG_FASTOPEN, ('127.0.0.1', PORT))\n"
                             // The other way: a plain connect to the listed port still passes Landlock
                             // (nothing listens there: refused by the peer, not by the sandbox).
                             "c = socket.socket(); probe(c.connect, ('127.0.0.1', " +
                             std::to_string(kAllowedPort) + "))\n");
    EXPECT_EQ(r.stdout_text, "[('EACCES', 20000)]\nEACCES\nECONNREFUSED\n") << r.stderr_text;
}

// MPTCP, SCTP and DCCP connect and listen outside Landlock's TCP hooks (before: with
// --net-connect 80 an MPTCP socket connected to any port, with --net-bind 80 it listened on
// any). Under a port rule such sockets cannot be made; TCP and UDP sockets still can.
const std::string kTransports =
    "for proto in (262, 132, 33, 0, socket.IPPROTO_TCP):\n"
    "    try: socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto).close(); print(proto, 'ok')\n"
    "    except OSError as e: print(proto, errno.errorcode.get(e.errno, e.errno))\n"
    "socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close(); print('udp ok')\n";

TEST(EscapePortRules, TransportsLandlockCannotSeeAreRefusedUnderPortRules) {
    const std::string refused = "262 EPROTONOSUPPORT\n132 EPROTONOSUPPORT\n33 EPROTONOSUPPORT\n0 ok\n6 ok\nudp ok\n";
    for (const bool bind_rule : {false, true}) {
        Policy p = system_policy();
        (bind_rule ? p.net_bind : p.net_connect) = {only_port(kAllowedPort)};
        Result r = python(p, kTransports);
        EXPECT_EQ(r.stdout_text, refused) << (bind_rule ? "net_bind" : "net_connect") << r.stderr_text;
    }
}

TEST(EscapePortRules, WithoutPortRulesMptcpSocketsCanBeMade) {
    // Probed unconfined first: a kernel without MPTCP refuses it everywhere.
    const int probe = ::socket(AF_INET, SOCK_STREAM, 262);
    const std::string expected = probe >= 0 ? "262 ok\n" : "262 EPROTONOSUPPORT\n";
    if (probe >= 0) ::close(probe);
    Result r = python(system_policy(), kTransports);
    EXPECT_EQ(r.stdout_text.substr(0, r.stdout_text.find('\n') + 1), expected) << r.stdout_text << r.stderr_text;
}

TEST(EscapePortRules, ListenOnAnUnboundSocketIsRefusedUnderNetBind) {
    Policy p = with_attacks();
    p.net_bind = {only_port(kAllowedPort)};
    Result r = python(p,
                      "s = socket.socket(); probe(s.listen)\n"
                      "b = socket.socket(); b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                      "b.bind(('127.0.0.1', " + std::to_string(kAllowedPort) + ")); probe(b.listen)\n"
                      "u = socket.socket(socket.AF_UNIX); u.bind('\\0sandlock-listen-' + str(os.getpid())); probe(u.listen)\n");
    EXPECT_EQ(r.stdout_text, "EACCES\nok\nok\n") << r.stderr_text;
}

TEST(EscapePortRules, ListenOnAnUnboundSocketWorksWithoutNetBind) {
    Result r = python(system_policy(), "s = socket.socket(); probe(s.listen); print(s.getsockname()[1] > 0)\n");
    EXPECT_EQ(r.stdout_text, "ok\nTrue\n") << r.stderr_text;
}

TEST(EscapePortRules, ASwappedUnboundSocketNeverListens) {
    Policy p = with_attacks();
    p.net_bind = {only_port(kAllowedPort + 1)};
    Result r = run(p, {(bin_dir() / "listen_swap").string(), std::to_string(kAllowedPort + 1), std::to_string(kTries)});
    EXPECT_EQ(r.stdout_text, "tries 20000 succeeded 0\n") << r.stderr_text;
}

TEST(EscapePortRules, NetBindWithoutTheNotifLayerIsRefused) {
    Policy p = system_policy();
    p.net_bind = {only_port(kAllowedPort)};
    SandboxOptions options;
    options.plugins = {"landlock", "seccomp"};
    try {
        run(p, {"/bin/true"}, options);
        FAIL() << "ran net_bind without the notif layer";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("net_bind needs plugin 'notif'"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace sandlock::test
