"""Micro-benchmark layer sets: random configurations per kind plus layers sampled from real networks.

Random ranges follow paper 004's Appendix A (batch 1-64, matrix 1-512, kernel 1-7, channels,
strides 1-4, padding valid/same, bias, dense 1-4096) narrowed to what a single CPU thread measures
in milliseconds: a layer is redrawn until it has at most ``MAX_MACS`` MACs. Batch 1 is drawn most
often because NAS latency is batch-1 latency. Real-network layers come from capturing timm models
(unique layer signatures of the measured kinds), so the shapes real CNNs produce are covered.
Every layer is a captured :class:`Layer` record (a tiny module is traced), identical in form to
the layers the estimators see at prediction time.
"""
from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from hwaware.errors import GraphCaptureError
from hwaware.graph.layer import Layer, LayerKind
from hwaware.graph.sources import capture
from hwaware.graph.rebuild import REBUILT_KINDS, OpModule

K = LayerKind
MAX_MACS = 400_000_000
MAX_ELEMENTS = 6_000_000
# Share of random layers per kind (the rest of a collection comes from real networks).
RANDOM_MIX: dict[LayerKind, float] = {
    K.CONV: 0.30, K.DEPTHWISE_CONV: 0.12, K.DENSE: 0.08, K.POOL: 0.06, K.GLOBAL_POOL: 0.05, K.NORM: 0.08,
    K.ACTIVATION: 0.10, K.ELEMENTWISE: 0.10, K.CONCAT: 0.04, K.MATMUL: 0.02, K.SOFTMAX: 0.015, K.REDUCE: 0.01,
    K.UPSAMPLE: 0.01, K.COPY: 0.015,
}


def _loguniform(rng: random.Random, lo: int, hi: int) -> int:
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def _channels(rng: random.Random, lo: int = 3, hi: int = 1024) -> int:
    c = _loguniform(rng, lo, hi)
    return max(lo, c - c % 8) if rng.random() < 0.7 and c >= 8 else c


def _spatial(rng: random.Random, lo: int = 1, hi: int = 224) -> int:
    if rng.random() < 0.5:
        return rng.choice([s for s in (7, 14, 28, 56, 112, 224, 8, 16, 32, 64, 10, 19, 38, 75, 150) if lo <= s <= hi])
    return _loguniform(rng, lo, hi)


def _batch(rng: random.Random) -> int:
    return 1 if rng.random() < 0.7 else rng.choice([2, 4, 8, 16])


def _one(module: nn.Module, shape: tuple[int, ...], kind: LayerKind | None = None) -> Layer | None:
    g = capture(module, input_size=shape[1:], batch_size=shape[0])
    layers = [l for l in g.layers if l.kind in REBUILT_KINDS and (kind is None or l.kind is kind)]
    return layers[-1] if layers else None


def random_layer(kind: LayerKind, rng: random.Random) -> Layer:
    """One random layer of ``kind`` (redrawn until valid and within the size limits)."""
    while True:
        try:
            layer = _draw(kind, rng)
        except GraphCaptureError:  # an invalid combination (e.g. group norm over single values): draw again
            continue
        if layer is not None and layer.macs <= MAX_MACS and all(
                math.prod(s) <= MAX_ELEMENTS for s in (*layer.input_shapes, *layer.output_shapes)):
            return layer


def _draw(kind: LayerKind, rng: random.Random) -> Layer | None:
    b = _batch(rng)
    if kind in (K.CONV, K.DEPTHWISE_CONV):
        hw = _spatial(rng, 3, 224)
        k = rng.choice([1, 1, 3, 3, 3, 5, 7]) if kind is K.CONV else rng.choice([3, 3, 5, 7])
        k = min(k, hw)
        stride = 1 if rng.random() < 0.7 else rng.choice([2, 2, 3, 4])
        dilation = 2 if k > 1 and rng.random() < 0.08 and hw >= 2 * k else 1
        padding = (dilation * (k - 1)) // 2 if rng.random() < 0.85 else 0
        if kind is K.DEPTHWISE_CONV:
            cin = _channels(rng, 8, 2048)
            cout, groups = cin * (2 if rng.random() < 0.05 else 1), cin
        else:
            cin, cout = _channels(rng), _channels(rng, 8, 2048)
            groups = 1
            if rng.random() < 0.12:
                g = rng.choice([2, 4, 8, 16, 32])
                if cin % g == 0 and cout % g == 0:
                    groups = g
        conv = nn.Conv2d(cin, cout, k, stride, padding, dilation, groups, bias=rng.random() < 0.3)
        return _one(conv, (b, cin, hw, hw))
    c, hw = _channels(rng, 3, 2048), _spatial(rng, 1, 224)
    shape = (b, c, hw, hw)
    if kind is K.DENSE:
        rows = 1 if rng.random() < 0.6 else _loguniform(rng, 2, 64)
        fin, fout = _loguniform(rng, 8, 4096), _loguniform(rng, 2, 4096)
        return _one(nn.Linear(fin, fout, bias=rng.random() < 0.8), (rows, fin))
    if kind is K.MATMUL:  # attention-style product of two activations
        n, dim = _loguniform(rng, 4, 512), _loguniform(rng, 8, 512)
        return _one(OpModule(lambda x: torch.matmul(x, x.transpose(-1, -2))), (b, rng.choice([1, 2, 4, 8]), n, dim))
    if kind is K.POOL:
        k = rng.choice([2, 3, 3, 5])
        s = rng.choice([1, 2, 2])
        if hw < k:
            return None
        pool = nn.MaxPool2d(k, s, k // 2 if rng.random() < 0.5 else 0, ceil_mode=rng.random() < 0.2) \
            if rng.random() < 0.6 else nn.AvgPool2d(k, s, k // 2 if rng.random() < 0.5 else 0)
        return _one(pool, shape)
    if kind is K.GLOBAL_POOL:
        keep = rng.random() < 0.5
        return _one(OpModule(lambda x: x.mean((2, 3), keepdim=keep)) if rng.random() < 0.8 else nn.AdaptiveMaxPool2d(1),
                    (b, c, max(hw // 4, 2), max(hw // 4, 2)))
    if kind is K.NORM:
        r = rng.random()
        if r < 0.75:
            return _one(nn.BatchNorm2d(c), shape)
        if r < 0.9:
            return _one(nn.LayerNorm(c), (b, hw, hw, c))
        g = next(g for g in (32, 16, 8, 4, 2, 1) if c % g == 0)
        return _one(nn.GroupNorm(g, c), shape)
    if kind is K.ACTIVATION:
        act = rng.choice([nn.ReLU(), nn.ReLU6(), nn.SiLU(), nn.Hardswish(), nn.Hardsigmoid(), nn.Sigmoid(), nn.GELU(),
                          nn.Tanh(), nn.LeakyReLU(0.1), nn.Mish(), nn.ReLU(), nn.SiLU()])
        if rng.random() < 0.15:  # SE-gate sized tensors
            shape = (b, c, 1, 1)
        return _one(act, shape, K.ACTIVATION)
    if kind is K.ELEMENTWISE:
        r = rng.random()
        if r < 0.45:
            return _one(OpModule(lambda x: x + x), shape, K.ELEMENTWISE)
        if r < 0.8:  # SE gate: broadcast multiply
            return _one(OpModule(lambda x: x * x.mean((2, 3), keepdim=True)), shape, K.ELEMENTWISE)
        return _one(OpModule(lambda x: x * 0.5 + 1.0), shape, K.ELEMENTWISE)
    if kind is K.CONCAT:
        parts = rng.choice([2, 2, 3, 4])
        return _one(OpModule(lambda x: torch.cat([x] * parts, 1)), shape, K.CONCAT)
    if kind is K.SOFTMAX:
        return _one(OpModule(lambda x: torch.softmax(x, -1)), (b, rng.choice([1, 4, 8]), _loguniform(rng, 4, 512),
                                                           _loguniform(rng, 4, 1000)))
    if kind is K.REDUCE:
        return _one(OpModule(lambda x: x.sum(1)), shape, K.REDUCE)
    if kind is K.UPSAMPLE:
        mode = rng.choice(["nearest", "bilinear"])
        small = (b, c, max(hw // 2, 1), max(hw // 2, 1))
        return _one(OpModule(lambda x: F.interpolate(x, scale_factor=2, mode=mode)), small, K.UPSAMPLE)
    if kind is K.COPY:
        if rng.random() < 0.5:
            return _one(OpModule(lambda x: F.pad(x, (1, 1, 1, 1))), shape, K.COPY)
        return _one(OpModule(lambda x: x.permute(0, 2, 3, 1).contiguous()), shape, K.COPY)
    raise ValueError(f"no random generator for {kind}")


def random_layers(n: int, seed: int = 0) -> Iterator[Layer]:
    """``n`` random layers, kinds drawn by :data:`RANDOM_MIX`; the same seed gives the same layers."""
    rng = random.Random(seed)
    kinds, weights = zip(*RANDOM_MIX.items())
    for _ in range(n):
        yield random_layer(rng.choices(kinds, weights)[0], rng)


def network_layers(models: Iterable[str], batch_sizes: Iterable[int] = (1,)) -> Iterator[tuple[str, Layer]]:
    """(model, layer) for every distinct measured-kind layer of the given timm models."""
    seen: set[str] = set()
    for name in models:
        for b in batch_sizes:
            for layer in capture(name, batch_size=b).layers:
                if layer.kind in REBUILT_KINDS and layer.signature() not in seen:
                    seen.add(layer.signature())
                    yield name, layer
