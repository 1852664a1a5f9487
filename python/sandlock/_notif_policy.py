# SPDX-License-Identifier: Apache-2.0
"""The reference's custom notification rules. This sandlock's notif layer has its own /proc and
/sys rules (on when fs_readable includes /proc) but no Python-defined rules yet: the names
import, and making a rule says so."""

from __future__ import annotations

from enum import Enum
from typing import Any, NoReturn

from .exceptions import NotBuiltError

_MISSING = ("custom notification rules (NotifPolicy, PathRule) are not built in this sandlock; "
            "the notif layer applies its own /proc and /sys rules when fs_readable includes /proc")


class NotifAction(Enum):
    """What a rule does with a matching open()."""

    ALLOW = "allow"
    DENY = "deny"
    VIRTUALIZE = "virtualize"


class PathRule:
    """Not built: raises NotBuiltError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _missing()


class NotifPolicy:
    """Not built: raises NotBuiltError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _missing()


def _missing() -> NoReturn:
    raise NotBuiltError(_MISSING)
