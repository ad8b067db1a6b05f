"""Fuzz the PTX analyzer with a large budget: random valid kernels (slicer == interpreter on every
count), the same with device-function calls and inline-asm brace scopes, random kernels for 2-D/3-D
grids that reach the slicer's shortcuts (the same, plus a tally of the shortcuts taken) and mutations
of the golden corpus's PTX and launches (counts, or a located PTXError).

Every input is ``random.Random(seed)``-driven, so a failing seed replays in any process. A
finding is any other exception, a slicer/interpreter disagreement, or an input running longer than
``--timeout`` seconds (a hang). Prints the tally and writes the findings as JSON.

Run: ``python scripts/fuzz_ptx.py [--random 2000] [--calls 1000] [--grid 1000] [--mutations 5000] [--first-seed 0]
[--out fuzz.json]``
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import signal
import time

from hwaware.datasets.ptx_golden import load_golden_cases
from hwaware.ptx.fuzz import (check, hostile_launch, mutate, random_call_kernel, random_grid_kernel, random_kernel,
                              shortcuts_fired)


class Hang(Exception):
    pass


def _alarm(*_: object) -> None:
    raise Hang


def run_one(fn, timeout: float) -> str:
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=2000, help="random valid kernels to try")
    ap.add_argument("--calls", type=int, default=1000, help="random kernels with calls and brace scopes to try")
    ap.add_argument("--grid", type=int, default=1000, help="random grid kernels (shortcuts) to try")
    ap.add_argument("--mutations", type=int, default=5000, help="corpus mutations to try")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds before an input counts as a hang")
    ap.add_argument("--out", default="fuzz_findings.json")
    args = ap.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    cases = load_golden_cases()
    texts = {c.id: c.ptx_path.read_text() for c in cases}
    tally: collections.Counter[str] = collections.Counter()
    fired: collections.Counter[str] = collections.Counter()  # grid kernels on which each shortcut was taken
    findings = []
    t0 = time.perf_counter()

    def attempt(kind: str, seed: int, what: str, fn) -> None:
        try:
            tally[f"{kind}: {run_one(fn, args.timeout)}"] += 1
        except Exception as exc:  # every other outcome is a finding
            tally[f"{kind}: FINDING"] += 1
            findings.append({"kind": kind, "seed": seed, "input": what,
                             "error": f"{type(exc).__name__}: {str(exc)[:500]}"})
            print(f"finding: {kind} seed {seed} ({what}): {type(exc).__name__}: {str(exc)[:200]}")

    for seed in range(args.first_seed, args.first_seed + args.random):
        g = random_kernel(seed)
        attempt("random kernel", seed, "random_kernel(seed)", lambda g=g: check(g.ptx, g.launch))
    for seed in range(args.first_seed, args.first_seed + args.calls):
        g = random_call_kernel(seed)
        attempt("call kernel", seed, "random_call_kernel(seed)", lambda g=g: check(g.ptx, g.launch))
    for seed in range(args.first_seed, args.first_seed + args.grid):
        g = random_grid_kernel(seed)

        def grid_one(g=g) -> str:
            outcome = check(g.ptx, g.launch)
            if outcome == "counted":
                for name in shortcuts_fired(g.ptx, g.launch):
                    fired[name] += 1
            return outcome
        attempt("grid kernel", seed, "random_grid_kernel(seed)", grid_one)
    for seed in range(args.first_seed, args.first_seed + args.mutations):
        rng = random.Random(seed)
        case = cases[seed % len(cases)]
        text, launch = texts[case.id], dict(case.launch)
        if rng.random() < 0.25:
            launch, what = hostile_launch(launch, rng)
        else:
            text, what = mutate(text, rng)
        attempt("mutation", seed, f"{case.id}: {what}",
                lambda text=text, launch=launch, k=case.kernel: check(text, launch, k))
    seconds = time.perf_counter() - t0
    for key, n in sorted(tally.items()):
        print(f"{key:<40} {n:>7,}")
    for key, n in sorted(fired.items()):
        print(f"{'grid kernel shortcut: ' + key:<40} {n:>7,}")
    print(f"{sum(tally.values()):,} inputs in {seconds:.0f} s, {len(findings)} findings -> {args.out}")
    with open(args.out, "w") as f:
        json.dump({"tally": tally, "shortcuts": fired, "findings": findings, "seconds": seconds}, f, indent=1)


if __name__ == "__main__":
    main()
