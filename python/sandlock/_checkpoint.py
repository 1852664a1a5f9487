# SPDX-License-Identifier: Apache-2.0
"""Checkpoints: the saved state of a running sandbox — its policy, each process as the kernel
holds it (registers, memory, open files; taken with ptrace, no cooperation needed) and the
optional app state a save_fn returned — kept in a store, by default
$XDG_DATA_HOME/sandlock/checkpoints (0700). The checkpoint plugin does the work."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from . import _sandlock
from .policy import Policy

StorePath = Union[str, "os.PathLike[str]", None]


def _store(store: StorePath) -> str:
    return os.fspath(store) if store is not None else ""


def _plugin_path() -> List[str]:
    from .sandbox import _plugin_path as plugin_path

    return plugin_path()


class Checkpoint:
    """A checkpoint, from Sandbox.checkpoint() or Checkpoint.load(name).

    One never saved is discarded with its data when it is garbage-collected.
    """

    # The reference's fields a branch snapshot would fill (branchfs is not checkpointed yet).
    branch_id: Optional[str] = None
    fs_mount: Optional[str] = None
    sandbox_id: Optional[str] = None

    def __init__(self, core: Any) -> None:
        if not isinstance(core, _sandlock.Checkpoint):
            raise TypeError("Checkpoint objects come from Sandbox.checkpoint() or Checkpoint.load()")
        self._core = core

    def __repr__(self) -> str:
        return f"Checkpoint(name={self.name!r}, processes={len(self.processes)})"

    @property
    def name(self) -> Optional[str]:
        """Its name once saved, else None."""
        return self._core.name or None

    @property
    def path(self) -> Path:
        """The directory that holds its files."""
        return Path(self._core.directory)

    @property
    def app_state(self) -> Optional[bytes]:
        """What the exec's save_fn returned, or None."""
        state: Optional[bytes] = self._core.app_state
        return state

    @property
    def policy(self) -> Policy:
        """The policy the checkpointed sandbox ran under."""
        return Policy._from_schema(json.loads(self._core.policy_json()))

    @property
    def policy_data(self) -> bytes:
        """The policy, serialized (JSON; the reference pickled it)."""
        data: str = self._core.policy_json()
        return data.encode()

    @property
    def processes(self) -> List[Dict[str, Any]]:
        """Each process: pid, exe, argv, threads, memory_bytes."""
        processes: List[Dict[str, Any]] = self._core.processes
        return processes

    @property
    def unrestorable(self) -> List[str]:
        """What a restore cannot recreate (sockets, pipes to other processes, devices, deleted files)."""
        reasons: List[str] = self._core.unrestorable
        return reasons

    def save(self, name: str, *, store: StorePath = None) -> Path:
        """Keeps it under `name` (a copy when it was saved already, or when `store` is another
        store than its own). Returns the checkpoint's directory."""
        self._core.save(name, _store(store))
        if store is not None:
            return Path(_store(store)) / name
        return self.path

    @classmethod
    def load(cls, name: str, *, store: StorePath = None) -> "Checkpoint":
        """A saved checkpoint, checked whole: a damaged, truncated or foreign one raises
        CheckpointError and nothing is changed."""
        return cls(_sandlock.Checkpoint.load(name, _store(store), _plugin_path()))

    @staticmethod
    def list(*, store: StorePath = None) -> List[str]:
        """The saved names, sorted."""
        names: List[str] = _sandlock.Checkpoint.list(_store(store), _plugin_path())
        return names

    @staticmethod
    def delete(name: str, *, store: StorePath = None) -> None:
        _sandlock.Checkpoint.remove(name, _store(store), _plugin_path())
