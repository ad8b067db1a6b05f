"""Exact re-shaping of captured layers: another batch size or another precision without re-tracing.

A layer's costs are a function of its shapes, attributes and parameter count (:func:`ops.layer_cost`),
so a layer captured at batch 1 in fp32 gives the layer at batch ``b`` in fp16 by scaling the batch
dimension of every activation shape and recomputing the costs. This is exact for layers whose
activations all carry the batch as their first dimension (every CNN op). A graph captured at a batch
``B > 1`` also moves layers that carry the batch folded outermost (:func:`folds_batch`: a view of a
batch-first tensor, ConvNeXt's ``(B, H, W, C) -> (B*H*W, C)`` around its dense layers, and the layers
on it). At batch 1 the view that makes such a fold (``(1, H, W, C) -> (H*W, C)``) leads with 1 on one
side only and is refused, so a whole captured graph never moves from batch 1 with a fold; a layer on its
own (a graph store keeps kernels only, no views) whose activations all lead with ``d != 1`` at batch 1 is
moved as a fold of ``d`` rows per image (resperfnet-gpu 8; before, its ``d`` was taken for the batch and
ConvNeXt's ``(3136, 96)`` dense layer became ``(b, 96)`` at batch ``b``). ``tests/test_gpu_data.py``
checks this on every network of the timm store that has such a kernel against captures at batch 2.
Other layers (attention's batch x heads, operands leading with different dimensions) are refused with
:class:`ValueError`, and :func:`with_batch` on a graph then tells the caller to capture again.
``tests/test_gpu_data.py`` checks equality with fresh captures.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace

from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.graph.ops import layer_cost, numel
from hwaware.hardware.catalog import PRECISIONS as ELEMENT_BYTES


def param_elements(layer: Layer, elem_bytes: int) -> int:
    """Parameter and buffer elements the layer reads (bytes_read = (activations + these) x element size)."""
    return layer.bytes_read // elem_bytes - sum(numel(s) for s in layer.input_shapes)


def batch_led(layer: Layer) -> bool:
    """Whether every activation of ``layer`` carries the batch as its first dimension (re-batching is exact)."""
    shapes = [*layer.input_shapes, *layer.output_shapes]
    old = shapes[0][0] if shapes and shapes[0] else 1
    return layer.kind is not LayerKind.ATTENTION and all(s and s[0] == old for s in shapes)


def folds_batch(layer: Layer, from_batch: int) -> bool:
    """Whether ``layer``, in a graph captured at batch ``from_batch``, carries the batch folded outermost: every
    activation's first dimension a multiple of it, and either one first dimension throughout (a layer on a folded
    tensor: at batch 1 any layer that leads with one dimension ``d``, ``d`` rows per image) or, above batch 1, a view
    (which is where a fold happens; at batch 1 a view's sides cannot be told from a batch, so it is refused). A
    computing layer whose operands lead with different multiples (an attention score plus a bias of ``heads`` rows)
    is not taken: one of them may not carry the batch at all."""
    shapes = [*layer.input_shapes, *layer.output_shapes]
    if from_batch < 1 or layer.kind is LayerKind.ATTENTION or not shapes or not all(shapes):
        return False
    firsts = {s[0] for s in shapes}
    return all(f % from_batch == 0 for f in firsts) and (
        len(firsts) == 1 or (layer.kind is LayerKind.RESHAPE and from_batch > 1))


def reshape_layer(layer: Layer, batch: int, precision: str, *, from_precision: str, from_batch: int | None = None
                  ) -> Layer:
    """``layer`` (captured in ``from_precision``, in a graph at batch ``from_batch`` if given: see the module
    docstring) at batch ``batch`` and element type ``precision``. Without ``from_batch`` the batch is read from the
    layer's own first dimension, which a layer on a folded view does not lead with: resperfnet-gpu 7.4 moved such a
    layer to one row on a change of precision alone (a ViT's or ConvNeXt's fallback TensorRT engine and eager bound),
    which ``from_batch`` equal to ``batch`` avoids. From ``from_batch`` 1 a layer whose activations all lead with
    ``d`` moves as ``d`` rows per image (a fold where ``d != 1``: see the module docstring)."""
    shapes = [*layer.input_shapes, *layer.output_shapes]
    if from_batch is not None and batch == from_batch:  # the element size alone: every layer keeps its shapes
        old = None
    elif from_batch is not None and folds_batch(layer, from_batch):
        old = from_batch
    elif batch_led(layer):
        old = shapes[0][0] if shapes and shapes[0] else 1
    else:
        raise ValueError(f"layer {layer.index} ({layer.op}) does not carry the batch as its first dimension")
    scale = (lambda s: s) if old is None else (lambda s: (s[0] // old * batch, *s[1:]))
    ins = tuple(scale(s) for s in layer.input_shapes)
    outs = tuple(scale(s) for s in layer.output_shapes)
    params = param_elements(layer, ELEMENT_BYTES[from_precision])
    macs, flops, rd, wr = layer_cost(layer.kind, layer.aten_name, ins, outs, layer.attrs, params,
                                     ELEMENT_BYTES[precision])
    return replace(layer, input_shapes=ins, output_shapes=outs, macs=macs, flops=flops, bytes_read=rd,
                   bytes_written=wr)


def with_batch(graph: Graph, batch: int, precision: str | None = None) -> Graph:
    """``graph`` at another batch size (and precision), exactly as a capture at that batch would give it."""
    precision = precision or graph.precision
    try:
        layers = [reshape_layer(l, batch, precision, from_precision=graph.precision, from_batch=graph.batch_size)
                  for l in graph.layers]
    except ValueError as exc:
        raise ValueError(f"{graph.name}: {exc}; capture the model again at batch {batch}") from exc
    return replace(graph, layers=layers, input_shape=(batch, *graph.input_shape[1:]), precision=precision)


DERIVED_KEPT = 32  # derived graphs remembered across all graphs: a sweep's worth, bounded for whole-space calls
_derived: OrderedDict[tuple[int, Hashable], tuple[weakref.ref, tuple, tuple[Layer, ...], Graph]] = OrderedDict()
_derived_lock = threading.Lock()


def derived(graph: Graph, key: Hashable, build: Callable[[Graph], Graph]) -> Graph:
    """``build(graph)``, remembered under ``key`` for the next call on the same graph (a least-recently-used store of
    :data:`DERIVED_KEPT`). A warm prediction asked again, or at another batch, precision or runtime, re-derived its
    graph each time (``with_batch``, the TensorRT rewrite): about two thirds of a warm densenet121 TensorRT call. An
    entry holds while ``graph`` is alive with the same fields and the same layer objects (an entry keeps those, so a
    replaced layer is never mistaken for a new one at the same address); a layer's ``attrs`` dict edited in place
    goes unseen. It never keeps ``graph`` itself alive (a build that returns ``graph`` is not remembered)."""
    fields = (graph.name, graph.input_shape, graph.precision, graph.total_params, graph.source, graph.notes,
              dict(graph.skipped))
    slot = (id(graph), key)
    with _derived_lock:
        hit = _derived.get(slot)
        if (hit is not None and hit[0]() is graph and hit[1] == fields and len(hit[2]) == len(graph.layers)
                and all(a is b for a, b in zip(hit[2], graph.layers))):
            _derived.move_to_end(slot)
            return hit[3]
    out = build(graph)
    if out is graph:
        return out
    with _derived_lock:
        _derived[slot] = (weakref.ref(graph), fields, tuple(graph.layers), out)
        _derived.move_to_end(slot)
        while len(_derived) > DERIVED_KEPT:
            _derived.popitem(last=False)
    return out


def at_batch(graph: Graph, batch: int, precision: str | None = None) -> Graph:
    """:func:`with_batch`, remembered by :func:`derived` (a prediction asked again at that batch and precision)."""
    precision = precision or graph.precision
    return derived(graph, ("batch", batch, precision), lambda g: with_batch(g, batch, precision))
