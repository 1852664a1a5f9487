# Profiles: the CLI's TOML files, as Policies.
import pytest

import sandlock
from sandlock import BranchAction, PolicyError, Sandbox


@pytest.fixture
def profiles(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    directory = tmp_path / "sandlock" / "profiles"
    directory.mkdir(parents=True)
    return directory


def test_a_profile_loads_as_a_policy_and_runs(profiles):
    (profiles / "build.toml").write_text(
        'fs_readable = ["/usr", "/lib", "/lib64", "/bin", "/etc"]\n'
        'max_memory = "256M"\nmax_processes = 10\nmax_cpu = "50%"\nnet_connect = [443, "8000-8002"]\n'
        'env = { LANG = "C.UTF-8" }\n')
    (profiles / "other.toml").write_text("clean_env = true\n")
    assert "build" in sandlock.list_profiles() and "other" in sandlock.list_profiles()
    p = sandlock.load_profile("build")
    assert p.memory_bytes() == 256 * 1024**2 and p.max_processes == 10 and p.cpu_quota_us() == 50_000
    assert p.connect_ports() == [443, 8000, 8001, 8002] and p.env == {"LANG": "C.UTF-8"}
    assert p.on_exit is BranchAction.COMMIT
    r = Sandbox("build").run(["/bin/sh", "-c", "echo $LANG"])
    assert r.stdout == b"C.UTF-8\n"


def test_a_bad_profile_names_the_file_and_field(profiles):
    (profiles / "bad.toml").write_text("max_processes = \"many\"\n")
    with pytest.raises(PolicyError, match="max_processes"):
        sandlock.load_profile("bad")
    with pytest.raises(PolicyError, match="nothere"):
        Sandbox("nothere")
