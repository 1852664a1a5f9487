# The reference's public names import from the modules it has them in.
import importlib

import pytest

import sandlock

REFERENCE_NAMES = [
    "Sandbox", "Policy", "FsIsolation", "BranchAction", "Result", "Checkpoint", "parse_ports",
    "load_profile", "list_profiles", "DEFAULT_ALLOW_SYSCALLS", "DEFAULT_DENY_SYSCALLS", "NotifPolicy",
    "NotifAction", "PathRule", "SandlockError", "PolicyError", "SandboxError", "ForkError", "ConfinementError",
    "LandlockUnavailableError", "SeccompError", "CgroupError", "ChildError", "MemoryProtectError", "NotifError",
    "BranchError", "BranchConflictError", "__version__",
]


def test_every_public_name_of_the_reference_imports():
    for name in REFERENCE_NAMES:
        assert hasattr(sandlock, name), name
    assert set(REFERENCE_NAMES) <= set(sandlock.__all__)
    from sandlock.policy import Policy, parse_memory_size  # noqa: F401
    from sandlock.sandbox import Sandbox  # noqa: F401
    from sandlock.exceptions import BranchConflictError, SandlockError  # noqa: F401
    for module in ("sandlock.policy", "sandlock.sandbox", "sandlock.exceptions", "sandlock._landlock"):
        importlib.import_module(module)


def test_the_exception_hierarchy_is_the_references():
    assert issubclass(sandlock.PolicyError, sandlock.SandlockError)
    assert issubclass(sandlock.SandboxError, sandlock.SandlockError)
    assert issubclass(sandlock.ConfinementError, sandlock.SandboxError)
    assert issubclass(sandlock.LandlockUnavailableError, sandlock.ConfinementError)
    assert issubclass(sandlock.NotifError, sandlock.SeccompError)
    assert issubclass(sandlock.BranchConflictError, sandlock.BranchError)
    assert issubclass(sandlock.BranchError, sandlock.SandboxError)


def test_landlock_abi_and_syscall_lists():
    from sandlock._landlock import landlock_abi_version

    from conftest import sandlock_check

    assert landlock_abi_version() == sandlock_check()["landlock_abi"]
    assert "ptrace" in sandlock.DEFAULT_DENY_SYSCALLS and "mount" in sandlock.DEFAULT_DENY_SYSCALLS
    assert "read" in sandlock.DEFAULT_ALLOW_SYSCALLS and "ptrace" not in sandlock.DEFAULT_ALLOW_SYSCALLS

