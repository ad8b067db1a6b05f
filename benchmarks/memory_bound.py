"""The memory warning on measured rows: how many of timm's GPU rows (every network it timed, CNN or not, at the
row's batch, image size and AMP) the lower bound of :meth:`hwaware.graph.Graph.min_memory_bytes` says cannot fit
on the GPU that ran them. Every such row is a false warning: a real run exists.

Run: ``python benchmarks/memory_bound.py`` (captures about 1,500 network shapes on the meta device: 25 minutes on
one core beside a training run, measured 2026-12-01). Writes ``benchmarks/results/memory_bound.json``.
"""
from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import hwaware
from hwaware.datasets.gpu_tables import load_timm_gpu
from hwaware.hardware.catalog import get_gpu

OUT = Path(__file__).resolve().parent / "results" / "memory_bound.json"


def main() -> None:
    t0 = time.perf_counter()
    need: dict[tuple, int | None] = {}
    rows = list(load_timm_gpu())
    flagged, failed = [], set()
    for r in rows:
        key = (r.arch["model"], r.batch, tuple(r.arch["input_size"]))
        if key not in need:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    need[key] = hwaware.capture(key[0], batch_size=key[1], input_size=key[2],
                                                precision="amp").min_memory_bytes()
            except hwaware.HwawareError:
                need[key] = None
                failed.add(key[0])
        gib = get_gpu(r.gpu).memory_size_gb
        if need[key] is not None and need[key] > gib * 2**30:
            flagged.append({"gpu": r.gpu, "model": key[0], "batch": key[1], "need_gib": need[key] / 2**30})
            print(f"flagged: {r.gpu} {key}: {need[key] / 2**30:.2f} GiB > {gib:g} GB", flush=True)
    out = {"command": "python benchmarks/memory_bound.py", "rows": len(rows), "flagged": flagged,
           "not_captured": sorted(failed), "seconds": round(time.perf_counter() - t0, 1)}
    OUT.write_text(json.dumps(out, indent=1))
    print(f"{len(flagged)} of {len(rows)} measured timm GPU rows flagged as not fitting "
          f"({len(failed)} networks not captured) -> {OUT}")


if __name__ == "__main__":
    main()
