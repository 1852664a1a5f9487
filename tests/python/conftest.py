# The Python package's tests run against the real kernel, as root and as uid 65534
# (scripts/test-python.sh). The package comes from PYTHONPATH (build/python).
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import sandlock

SYSTEM = [p for p in ("/usr", "/lib", "/lib64", "/bin", "/etc") if os.path.exists(p)]


def policy(**fields):
    """A Policy that can run sh, coreutils and python3, plus `fields`."""
    fields["fs_readable"] = SYSTEM + list(fields.get("fs_readable", []))
    return sandlock.Policy(**fields)


def sandlock_check():
    """`sandlock check --json` of the sandlock next to this package (the build tree's)."""
    here = Path(sandlock.__file__).resolve().parents[2]
    exe = here / "bin" / "sandlock"
    if not exe.exists():
        exe = Path(shutil.which("sandlock") or "sandlock")
    out = subprocess.run([str(exe), "check", "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def skip_unless_available(feature):
    """Skips only where `sandlock check` reports the feature missing (never to hide a failure)."""
    for entry in sandlock_check()["features"]:
        if entry["name"] == feature:
            if not entry["available"]:
                pytest.skip(f"sandlock check: {feature} is missing here ({entry.get('requires', '')})")
            return
    raise AssertionError(f"sandlock check does not know the feature {feature!r}")


@pytest.fixture
def workdir(tmp_path):
    """A directory every uid may use (the sandbox runs as the test's uid)."""
    tmp_path.chmod(0o755)
    return tmp_path


@pytest.fixture
def secret(workdir):
    """A file holding "s3cret" that only a policy granting `workdir` may read."""
    path = workdir / "secret"
    path.write_text("s3cret")
    path.chmod(0o644)
    return path


def read_file(path):
    """A function for call(): the file's text."""
    with open(path) as f:
        return f.read()
