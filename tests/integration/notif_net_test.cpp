// net_allow_hosts in real sandboxes: the virtual /etc/hosts and nsswitch.conf, loopback kept,
// every other address refused on connect/sendto/sendmsg/sendmmsg, the sockaddr-swapping race,
// Landlock's port list kept by the on-behalf connect, and the socket families.
//
// Nothing here may reach another machine: the "forbidden" address is this machine's own
// non-loopback address, with the listener bound to every address — so even a broken check
// would only connect locally, and the test would see it.
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <optional>
#include <string>

namespace sandlock::test {
namespace {

SandboxOptions notif_layers() {
    SandboxOptions options;
    options.plugins = {"landlock", "seccomp", "notif"};
    return options;
}

Policy allowing(std::vector<std::string> hosts) {
    Policy p = system_policy();
    p.net_allow_hosts = std::move(hosts);
    return p;
}

// An address every machine has and no test allowlist lists: loopback is no wildcard, so a
// listener on it stands for "another host" on machines without any other address.
constexpr const char* kUnlisted = "127.0.0.2";

// A python prelude: OWN (an address the allowlist does not list), a TCP listener on every IPv4 and IPv6
// address that accepts in a thread, and a UDP receiver on every IPv4 address.
std::string listeners(const std::string& own) {
    return "import threading\n"
           "OWN = '" + own + "'\n"
           "srv = socket.socket(socket.AF_INET6); srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
           "srv.bind(('::', 0)); srv.listen(512); PORT = srv.getsockname()[1]\n"
           "def serve():\n"
           "    while True:\n"
           "        c, _ = srv.accept(); c.close()\n"
           "threading.Thread(target=serve, daemon=True).start()\n"
           "rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rx.bind(('0.0.0.0', 0)); UPORT = rx.getsockname()[1]\n"
           "rx.settimeout(2)\n";
}

TEST(NotifNet, HostsFileShowsOnlyLocalhostAndTheAllowedNames) {
    Result r = run(allowing({"localhost"}), {"/bin/cat", "/etc/hosts"}, notif_layers());
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_NE(r.stdout_text.find("127.0.0.1\tlocalhost\n"), std::string::npos) << r.stdout_text;
    // Every line that is not a comment is localhost's.
    std::size_t names = 0;
    for (std::size_t at = 0; at < r.stdout_text.size();) {
        std::size_t end = r.stdout_text.find('\n', at);
        std::string line = r.stdout_text.substr(at, end - at);
        at = end + 1;
        if (line.empty() || line[0] == '#') continue;
        EXPECT_NE(line.find("localhost"), std::string::npos) << line;
        ++names;
    }
    EXPECT_GE(names, 2u);
}

TEST(NotifNet, AnIpLiteralIsListedUnderItsName) {
    Result r = run(allowing({"192.0.2.77"}), {"/bin/cat", "/etc/hosts"}, notif_layers());
    EXPECT_NE(r.stdout_text.find("192.0.2.77\t192.0.2.77\n"), std::string::npos) << r.stdout_text << r.stderr_text;
}

TEST(NotifNet, NsswitchResolvesHostsFromFilesOnly) {
    Result r = python(allowing({"localhost"}),
                      "lines = [l.split() for l in open('/etc/nsswitch.conf') if l.startswith('hosts:')]\n"
                      "print(lines)\n"
                      "print(socket.gethostbyname('localhost'))\n"
                      "try: socket.gethostbyname('sandlock-test-unlisted.example'); print('resolved')\n"
                      "except OSError: print('unknown')\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "[['hosts:', 'files']]\n127.0.0.1\nunknown\n") << r.stderr_text;
}

TEST(NotifNet, TheVirtualFilesCannotBeWritten) {
    Result r = python(allowing({"localhost"}),
                      "probe(os.open, '/etc/hosts', os.O_WRONLY)\n"
                      "probe(os.open, '/etc/hosts', os.O_RDONLY | os.O_DIRECTORY)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "EACCES\nENOTDIR\n") << r.stderr_text;
}

TEST(NotifNet, LoopbackConnectsAndOtherAddressesAreRefused) {
    const std::string own = kUnlisted;
    Result r = python(allowing({"localhost"}),
                      listeners(own) +
                          "def connect(host, family=socket.AF_INET):\n"
                          "    s = socket.socket(family); s.connect((host, PORT)); s.close()\n"
                          "probe(connect, '127.0.0.1')\n"
                          "probe(connect, OWN)\n"
                          "probe(connect, '::1', socket.AF_INET6)\n"
                          "probe(connect, '::ffff:' + OWN, socket.AF_INET6)\n"
                          "probe(connect, '::ffff:127.0.0.1', socket.AF_INET6)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "ok\nECONNREFUSED\nok\nECONNREFUSED\nok\n") << r.stderr_text;
}

TEST(NotifNet, WithoutTheAllowlistTheSameConnectWorks) {
    const std::string own = kUnlisted;
    Result r = python(system_policy(),
                      listeners(own) + "s = socket.socket(); probe(s.connect, (OWN, PORT))\n", notif_layers());
    EXPECT_EQ(r.stdout_text, "ok\n") << r.stderr_text;
}

TEST(NotifNet, DatagramsToOtherAddressesAreRefused) {
    const std::string own = kUnlisted;
    Result r = python(allowing({"localhost"}),
                      listeners(own) +
                          "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                          "probe(u.sendto, b'far', (OWN, UPORT))\n"
                          "probe(u.sendmsg, [b'far'], [], 0, (OWN, UPORT))\n"
                          "print(u.sendto(b'near', ('127.0.0.1', UPORT)))\n"
                          "print(u.sendmsg([b'ne', b'ar'], [], 0, ('127.0.0.1', UPORT)))\n"
                          "print(rx.recv(100), rx.recv(100))\n"
                          "rx.settimeout(0.3)\n"
                          "try: print(rx.recv(100))\n"
                          "except socket.timeout: print('nothing else')\n"
                          // connect() then plain send: the peer was checked at connect.
                          "probe(u.connect, (OWN, UPORT))\n"
                          "u.connect(('127.0.0.1', UPORT)); print(u.send(b'conn'), rx.recv(100))\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text,
              "ECONNREFUSED\nECONNREFUSED\n4\n4\nb'near' b'near'\nnothing else\nECONNREFUSED\n4 b'conn'\n")
        << r.stderr_text;
}

TEST(NotifNet, SendmmsgStopsAtTheFirstRefusedMessage) {
    const std::string own = kUnlisted;
    // struct mmsghdr by hand: python has no sendmmsg.
    Result r = python(allowing({"localhost"}),
                      listeners(own) +
                          "class iovec(ctypes.Structure):\n"
                          "    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]\n"
                          "class msghdr(ctypes.Structure):\n"
                          "    _fields_ = [('name', ctypes.c_void_p), ('namelen', ctypes.c_uint), ('iov', ctypes.c_void_p),\n"
                          "                ('iovlen', ctypes.c_size_t), ('control', ctypes.c_void_p), ('controllen', ctypes.c_size_t),\n"
                          "                ('flags', ctypes.c_int)]\n"
                          "class mmsghdr(ctypes.Structure):\n"
                          "    _fields_ = [('hdr', msghdr), ('len', ctypes.c_uint)]\n"
                          "def sockaddr(host, port):\n"
                          "    b = ctypes.create_string_buffer(16)\n"
                          "    b[0:2] = (2).to_bytes(2, 'little'); b[2:4] = port.to_bytes(2, 'big'); b[4:8] = socket.inet_aton(host)\n"
                          "    return b\n"
                          "payloads = [ctypes.create_string_buffer(b'one'), ctypes.create_string_buffer(b'two!'), ctypes.create_string_buffer(b'three')]\n"
                          "names = [sockaddr('127.0.0.1', UPORT), sockaddr('127.0.0.1', UPORT), sockaddr(OWN, UPORT)]\n"
                          "iovs = [iovec(ctypes.addressof(p), len(p.value)) for p in payloads]\n"
                          "msgs = (mmsghdr * 3)()\n"
                          "for i in range(3):\n"
                          "    msgs[i].hdr.name = ctypes.addressof(names[i]); msgs[i].hdr.namelen = 16\n"
                          "    msgs[i].hdr.iov = ctypes.addressof(iovs[i]); msgs[i].hdr.iovlen = 1\n"
                          "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                          "libc.sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]\n"
                          "print(libc.sendmmsg(u.fileno(), msgs, 3, 0), [m.len for m in msgs])\n"
                          "print(rx.recv(100), rx.recv(100))\n"
                          "msgs[0].hdr.name = ctypes.addressof(names[2])\n"
                          "r = libc.sendmmsg(u.fileno(), msgs, 1, 0)\n"
                          "print(r, errno.errorcode.get(ctypes.get_errno()))\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "2 [3, 4, 0]\nb'one' b'two!'\n-1 ECONNREFUSED\n") << r.stderr_text;
}

TEST(NotifNet, AncillaryDataIsForwardedOnlyWhenVetted) {
    // IP_TTL only tunes the send and passes; IP_RETOPTS (IP options, which can route through
    // other hosts) is not forwarded by the supervisor.
    Result r = python(allowing({"localhost"}),
                      "rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rx.bind(('127.0.0.1', 0))\n"
                      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                      "ttl = [(socket.IPPROTO_IP, socket.IP_TTL, (5).to_bytes(4, 'little'))]\n"
                      "probe(u.sendmsg, [b'x'], ttl, 0, rx.getsockname())\n"
                      "opts = [(socket.IPPROTO_IP, socket.IP_RETOPTS, bytes([1, 1, 1, 0]))]\n"
                      "probe(u.sendmsg, [b'x'], opts, 0, rx.getsockname())\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "ok\nEACCES\n") << r.stderr_text;
}

TEST(NotifNet, LoopbackIsOnlyWhatTheListedNamesResolveTo) {
    // Receivers on loopback: without `localhost` listed, every loopback form, 0.0.0.0 and ::
    // are refused, TCP and UDP; with it, exactly 127.0.0.1 and ::1.
    const std::string code =
        "srv = socket.socket(socket.AF_INET6); srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
        "srv.bind(('::', 0)); srv.listen(64); PORT = srv.getsockname()[1]\n"
        "for host, family in [('127.0.0.1', socket.AF_INET), ('127.0.0.2', socket.AF_INET), ('0.0.0.0', socket.AF_INET),\n"
        "                     ('::1', socket.AF_INET6), ('::', socket.AF_INET6)]:\n"
        "    s = socket.socket(family); rc = s.connect_ex((host, PORT)); s.close()\n"
        "    u = socket.socket(family, socket.SOCK_DGRAM)\n"
        "    try: u.sendto(b'x', (host, PORT)); sent = 'ok'\n"
        "    except OSError as e: sent = errno.errorcode[e.errno]\n"
        "    print(host, errno.errorcode.get(rc, 'ok'), sent)\n";
    Result without = python(allowing({"192.0.2.77"}), code, notif_layers());
    EXPECT_EQ(without.stdout_text,
              "127.0.0.1 ECONNREFUSED ECONNREFUSED\n127.0.0.2 ECONNREFUSED ECONNREFUSED\n"
              "0.0.0.0 ECONNREFUSED ECONNREFUSED\n::1 ECONNREFUSED ECONNREFUSED\n:: ECONNREFUSED ECONNREFUSED\n")
        << without.stderr_text;
    Result with = python(allowing({"localhost"}), code, notif_layers());
    EXPECT_EQ(with.stdout_text,
              "127.0.0.1 ok ok\n127.0.0.2 ECONNREFUSED ECONNREFUSED\n0.0.0.0 ECONNREFUSED ECONNREFUSED\n"
              "::1 ok ok\n:: ECONNREFUSED ECONNREFUSED\n")
        << with.stderr_text;
}

TEST(NotifNet, NonBlockingAndRefusedLoopbackConnectsKeepTheirErrors) {
    const std::string own = kUnlisted;
    Result r = python(allowing({"localhost"}),
                      listeners(own) +
                          "import select\n"
                          "s = socket.socket(); s.setblocking(False)\n"
                          "rc = s.connect_ex(('127.0.0.1', PORT))\n"
                          "print('started' if rc in (0, errno.EINPROGRESS) else errno.errorcode[rc])\n"
                          "select.select([], [s], [], 5); print(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))\n"
                          "closed = socket.socket(); closed.bind(('127.0.0.1', 0)); cport = closed.getsockname()[1]; closed.close()\n"
                          "c = socket.socket(); probe(c.connect, ('127.0.0.1', cport))\n"
                          "f = socket.socket(); f.setblocking(False); print(errno.errorcode[f.connect_ex((OWN, PORT))])\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "started\n0\nECONNREFUSED\nECONNREFUSED\n") << r.stderr_text;
}

TEST(NotifNet, ASwappedSockaddrNeverReachesTheRefusedAddress) {
    const std::string own = kUnlisted;
    // Thread A connects in a loop through one sockaddr buffer while thread B flips its address
    // between loopback and OWN. The GIL is released during connect(), so B rewrites the buffer
    // while A's call is being decided. Each connection that succeeds says where it went. (Run
    // without the allowlist, the same loop reaches OWN hundreds of times.)
    Result r = python(allowing({"localhost"}),
                      listeners(own) +
                          "addr = ctypes.create_string_buffer(16)\n"
                          "addr[0:2] = (2).to_bytes(2, 'little'); addr[2:4] = PORT.to_bytes(2, 'big')\n"
                          // One aligned 32-bit store per flip: no torn, half-written address.
                          "ip = ctypes.c_uint32.from_buffer(addr, 4)\n"
                          "LOOP = int.from_bytes(socket.inet_aton('127.0.0.1'), 'little')\n"
                          "FAR = int.from_bytes(socket.inet_aton(OWN), 'little')\n"
                          "ip.value = LOOP\n"
                          // Quick GIL hand-offs, and each address held for a moment: the check
                          // sees the far one about half the time.
                          "sys.setswitchinterval(1e-4)\n"
                          "stop = False\n"
                          "def flip():\n"
                          "    while not stop:\n"
                          "        ip.value = FAR\n"
                          "        for _ in range(10): pass\n"
                          "        ip.value = LOOP\n"
                          "        for _ in range(10): pass\n"
                          "t = threading.Thread(target=flip); t.start()\n"
                          "libc.connect.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]\n"
                          "near = far = refused = 0\n"
                          "for i in range(1500):\n"
                          "    s = socket.socket()\n"
                          "    if libc.connect(s.fileno(), addr, 16) == 0:\n"
                          "        if s.getpeername()[0] == OWN: far += 1\n"
                          "        else: near += 1\n"
                          "    elif ctypes.get_errno() == errno.ECONNREFUSED: refused += 1\n"
                          "    s.close()\n"
                          "stop = True; t.join()\n"
                          "print('far', far)\n"
                          "print('near', near > 0, 'refused', refused > 0)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "far 0\nnear True refused True\n") << r.stderr_text;
}

TEST(NotifNet, TheOnBehalfConnectKeepsLandlocksPortList) {
    const std::string own = kUnlisted;
    Policy p = allowing({"localhost"});
    p.net_connect = {{1, 1}};  // some port nobody listens on: only port 1 may be connected
    Result r = python(p, listeners(own) + "s = socket.socket(); probe(s.connect, ('127.0.0.1', PORT))\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "EACCES\n") << r.stderr_text;
}

TEST(NotifNet, RawAndNonLocalSocketFamiliesAreRefused) {
    Result r = python(allowing({"localhost"}),
                      "probe(socket.socket, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)\n"
                      "probe(socket.socket, socket.AF_PACKET, socket.SOCK_DGRAM, 0)\n"
                      "probe(socket.socket, socket.AF_INET, socket.SOCK_DGRAM, 0)\n"
                      "probe(socket.socket, socket.AF_UNIX, socket.SOCK_STREAM, 0)\n"
                      "probe(socket.socket, socket.AF_NETLINK, socket.SOCK_RAW, 0)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "EACCES\nEAFNOSUPPORT\nok\nok\nok\n") << r.stderr_text;
}

TEST(NotifNet, UnixSocketsWorkThroughTheSupervisor) {
    // Performed on the caller's behalf too (a dup2 could otherwise turn the fd into an IP
    // socket): absolute and relative paths as the caller sees them, datagrams, and SCM_RIGHTS.
    TempDir dir;
    Policy p = allowing({"localhost"});
    p.fs_writable = {dir.str()};
    Result r = python(p,
                      "import array\n"
                      "os.chdir('" + dir.str() + "'); path = '" + dir / "sock" + "'\n"
                      "srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen()\n"
                      "c = socket.socket(socket.AF_UNIX); c.connect(path); a, _ = srv.accept()\n"
                      "c.send(b'hi'); print(a.recv(10))\n"
                      "r = socket.socket(socket.AF_UNIX); r.connect('sock'); b, _ = srv.accept(); print('relative ok')\n"
                      "d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.bind(path + '.d')\n"
                      "e = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); e.sendto(b'dg', 'sock.d'); print(d.recv(10))\n"
                      "rd, wr = os.pipe(); os.write(wr, b'through')\n"
                      "c.sendmsg([b'f'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [rd]))])\n"
                      "msg, anc, _, _ = a.recvmsg(1, socket.CMSG_SPACE(4))\n"
                      "got = array.array('i'); got.frombytes(anc[0][2]); print(msg, os.read(got[0], 10))\n"
                      "probe(c.connect, '/nonexistent/sock')\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "b'hi'\nrelative ok\nb'dg'\nb'f' b'through'\nENOENT\n") << r.stderr_text;
}

TEST(NotifNet, AnUnresolvableNameIsRefusedBeforeAnythingRuns) {
    // A 64-character label fails inside the resolver: no DNS query leaves the machine.
    const std::string name = std::string(64, 'a') + ".invalid";
    try {
        run(allowing({name}), {"/bin/true"}, notif_layers());
        FAIL() << "ran with an unresolvable allowed host";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
    Policy lenient = allowing({name});
    lenient.strict = false;
    EXPECT_EQ(run(lenient, {"/bin/true"}, notif_layers()).exit_code, 0);
}

}  // namespace
}  // namespace sandlock::test
