# SPDX-License-Identifier: Apache-2.0
"""What this kernel's Landlock offers."""

from . import _sandlock


def landlock_abi_version() -> int:
    """The highest Landlock ABI this kernel has, or 0 without Landlock."""
    return int(_sandlock.landlock_abi_version())
