# SPDX-License-Identifier: Apache-2.0
"""Profiles: saved policies as TOML files, read by the C++ core (the CLI's very parser).

Searched in $XDG_CONFIG_HOME/sandlock/profiles (else ~/.config/sandlock/profiles), then
/etc/sandlock/profiles; keys equal Policy fields.
"""

from __future__ import annotations

import json
from typing import List

from . import _sandlock
from .policy import Policy


def list_profiles() -> List[str]:
    """The names of the profiles found, sorted."""
    return sorted(_sandlock.list_profiles())


def load_profile(name: str) -> Policy:
    """The Policy of profile `name`; PolicyError names the file, line and field of a bad one."""
    return Policy._from_schema(json.loads(_sandlock.load_profile(name)))


def parse_profile(text: str, source: str = "<string>") -> Policy:
    """The Policy of a profile's TOML text; `source` names it in errors."""
    return Policy._from_schema(json.loads(_sandlock.parse_profile(text, source)))
