# The package's type hints: a program using the public API type-checks under mypy --strict.
import os
import subprocess
import sys
from pathlib import Path

import sandlock

PROGRAM = '''
from sandlock import Policy, Result, Sandbox

def main() -> int:
    policy = Policy(fs_readable=["/usr"], max_memory="256M", net_bind=[8080, "9000-9001"])
    result: Result = Sandbox(policy).run(["true"], timeout=5.0)
    value: object = Sandbox(policy).call(lambda: 1).value
    with Sandbox(policy) as sb:
        sb.exec(["sleep", "1"])
        code: int = sb.wait(timeout=2)
    return result.exit_code + code + (1 if value else 0)
'''


def test_the_public_api_type_checks(tmp_path):
    program = tmp_path / "program.py"
    program.write_text(PROGRAM)
    package_root = str(Path(sandlock.__file__).resolve().parents[1])
    env = dict(os.environ, MYPYPATH=package_root, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(program)],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
