# SPDX-License-Identifier: Apache-2.0
"""Policy: everything a sandbox enforces, immutable, checked when it is made.

The fields, their types and defaults are the reference's (sandlock 0.1.0); `plugins` and
`plugin_options` are this sandlock's additions (which layers run, and their options).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

from .exceptions import NotBuiltError, PolicyError

if TYPE_CHECKING:
    from ._notif_policy import NotifPolicy

_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT])?\s*$", re.IGNORECASE)
_PORT_RANGE_RE = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_memory_size(s: str) -> int:
    """Bytes of a size such as ``'512M'``, ``'1G'``, ``'100K'`` or ``'4096'`` (suffix in any case).

    Raises:
        ValueError: the text is not a size.
    """
    m = _SIZE_RE.match(s)
    if m is None:
        raise ValueError(f"invalid memory size: {s!r}")
    value = float(m.group(1))
    if m.group(2) is not None:
        value *= _UNITS[m.group(2).upper()]
    return int(value)


def parse_ports(specs: Sequence[Union[int, str]]) -> List[int]:
    """The sorted, unique ports of specs like ``80``, ``"80"`` or ``"8000-9000"``.

    Raises:
        ValueError: a port out of 0-65535 or a malformed spec.
    """
    ports: set[int] = set()
    for spec in specs:
        if isinstance(spec, int) and not isinstance(spec, bool):
            if not 0 <= spec <= 65535:
                raise ValueError(f"port out of range: {spec}")
            ports.add(spec)
            continue
        if not isinstance(spec, str):
            raise ValueError(f"invalid port spec: {spec!r}")
        m = _PORT_RANGE_RE.match(spec.strip())
        if m is None:
            raise ValueError(f"invalid port spec: {spec!r}")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if lo > hi or not 0 <= lo <= 65535 or not 0 <= hi <= 65535:
            raise ValueError(f"invalid port range: {spec!r}")
        ports.update(range(lo, hi + 1))
    return sorted(ports)


class FsIsolation(Enum):
    """How the sandbox's writes reach the workspace."""

    NONE = "none"  # directly
    BRANCHFS = "branchfs"  # into a copy-on-write branch, committed or discarded at the end


class BranchAction(Enum):
    """What happens to a branch when the sandbox ends."""

    COMMIT = "commit"
    ABORT = "abort"
    KEEP = "keep"


def _fail(name: str, value: Any, why: str) -> PolicyError:
    return PolicyError(f"{name}: invalid value {value!r} ({why})")


def _check_strings(name: str, value: Any, what: str) -> None:
    if isinstance(value, (str, bytes)):
        raise _fail(name, value, f"expected a list of {what}, got one string; write [{value!r}]")
    if not isinstance(value, (list, tuple)):
        raise _fail(name, value, f"expected a list or tuple of {what}")
    for item in value:
        if not isinstance(item, (str, os.PathLike)) or isinstance(item, bytes):
            raise _fail(name, item, f"each entry must be a string ({what})")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise _fail(name, value, "expected True or False")


def _port_ranges(name: str, specs: Any) -> List[List[int]]:
    """The ports of `specs` as [first, last] ranges (the policy schema's form)."""
    if isinstance(specs, (str, int)):
        raise _fail(name, specs, f"expected a list of ports; write [{specs!r}]")
    if not isinstance(specs, (list, tuple)):
        raise _fail(name, specs, "expected a list or tuple of ports (80, '8000-8080')")
    try:
        ports = parse_ports(specs)
    except ValueError as e:
        raise _fail(name, list(specs), f"{e}; a port is 1-65535, a range 'LO-HI'") from None
    if ports and ports[0] == 0:
        raise _fail(name, list(specs), "port 0 is not a port a rule can name; use 1-65535")
    ranges: List[List[int]] = []
    for port in ports:
        if ranges and ranges[-1][1] == port - 1:
            ranges[-1][1] = port
        else:
            ranges.append([port, port])
    return ranges


def _memory(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _fail(name, value, "expected bytes as an int or a size such as '512M'")
    if isinstance(value, int):
        size = value
    else:
        try:
            size = parse_memory_size(value)
        except ValueError:
            raise _fail(name, value, "expected a size such as '512M', '1G', '100K' or bytes") from None
    if size <= 0:
        raise _fail(name, value, "must be more than 0 bytes")
    return size


def _cpu_percent(value: Any) -> int:
    """max_cpu as a whole percent of one core: '50%', or a quota in µs per 100 ms ('50000')."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _fail("max_cpu", value, "expected a share such as '50%'")
    text = str(value).strip()
    try:
        percent = float(text[:-1]) if text.endswith("%") else int(text) / 1000
    except ValueError:
        raise _fail("max_cpu", value, "expected a share such as '50%'") from None
    if percent != int(percent) or not 1 <= percent <= 100:
        raise _fail("max_cpu", value, "a whole percent of one core from 1% to 100%")
    return int(percent)


@dataclass(frozen=True)
class Policy:
    """An immutable sandbox policy. Unset fields mean "no restriction", except deny_syscalls,
    which defaults to the built-in deny list. Invalid values raise PolicyError here."""

    # Filesystem (Landlock)
    fs_writable: Sequence[str] = field(default_factory=list)
    fs_readable: Sequence[str] = field(default_factory=list)
    fs_denied: Sequence[str] = field(default_factory=list)
    # Syscall filtering (seccomp): one list or neither
    deny_syscalls: Optional[Sequence[str]] = None
    allow_syscalls: Optional[Sequence[str]] = None
    # Network
    net_allow_hosts: Sequence[str] = field(default_factory=list)
    isolate_ipc: bool = False
    isolate_signals: bool = False
    net_bind: Sequence[Union[int, str]] = field(default_factory=list)
    net_connect: Sequence[Union[int, str]] = field(default_factory=list)
    # Resources
    max_memory: Optional[Union[str, int]] = None
    max_processes: Optional[int] = None
    max_cpu: Optional[Union[str, int]] = None
    # Root directory
    chroot: Optional[str] = None
    # Environment
    clean_env: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    # Misc
    close_fds: bool = True
    strict: bool = True
    privileged: bool = False
    # Custom /proc and /sys rules (not built in this sandlock: see NotifPolicy)
    notif_policy: Optional["NotifPolicy"] = None
    # Copy-on-write workspace (the branchfs layer)
    fs_isolation: FsIsolation = FsIsolation.NONE
    fs_mount: Optional[str] = None
    fs_storage: Optional[str] = None
    max_disk: Optional[Union[str, int]] = None
    on_exit: BranchAction = BranchAction.COMMIT
    on_error: BranchAction = BranchAction.ABORT
    # This sandlock's: the layers to run (empty: those that own the fields set) and options
    plugins: Sequence[str] = field(default_factory=list)
    plugin_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from . import _sandlock

        _sandlock.check_policy(self._schema_json())

    def bind_ports(self) -> List[int]:
        """The ports the sandbox may bind, or [] when unrestricted."""
        return parse_ports(self.net_bind) if self.net_bind else []

    def connect_ports(self) -> List[int]:
        """The ports the sandbox may connect to, or [] when unrestricted."""
        return parse_ports(self.net_connect) if self.net_connect else []

    def memory_bytes(self) -> Optional[int]:
        """max_memory in bytes, or None when unset."""
        if self.max_memory is None:
            return None
        if isinstance(self.max_memory, int):
            return self.max_memory
        return parse_memory_size(self.max_memory)

    def cpu_quota_us(self, period_us: int = 100_000) -> Optional[int]:
        """max_cpu as a quota in µs per `period_us` ('50%' is 50000 per 100000), or None."""
        if self.max_cpu is None:
            return None
        return period_us * _cpu_percent(self.max_cpu) // 100

    # ---- the policy schema (sdk/policy_schema.hpp), how a Policy reaches the C++ core ----

    def _schema(self) -> Dict[str, Any]:
        """The policy as the core's JSON policy schema, checking each field on the way."""
        s: Dict[str, Any] = {"schema": 1}
        for name in ("fs_writable", "fs_readable", "fs_denied", "net_allow_hosts", "plugins"):
            value = getattr(self, name)
            _check_strings(name, value, "paths" if name.startswith("fs_") else "names")
            s[name] = [os.fspath(v) for v in value]
        for name in ("deny_syscalls", "allow_syscalls"):
            value = getattr(self, name)
            if value is not None:
                _check_strings(name, value, "syscall names")
                s[name] = list(value)
        if self.deny_syscalls is not None and self.allow_syscalls is not None:
            raise PolicyError("deny_syscalls, allow_syscalls: set one or neither, not both "
                              "(an allow list already denies everything it does not name)")
        for name in ("isolate_ipc", "isolate_signals", "clean_env", "close_fds", "strict", "privileged"):
            _check_bool(name, getattr(self, name))
            s[name] = getattr(self, name)
        s["net_bind"] = _port_ranges("net_bind", self.net_bind)
        s["net_connect"] = _port_ranges("net_connect", self.net_connect)
        if self.max_memory is not None:
            s["max_memory"] = _memory("max_memory", self.max_memory)
        if self.max_processes is not None:
            if isinstance(self.max_processes, bool) or not isinstance(self.max_processes, int) \
                    or not 1 <= self.max_processes <= 2**31:
                raise _fail("max_processes", self.max_processes, "a whole number of processes, at least 1")
            s["max_processes"] = self.max_processes
        if self.max_cpu is not None:
            s["max_cpu"] = _cpu_percent(self.max_cpu)
        if not isinstance(self.env, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()):
            raise _fail("env", self.env, "expected a mapping of variable names to string values")
        s["env"] = dict(self.env)
        for name in ("chroot", "fs_mount", "fs_storage"):
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, (str, os.PathLike)):
                    raise _fail(name, value, "expected a path")
                s[name] = os.fspath(value)
        if self.notif_policy is not None:
            raise NotBuiltError(
                "notif_policy: custom NotifPolicy rules are not built in this sandlock; the notif layer "
                "applies its own /proc and /sys rules when fs_readable includes /proc (see the README)")
        fs_isolation = _enum("fs_isolation", FsIsolation, self.fs_isolation)
        if fs_isolation is FsIsolation.BRANCHFS:
            s["fs_isolation"] = fs_isolation.value
        on_exit = _enum("on_exit", BranchAction, self.on_exit)
        on_error = _enum("on_error", BranchAction, self.on_error)
        # Sent only when they matter: a field set turns on the layer that owns it.
        if fs_isolation is FsIsolation.BRANCHFS or on_exit is not BranchAction.COMMIT:
            s["on_exit"] = on_exit.value
        if fs_isolation is FsIsolation.BRANCHFS or on_error is not BranchAction.ABORT:
            s["on_error"] = on_error.value
        if self.max_disk is not None:
            s["max_disk"] = _memory("max_disk", self.max_disk)
        if not isinstance(self.plugin_options, Mapping):
            raise _fail("plugin_options", self.plugin_options, "expected a mapping of plugin names to option tables")
        s["plugin_options"] = {str(k): dict(v) for k, v in self.plugin_options.items()}
        return s

    def _schema_json(self) -> str:
        import json

        try:
            text = json.dumps(self._schema(), ensure_ascii=False)
        except (TypeError, ValueError) as e:
            raise PolicyError(f"plugin_options: not representable as JSON ({e})") from None
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise PolicyError("policy: a path, name or environment value is not valid UTF-8 text (a file name "
                              "Python could not decode); give it as UTF-8") from None
        return text

    @classmethod
    def _from_schema(cls, s: Mapping[str, Any]) -> "Policy":
        """The Policy of a schema document (a profile the core parsed)."""

        def ports(ranges: Sequence[Sequence[int]]) -> List[Union[int, str]]:
            return [lo if lo == hi else f"{lo}-{hi}" for lo, hi in ranges]

        kwargs: Dict[str, Any] = {}
        for name in ("fs_writable", "fs_readable", "fs_denied", "net_allow_hosts", "plugins",
                     "deny_syscalls", "allow_syscalls", "isolate_ipc", "isolate_signals", "clean_env",
                     "close_fds", "strict", "privileged", "max_processes", "chroot", "env", "fs_mount",
                     "fs_storage", "max_memory", "max_disk", "plugin_options"):
            if s.get(name) is not None:
                kwargs[name] = s[name]
        kwargs["net_bind"] = ports(s.get("net_bind", []))
        kwargs["net_connect"] = ports(s.get("net_connect", []))
        if s.get("max_cpu") is not None:
            kwargs["max_cpu"] = f"{s['max_cpu']}%"
        if s.get("fs_isolation") is not None:
            kwargs["fs_isolation"] = FsIsolation(s["fs_isolation"])
        if s.get("on_exit") is not None:
            kwargs["on_exit"] = BranchAction(s["on_exit"])
        if s.get("on_error") is not None:
            kwargs["on_error"] = BranchAction(s["on_error"])
        return cls(**kwargs)


def _enum(name: str, kind: Any, value: Any) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(f"{kind.__name__}.{m.name}" for m in kind)
        raise _fail(name, value, f"one of {choices}") from None
