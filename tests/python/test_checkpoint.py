# Checkpoints from Python: Sandbox.checkpoint() of a running counter, app state from save_fn,
# Checkpoint.save/load/list/delete (also in another store), restore continuing the counter,
# from_checkpoint running restore_fn with the state, and the errors.
import time

import pytest

import sandlock
from conftest import policy, skip_unless_available

COUNTER = """
import sys, time
log = open(sys.argv[1], "w")
i = 0
while True:
    log.write(f"{i}\\n"); log.flush()
    i += 1
    time.sleep(0.02)
"""


@pytest.fixture
def store(tmp_path_factory, monkeypatch):
    """The default store, away from what sandboxes may write."""
    skip_unless_available("sandbox namespaces")
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return data / "sandlock" / "checkpoints"


def numbers(path):
    return [int(n) for n in path.read_bytes().replace(b"\0", b" ").split()]


def wait_for_count(log, count):
    for _ in range(500):
        if log.exists() and len(numbers(log)) >= count:
            return
        time.sleep(0.01)
    raise AssertionError("the counter did not count")


def start_counter(sb, log):
    sb.exec(["/usr/bin/python3", "-c", COUNTER, str(log)], save_fn=lambda: b"app\0state")
    wait_for_count(log, 5)


def test_checkpoint_save_load_list_delete(store, workdir):
    log = workdir / "log"
    with sandlock.Sandbox(policy(fs_writable=[str(workdir)])) as sb:
        start_counter(sb, log)
        cp = sb.checkpoint()
        assert cp.name is None
        assert cp.app_state == b"app\0state"
        assert len(cp.processes) == 1 and "python3" in cp.processes[0]["exe"]
        assert cp.unrestorable == []
        path = cp.save("py")
        assert path == store / "py" and cp.name == "py"
        counted = len(numbers(log))
        wait_for_count(log, counted + 3)  # it runs on
    assert sandlock.Checkpoint.list() == ["py"]
    loaded = sandlock.Checkpoint.load("py")
    assert loaded.app_state == b"app\0state"
    assert loaded.policy.fs_writable == [str(workdir)]
    elsewhere = store.parent / "elsewhere"
    assert loaded.save("copy", store=elsewhere) == elsewhere / "copy"
    assert sandlock.Checkpoint.list(store=elsewhere) == ["copy"]
    with pytest.raises(sandlock.CheckpointError, match="checkpoint name"):
        loaded.save("../out")
    sandlock.Checkpoint.delete("py")
    assert sandlock.Checkpoint.list() == []
    with pytest.raises(sandlock.CheckpointError, match="does not exist"):
        sandlock.Checkpoint.load("py")


def test_restore_counts_on_from_where_it_stopped(store, workdir):
    log = workdir / "log"
    with sandlock.Sandbox(policy(fs_writable=[str(workdir)])) as sb:
        start_counter(sb, log)
        sb.checkpoint().save("counter")
    before = numbers(log)
    log.write_bytes(b"")  # the restored counter writes at its saved offset
    cp = sandlock.Checkpoint.load("counter")
    with sandlock.Sandbox(cp.policy) as sb:
        sb.restore(cp)
        time.sleep(0.3)
        assert sb.alive
    text = log.read_bytes()
    counted = [int(n) for n in text.replace(b"\0", b" ").split()]
    assert counted, text
    first = counted[0]
    assert 5 <= first <= before[-1] + 1
    assert counted == list(range(first, first + len(counted)))
    hole = len("".join(f"{n}\n" for n in range(first)))
    assert text[:hole] == b"\0" * hole


def test_from_checkpoint_runs_restore_fn_with_the_state(store, workdir):
    log = workdir / "log"
    with sandlock.Sandbox(policy(fs_writable=[str(workdir)])) as sb:
        start_counter(sb, log)
        cp = sb.checkpoint()

    def restore_fn(state):
        return state.decode("latin-1")

    result = sandlock.Sandbox.from_checkpoint(cp, restore_fn)
    assert result.success, result.error
    assert result.value == "app\0state"


def test_errors(store, workdir):
    with pytest.raises(sandlock.SandboxError):
        sandlock.Sandbox(policy()).checkpoint()
    with sandlock.Sandbox(policy(fs_writable=[str(workdir)])) as sb:
        start_counter(sb, workdir / "log")
        with pytest.raises(sandlock.SandboxError, match="paused"):
            sb.pause()
            sb.checkpoint()
        sb.resume()
        cp = sb.checkpoint()
    with pytest.raises(sandlock.SandboxError, match="context manager"):
        sandlock.Sandbox(cp.policy).restore(cp)
    with pytest.raises(TypeError):
        sandlock.Checkpoint(object())

    def failing():
        raise RuntimeError("no state today")

    with sandlock.Sandbox(policy(fs_writable=[str(workdir)])) as sb:
        sb.exec(["/bin/sleep", "5"], save_fn=failing)
        with pytest.raises(sandlock.CheckpointError, match="no state today"):
            sb.checkpoint()
