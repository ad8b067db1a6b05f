"""Capture the layer graph of every network in the shipped GPU tables, once, into a compact store.

For each space (HELP nb201 / fbnet / ofa_mbv3, torch2trt's torchvision models, timm models of the GPU
benchmark files) every architecture is captured at batch 1 in fp32 on the meta device; other batch sizes
and precisions are exact re-shapes (:mod:`hwaware.graph.transform`). The store is
``data/gpu/graphs/<space>.json.gz``: the space's distinct layers (by signature) and, per architecture,
its ordered list of layer ids (see :mod:`hwaware.datasets.graph_store`).

Resumable: finished chunks are kept in ``data/gpu/graphs/parts/``; a re-run captures only what no chunk has.
timm's reparameterizable models are stored in both forms, fused and ``<model>@<size>:unfused``, as the tables timed
one or the other (:func:`hwaware.datasets.graph_store.store_key`): ``timm --unfused`` adds the second form of
the committed store's networks (copied in as the first chunk: its layer ids stay), and captures nothing else.
Architectures are captured in a stable-hash order, so ``--limit N`` captures a uniform sample that a later
run without the limit extends.

Run: ``python scripts/capture_tables.py nb201 fbnet ofa_mbv3 torchvision timm`` (about an hour on one
core for all HELP archs).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time

import torch

from hwaware.datasets.gpu_tables import load_help, load_torch2trt
from hwaware.datasets.graph_store import GRAPH_DIR, UNFUSED, GraphStore, timm_table_models
from hwaware.evaluation.splits import arch_group, stable_unit
from hwaware.graph.layer import LayerKind
from hwaware.graph.sources import build_timm, capture, reparameterizable
from hwaware.zoo.nb201 import nb201_graph

CHUNK = 250
ORDER_SEED = 99  # capture order only; the splits use seeds 0 and 1


def _jobs(space: str) -> list[tuple[str, dict]]:
    if space in ("nb201", "fbnet", "ofa_mbv3"):
        seen: dict[str, dict] = {}
        for r in load_help(space):
            seen.setdefault(r.arch_id, r.arch)
        # stable-hash order (a seed of its own, independent of the splits' seeds): any prefix is a uniform sample
        return sorted(seen.items(), key=lambda kv: stable_unit(arch_group(space, kv[0]), ORDER_SEED))
    if space == "torchvision":
        return sorted({r.arch_id: r.arch for r in load_torch2trt()}.items())
    if space == "timm":
        pairs = [(f"{m}@{s}", {"model": m, "input_size": (3, s, s)}) for m, s in timm_table_models()]
        return sorted(pairs, key=lambda kv: stable_unit(kv[0], ORDER_SEED))
    raise SystemExit(f"unknown space {space!r}")


def _capture(space: str, arch: dict):
    if space == "nb201":  # assembled from per-edge templates, equal to a capture (tests/test_zoo.py)
        return nb201_graph(arch["arch"])
    if space in ("fbnet", "ofa_mbv3"):
        from hwaware.zoo.spaces import get_space

        sp = get_space(space)
        return capture(sp.build(arch), input_size=sp.input_size(arch))
    if arch.get("fused", True):
        return capture(arch["model"], input_size=arch["input_size"])
    return capture(build_timm(arch["model"], fused=False), input_size=arch["input_size"])


def _fuses(model: str) -> bool:
    try:
        return reparameterizable(build_timm(model, fused=False))
    except Exception:  # a model timm cannot build is recorded by the capture itself
        return False


def is_cnn(graph) -> bool:
    """At least one conv and no activation x activation product (attention, matmul)."""
    kinds = {l.kind for l in graph.layers}
    return bool(kinds & {LayerKind.CONV, LayerKind.DEPTHWISE_CONV}) and not kinds & {LayerKind.MATMUL,
                                                                                      LayerKind.ATTENTION}


def _unfused_jobs(stored: GraphStore) -> list[tuple[str, dict]]:
    """The train-time form of every stored fused timm network whose model timm reparameterizes (older tables timed
    that form: :func:`hwaware.datasets.graph_store.store_key`)."""
    fused = [(k, n.arch) for k, n in stored.nets.items() if not k.endswith(UNFUSED)]
    return sorted((f"{k}{UNFUSED}", {**arch, "fused": False}) for k, arch in fused if _fuses(arch["model"]))


def run(space: str, limit: int | None, unfused: bool = False) -> None:
    parts = GRAPH_DIR / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    if unfused and not list(parts.glob(f"{space}.*.json.gz")):  # extends the committed store, ids unchanged
        shutil.copy(GRAPH_DIR / f"{space}.json.gz", parts / f"{space}.00000.json.gz")
    done = GraphStore.merge(space, sorted(parts.glob(f"{space}.*.json.gz")))
    todo = _unfused_jobs(done) if unfused else _jobs(space)[:limit]
    jobs = [j for j in todo if j[0] not in done.nets and j[0] not in done.failed]
    first = len(list(parts.glob(f"{space}.*.json.gz")))
    for k, start in enumerate(range(0, len(jobs), CHUNK)):
        path = parts / f"{space}.{first + k:05d}.json.gz"
        store = GraphStore(space)
        t0 = time.time()
        for arch_id, arch in jobs[start:start + CHUNK]:
            try:
                graph = _capture(space, arch)
                if space == "timm" and not is_cnn(graph):
                    store.failed[arch_id] = "not a CNN (hwaware's GPU model is trained on CNN tables only)"
                    continue
                store.add(arch_id, graph, arch)
            except Exception as exc:  # a model the capture cannot handle is recorded, not fatal
                store.failed[arch_id] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        store.save(path)
        print(f"{space} {min(start + CHUNK, len(jobs))}/{len(jobs)} new {time.time() - t0:.0f}s", flush=True)
    merged = GraphStore.merge(space, sorted(parts.glob(f"{space}.*.json.gz")))
    merged.save(GRAPH_DIR / f"{space}.json.gz")
    print(f"{space}: {len(merged.nets)} nets, {len(merged.layers)} distinct layers, {len(merged.failed)} failed")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spaces", nargs="+")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--unfused", action="store_true",
                    help="timm: add the train-time form of the stored reparameterizable networks, nothing else")
    args = ap.parse_args(argv)
    if args.unfused and args.spaces != ["timm"]:
        ap.error("--unfused applies to the timm store only: python scripts/capture_tables.py timm --unfused")
    torch.set_num_threads(1)
    for space in args.spaces:
        run(space, args.limit, args.unfused)


if __name__ == "__main__":
    sys.exit(main())
