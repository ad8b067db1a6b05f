"""NAS-Bench-201 "infer.tiny" cell network (C=16, N=5), as specified in ``shared/data/archspecs.md`` §1.

Kernel-level details of the original eager code are kept, because they cost time on a GPU: each
node sums its edges with Python ``sum`` (starting from 0, so the first add is ``tensor + 0``), and
``none`` edges are a real multiply by 0.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from hwaware.errors import InvalidArgumentError
from hwaware.graph.layer import Graph, Layer

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
DATASETS = {"cifar10": (32, 10), "cifar100": (32, 100), "ImageNet16-120": (16, 120)}


def parse_arch(arch: str) -> list[list[tuple[str, int]]]:
    """``'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'`` -> inputs of nodes 1, 2, 3 as (op, source node)."""
    nodes = []
    for group in arch.strip().split("+"):
        edges = []
        for item in group.strip("|").split("|"):
            op, _, src = item.partition("~")
            if op not in OPS or not src.isdigit():
                raise InvalidArgumentError(f"malformed NAS-Bench-201 arch string {arch!r} at {item!r}; ops are {OPS}")
            edges.append((op, int(src)))
        nodes.append(edges)
    if [len(n) for n in nodes] != [1, 2, 3] or any(src != i for n in nodes for i, (_, src) in enumerate(n)):
        raise InvalidArgumentError(f"a NAS-Bench-201 arch has 3 nodes with 1, 2, 3 edges from nodes 0..i, got {arch!r}")
    return nodes


class _ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out))


class _Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def _op(name: str, c: int) -> nn.Module:
    if name == "nor_conv_3x3":
        return _ReLUConvBN(c, c, 3, 1)
    if name == "nor_conv_1x1":
        return _ReLUConvBN(c, c, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity()
    return _Zero()


class InferCell(nn.Module):
    def __init__(self, nodes: list[list[tuple[str, int]]], c: int) -> None:
        super().__init__()
        self.sources = [[src for _, src in n] for n in nodes]
        self.edges = nn.ModuleList(nn.ModuleList(_op(op, c) for op, _ in n) for n in nodes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for sources, ops in zip(self.sources, self.edges):
            states.append(sum(op(states[s]) for s, op in zip(sources, ops)))
        return states[-1]


class _ResNetBasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = _ReLUConvBN(c_in, c_out, 3, 2)
        self.conv_b = _ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2, 0), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    def __init__(self, arch: str, num_classes: int = 10, c: int = 16, n: int = 5) -> None:
        super().__init__()
        nodes = parse_arch(arch)
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        cells: list[nn.Module] = []
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage:
                cells.append(_ResNetBasicBlock(width // 2, width))
            cells += [InferCell(nodes, width) for _ in range(n)]
        self.cells = nn.Sequential(*cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.global_pooling(self.lastact(self.cells(self.stem(x))))
        return self.classifier(x.flatten(1))


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise InvalidArgumentError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")


def build_nb201(arch: str, dataset: str = "cifar10") -> nn.Module:
    """A NAS-Bench-201 network; ``dataset`` sets the classifier width (input: :data:`DATASETS`)."""
    _check_dataset(dataset)
    net = TinyNetwork(arch, DATASETS[dataset][1])
    net.default_cfg = {"input_size": (3, DATASETS[dataset][0], DATASETS[dataset][0])}
    return net



# --- Graphs without tracing -------------------------------------------------------------------------------------
# An edge's layers depend only on its op (its input is always C x H x H) and its place (their module names), and every
# node ends in one add per edge (the sum starts from 0). So a network is a fixed frame plus, per edge, its op's layers
# and an add. Whole-network captures of the five single-op architectures hold every such piece with its real module
# names and costs; an architecture's graph takes each edge's pieces from the capture of that edge's op and renumbers
# the layers and their inputs. tests/test_zoo.py checks the result against whole captures.

EDGES = 6  # per cell, in parse_arch's (node, source) order, which is also the forward's order
Slot = tuple  # where a layer sits, the same in every architecture: ("frame", n), ("edge", cell, e, t) or ("add", cell, e)


@dataclass(frozen=True)
class _Piece:
    """A layer of a reference capture, its slot, and its inputs' slots (None: the network input)."""

    layer: Layer
    slot: Slot
    input_slots: tuple[Slot | None, ...]


@dataclass(frozen=True)
class _Templates:
    reference: Graph  # the all-skip_connect capture: name, source, input shape, frame parameters and skipped ops
    plan: tuple[_Piece | tuple[int, int], ...]  # frame layers and (cell, edge) placeholders, in execution order
    edges: dict[tuple[str, int, int], tuple[_Piece, ...]]  # (op, cell, edge) -> the edge's layers, then its add
    skipped_per_edge: dict[str, Counter[str]]  # bookkeeping ops an edge of each op adds to a skip_connect edge
    cells: int


def _uniform_arch(op: str) -> str:
    return f"|{op}~0|+|{op}~0|{op}~1|+|{op}~0|{op}~1|{op}~2|"


def _pieces(graph: Graph, cells: dict[str, int]) -> list[_Piece]:
    """The slot of every layer of a whole-network capture; ``cells``: InferCell module name -> cell number."""
    slots: list[Slot] = []
    seen: Counter[Slot] = Counter()
    for l in graph.layers:
        name, _, edge = l.module.partition(".edges.")
        if l.module in cells:  # a node's sum: one add per edge, in edge order
            slot: Slot = ("add", cells[name], seen["add", cells[name]])
            if l.op != "aten.add":
                raise AssertionError(f"nb201: unexpected {l.op} in {l.module}")
        elif edge and name in cells:
            node, src = map(int, edge.split(".")[:2])
            slot = ("edge", cells[name], node * (node + 1) // 2 + src)
            slot += (seen[slot],)
        else:
            slot = ("frame", seen["frame",])
        seen[slot[:-1]] += 1
        slots.append(slot)
    return [_Piece(l, s, tuple(slots[i] if i >= 0 else None for i in l.inputs)) for l, s in zip(graph.layers, slots)]


@functools.cache
def _templates(dataset: str) -> _Templates:
    from hwaware.graph.sources import capture

    edges: dict[tuple[str, int, int], tuple[_Piece, ...]] = {}
    graphs: dict[str, Graph] = {}
    for op in OPS:
        net = build_nb201(_uniform_arch(op), dataset)
        cells = {f"cells.{k}": n for n, k in enumerate(k for k, m in enumerate(net.cells) if isinstance(m, InferCell))}
        graphs[op] = capture(net, input_size=DATASETS[dataset][0])
        pieces = _pieces(graphs[op], cells)
        for p in pieces:
            if p.slot[0] != "frame":
                edges[(op, *p.slot[1:3])] = (*edges.get((op, *p.slot[1:3]), ()), p)
        if op == "skip_connect":  # no edge layers: one add per edge marks where each edge goes
            plan = tuple(p if p.slot[0] == "frame" else p.slot[1:] for p in pieces)
    reference = graphs["skip_connect"]
    n_edges = len(cells) * EDGES
    per_edge = {}
    for op in OPS:
        extra = graphs[op].skipped - reference.skipped
        if any(n % n_edges for n in extra.values()):
            raise AssertionError(f"nb201: the skipped ops of {op} edges {dict(extra)} differ between edges")
        per_edge[op] = Counter({k: n // n_edges for k, n in extra.items()})
    return _Templates(reference, plan, edges, per_edge, len(cells))


def nb201_graph(arch: str, dataset: str = "cifar10", *, batch_size: int = 1, precision: str = "fp32") -> Graph:
    """The graph ``hwaware.capture(build_nb201(arch, dataset), batch_size=..., precision=...)`` gives (every layer
    field, parameter count, skipped ops), assembled from five captures made once per dataset instead of a trace."""
    from hwaware.graph.transform import with_batch

    ops = [op for node in parse_arch(arch) for op, _ in node]
    _check_dataset(dataset)
    t = _templates(dataset)
    pieces: list[_Piece] = []
    for item in t.plan:
        if isinstance(item, _Piece):
            pieces.append(item)
        else:
            pieces += t.edges[(ops[item[1]], *item)]
    at: dict[Slot | None, int] = {p.slot: i for i, p in enumerate(pieces)}
    at[None] = -1  # the network input
    layers = [p.layer.placed(i, p.layer.module, tuple([at[s] for s in p.input_slots])) for i, p in enumerate(pieces)]
    skipped = Counter(t.reference.skipped)
    for op in ops:
        skipped.update({k: n * t.cells for k, n in t.skipped_per_edge[op].items()})
    ref = t.reference  # its parameters are the frame's: skip_connect edges and adds have none
    graph = Graph(name=ref.name, layers=layers, input_shape=ref.input_shape, precision=ref.precision,
                  total_params=ref.total_params + sum(p.layer.params for p in pieces if p.slot[0] == "edge"),
                  source=ref.source, skipped=skipped)
    return graph if (batch_size, precision) == (1, "fp32") else with_batch(graph, batch_size, precision)
