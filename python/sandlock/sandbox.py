# SPDX-License-Identifier: Apache-2.0
"""Sandbox: runs commands and Python functions under a Policy, once or as a long-lived sandbox.

    result = Sandbox(policy).run(["python3", "job.py"])
    result = Sandbox(policy).call(my_function, args=(1, 2))
    with Sandbox(policy) as sb:
        sb.exec(["python3", "server.py"])
        sb.pause(); sb.resume()
        sb.update(max_memory="128M")
        exit_code = sb.wait(timeout=30)
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import math
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, Union

from . import _sandlock
from ._runner import Result
from ._checkpoint import Checkpoint
from .exceptions import NotBuiltError, PolicyError, SandboxError, SandlockError
from .policy import Policy, _cpu_percent, _memory

_TIMED_OUT = "Sandbox timed out"


def _plugin_path() -> List[str]:
    """Where the layers are, seen from this package: the build tree (build/python/sandlock ->
    build/lib/sandlock/plugins) or an install under a prefix (PREFIX/lib/python3.X/...). The
    core also searches SANDLOCK_PLUGIN_PATH and its installation's directories."""
    here = Path(__file__).resolve().parent
    candidates = [here.parents[1] / "lib/sandlock/plugins", here.parents[2] / "sandlock/plugins",
                  here.parents[3] / "sandlock/plugins"]
    return [str(c) for c in candidates if c.is_dir()]


def _exit_code(result: Dict[str, Any]) -> int:
    """The exit status as the reference gives it: -N for a process killed by signal N."""
    if result["term_signal"]:
        return -int(result["term_signal"])
    return int(result["exit_code"])


def _command(cmd: Any) -> List[bytes]:
    """The arguments as the kernel takes them (os.fsencode: file names that are not UTF-8 too)."""
    if isinstance(cmd, (str, bytes)) or not isinstance(cmd, (list, tuple)) or not cmd:
        raise PolicyError(f"cmd: invalid value {cmd!r} (expected a non-empty list of arguments, e.g. ['ls', '-l'])")
    argv = []
    for arg in cmd:
        if not isinstance(arg, (str, bytes, os.PathLike)):
            raise PolicyError(f"cmd: invalid argument {arg!r} (expected a string)")
        raw = os.fsencode(arg)
        if b"\0" in raw:
            raise PolicyError(f"cmd: invalid argument {arg!r} (a NUL byte would cut it short)")
        argv.append(raw)
    return argv


def _timeout(seconds: Optional[float]) -> Optional[float]:
    """A timeout as the core takes it: None (or a negative or infinite one) waits forever."""
    if seconds is None:
        return None
    value = float(seconds)
    if math.isnan(value):
        raise PolicyError("timeout: invalid value nan (a number of seconds, or None)")
    return None if value < 0 or math.isinf(value) else value


def _run_result(r: Dict[str, Any]) -> Result:
    if r["timed_out"]:
        return Result(success=False, exit_code=-1, error=_TIMED_OUT, stdout=r["stdout"], stderr=r["stderr"])
    code = _exit_code(r)
    return Result(success=code == 0, exit_code=code, error=r["error"] or None, stdout=r["stdout"], stderr=r["stderr"])


# The C environment, read in the child (ctypes is imported here: the child may not read the
# standard library's files).
_C_ENVIRON = ctypes.POINTER(ctypes.c_char_p).in_dll(ctypes.pythonapi, "environ")


def _adopt_c_environment() -> None:
    """os.environ as the sandbox's environment (clean_env, env), which the core set in C."""
    fresh = {}
    i = 0
    while _C_ENVIRON[i] is not None:
        key, _, value = _C_ENVIRON[i].partition(b"=")
        fresh[os.fsdecode(key)] = os.fsdecode(value)
        i += 1
    for key in list(os.environ):
        if key not in fresh:
            del os.environ[key]
    os.environ.update(fresh)


def _forward(stream: Any, data: bytes) -> None:
    """Output of call()'s function, written to this process's stream."""
    if not data:
        return
    stream.flush()
    if hasattr(stream, "buffer"):
        stream.buffer.write(data)
    else:
        stream.write(data.decode(errors="replace"))
    stream.flush()


def _in_child(fn: Callable[..., Any], args: Sequence[Any]) -> Callable[[], str]:
    """What runs in the confined child: fn(*args), its outcome as JSON."""

    def run() -> str:
        _adopt_c_environment()
        try:
            outcome = {"ok": True, "value": fn(*args)}
        except BaseException as exc:  # the child reports every failure, then ends
            outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        try:
            return json.dumps(outcome)
        except (TypeError, ValueError):
            outcome["value"] = repr(outcome.get("value"))
            return json.dumps(outcome)

    return run


class Sandbox:
    """A sandbox for a Policy (or the name of a saved profile).

    One-shot: run(), run_interactive(), call(). Long-lived, inside ``with``: exec() commands
    into one sandbox that they share (its limits count them together), wait(), pause(),
    resume(), update(), kill(); sandbox() makes a nested sandbox that can only narrow.
    """

    def __init__(self, policy: Union[Policy, str], *, sandbox_id: Optional[str] = None):
        if isinstance(policy, str):
            from ._profile import load_profile

            policy = load_profile(policy)
        if not isinstance(policy, Policy):
            raise PolicyError(f"policy: invalid value {policy!r} (expected a sandlock.Policy or a profile name)")
        self._policy = policy
        self._id = sandbox_id or uuid.uuid4().hex[:12]
        self._core: Optional[Any] = None  # the running long-lived sandbox (_sandlock.Sandbox)
        self._parent: Optional[Sandbox] = None  # set for a nested sandbox
        self._processes: List[Any] = []
        self._entered = False
        self._paused = False
        # The long-lived sandbox is driven from any thread: one operation at a time.
        self._lock = threading.RLock()
        self._parent_core: Optional[Any] = None  # the parent's sandbox this nested one runs in

    def __repr__(self) -> str:
        return f"Sandbox(id={self._id!r}, alive={self.alive})"

    @property
    def id(self) -> str:
        return self._id

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def pid(self) -> Optional[int]:
        """The pid of the last command exec'd, or None before the first."""
        return self._processes[-1].pid if self._processes else None

    @property
    def alive(self) -> bool:
        """Whether a command exec'd into the sandbox still runs."""
        return any(p.running for p in self._processes)

    @property
    def is_frozen(self) -> bool:
        """Whether the sandbox is paused."""
        return self._paused and self.alive

    # ---- one-shot ----

    def run(self, cmd: List[str], *, timeout: Optional[float] = None) -> Result:
        """Runs cmd and returns its Result with the output captured. Failures to start come
        back as a Result (success False, exit_code -1, error), as the reference's do."""
        try:
            argv = _command(cmd)
            if self._parent is not None:
                return _run_result(self._nested_core().run(argv, _timeout(timeout)))
            return _run_result(self._new_core().run(argv, _timeout(timeout)))
        except SandlockError as e:
            return Result(success=False, exit_code=-1, error=str(e))

    def run_interactive(self, cmd: List[str], *, timeout: Optional[float] = None) -> Result:
        """Runs cmd with this process's stdin, stdout and stderr (the child owns the terminal
        while it runs); stdout and stderr in the Result are empty."""
        if self._parent is not None:
            raise SandboxError("run_interactive: a nested sandbox runs commands with exec() or run()")
        try:
            argv = _command(cmd)
            core = self._new_core()
            process = core.exec(argv, 0, 1, 2)
            r = process.wait(_timeout(timeout))
            core.close()
            return _run_result(r)
        except SandlockError as e:
            return Result(success=False, exit_code=-1, error=str(e))

    def call(self, fn: Callable[..., Any], args: Tuple[Any, ...] = (), *, timeout: Optional[float] = None) -> Result:
        """Runs fn(*args) in a forked, confined copy of this interpreter. Its return value
        (JSON round trip) comes back in Result.value, an exception as Result.error
        ('Class: message'). Other threads of this interpreter are not copied. As in the
        reference, the function keeps this process's open files (close_fds does not apply);
        what it prints is written here once it returned."""
        try:
            policy = self._policy
            if self._parent is not None:
                from ._nested import combined_policy

                self._nested_core()  # the core checks that the child only narrows
                policy = combined_policy(self._parent._policy, self._policy)
            core = _sandlock.Sandbox(dataclasses.replace(policy, close_fds=False)._schema_json(), _plugin_path())
            value, error, r = core.call(_in_child(fn, args), _timeout(timeout))
        except SandlockError as e:
            return Result(success=False, exit_code=-1, error=str(e))
        _forward(sys.stdout, r["stdout"])
        _forward(sys.stderr, r["stderr"])
        if r["timed_out"]:
            return Result(success=False, exit_code=-1, error=_TIMED_OUT)
        if value is None:
            return Result(success=False, exit_code=_exit_code(r), error=error or "the function returned nothing")
        outcome = json.loads(value)
        if outcome.get("ok"):
            return Result(success=True, exit_code=0, value=outcome.get("value"))
        return Result(success=False, exit_code=_exit_code(r), error=outcome.get("error", "unknown error"))

    # ---- long-lived ----

    def __enter__(self) -> "Sandbox":
        self._entered = True
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        self._entered = False
        self._close()
        return False

    def __del__(self) -> None:
        try:
            self._close()
        except Exception:
            pass

    def exec(self, cmd: List[str], *, save_fn: Optional[Callable[[], bytes]] = None) -> None:
        """Starts cmd in the sandbox (which starts with the first exec), with this process's
        stdin, stdout and stderr. Every command exec'd shares the sandbox and its limits.

        save_fn: checkpoint() calls it (in this process, before the sandbox's processes are
        stopped: ask your program for its state there) and keeps the bytes it returns as the
        checkpoint's app_state."""
        if not self._entered:
            raise SandboxError("exec() requires context manager (use 'with Sandbox(...) as sb:')")
        if save_fn is not None and not callable(save_fn):
            raise TypeError("save_fn must be callable")
        argv = _command(cmd)
        with self._lock:
            core = self._nested_core() if self._parent is not None else self._long_lived_core()
            self._processes.append(core.exec(argv, 0, 1, 2, save_fn))

    def wait(self, timeout: Optional[float] = None) -> int:
        """The exit status of the last command exec'd, once it exited (-N: killed by signal N).

        Raises:
            TimeoutError: it still runs after `timeout` seconds (it keeps running).
        """
        if not self._processes:
            raise SandboxError("No process running")
        process = self._processes[-1]
        seconds = _timeout(timeout)
        if seconds is None:
            return _exit_code(process.wait(None))
        r = process.try_wait(seconds)
        if r is None:
            raise TimeoutError(f"the sandboxed process still runs after {timeout} s")
        return _exit_code(r)

    def pause(self) -> None:
        """Freezes every process of the sandbox at once (daemons included)."""
        with self._lock:
            self._running_core("pause").pause()
            self._paused = True

    def resume(self) -> None:
        """Thaws a paused sandbox."""
        with self._lock:
            self._running_core("resume").resume()
            self._paused = False

    def update(self, *, max_memory: Optional[Union[str, int]] = None, max_processes: Optional[int] = None,
               max_cpu: Optional[Union[str, int]] = None) -> None:
        """Changes limits of the running sandbox. Lowering one below current use refuses new
        allocations or forks; nothing is killed. A limit it started without is refused."""
        memory = _memory("max_memory", max_memory) if max_memory is not None else None
        if max_processes is not None and (isinstance(max_processes, bool) or not isinstance(max_processes, int)
                                          or max_processes < 1):
            raise PolicyError(f"max_processes: invalid value {max_processes!r} (a whole number, at least 1)")
        cpu = _cpu_percent(max_cpu) if max_cpu is not None else None
        with self._lock:
            self._running_core("update").update(memory, max_processes, cpu)

    def kill(self) -> None:
        """Ends every process of the sandbox (daemons included); the next exec starts afresh."""
        self._close()

    def sandbox(self, policy: Policy) -> "Sandbox":
        """A nested sandbox: its commands run inside this one under every rule of both.
        `policy` may only narrow: a path, port, host or limit this sandbox lacks is refused
        with PolicyError when the nested sandbox is first used. call() on it runs in a sandbox
        of its own under the rules of both (a function cannot start inside a running one)."""
        child = Sandbox(policy)
        child._parent = self
        return child

    # ---- branches and checkpoints ----

    @property
    def branch_path(self) -> Optional[Path]:
        return None

    def commit(self) -> None:
        raise NotBuiltError("commit(): a branch is committed (on_exit) or discarded (on_error) when the sandbox "
                            "closes; committing it while the sandbox runs is not built in this sandlock")

    def abort_branch(self) -> None:
        raise NotBuiltError("abort_branch(): a branch is discarded (on_error) when the sandbox closes; aborting "
                            "it while the sandbox runs is not built in this sandlock")

    def checkpoint(self) -> Checkpoint:
        """Stops every process of the running sandbox (ptrace; no cooperation needed), saves
        each one's registers, memory and open files, and lets them go on. Save the result
        with Checkpoint.save(name)."""
        with self._lock:
            return Checkpoint(self._running_core("checkpoint").checkpoint())

    def restore(self, checkpoint: Checkpoint, *, skip_unrestorable: bool = False) -> None:
        """Continues the checkpoint's process in this sandbox (build it from
        checkpoint.policy) where it stopped: its memory, registers, files at their offsets,
        working directory and handlers; its stdin, stdout and stderr are this process's.
        wait() waits for it like for an exec'd command. What cannot be recreated (see
        checkpoint.unrestorable) raises CheckpointError unless skip_unrestorable."""
        if not self._entered:
            raise SandboxError("restore() requires context manager (use 'with Sandbox(...) as sb:')")
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError("restore() takes a sandlock.Checkpoint")
        if self._parent is not None:
            raise SandboxError("restore: restore into the parent sandbox, not a nested one")
        with self._lock:
            core = self._long_lived_core()
            self._processes.append(core.restore(checkpoint._core, 0, 1, 2, bool(skip_unrestorable)))

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, restore_fn: Callable[[bytes], None], *,
                        timeout: Optional[float] = None) -> Result:
        """A sandbox with the checkpoint's policy runs restore_fn(app_state) (b"" when there
        is none) through call(), and its Result comes back (as in the reference)."""
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError("from_checkpoint() takes a sandlock.Checkpoint")
        state = checkpoint.app_state if checkpoint.app_state is not None else b""
        return cls(checkpoint.policy).call(restore_fn, (state,), timeout=timeout)

    # ---- internal ----

    def _new_core(self) -> Any:
        return _sandlock.Sandbox(self._policy._schema_json(), _plugin_path())

    def _long_lived_core(self) -> Any:
        with self._lock:
            if self._core is None:
                self._core = self._new_core()
            return self._core

    def _nested_core(self) -> Any:
        assert self._parent is not None
        with self._lock:
            parent_core = self._parent._long_lived_core()
            # The parent's sandbox ended (kill, leaving `with`) and started anew: follow it.
            if self._core is not None and self._parent_core is not parent_core:
                self._core = None
            if self._core is None:
                self._core = parent_core.nested(self._policy._schema_json())
                self._parent_core = parent_core
            return self._core

    def _running_core(self, action: str) -> Any:
        """The running sandbox that pause, resume and update act on."""
        if self._parent is not None:
            raise SandboxError(f"{action}: a nested sandbox is {action}d with its parent (call it on the parent)")
        if self._core is None or not self.alive:
            raise SandboxError(f"No running process to {action}")
        return self._core

    def _close(self) -> None:
        with self._lock:
            core, self._core = self._core, None
            self._paused = False
            if core is not None:
                core.close()
