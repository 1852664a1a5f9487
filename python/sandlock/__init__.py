# SPDX-License-Identifier: Apache-2.0
"""sandlock: a lightweight Linux process sandbox (Landlock, seccomp-bpf, seccomp user
notification), without root, containers or images. The public API of the reference
sandlock 0.1.0, on this project's C++ core.
"""

from ._version import __version__
from .policy import BranchAction, FsIsolation, Policy, parse_memory_size, parse_ports
from .sandbox import Sandbox
from ._runner import Result
from ._checkpoint import Checkpoint
from ._notif_policy import NotifAction, NotifPolicy, PathRule
from ._profile import list_profiles, load_profile, parse_profile
from ._seccomp import DEFAULT_ALLOW_SYSCALLS, DEFAULT_DENY_SYSCALLS
from .exceptions import (
    BranchConflictError,
    BranchError,
    CgroupError,
    CheckpointError,
    ChildError,
    ConfinementError,
    ForkError,
    LandlockUnavailableError,
    MemoryProtectError,
    NotBuiltError,
    NotifError,
    PluginError,
    PolicyError,
    SandboxError,
    SandlockError,
    SeccompError,
)

__all__ = [
    "__version__",
    "Sandbox",
    "Policy",
    "FsIsolation",
    "BranchAction",
    "Result",
    "Checkpoint",
    "parse_ports",
    "parse_memory_size",
    "load_profile",
    "list_profiles",
    "parse_profile",
    "DEFAULT_ALLOW_SYSCALLS",
    "DEFAULT_DENY_SYSCALLS",
    "NotifPolicy",
    "NotifAction",
    "PathRule",
    "SandlockError",
    "PolicyError",
    "SandboxError",
    "ForkError",
    "ConfinementError",
    "LandlockUnavailableError",
    "SeccompError",
    "CgroupError",
    "ChildError",
    "MemoryProtectError",
    "NotifError",
    "BranchError",
    "BranchConflictError",
    "PluginError",
    "NotBuiltError",
    "CheckpointError",
]
