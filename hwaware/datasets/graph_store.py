"""Captured graphs of the networks in the shipped tables, stored compactly (``data/gpu/graphs/``).

A network's latency under a per-layer model is a sum over its layers, so a network is stored as the
multiset of its distinct layers (by :meth:`Layer.signature`) plus its first and last kernel (the pre and
post phases). Distinct layers are stored once per space at batch 1, fp32; other batches and precisions are
re-shapes (:mod:`hwaware.graph.transform`): a kernel whose activations all lead with ``d`` rows moves as ``d``
rows per image (a fold where ``d != 1``, ConvNeXt's dense layers on ``(H*W, C)``: exact in costs against a
capture at batch 2 for every such network, ``tests/test_gpu_data.py``). ``scripts/capture_tables.py`` writes
the store.
"""
from __future__ import annotations

import functools
import gzip
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwaware.datasets.paths import DataNotFoundError
from hwaware.graph.layer import Graph, Layer
from hwaware.graph.transform import batch_led

if TYPE_CHECKING:
    from hwaware.datasets.gpu_tables import NetworkLatency

GRAPH_DIR = Path(__file__).resolve().parents[2] / "data" / "gpu" / "graphs"


@dataclass
class StoredNet:
    counts: dict[int, int]  # distinct-layer id -> occurrences (kernel-launching layers only)
    first: int
    last: int
    input_shape: tuple[int, ...]
    params: int
    macs: int  # per image
    arch: dict[str, Any] = field(default_factory=dict)


@dataclass
class GraphStore:
    space: str
    layers: list[Layer] = field(default_factory=list)
    nets: dict[str, StoredNet] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    _ids: dict[str, int] = field(default_factory=dict, repr=False)

    def _id(self, layer: Layer) -> int:
        norm = replace(layer, index=0, module="", inputs=())
        sig = norm.signature()
        if sig not in self._ids:
            self._ids[sig] = len(self.layers)
            self.layers.append(norm)
        return self._ids[sig]

    def add(self, arch_id: str, graph: Graph, arch: dict[str, Any]) -> None:
        kernels = graph.kernels()
        if graph.batch_size != 1 or graph.precision != "fp32" or not kernels:
            raise ValueError(f"{arch_id}: store batch-1 fp32 graphs with at least one kernel")
        if not all(batch_led(l) for l in kernels):  # views are not stored: a fold's kernels lead with one dimension
            raise ValueError(f"{arch_id}: a kernel's operands lead with different dimensions; it cannot be re-batched")
        ids = [self._id(l) for l in kernels]
        self.nets[arch_id] = StoredNet(dict(Counter(ids)), ids[0], ids[-1], tuple(graph.input_shape[1:]),
                                       graph.total_params, graph.macs, arch)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"space": self.space, "layers": [l.as_dict() for l in self.layers], "failed": self.failed,
               "nets": {k: {"counts": sorted(n.counts.items()), "first": n.first, "last": n.last,
                            "input": list(n.input_shape), "params": n.params, "macs": n.macs, "arch": n.arch}
                        for k, n in self.nets.items()}}
        with gzip.open(path, "wt") as f:
            json.dump(doc, f, separators=(",", ":"))

    def drop_unbatchable(self) -> GraphStore:
        """Networks stored before :meth:`add` checked re-batching go to ``failed`` if a kernel's operands lead with
        different dimensions."""
        bad = {i for i, l in enumerate(self.layers) if not batch_led(l)}
        for k in [k for k, n in self.nets.items() if bad & n.counts.keys()]:
            del self.nets[k]
            self.failed[k] = "a kernel's operands lead with different dimensions"
        return self

    @classmethod
    def load(cls, path: Path) -> GraphStore:
        if not path.is_file():
            raise DataNotFoundError(f"no captured graphs at {path}; run scripts/capture_tables.py")
        with gzip.open(path, "rt") as f:
            doc = json.load(f)
        store = cls(doc["space"], failed=doc.get("failed", {}))
        for d in doc["layers"]:
            store._id(Layer.from_dict(d))
        for k, n in doc["nets"].items():
            store.nets[k] = StoredNet({int(i): int(c) for i, c in n["counts"]}, n["first"], n["last"],
                                      tuple(n["input"]), n["params"], n["macs"], n.get("arch", {}))
        return store

    @classmethod
    def merge(cls, space: str, paths: list[Path]) -> GraphStore:
        """One store from several (chunks of one capture run): layer ids are renumbered."""
        out = cls(space)
        for path in paths:
            part = cls.load(path)
            remap = [out._id(l) for l in part.layers]
            for k, n in part.nets.items():
                out.nets[k] = replace(n, counts={remap[i]: c for i, c in n.counts.items()}, first=remap[n.first],
                                      last=remap[n.last])
            out.failed.update(part.failed)
        return out


@functools.cache
def load_store(space: str) -> GraphStore:
    """The committed store of ``space`` (``nb201``, ``fbnet``, ``ofa_mbv3``, ``torchvision``, ``timm``)."""
    return GraphStore.load(GRAPH_DIR / f"{space}.json.gz").drop_unbatchable()


UNFUSED = ":unfused"  # store key suffix: a reparameterizable timm model in its train-time (multi-branch) form
PARAMS_MATCH = 0.01  # relative: timm publishes millions to 2 decimals; 1 % also spans small timm-version drift


def _params_off(net: StoredNet, published_m: float) -> float:
    """How far a stored network's parameter count is from a published one (millions)."""
    return abs(net.params / 1e6 - published_m)


@functools.cache
def timm_unfused_runs() -> frozenset[tuple[str, str]]:
    """The (table, GPU) benchmark runs that timed reparameterizable models in their train-time form: those where
    most of the rows of models stored in both forms publish a parameter count nearer the unfused form's. A run
    times every such model one way (timm's benchmark reparameterizes or not): the RTX 3090's pt240 table unfused
    (14 of its 15 such rows: MobileOne, RepVGG, RepViT ... with their branches' parameters; the 15th, RepGhostNet-0.5,
    matches both at 2 decimals), the pt291 tables fused (14 of 17; the other 3 match neither form: :func:`store_key`)."""
    from hwaware.datasets.gpu_tables import load_timm_gpu

    nets, votes = load_store("timm").nets, Counter()
    for r in load_timm_gpu():
        both, published = (r.arch_id, r.arch_id + UNFUSED), r.arch.get("param_count_m")
        if published and all(k in nets for k in both):
            fused, unfused = (_params_off(nets[k], published) for k in both)
            votes[r.table, r.gpu] += 1 if unfused < fused else -1
    return frozenset(run for run, v in votes.items() if v > 0)


def store_key(r: NetworkLatency) -> str | None:
    """The key of a measured row's network in its space's store; None: not stored. A timm row takes the form its
    run timed (:func:`timm_unfused_runs`), and None where that form's parameter count is not within
    ``PARAMS_MATCH`` of the row's published one: the row timed another timm version's network (GhostNetV3 in the
    pt291 tables, 2.85 / 12.38 M published, 2.26 / 6.93 M fused here; FastViT-T8, 4.00 against 3.92)."""
    nets = load_store(r.space).nets
    if r.space != "timm":
        return r.arch_id if r.arch_id in nets else None
    key = r.arch_id + UNFUSED if (r.table, r.gpu) in timm_unfused_runs() and r.arch_id + UNFUSED in nets else r.arch_id
    published = r.arch.get("param_count_m")
    if key not in nets or (published and _params_off(nets[key], published) > PARAMS_MATCH * published):
        return None
    return key


def timm_table_models() -> list[tuple[str, int]]:
    """(model, image size) of every row of the GPU timm tables hwaware trains on."""
    from hwaware.datasets.gpu_tables import load_timm_gpu

    return sorted({(r.arch["model"], r.arch["input_size"][1]) for r in load_timm_gpu()})
