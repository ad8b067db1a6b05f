"""End-to-end: compile a network to PTX without a GPU (TVM + NVRTC) and count its executed
instructions by slicing; a second count shows the per-(kernel, launch) cache. Cold counting speed
(launches counted per second, every cache cleared, median of ``--repeat`` runs) is the figure to
compare across versions of the analyzer; it is printed with the date and the load average, since the
machine is shared (compare versions in one session, under the same load).

``--against REV`` (repeatable) compares versions of the analyzer on the same launches: the networks are compiled
once by this checkout, and each round counts them cold in a fresh process per version (a ``git worktree`` of each
REV, and this checkout), alternating, so every version sees the same load; medians and speed-ups are printed.

Run: ``python benchmarks/ptx_compile.py [--arch sm_72] [--repeat 3] [--against REV ...]`` (needs
``pip install 'hwaware[ptx]'``)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import timm
import torch

from hwaware.ptx.compile import count_network_instructions, network_instructions
from hwaware.zoo import build

NB201_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="sm_72", help="PTX architecture (sm_72: Jetson AGX Xavier)")
    ap.add_argument("--repeat", type=int, default=3, help="cold counting runs (median reported)")
    ap.add_argument("--against", action="append", default=[], metavar="REV",
                    help="git revision to compare with (repeatable); fresh-process cold counts, alternating")
    ap.add_argument("--count-only", metavar="JSON", help=argparse.SUPPRESS)  # the child of --against
    args = ap.parse_args()
    if args.count_only:
        return _count_only(args.count_only)
    torch.set_num_threads(2)
    print(f"{datetime.date.today()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    nets = {"resnet18": (timm.create_model("resnet18"), (3, 224, 224)),
            "NB201 (cifar10)": (build("nb201", arch=NB201_CELL), (3, 32, 32))}
    if args.against:
        return _compare(nets, args.arch, args.against, args.repeat)
    for name, (model, size) in nets.items():
        t = time.perf_counter()
        compiled, counts = network_instructions(model, size, arch=args.arch)
        total = time.perf_counter() - t
        again = count_network_instructions(compiled.ptx, compiled.launches)
        print(f"{name}: {len(compiled.launches)} launches, {counts.total_thread_instructions:,} thread / "
              f"{counts.total_warp_instructions:,} warp instructions; compile {compiled.seconds:.1f} s + count "
              f"{counts.seconds:.1f} s = {total:.1f} s end to end; recount from cache {again.seconds * 1e3:.1f} ms "
              f"({again.cache_hits} hits)")
        print(f"  distinct launches: {counts.ctas_run:,} of {counts.ctas_in_grids:,} CTAs run (the rest grouped), "
              f"{counts.evaluated:,} warp-level instruction evaluations")
        cold = statistics.median(_cold_count(compiled) for _ in range(args.repeat))
        print(f"  cold count: {cold:.2f} s = {len(compiled.launches) / cold:.1f} launches/s, "
              f"{counts.total_thread_instructions / cold:,.0f} thread instructions/s (median of {args.repeat}; "
              f"load {os.getloadavg()[0]:.2f})")


def _cold_count(compiled) -> float:
    """Seconds to count every launch with the parse, slice and count caches empty."""
    from hwaware.ptx import analysis, compile as ptx_compile

    ptx_compile._COUNT_CACHE.clear()
    analysis._prepare_text.cache_clear()
    analysis._parse_text.cache_clear()
    t = time.perf_counter()
    count_network_instructions(compiled.ptx, compiled.launches)
    return time.perf_counter() - t


def _count_only(path: str) -> None:
    """Child of ``--against``: one cold count of the launches in ``path`` by whichever hwaware is importable; prints
    seconds and counts as JSON."""
    from hwaware.ptx.compile import KernelLaunch

    d = json.loads(Path(path).read_text())
    launches = [KernelLaunch(l["kernel"], tuple(l["grid"]), tuple(l["block"]), l["args"], l["dynamic_shared_mem_bytes"])
                for l in d["launches"]]
    t = time.perf_counter()
    r = count_network_instructions(d["ptx"], launches)
    print(json.dumps({"seconds": time.perf_counter() - t, "thread": r.total_thread_instructions,
                      "warp": r.total_warp_instructions}))


def _compare(nets: dict, arch: str, revs: list[str], repeat: int) -> None:
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for rev in revs:
            trees[rev] = Path(tmp) / rev.replace("/", "_")
            subprocess.run(["git", "-C", str(root), "worktree", "add", "-q", "--detach", str(trees[rev]), rev], check=True)
        trees["this checkout"] = root
        try:
            for name, (model, size) in nets.items():
                compiled, _ = network_instructions(model, size, arch=arch)
                data = Path(tmp) / "launches.json"
                data.write_text(json.dumps({"ptx": compiled.ptx, "launches": [
                    {"kernel": l.kernel, "grid": list(l.grid), "block": list(l.block), "args": l.args,
                     "dynamic_shared_mem_bytes": l.dynamic_shared_mem_bytes} for l in compiled.launches]}))
                seconds: dict[str, list[float]] = {v: [] for v in trees}
                counts = {}
                for _ in range(repeat):
                    for version, tree in trees.items():
                        out = subprocess.run([sys.executable, str(root / "benchmarks" / "ptx_compile.py"), "--count-only",
                                              str(data)], env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
                                             capture_output=True, text=True, cwd=tmp).stdout
                        r = json.loads(out.strip().splitlines()[-1])
                        seconds[version].append(r["seconds"])
                        counts[version] = (r["thread"], r["warp"])
                mine = statistics.median(seconds["this checkout"])
                print(f"{name}: {len(compiled.launches)} launches, cold count in a fresh process, median of {repeat} "
                      f"(load {os.getloadavg()[0]:.2f} after)")
                for version, ss in seconds.items():
                    med = statistics.median(ss)
                    same = "" if counts[version] == counts["this checkout"] else "  COUNTS DIFFER"
                    print(f"  {version:>14}: {med:6.2f} s (min {min(ss):.2f}, max {max(ss):.2f}), "
                          f"this checkout {med / mine:5.1f}x faster; {counts[version][0]:,} thread / "
                          f"{counts[version][1]:,} warp{same}")
        finally:
            for rev in revs:
                subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(trees[rev])], check=False)


if __name__ == "__main__":
    main()
