# SPDX-License-Identifier: Apache-2.0
"""The built-in syscall lists (the seccomp layer's "@default")."""

from typing import List

from . import _sandlock

DEFAULT_DENY_SYSCALLS: List[str] = _sandlock.default_deny_syscalls()
"""Denied when deny_syscalls is unset: kernel attack surface and host-wide state."""

DEFAULT_ALLOW_SYSCALLS: List[str] = _sandlock.default_allow_syscalls()
"""What "@default" allows in allow_syscalls: enough for sh, coreutils and python3."""
