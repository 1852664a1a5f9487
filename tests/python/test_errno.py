# The errno a program sees for each refusal, as the reference documents it.
import socket

import pytest
from conftest import policy, skip_unless_available

from sandlock import Sandbox

PROBE = (
    "import errno, os, socket, sys\n"
    "def probe(fn, *args):\n"
    "    try:\n"
    "        fn(*args)\n"
    "        print('ok')\n"
    "    except OSError as e:\n"
    "        print(errno.errorcode.get(e.errno, type(e).__name__))\n"
)


def run_probe(p, code):
    r = Sandbox(p).run(["python3", "-c", PROBE + code], timeout=60)
    assert r.exit_code == 0, r.stderr
    return r.stdout.decode().split()


def test_a_connect_to_an_address_of_no_listed_host_is_refused():
    code = ("def connect(host):\n    s = socket.socket(); s.settimeout(5); s.connect((host, 80))\n"
            "probe(connect, '192.0.2.1')\n")
    assert run_probe(policy(net_allow_hosts=["localhost"]), code) == ["ECONNREFUSED"]


def unlisted_host():
    """A name /etc/hosts resolves here, other than localhost (probed unconfined)."""
    with open("/etc/hosts") as f:
        for line in f:
            for name in line.split("#")[0].split()[1:]:
                if name != "localhost":
                    try:
                        socket.getaddrinfo(name, 80)
                        return name
                    except socket.gaierror:
                        pass
    raise AssertionError("/etc/hosts names nothing but localhost here")


def test_an_unlisted_host_does_not_resolve():
    name = unlisted_host()
    code = (f"try:\n    socket.getaddrinfo({name!r}, 80); print('resolved')\n"
            "except socket.gaierror: print('gaierror')\n"
            "socket.getaddrinfo('localhost', 80); print('localhost')\n")
    assert run_probe(policy(net_allow_hosts=["localhost"]), code) == ["gaierror", "localhost"]


def test_a_port_landlock_does_not_allow_is_eacces():
    skip_unless_available("landlock TCP bind/connect ports")
    code = ("def connect(port):\n    s = socket.socket(); s.settimeout(5); s.connect(('127.0.0.1', port))\n"
            "probe(connect, 1)\n"
            "def bind(port):\n    s = socket.socket(); s.bind(('127.0.0.1', port))\n"
            "probe(bind, 0)\n")
    assert run_probe(policy(net_connect=[443], net_bind=[8080]), code) == ["EACCES", "EACCES"]
    assert run_probe(policy(), code) == ["ECONNREFUSED", "ok"]


def test_abstract_unix_sockets_outside_are_eperm_with_isolate_ipc():
    skip_unless_available("landlock IPC and signal scoping")
    server = socket.socket(socket.AF_UNIX)
    name = f"\0sandlock-pytest-{id(server)}"
    server.bind(name)
    server.listen()
    try:
        code = f"probe(socket.socket(socket.AF_UNIX).connect, {name!r})\n"
        assert run_probe(policy(), code) == ["ok"]
        assert run_probe(policy(isolate_ipc=True), code) == ["EPERM"]
    finally:
        server.close()


def test_signals_to_the_parents_processes_are_eperm_with_isolate_signals(workdir):
    skip_unless_available("landlock IPC and signal scoping")
    pidfile = workdir / "pid"
    with Sandbox(policy(fs_writable=[str(workdir)])) as parent:
        parent.exec(["/bin/sh", "-c", f"echo $$ > {pidfile}.tmp; mv {pidfile}.tmp {pidfile}; exec sleep 30"])
        for _ in range(200):
            if pidfile.exists():
                break
            import time
            time.sleep(0.05)
        code = f"probe(os.kill, {int(pidfile.read_text())}, 0)\nprobe(os.kill, os.getpid(), 0)\n"
        open_child = parent.sandbox(policy())
        assert run_nested(open_child, code) == ["ok", "ok"]
        scoped = parent.sandbox(policy(isolate_signals=True))
        assert run_nested(scoped, code) == ["EPERM", "ok"]


def run_nested(sb, code):
    r = sb.run(["python3", "-c", PROBE + code], timeout=60)
    assert r.exit_code == 0, (r.stderr, r.error)
    return r.stdout.decode().split()


@pytest.mark.parametrize("call", [
    "libc.unshare(0x10000000)",                       # CLONE_NEWUSER
    "libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)",
    "libc.ptrace(0, 0, None, None)",                  # PTRACE_TRACEME
])
def test_mount_ptrace_and_unshare_are_eperm(call):
    code = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            f"rc = {call}\nprint(rc, errno.errorcode.get(ctypes.get_errno()))\n")
    assert run_probe(policy(), code) == ["-1", "EPERM"]


def test_fork_past_max_processes_fails():
    code = ("import time\nkids, refused = [], 0\n"
            "for i in range(6):\n"
            "    try:\n"
            "        pid = os.fork()\n"
            "        if pid == 0:\n            time.sleep(30); os._exit(0)\n"
            "        kids.append(pid)\n"
            "    except BlockingIOError:\n        refused += 1\n"
            "print(len(kids), refused)\n"
            "for k in kids: os.kill(k, 9)\n")
    assert run_probe(policy(max_processes=3), code) == ["2", "4"]
