# Policy: the reference's fields, types and helpers; every invalid value refused when made.
import dataclasses

import pytest

import sandlock
from sandlock import BranchAction, FsIsolation, Policy, PolicyError
from sandlock.policy import parse_memory_size, parse_ports


def test_defaults_are_the_references():
    p = Policy()
    assert p.fs_writable == [] and p.fs_readable == [] and p.fs_denied == []
    assert p.deny_syscalls is None and p.allow_syscalls is None
    assert p.max_memory is None and p.max_processes is None and p.max_cpu is None
    assert p.close_fds is True and p.strict is True and p.clean_env is False and p.privileged is False
    assert p.fs_isolation is FsIsolation.NONE
    assert p.on_exit is BranchAction.COMMIT and p.on_error is BranchAction.ABORT
    assert p.notif_policy is None


def test_policy_is_immutable():
    p = Policy(max_processes=4)
    with pytest.raises(AttributeError):
        p.max_processes = 5
    assert dataclasses.replace(p, max_processes=5).max_processes == 5


def test_values_are_kept_as_given_and_converted_on_demand():
    p = Policy(max_memory="512M", net_bind=[8080, "9000-9002"], net_connect=("443",), max_cpu="50%",
               fs_readable=("/usr",))
    assert p.max_memory == "512M" and p.memory_bytes() == 512 * 1024**2
    assert p.bind_ports() == [8080, 9000, 9001, 9002]
    assert p.connect_ports() == [443]
    assert p.cpu_quota_us() == 50_000 and p.cpu_quota_us(1_000_000) == 500_000
    assert Policy(max_memory=4096).memory_bytes() == 4096
    assert Policy(max_cpu="25000").cpu_quota_us() == 25_000  # the reference's quota in µs per 100 ms
    assert Policy().memory_bytes() is None and Policy().cpu_quota_us() is None and Policy().bind_ports() == []


def test_parse_memory_size_and_ports_are_the_references():
    assert parse_memory_size("100K") == 100 * 1024
    assert parse_memory_size("1g") == 1024**3
    assert parse_memory_size("1.5M") == int(1.5 * 1024**2)
    assert parse_memory_size("4096") == 4096
    with pytest.raises(ValueError):
        parse_memory_size("lots")
    assert parse_ports([80, "8000-8002", "80"]) == [80, 8000, 8001, 8002]
    for bad in (["70000"], ["9-1"], ["x"], [-1]):
        with pytest.raises(ValueError):
            parse_ports(bad)


@pytest.mark.parametrize("fields, named", [
    ({"fs_readable": "/usr"}, "fs_readable"),
    ({"fs_writable": [1]}, "fs_writable"),
    ({"fs_readable": ["/tmp/a\nb"]}, "fs_readable"),
    ({"max_memory": "lots"}, "max_memory"),
    ({"max_memory": 0}, "max_memory"),
    ({"max_memory": True}, "max_memory"),
    ({"max_processes": 0}, "max_processes"),
    ({"max_processes": "4"}, "max_processes"),
    ({"max_cpu": "150%"}, "max_cpu"),
    ({"max_cpu": "12.5%"}, "max_cpu"),
    ({"max_cpu": "half"}, "max_cpu"),
    ({"net_bind": ["99999"]}, "net_bind"),
    ({"net_connect": [0]}, "net_connect"),
    ({"net_connect": 443}, "net_connect"),
    ({"deny_syscalls": ["ptrace"], "allow_syscalls": ["read"]}, "allow_syscalls"),
    ({"deny_syscalls": "ptrace"}, "deny_syscalls"),
    ({"env": {"A": 1}}, "env"),
    ({"env": {"A=B": "1"}}, "env"),
    ({"isolate_ipc": "yes"}, "isolate_ipc"),
    ({"fs_isolation": "bogus"}, "fs_isolation"),
    ({"on_exit": "later"}, "on_exit"),
    ({"max_disk": "huge"}, "max_disk"),
    ({"chroot": 5}, "chroot"),
])
def test_invalid_values_are_refused_naming_the_field(fields, named):
    with pytest.raises(PolicyError) as e:
        Policy(**fields)
    assert named in str(e.value)
    assert "\n" not in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, sandlock.SandlockError)


def test_enum_values_may_be_given_as_their_strings():
    p = Policy(fs_isolation="branchfs", fs_mount="/tmp", on_exit="abort")
    assert p.fs_isolation == "branchfs"


def test_a_custom_notif_policy_says_it_is_not_built():
    with pytest.raises(sandlock.NotBuiltError, match="not built"):
        sandlock.NotifPolicy(rules=[])
    with pytest.raises(sandlock.NotBuiltError, match="notif_policy"):
        Policy(notif_policy=object())
