"""Run examples/constrained_search.py beside a busy process; fail unless it ends in under two minutes.

Issue 12: with torch's default thread count the example's proxy waited at OpenMP barriers whenever another
process was busy, and the search did not end for many minutes. Exit status 0: finished in time; 1: too slow
or failed. Usage: python scripts/example_under_contention.py [--limit SECONDS] [--competitors N]
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "constrained_search.py"
BUSY = "while True: pass"


def _children_cpu() -> float:
    """CPU seconds (user + system) of the reaped child processes: spinning threads would show up here."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=120.0, help="seconds the example may take (default 120)")
    ap.add_argument("--competitors", type=int, default=1, help="busy-looping processes beside it (default 1)")
    args = ap.parse_args()
    competitors = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(args.competitors)]
    try:
        t0, cpu0 = time.perf_counter(), _children_cpu()
        try:
            run = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=args.limit)
        except subprocess.TimeoutExpired:
            print(f"FAIL: the example did not finish in {args.limit:.0f} s beside {len(competitors)} busy processes")
            return 1
        elapsed, cpu = time.perf_counter() - t0, _children_cpu() - cpu0  # competitors are not reaped yet
    finally:
        for p in competitors:
            p.kill()
            p.wait()
    if run.returncode != 0:
        print(f"FAIL: the example exited with status {run.returncode}:\n{run.stderr}")
        return 1
    print(run.stdout, end="")
    print(f"OK: the example finished in {elapsed:.1f} s ({cpu:.1f} s of CPU) beside {len(competitors)} busy processes "
          f"(limit {args.limit:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
