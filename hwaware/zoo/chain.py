"""Graphs of chain networks assembled from per-block captures, without building or tracing the network.

A chain network (FBNet's, OFA MobileNetV3's) runs a stem, an ``nn.Sequential`` of blocks and a head; a block's layers
depend only on its constructor's arguments and its input's shape, and a block returns its last layer's output. So a
network's graph is a frame, the stem and head of one reference capture, around each block's layers: a block is
captured on its own once per (arguments, input shape), then renumbered into place (its root module's name is its place,
``blocks.3``; its input is the layer before it). The frame's parameters and skipped ops are the reference's minus its
blocks', and an assembly is used only where it gives that reference's layers back and its blocks hold no more
parameters or skipped ops than it does. A search's new candidate costs no module build and no trace once its blocks
have been seen (FBNet has 108 distinct blocks; OFA 91, each captured once per input size). ``tests/test_zoo.py``
checks assembled graphs against whole-network captures, field by field.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from torch import nn

from hwaware.graph.layer import Graph, Layer, Shape

Block = tuple[Hashable, Callable[[], nn.Module]]  # what determines a block's module, and how to build it
PREFIX = "blocks"  # the chain's attribute name, the prefix of its blocks' module names

_pieces: dict[tuple[Hashable, Shape], Graph] = {}  # (block key, input shape at batch 1) -> the block's own capture
_frames: dict[Hashable, _Frame | None] = {}  # None: the assembly did not reproduce the reference
_lock = threading.RLock()  # a search's worker threads fill the caches; a piece or frame is captured once


@dataclass(frozen=True)
class _Frame:
    reference: Graph
    stem: int  # the reference's layers before its first block's
    head: int  # its first layer after its last block's
    params: int  # the stem's and head's parameters (the reference's minus its blocks')
    skipped: Counter[str]


def _piece(block: Block, input_shape: Shape) -> Graph:
    from hwaware.graph.capture import capture_module  # (graph.sources imports the zoo)
    from hwaware.graph.meta import meta_device

    key = (block[0], input_shape)
    piece = _pieces.get(key)
    if piece is None:
        with _lock:
            piece = _pieces.get(key)
            if piece is None:
                with meta_device():
                    module = block[1]()
                piece = _pieces[key] = capture_module(module, input_shape)
    return piece


def _frame(key: Hashable, reference: Callable[[], Graph], blocks: Callable[[], Sequence[Block]]) -> _Frame | None:
    if key in _frames:
        return _frames[key]
    with _lock:
        if key not in _frames:
            ref = reference()
            inside = [i for i, l in enumerate(ref.layers) if l.module.split(".")[0] == PREFIX]
            frame = None
            if inside and inside[0] > 0:  # a stem: the first block reads its last layer
                stem, head = inside[0], inside[-1] + 1
                pieces, middle = _placed(ref.layers[stem - 1], blocks(), stem)
                params = ref.total_params - sum(p.total_params for p in pieces)
                skipped = sum((p.skipped for p in pieces), Counter())
                frame = _Frame(ref, stem, head, params, ref.skipped - skipped)
                # used only where it gives the reference's layers back (a space whose builder makes other blocks
                # than ``blocks`` says, whose blocks do not end in their output, or whose head reads inside a block,
                # is traced whole) and its blocks hold no more parameters or skipped ops than it does: the totals
                # are then the reference's by construction (tests/test_zoo.py checks other networks' against captures)
                if params < 0 or skipped - ref.skipped or _join(frame, pieces, middle).layers != ref.layers:
                    frame = None
            _frames[key] = frame
    return _frames[key]


def _placed(before: Layer, blocks: Sequence[Block], start: int) -> tuple[list[Graph], list[Layer]]:
    """Each block's capture, and its layers placed from index ``start`` on, the first block reading ``before``."""
    pieces, layers, out = [], [], before
    for i, block in enumerate(blocks):
        piece = _piece(block, out.output_shapes[0])
        base, name = start + len(layers), f"{PREFIX}.{i}"
        layers += [l.placed(base + l.index, f"{name}.{l.module}" if l.module else name,
                            tuple(out.index if j < 0 else base + j for j in l.inputs)) for l in piece.layers]
        out = layers[-1] if piece.layers else out
        pieces.append(piece)
    return pieces, layers


def _assemble(frame: _Frame, blocks: Sequence[Block]) -> Graph:
    return _join(frame, *_placed(frame.reference.layers[frame.stem - 1], blocks, frame.stem))


def _join(frame: _Frame, pieces: list[Graph], middle: list[Layer]) -> Graph:
    """The frame's stem and head around ``middle``, the layers of ``pieces`` placed after the stem."""
    ref = frame.reference
    out = middle[-1].index if middle else frame.stem - 1  # the last block's output, or the stem's
    shift = frame.stem + len(middle) - frame.head

    def moved(j: int) -> int:  # a head layer's input: the stem's stays, the blocks' output is ``out``, its own shifts
        return j if j < frame.stem else out if j < frame.head else j + shift

    head = [l.placed(l.index + shift, l.module, tuple(map(moved, l.inputs))) for l in ref.layers[frame.head:]]
    return Graph(name=ref.name, layers=[*ref.layers[:frame.stem], *middle, *head], input_shape=ref.input_shape,
                 precision=ref.precision, total_params=frame.params + sum(p.total_params for p in pieces),
                 source=ref.source, skipped=frame.skipped + sum((p.skipped for p in pieces), Counter()),
                 notes=ref.notes)


def chain_graph(key: Hashable, reference: Callable[[], Graph], reference_blocks: Callable[[], Sequence[Block]],
                blocks: Sequence[Block]) -> Graph | None:
    """The graph a batch-1 fp32 capture of the chain network made of ``blocks`` gives (every layer field, parameter
    count, skipped op), or None where the assembly does not reproduce ``reference``, a capture of one network of the
    same stem, head and input size made of ``reference_blocks()``; ``key`` names that frame (a space and its input
    size), which is captured and checked once."""
    frame = _frame(key, reference, reference_blocks)
    return None if frame is None else _assemble(frame, blocks)
