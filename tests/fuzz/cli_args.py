#!/usr/bin/env python3
"""Malformed command lines against the sandlock binary: every refusal must be exit 125 with one
line on stderr of bounded length, and the command (`echo RAN`) must never run.
    tests/fuzz/cli_args.py build/bin/sandlock [cases]"""
import random
import subprocess
import sys

SANDLOCK = sys.argv[1]
CASES = int(sys.argv[2]) if len(sys.argv) > 2 else 600
VALUE_FLAGS = ["-m", "-P", "-c", "-t", "-p", "-w", "-r", "--fs-deny", "--net-bind", "--net-connect",
               "--net-allow-host", "--env", "--fs-isolation", "--fs-mount", "--fs-storage", "--max-disk",
               "--chroot"]
NASTY = ["", " ", "\n", "a\nb", "\x01", "\x1b[31m", "-", "--", "=", "==", ",", ",,", "0", "-1", "1e9",
         "99999999999999999999", "nan", "inf", "1.5.5", "512M\n", "/", "/\x7f", "A=B=C", "=x", "x" * 100000,
         "\u00e9", "\udcff" if False else "\u0489", "%", "100%", "101%", "0-0", "65535-1", "1-", "-1-2",
         "/no/such", "..", "../../etc", "none", "branchfs", "commit"]
SYSTEM = ["-r", "/usr", "-r", "/lib", "-r", "/lib64", "-r", "/bin", "-r", "/etc"]


def case(rng):
    if rng.random() < 0.15:
        glob = rng.choice(["--plugins", "--plugins=", "--plugin-path", "--plugin-path="])
        value = rng.choice(NASTY)
        head = [glob + value] if glob.endswith("=") else [glob, value]
        return head + ["run"] + SYSTEM + ["--", "/bin/echo", "RAN"]
    flags = []
    for _ in range(rng.randint(1, 3)):
        flags += [rng.choice(VALUE_FLAGS), rng.choice(NASTY)]
    return ["run"] + SYSTEM + flags + ["--", "/bin/echo", "RAN"]


def main():
    rng = random.Random(6)
    violations = crashes = 0
    for i in range(CASES):
        args = case(rng)
        try:
            p = subprocess.run([SANDLOCK] + args, capture_output=True, timeout=20,
                               env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": "/nonexistent"})
        except ValueError:  # an argument with a NUL cannot even be passed
            continue
        err = p.stderr.decode(errors="replace")
        ran = b"RAN" in p.stdout
        if p.returncode < 0 or p.returncode >= 128:
            crashes += 1
            print("CRASH", p.returncode, repr(args)[:300])
        elif p.returncode == 125 and (ran or err.count("\n") != 1 or len(err) > 700):
            violations += 1
            print("BAD REFUSAL", repr(args)[:200], repr(err)[:300])
        elif p.returncode != 125 and any(a in ("", "--plugins=", "--plugin-path=") for a in args[:-3]):
            violations += 1  # an empty value must be refused, never read as "not given"
            print("EMPTY ACCEPTED", p.returncode, repr(args)[:200])
        elif p.returncode == 0 and not ran:
            violations += 1
            print("NOTHING RAN", repr(args)[:200], repr(err)[:300])
        elif p.returncode in (126, 127) and err.count("\n") != 1:  # cannot run / not found: one line
            violations += 1
            print("BAD REASON", repr(args)[:200], repr(err)[:300])
        elif p.returncode not in (0, 125, 126, 127):
            violations += 1
            print("EXIT", p.returncode, repr(args)[:200], repr(err)[:300])
    print(f"{CASES} cases: {violations} violations, {crashes} crashes")
    return 1 if violations or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
