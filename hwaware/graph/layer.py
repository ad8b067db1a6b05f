"""The layer graph every estimator reads: :class:`Layer` records in execution order."""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

Shape = tuple[int, ...]


class LayerKind(str, Enum):
    """What a layer does, at the granularity latency models distinguish."""

    CONV = "conv"  # dense or grouped convolution (incl. transposed, dilated)
    DEPTHWISE_CONV = "depthwise_conv"  # groups == input channels > 1
    DENSE = "dense"  # fully connected: addmm / mm / linear / Gemm
    MATMUL = "matmul"  # activation x activation products (attention-matmul, bmm, einsum)
    ATTENTION = "attention"  # fused scaled-dot-product attention
    POOL = "pool"  # windowed max/avg pooling
    GLOBAL_POOL = "global_pool"  # pooling to 1x1 (mean over the spatial dims)
    NORM = "norm"  # batch/layer/group/instance norm
    ACTIVATION = "activation"  # relu, silu, hard-swish, sigmoid, gelu, clamp ...
    ELEMENTWISE = "elementwise"  # add, mul (SE gates), div, fill ...
    SOFTMAX = "softmax"
    REDUCE = "reduce"  # sum/mean/max over non-spatial dims
    CONCAT = "concat"
    UPSAMPLE = "upsample"
    COPY = "copy"  # materialising data movement: contiguous, pad, permute+copy, gather ...
    RESHAPE = "reshape"  # views: no kernel, no bytes moved
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value

    @property
    def launches_kernel(self) -> bool:
        return self is not LayerKind.RESHAPE


# ops whose output's shape depends on the values (detection's post-processing), by their name after the namespace
# (ONNX's op types too; masked_select and boolean indexing are captured as copies, not unknown ops: not among them)
DATA_DEPENDENT = frozenset({"nonzero", "_unique2", "unique", "unique_dim", "unique_consecutive", "nms", "NonZero",
                            "NonMaxSuppression", "Unique"})


def data_dependent_ops(graph: Graph) -> list[str]:
    """The ops among ``graph``'s unknown ones whose output shapes depend on the values (:data:`DATA_DEPENDENT`)."""
    return [op for op in graph.unknown_ops if op.rsplit(".", 1)[-1] in DATA_DEPENDENT]


@dataclass(frozen=True)
class Layer:
    """One executed operation.

    ``input_shapes`` are the activation inputs (parameters and buffers excluded); ``params`` counts
    the trainable parameters the op reads. ``macs`` are multiply-accumulates of conv/dense/matmul/
    attention ops (0 elsewhere); ``flops`` counts every arithmetic operation (2 per MAC).
    ``bytes_read`` includes parameters and buffers; element size is the traced precision's.
    ``inputs`` are the indices of the layers that produced the activation inputs (-1: graph input).
    """

    index: int
    kind: LayerKind
    op: str
    module: str
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape, ...]
    attrs: dict[str, Any]
    params: int
    macs: int
    flops: int
    bytes_read: int
    bytes_written: int
    inputs: tuple[int, ...] = ()

    @property
    def output_elements(self) -> int:
        return sum(_numel(s) for s in self.output_shapes)

    @property
    def aten_name(self) -> str:
        """The aten op name of this layer (``convolution``, ``relu``): a capture's own, an imported ONNX layer's
        equivalent (``attrs["aten_op"]``), so that costs and learned features read one vocabulary."""
        return self.attrs.get("aten_op") or self.op.split(".", 1)[-1]

    def signature(self) -> str:
        """What determines this layer's cost: kind, op, shapes and attributes (not its name or place).

        Computed once per layer object (a JSON dump and a hash: the hot path of whole-space predictions)."""
        sig = self.__dict__.get("_signature")
        if sig is None:
            payload = json.dumps(
                [self.kind.value, self.op, self.input_shapes, self.output_shapes, sorted(self.attrs.items()),
                 self.params], default=str)
            sig = hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()
            object.__setattr__(self, "_signature", sig)  # a cache, not a field: equality and as_dict ignore it
        return sig

    def placed(self, index: int, module: str, inputs: tuple[int, ...]) -> Layer:
        """The same layer at another place in a graph, sharing the signature (computed here once, on ``self``:
        placing a template layer thousands of times hashes it once)."""
        self.signature()
        moved = object.__new__(Layer)  # dataclasses.replace re-runs __init__: the hot path of assembled graphs
        moved.__dict__.update(self.__dict__, index=index, module=module, inputs=inputs)
        return moved

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "kind": self.kind.value, "op": self.op, "module": self.module,
            "input_shapes": [list(s) for s in self.input_shapes], "output_shapes": [list(s) for s in self.output_shapes],
            "attrs": self.attrs, "params": self.params, "macs": self.macs, "flops": self.flops,
            "bytes_read": self.bytes_read, "bytes_written": self.bytes_written, "inputs": list(self.inputs),
        }


    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Layer:
        """Inverse of :meth:`as_dict` (JSON turns tuples into lists; shape-like attributes are restored)."""
        attrs = {k: tuple(v) if isinstance(v, list) else v for k, v in d["attrs"].items()}
        return cls(index=d["index"], kind=LayerKind(d["kind"]), op=d["op"], module=d["module"],
                   input_shapes=tuple(tuple(s) for s in d["input_shapes"]),
                   output_shapes=tuple(tuple(s) for s in d["output_shapes"]), attrs=attrs, params=d["params"],
                   macs=d["macs"], flops=d["flops"], bytes_read=d["bytes_read"], bytes_written=d["bytes_written"],
                   inputs=tuple(d.get("inputs", ())))


def _numel(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


@dataclass
class Graph:
    """A captured network: its layers plus what was seen but not modelled.

    ``total_params`` counts the model's trainable parameters (each shared tensor once), which may
    exceed the sum over layers when some parameters are never used in the forward pass.
    ``skipped`` counts bookkeeping ops that run no kernel and are not layers (allocations,
    ``detach``, views of parameters); ``unknown_ops`` counts ops kept as ``unknown`` layers.
    ``notes`` say what the source changed that a prediction should mention (e.g. batch norm an ONNX
    exporter folded); :func:`hwaware.estimate` adds them to the estimate's notes.
    """

    name: str
    layers: list[Layer]
    input_shape: Shape
    precision: str
    total_params: int
    source: str
    skipped: Counter[str] = field(default_factory=Counter)
    notes: tuple[str, ...] = ()

    @property
    def batch_size(self) -> int:
        return self.input_shape[0]

    @property
    def unknown_ops(self) -> dict[str, int]:
        return dict(Counter(l.op for l in self.layers if l.kind is LayerKind.UNKNOWN))

    @property
    def macs(self) -> int:
        return sum(l.macs for l in self.layers)

    @property
    def flops(self) -> int:
        return sum(l.flops for l in self.layers)

    @property
    def fvcore_macs(self) -> int:
        """MACs in fvcore's convention, the unit of timm's published ``infer_gmacs`` (see :mod:`hwaware.graph.ops`)."""
        from hwaware.graph.ops import fvcore_macs

        return sum(fvcore_macs(l.kind, l.aten_name, l.macs, l.params, l.input_shapes, l.output_shapes)
                   for l in self.layers)

    def min_memory_bytes(self) -> int:
        """A lower bound on the device memory one forward pass needs: every parameter, plus the one layer whose
        activations (inputs and output, which coexist while it runs) are the largest. An activation or elementwise
        output the shape of one of its inputs may overwrite it (``inplace=True``, ``+=``, which the capture records
        as out of place), so it is not counted. Workspaces, the allocator's rounding and the runtime's own memory come
        on top. A copy counts its output only: its input may be a broadcast view of far less memory (an expand
        then a clone; lambda_resnet26rpt_256 at batch 768, measured by timm on a 24 GB RTX 3090, would otherwise
        need 24.02 GiB). Attention scores (a matmul's output that a softmax reads) are not counted either: a GPU runs
        ``scaled_dot_product_attention`` fused, never holding them, where a capture may record the unfused ops (a
        ViT-L/14 at 518 px, batch 384, measured by timm on a 24 GB RTX 4090, would otherwise need 43 GiB); where a
        network does hold them (timm's bottleneck, halo and lambda attention) the bound is only looser."""
        from hwaware.hardware.catalog import PRECISIONS

        size = PRECISIONS[self.precision]
        # by element count: the scores pass through views ((B*H, L, L) out of the matmul, (B, H, L, L) into softmax)
        scores = ({math.prod(s) for l in self.layers if l.kind is LayerKind.SOFTMAX for s in l.input_shapes}
                  & {math.prod(s) for l in self.layers if l.kind is LayerKind.MATMUL for s in l.output_shapes})

        def activations(l: Layer) -> int:
            if scores.intersection(math.prod(s) for s in l.input_shapes + l.output_shapes):
                return 0
            if l.kind is LayerKind.COPY:  # its input may be a broadcast view of far less memory (expand + clone)
                return l.bytes_written
            in_place = l.kind in (LayerKind.ACTIVATION, LayerKind.ELEMENTWISE) and any(
                s in l.input_shapes for s in l.output_shapes)
            return l.bytes_read - l.params * size + (0 if in_place else l.bytes_written)

        return self.total_params * size + max((activations(l) for l in self.layers if l.kind.launches_kernel),
                                              default=0)

    def max_memory_bytes(self) -> int:
        """An upper bound of :meth:`min_memory_bytes` (every parameter, plus the largest bytes a layer reads and
        writes), linear in the layers: a quick check that a network fits."""
        from hwaware.hardware.catalog import PRECISIONS

        return self.total_params * PRECISIONS[self.precision] + max(
            (l.bytes_read + l.bytes_written for l in self.layers if l.kind.launches_kernel), default=0)

    def kernels(self) -> list[Layer]:
        """Layers that launch a kernel (views excluded)."""
        return [l for l in self.layers if l.kind.launches_kernel]

    def count_by_kind(self) -> dict[str, int]:
        return dict(Counter(l.kind.value for l in self.layers))

    def __len__(self) -> int:
        return len(self.layers)

    def summary(self) -> str:
        kinds = ", ".join(f"{k}={n}" for k, n in sorted(self.count_by_kind().items()))
        return (f"{self.name}: {len(self.layers)} layers ({kinds}); input {'x'.join(map(str, self.input_shape))}; "
                f"{self.total_params / 1e6:.2f} M params; {self.macs / self.batch_size / 1e9:.3f} GMACs/image")
