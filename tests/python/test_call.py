# call(): a Python function in a forked, confined copy of the interpreter.
import threading
import time

from conftest import policy, read_file

from sandlock import Sandbox


def test_the_value_comes_back():
    r = Sandbox(policy()).call(lambda: sum(range(1_000_000)))
    assert r.success and r.exit_code == 0 and r.value == 499999500000 and r.error is None
    assert Sandbox(policy()).call(lambda a, b: {"sum": a + b, "list": [a, b]}, args=(2, 3)).value == {
        "sum": 5, "list": [2, 3]}


def test_an_exception_comes_back_as_class_and_message():
    def boom():
        raise ValueError("bad input")

    r = Sandbox(policy()).call(boom)
    assert not r.success and r.error == "ValueError: bad input" and r.value is None


def test_a_value_json_cannot_carry_comes_back_as_its_repr():
    r = Sandbox(policy()).call(lambda: {1, 2})
    assert r.success and r.value == "{1, 2}"


def test_the_function_is_confined(workdir, secret):

    def read():
        return read_file(secret)

    assert Sandbox(policy(fs_readable=[str(workdir)])).call(read).value == "s3cret"
    refused = Sandbox(policy()).call(read)
    assert not refused.success and refused.error.startswith("PermissionError")


def test_a_timeout():
    r = Sandbox(policy()).call(lambda: time.sleep(30), timeout=0.5)
    assert (r.success, r.exit_code, r.error) == (False, -1, "Sandbox timed out")


def test_a_function_killed_by_a_signal():
    import os
    import signal

    r = Sandbox(policy()).call(lambda: os.kill(os.getpid(), signal.SIGKILL))
    assert not r.success and r.exit_code == -signal.SIGKILL and "signal 9" in r.error


def test_call_from_an_interpreter_with_eight_busy_threads():
    stop = threading.Event()
    lock = threading.Lock()

    def busy():
        n = 0
        while not stop.is_set():
            with lock:  # a lock other threads hold at fork time must not hang the child
                n += 1

    threads = [threading.Thread(target=busy) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        for i in range(20):
            r = Sandbox(policy()).call(lambda i=i: (threading.active_count(), i), timeout=30)
            assert r.success, r.error
            assert r.value == [1, i]  # only the calling thread exists in the child
    finally:
        stop.set()
        for t in threads:
            t.join()


def test_calls_from_several_threads_at_once():
    results = [None] * 6

    def worker(k):
        results[k] = Sandbox(policy()).call(lambda: k * k, timeout=30).value

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [k * k for k in range(6)]


def test_the_function_gets_the_sandboxs_environment():
    import os

    os.environ["SANDLOCK_PY_SECRET"] = "hunter2"
    try:
        r = Sandbox(policy(clean_env=True, env={"GREETING": "hi"})).call(
            lambda: [os.environ.get("SANDLOCK_PY_SECRET"), os.environ.get("GREETING"), os.getenv("GREETING")])
        assert r.value == [None, "hi", "hi"], r.error
    finally:
        del os.environ["SANDLOCK_PY_SECRET"]


def test_the_function_keeps_this_processes_open_files(workdir, secret):
    with open(secret) as f:
        assert Sandbox(policy(fs_readable=[str(workdir)])).call(lambda: f.read()).value == "s3cret"


def test_what_the_function_prints_is_written_here(capfd):
    r = Sandbox(policy()).call(lambda: print("from the sandbox") or 7)
    assert r.value == 7
    assert "from the sandbox" in capfd.readouterr().out
