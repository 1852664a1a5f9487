# SPDX-License-Identifier: Apache-2.0
"""The exceptions sandlock raises: the reference's hierarchy, plus PluginError.

PolicyError is also a ValueError: sandlock checks a Policy when it is made, where a bad
value (a memory size, a port range) would otherwise be a ValueError later.
"""


class SandlockError(Exception):
    """Base class of every sandlock error."""


class PolicyError(SandlockError, ValueError):
    """A policy, profile or argument is invalid; the message names the field and the value."""


class SandboxError(SandlockError):
    """A sandbox cannot do what was asked in its current state."""


class ForkError(SandboxError):
    """The sandbox's first process could not be started."""


class ConfinementError(SandboxError):
    """A confinement step (Landlock, seccomp, namespaces, chroot) failed."""


class LandlockUnavailableError(ConfinementError):
    """The kernel has no Landlock (or not the ABI a rule needs)."""


class SeccompError(ConfinementError):
    """A seccomp filter could not be installed."""


class NotifError(SeccompError):
    """The seccomp user-notification supervisor failed."""


class CgroupError(SandboxError):
    """A cgroup could not be made or configured."""


class ChildError(SandboxError):
    """The sandboxed child ended abnormally."""


class BranchError(SandboxError):
    """A branch (copy-on-write workspace) operation failed."""


class BranchConflictError(BranchError):
    """A commit was refused: the workspace changed since the branch was made."""


class MemoryProtectError(SandlockError):
    """mprotect(2) failed."""


class PluginError(SandlockError):
    """A layer (plugin) could not be found, loaded or configured."""


class CheckpointError(SandlockError):
    """A checkpoint cannot be taken, saved, loaded or restored (a damaged or foreign one, an
    unknown name, a process that cannot be traced or rebuilt)."""


class NotBuiltError(SandlockError, NotImplementedError):
    """A part of the reference API whose layer this sandlock does not have yet."""
