# SPDX-License-Identifier: Apache-2.0
"""Result: how a sandboxed command or function ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class Result:
    """The outcome of Sandbox.run, run_interactive or call."""

    success: bool
    """The command exited 0, or the function returned."""

    exit_code: int = 0
    """The exit status; -N when killed by signal N; -1 when it timed out or could not start."""

    value: Any = None
    """call(): the function's return value (JSON round trip; repr() when not serialisable)."""

    error: Optional[str] = None
    """Why it failed: the function's exception as 'Class: message', 'Sandbox timed out', ..."""

    stdout: bytes = field(default=b"", repr=False)
    """run(): the captured standard output."""

    stderr: bytes = field(default=b"", repr=False)
    """run(): the captured standard error."""
