#!/usr/bin/env python3
"""Sandbox(policy).run(["/bin/true"]) and call(lambda: 1) from Python: this sandlock against
subprocess.run (the floor) and the reference sandlock 0.1.0, interleaved in one run, medians.

    PYTHONPATH=build/python python3 bench/python_bench.py [--reference DIR/src] [--runs N]
"""
import argparse
import statistics
import subprocess
import sys
import time

SYSTEM = ["/usr", "/lib", "/lib64", "/bin", "/etc"]


def median_ms(samples):
    return statistics.median(samples) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", help="the reference's src/ directory (sandlock-0.1.0/src)")
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()

    import sandlock as ours

    reference = None
    if args.reference:
        # The reference, loaded under its own name from its own path.
        import importlib.util
        spec = importlib.util.spec_from_file_location(
            "sandlock_reference", f"{args.reference}/sandlock/__init__.py",
            submodule_search_locations=[f"{args.reference}/sandlock"])
        reference = importlib.util.module_from_spec(spec)
        sys.modules["sandlock_reference"] = reference
        spec.loader.exec_module(reference)

    cases = {"subprocess.run": lambda: subprocess.run(["/bin/true"])}
    ours_policy = ours.Policy(fs_readable=SYSTEM)
    cases["ours run"] = lambda: ours.Sandbox(ours_policy).run(["/bin/true"])
    cases["ours call"] = lambda: ours.Sandbox(ours_policy).call(lambda: 1)
    if reference is not None:
        ref_policy = reference.Policy(fs_readable=SYSTEM)
        cases["reference run"] = lambda: reference.Sandbox(ref_policy).run(["/bin/true"])
        cases["reference call"] = lambda: reference.Sandbox(ref_policy).call(lambda: 1)
    for name, fn in cases.items():  # each works before it is timed
        fn()
    samples = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    floor = median_ms(samples["subprocess.run"])
    print(f"{'case':<16} {'median ms':>10} {'x subprocess':>13}")
    for name, s in samples.items():
        print(f"{name:<16} {median_ms(s):>10.2f} {median_ms(s) / floor:>13.2f}")
    if reference is not None:
        print(f"run: reference / ours = {median_ms(samples['reference run']) / median_ms(samples['ours run']):.2f}")
        print(f"call: reference / ours = {median_ms(samples['reference call']) / median_ms(samples['ours call']):.2f}")


if __name__ == "__main__":
    main()
