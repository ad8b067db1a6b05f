"""Capture the layer graph of every network in the shipped GPU tables, once, into a compact store.

For each space (HELP nb201 / fbnet / ofa_mbv3, torch2trt's torchvision models, timm models of the GPU
benchmark files) every architecture is captured at batch 1 in fp32 on the meta device; other batch sizes
and precisions are exact re-shapes (:mod:`hwaware.graph.transform`). The store is
``data/gpu/graphs/<space>.json.gz``: the space's distinct layers (by signature) and, per architecture,
its ordered list of layer ids (see :mod:`hwaware.datasets.graph_store`).

Resumable: finished chunks are kept in ``data/gpu/graphs/parts/``; a re-run captures only what no chunk has.
Architectures are captured in a stable-hash order, so ``--limit N`` captures a uniform sample that a later
run without the limit extends.

Run: ``python scripts/capture_tables.py nb201 fbnet ofa_mbv3 torchvision timm`` (about an hour on one
core for all HELP archs).
"""
from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import replace

import torch

from hwaware.datasets.gpu_tables import load_help, load_torch2trt
from hwaware.datasets.graph_store import GRAPH_DIR, GraphStore, timm_table_models
from hwaware.evaluation.splits import arch_group, stable_unit
from hwaware.graph.layer import Graph, LayerKind
from hwaware.graph.sources import capture

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


@functools.cache
def _nb201_frame() -> tuple[list, list, list, int]:
    """The layers of an NB201 network outside its 15 InferCells: (before stage 1, the two reduction blocks,
    the head) and their parameter count; the same for every architecture."""
    from hwaware.zoo.nb201 import build_nb201

    g = capture(build_nb201(NB201_REFERENCE), input_size=(3, 32, 32))
    head = [l for l in g.layers if not l.module.startswith(("cells.", "stem"))]
    stem = [l for l in g.layers if l.module.startswith("stem")]
    reductions = [[l for l in g.layers if l.module.startswith(f"cells.{i}.") or l.module == f"cells.{i}"]
                  for i in (5, 11)]
    cell_params = 5 * sum(_cell_graph(NB201_REFERENCE, c, h).total_params for c, h in NB201_STAGES)
    return stem, reductions, head, g.total_params - cell_params


NB201_STAGES = ((16, 32), (32, 16), (64, 8))  # (width, input side) of the cells of each stage
NB201_REFERENCE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@functools.lru_cache(maxsize=4096)
def _cell_graph(arch: str, c: int, h: int):
    from hwaware.zoo.nb201 import InferCell, parse_arch

    return capture(InferCell(parse_arch(arch), c).eval(), input_size=(c, h, h))


def compose_nb201(arch: str) -> Graph:
    """An NB201 network's graph from its three cell captures (one per stage width) and the fixed frame: the same
    layers in the same order as capturing the whole network (checked by ``--check``), 7x faster."""
    stem, (red1, red2), head, frame_params = _nb201_frame()
    cells = [_cell_graph(arch, c, h) for c, h in NB201_STAGES]
    layers = [*stem, *cells[0].layers * 5, *red1, *cells[1].layers * 5, *red2, *cells[2].layers * 5, *head]
    return Graph(name="nb201", layers=[replace(l, index=i, inputs=()) for i, l in enumerate(layers)],
                 input_shape=(1, 3, 32, 32), precision="fp32",
                 total_params=frame_params + 5 * sum(c.total_params for c in cells), source="composed")


def _capture(space: str, arch: dict):
    if space == "nb201":
        return compose_nb201(arch["arch"])
    if space in ("fbnet", "ofa_mbv3"):
        from hwaware.search.spaces import get_space

        sp = get_space(space)
        return capture(sp.build(arch), input_size=sp.input_size(arch))
    return capture(arch["model"], input_size=arch["input_size"])


def is_cnn(graph) -> bool:
    """At least one conv and no activation x activation product (attention, matmul)."""
    kinds = {l.kind for l in graph.layers}
    return bool(kinds & {LayerKind.CONV, LayerKind.DEPTHWISE_CONV}) and not kinds & {LayerKind.MATMUL,
                                                                                      LayerKind.ATTENTION}


def run(space: str, limit: int | None) -> None:
    parts = GRAPH_DIR / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    done = GraphStore.merge(space, sorted(parts.glob(f"{space}.*.json.gz")))
    jobs = [j for j in _jobs(space)[:limit] if j[0] not in done.nets and j[0] not in done.failed]
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
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for space in args.spaces:
        run(space, args.limit)


if __name__ == "__main__":
    sys.exit(main())
