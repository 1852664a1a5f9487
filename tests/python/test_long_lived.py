# The context-manager API: exec, wait, pause, resume, update, kill, nested sandboxes.
import os
import time

import pytest
from conftest import policy, read_file

from sandlock import PolicyError, Sandbox, SandboxError


def test_exec_outside_with_says_to_use_the_context_manager():
    with pytest.raises(SandboxError, match="context manager"):
        Sandbox(policy()).exec(["true"])


def test_pause_with_nothing_running():
    with pytest.raises(SandboxError, match="No running process"):
        Sandbox(policy()).pause()
    with Sandbox(policy()) as sb:
        with pytest.raises(SandboxError, match="No running process"):
            sb.pause()
    with pytest.raises(SandboxError, match="No process running"):
        Sandbox(policy()).wait()


def test_exec_and_wait(workdir):
    out = workdir / "out"
    with Sandbox(policy(fs_writable=[str(workdir)])) as sb:
        sb.exec(["/bin/sh", "-c", f"echo started > {out}; exit 7"])
        assert sb.wait(timeout=20) == 7
        assert not sb.alive and sb.pid > 0
    assert out.read_text() == "started\n"


def test_wait_timeout_leaves_it_running():
    with Sandbox(policy()) as sb:
        sb.exec(["sleep", "30"])
        with pytest.raises(TimeoutError):
            sb.wait(timeout=0.2)
        assert sb.alive
    assert not sb.alive  # leaving `with` ended it


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_pause_stops_cpu_time_and_resume_restarts_it():
    with Sandbox(policy()) as sb:
        sb.exec(["python3", "-c", "while True: pass"])
        time.sleep(0.3)
        sb.pause()
        assert sb.is_frozen
        time.sleep(0.1)
        frozen = cpu_ticks(sb.pid)
        time.sleep(0.5)
        assert cpu_ticks(sb.pid) == frozen
        sb.resume()
        assert not sb.is_frozen
        time.sleep(0.5)
        assert cpu_ticks(sb.pid) > frozen
        sb.kill()
        assert not sb.alive


def test_two_execs_share_max_processes():
    with Sandbox(policy(max_processes=3)) as sb:
        sb.exec(["sleep", "30"])
        sb.exec(["sleep", "30"])
        sb.exec(["python3", "-c", "import os, sys\n"
                 "try:\n    os.fork() or os._exit(0)\n    sys.exit(0)\n"
                 "except BlockingIOError:\n    sys.exit(11)\n"])
        assert sb.wait(timeout=20) == 11  # 2 sleeps + python = 3: its fork is the 4th


def test_update_raises_and_lowers_limits():
    with Sandbox(policy(max_processes=2, max_memory="64M")) as sb:
        sb.exec(["sleep", "30"])
        sb.update(max_processes=8, max_memory="256M")
        sb.exec(["sleep", "30"])
        sb.exec(["/bin/sh", "-c", "sleep 30 & wait"])
        assert sb.alive
        sb.update(max_processes=1)
        with pytest.raises(PolicyError, match="max_cpu"):
            sb.update(max_cpu="50%")  # started without a CPU share
        with pytest.raises(PolicyError, match="max_memory"):
            sb.update(max_memory="lots")


def test_nested_sandbox_narrows(workdir, secret):
    with Sandbox(policy(fs_readable=[str(workdir)])) as parent:
        child = parent.sandbox(policy())
        r = child.run(["cat", str(secret)])
        assert r.exit_code == 1 and b"Permission denied" in r.stderr
        assert parent.sandbox(policy(fs_readable=[str(workdir)])).run(["cat", str(secret)]).stdout == b"s3cret"
        widened = parent.sandbox(policy(fs_readable=["/root"]))
        refused = widened.run(["true"])
        assert not refused.success and "fs_readable" in refused.error and "/root" in refused.error
        with pytest.raises(PolicyError, match="max_memory"):
            with parent.sandbox(policy(max_memory="1G")) as nested:
                nested.exec(["true"])


def test_nested_exec_and_call():
    with Sandbox(policy(max_processes=10)) as parent:
        with parent.sandbox(policy(max_processes=5)) as child:
            child.exec(["/bin/sh", "-c", "exit 4"])
            assert child.wait(timeout=20) == 4
        r = parent.sandbox(policy(max_processes=5)).call(lambda: os.getpid() > 0)
        assert r.success and r.value is True


def test_nested_call_keeps_the_parents_rules(workdir, secret):

    def read():
        return read_file(secret)

    parent = Sandbox(policy())
    assert not parent.sandbox(policy()).call(read).success
    # The child may not widen the parent: refused, with the field named.
    widened = parent.sandbox(policy(fs_readable=[str(workdir)])).call(read)
    assert not widened.success and "fs_readable" in widened.error
    parent.kill()


def test_exec_and_kill_from_two_threads():
    import threading

    with Sandbox(policy()) as sb:
        for _ in range(30):
            t = threading.Thread(target=sb.exec, args=(["sleep", "5"],))
            t.start()
            sb.kill()
            t.join()
            sb.kill()
            assert not sb.alive


def test_a_nested_sandbox_follows_its_parent_after_a_kill():
    with Sandbox(policy()) as parent:
        child = parent.sandbox(policy())
        assert child.run(["true"]).success
        parent.kill()
        assert child.run(["true"]).success
