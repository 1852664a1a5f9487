# SPDX-License-Identifier: Apache-2.0
"""The rules of a nested sandbox and its parent together, as one policy.

A function cannot start inside a running sandbox (its process would have to be a fork of this
interpreter made in there), so call() on a nested sandbox runs in a sandbox of its own under
this policy: every rule of both. The child was first checked to only narrow the parent (the
core refuses a path, port, host or limit the parent lacks).
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence, TypeVar

from ._seccomp import DEFAULT_ALLOW_SYSCALLS, DEFAULT_DENY_SYSCALLS
from .exceptions import SandboxError
from .policy import FsIsolation, Policy

T = TypeVar("T")


def _expand(names: Sequence[str], default: Sequence[str]) -> List[str]:
    out: List[str] = []
    for name in names:
        for n in (default if name == "@default" else [name]):
            if n not in out:
                out.append(n)
    return out


def _union(a: Sequence[T], b: Sequence[T]) -> List[T]:
    return list(a) + [x for x in b if x not in a]


def _smaller(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def combined_policy(parent: Policy, child: Policy) -> Policy:
    """The policy that enforces every rule of `parent` and of `child`."""
    if parent.fs_isolation is FsIsolation.BRANCHFS:
        raise SandboxError("call() in a nested sandbox: it runs in a sandbox of its own, which cannot see the "
                           "parent's branch; exec or run the command in the nested sandbox instead")
    deny: Optional[List[str]] = None
    allow: Optional[List[str]] = None
    parent_deny = _expand(parent.deny_syscalls or ["@default"], DEFAULT_DENY_SYSCALLS)
    child_deny = _expand(child.deny_syscalls or ["@default"], DEFAULT_DENY_SYSCALLS)
    if parent.allow_syscalls is None and child.allow_syscalls is None:
        deny = _union(parent_deny, child_deny)
    elif parent.allow_syscalls is not None and child.allow_syscalls is not None:
        child_allow = _expand(child.allow_syscalls, DEFAULT_ALLOW_SYSCALLS)
        allow = [n for n in _expand(parent.allow_syscalls, DEFAULT_ALLOW_SYSCALLS) if n in child_allow]
    elif parent.allow_syscalls is not None:
        allow = [n for n in _expand(parent.allow_syscalls, DEFAULT_ALLOW_SYSCALLS) if n not in child_deny]
    else:
        assert child.allow_syscalls is not None
        allow = [n for n in _expand(child.allow_syscalls, DEFAULT_ALLOW_SYSCALLS) if n not in parent_deny]

    child_has_paths = bool(child.fs_readable or child.fs_writable)
    env = dict(parent.env)
    env.update(child.env)
    return dataclasses.replace(
        parent,
        fs_readable=list(child.fs_readable if child_has_paths else parent.fs_readable),
        fs_writable=list(child.fs_writable if child_has_paths else parent.fs_writable),
        fs_denied=_union(parent.fs_denied, child.fs_denied),
        deny_syscalls=deny,
        allow_syscalls=allow,
        net_allow_hosts=list(child.net_allow_hosts or parent.net_allow_hosts),
        net_bind=list(child.net_bind or parent.net_bind),
        net_connect=list(child.net_connect or parent.net_connect),
        isolate_ipc=parent.isolate_ipc or child.isolate_ipc,
        isolate_signals=parent.isolate_signals or child.isolate_signals,
        max_memory=_smaller(parent.memory_bytes(), child.memory_bytes()),
        max_processes=_smaller(parent.max_processes, child.max_processes),
        max_cpu=_percent(_smaller(_share(parent), _share(child))),
        clean_env=parent.clean_env or child.clean_env,
        env=env,
        close_fds=parent.close_fds or child.close_fds,
        plugins=_union(parent.plugins, child.plugins),
    )


def _share(policy: Policy) -> Optional[int]:
    quota = policy.cpu_quota_us(100)
    return quota if quota is not None else None


def _percent(share: Optional[int]) -> Optional[str]:
    return None if share is None else f"{share}%"
