"""Capture the layer graph of every network in the shipped GPU tables, once, into a compact store.

For each space (HELP nb201 / fbnet / ofa_mbv3, torch2trt's torchvision models, timm models of the GPU
benchmark files) every architecture is captured at batch 1 in fp32 on the meta device; other batch sizes
and precisions are exact re-shapes (:mod:`hwaware.graph.transform`). The store is
``data/gpu/graphs/<space>.json.gz``: the space's distinct layers (by signature) and, per architecture,
its ordered list of layer ids (see :mod:`hwaware.datasets.graph_store`).

Resumable: finished chunks are kept in ``data/gpu/graphs/parts/`` and skipped on a re-run. HELP
architectures are captured in a stable-hash order, so ``--limit N`` captures a uniform sample that a later
run without the limit extends.

Run: ``python scripts/capture_tables.py nb201 fbnet ofa_mbv3 torchvision timm`` (about an hour on one
core for all HELP archs).
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import torch

from hwaware.datasets.gpu_tables import load_help, load_torch2trt
from hwaware.datasets.graph_store import GRAPH_DIR, GraphStore, timm_table_models
from hwaware.evaluation.splits import arch_group, stable_unit
from hwaware.graph.sources import capture
from hwaware.zoo import build

CHUNK = 250


def _jobs(space: str) -> list[tuple[str, dict]]:
    if space in ("nb201", "fbnet", "ofa_mbv3"):
        seen: dict[str, dict] = {}
        for r in load_help(space):
            seen.setdefault(r.arch_id, r.arch)
        # stable-hash order: any prefix is a uniform sample, so a partial run is already usable
        return sorted(seen.items(), key=lambda kv: stable_unit(arch_group(space, kv[0])))
    if space == "torchvision":
        return sorted({r.arch_id: r.arch for r in load_torch2trt()}.items())
    if space == "timm":
        return [(f"{m}@{s}", {"model": m, "input_size": (3, s, s)}) for m, s in timm_table_models()]
    raise SystemExit(f"unknown space {space!r}")


def _capture(space: str, arch: dict):
    if space in ("nb201", "fbnet", "ofa_mbv3"):
        from hwaware.search.spaces import get_space

        sp = get_space(space)
        return capture(sp.build(arch), input_size=sp.input_size(arch))
    return capture(arch["model"], input_size=arch["input_size"])


def run(space: str, limit: int | None) -> None:
    jobs = _jobs(space)[:limit]
    parts = GRAPH_DIR / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(jobs), CHUNK):
        path = parts / f"{space}.{start:06d}.json.gz"
        if path.exists():
            continue
        store = GraphStore(space)
        t0 = time.time()
        for arch_id, arch in jobs[start:start + CHUNK]:
            try:
                store.add(arch_id, _capture(space, arch), arch)
            except Exception as exc:  # a model the capture cannot handle is recorded, not fatal
                store.failed[arch_id] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        store.save(path)
        print(f"{space} {start + CHUNK}/{len(jobs)} {time.time() - t0:.0f}s", flush=True)
    merged = GraphStore.merge(space, sorted(parts.glob(f"{space}.*.json.gz")))
    merged.save(GRAPH_DIR / f"{space}.json.gz")
    print(f"{space}: {len(merged.nets)} nets, {len(merged.layers)} distinct layers, {len(merged.failed)} failed")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spaces", nargs="+")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for space in args.spaces:
        run(space, args.limit)


if __name__ == "__main__":
    sys.exit(main())
