# run(): a command to its end, output captured; each rule both ways.
import os
import signal

from conftest import policy

from sandlock import Sandbox


def test_run_captures_output_and_exit_status():
    r = Sandbox(policy()).run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (r.success, r.exit_code, r.stdout, r.stderr) == (False, 3, b"out\n", b"err\n")
    ok = Sandbox(policy()).run(["echo", "hello"])
    assert ok.success and ok.exit_code == 0 and ok.stdout == b"hello\n" and ok.value is None


def test_reading_outside_the_policy_is_refused(workdir, secret):
    allowed = Sandbox(policy(fs_readable=[str(workdir)])).run(["cat", str(secret)])
    assert allowed.stdout == b"s3cret"
    refused = Sandbox(policy()).run(["cat", str(secret)])
    assert refused.exit_code == 1 and b"Permission denied" in refused.stderr and refused.stdout == b""


def test_writing_needs_fs_writable(workdir):
    target = workdir / "out"
    code = f"open({str(target)!r}, 'w').write('x')"
    denied = Sandbox(policy(fs_readable=[str(workdir)])).run(["python3", "-c", code])
    # A path readable only is mounted read-only where the sandbox has its own mounts (EROFS),
    # else Landlock refuses the write (EACCES).
    assert denied.exit_code == 1 and not target.exists()
    assert b"Read-only file system" in denied.stderr or b"PermissionError" in denied.stderr
    written = Sandbox(policy(fs_writable=[str(workdir)])).run(["python3", "-c", code])
    assert written.success and target.read_text() == "x"


def test_a_timeout_kills_the_command():
    r = Sandbox(policy()).run(["sleep", "30"], timeout=0.5)
    assert (r.success, r.exit_code, r.error) == (False, -1, "Sandbox timed out")


def test_a_signal_death_is_a_negative_exit_code():
    r = Sandbox(policy()).run(["/bin/sh", "-c", "kill -9 $$"])
    assert r.exit_code == -signal.SIGKILL and not r.success


def test_a_missing_command_fails_without_raising():
    r = Sandbox(policy()).run(["/nonexistent/tool"])
    assert not r.success and r.exit_code == 127 and r.error


def test_an_unknown_syscall_name_comes_back_as_an_error():
    r = Sandbox(policy(deny_syscalls=["no_such_call"])).run(["true"])
    assert not r.success and r.exit_code == -1 and "no_such_call" in r.error


def test_environment():
    os.environ["SANDLOCK_PY_SECRET"] = "hunter2"
    try:
        r = Sandbox(policy(clean_env=True, env={"GREETING": "hi"})).run(
            ["/bin/sh", "-c", 'echo "[$SANDLOCK_PY_SECRET] $GREETING"'])
        assert r.stdout == b"[] hi\n"
        inherited = Sandbox(policy()).run(["/bin/sh", "-c", 'echo "$SANDLOCK_PY_SECRET"'])
        assert inherited.stdout == b"hunter2\n"
    finally:
        del os.environ["SANDLOCK_PY_SECRET"]


def test_sandbox_ids():
    assert len(Sandbox(policy()).id) == 12
    assert Sandbox(policy(), sandbox_id="mine").id == "mine"
    p = policy()
    assert Sandbox(p).policy is p


def test_the_gil_is_released_while_a_sandbox_runs():
    import threading
    import time

    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        start = time.monotonic()
        Sandbox(policy()).run(["sleep", "0.5"])
        during = [x for x in ticks if start < x < time.monotonic()]
    finally:
        stop.set()
        t.join()
    assert len(during) >= 20, "another thread could not run while the sandbox ran"


def test_bad_commands_come_back_as_results():
    for bad in ("true", [], ["echo", "a\x00b"], [1]):
        r = Sandbox(policy()).run(bad)
        assert not r.success and r.exit_code == -1 and "cmd" in r.error, bad


def test_a_file_name_that_is_not_utf8_is_passed_as_is(workdir):
    import os

    name = os.fsdecode(b"caf\xe9")  # not UTF-8: Python holds it surrogate-escaped
    r = Sandbox(policy(fs_writable=[str(workdir)])).run(["touch", str(workdir / name)])
    assert r.success, r.error
    assert os.path.exists(os.path.join(os.fsencode(str(workdir)), b"caf\xe9"))


def test_an_infinite_or_negative_timeout_waits_forever():
    assert Sandbox(policy()).run(["true"], timeout=float("inf")).success
    assert Sandbox(policy()).run(["true"], timeout=-1).success
