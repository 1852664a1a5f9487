# SPDX-License-Identifier: Apache-2.0
"""Checkpoints: not built in this sandlock yet (its checkpoint layer is still to come). The
name imports; using it says so."""

from __future__ import annotations

from typing import Any, List, NoReturn

from .exceptions import NotBuiltError

_MISSING = "checkpoint and restore are not built in this sandlock yet (the checkpoint layer is still to come)"


def _missing() -> NoReturn:
    raise NotBuiltError(_MISSING)


class Checkpoint:
    """Not built: every use raises NotBuiltError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _missing()

    @classmethod
    def load(cls, name: str) -> "Checkpoint":
        _missing()

    @staticmethod
    def list() -> List[str]:
        _missing()

    @staticmethod
    def delete(name: str) -> None:
        _missing()

    def save(self, name: str) -> None:
        _missing()
