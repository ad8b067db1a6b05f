"""NAS-Bench-201 "infer.tiny" cell network (C=16, N=5), as specified in ``shared/data/archspecs.md`` §1.

Kernel-level details of the original eager code are kept, because they cost time on a GPU: each
node sums its edges with Python ``sum`` (starting from 0, so the first add is ``tensor + 0``), and
``none`` edges are a real multiply by 0.
"""
from __future__ import annotations

import torch
from torch import nn

from hwaware.errors import InvalidArgumentError

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


def build_nb201(arch: str, dataset: str = "cifar10") -> nn.Module:
    """A NAS-Bench-201 network; ``dataset`` sets the classifier width (input: :data:`DATASETS`)."""
    if dataset not in DATASETS:
        raise InvalidArgumentError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    net = TinyNetwork(arch, DATASETS[dataset][1])
    net.default_cfg = {"input_size": (3, DATASETS[dataset][0], DATASETS[dataset][0])}
    return net
