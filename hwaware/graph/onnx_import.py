"""Import an ONNX model as a :class:`Graph`: shape inference, then each node mapped onto the
same kinds and cost rules as the PyTorch capture (:mod:`hwaware.graph.ops`).

Dynamic dimensions of the graph input (the first with one) are bound to ``batch_size`` (dim 0) and to
``input_size`` (the rest, one size each) before ONNX shape inference runs; the batch and channels the file fixes must
be the ones asked for (its spatial sizes are replaced), and any other input must be static, at that batch.
Trainable parameters are the float initializers read as weights (conv/gemm/matmul weights and biases, norm scales and
shifts); batch-norm running statistics and shape constants are not parameters.

Constants are neither kernels nor activation inputs: Constant-like nodes, the TorchScript exporter's Identity of a
deduplicated weight (read as that weight, a parameter of its own) and any node computed from constants alone (shape
arithmetic), as an engine folds them; before 2026-12-01 they read as activations fed by the graph input.

Only shapes are read: a file's external tensor data (``model.onnx.data``) is never loaded, so an
``.onnx`` file copied without it imports all the same (exporters keep the small constants shape
inference reads, such as axes and target shapes, inside the file). A graph with convolutions and no
normalization nodes carries a note: exporters fold batch norm into the convolutions, so the
prediction leaves out the separate batch-norm kernels PyTorch runs.
"""
from __future__ import annotations

import heapq
import math
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwaware.errors import InvalidArgumentError, ModelNotFoundError, ONNXLoadError
from hwaware.graph import ops
from hwaware.graph.layer import DATA_DEPENDENT, Graph, Layer, LayerKind, Shape
from hwaware.hardware.catalog import PRECISIONS

K = LayerKind
_ACT = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish", "HardSigmoid": "hardsigmoid",
        "Clip": "clamp", "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu", "Celu": "celu",
        "Softplus": "softplus", "Gelu": "gelu", "Mish": "mish", "PRelu": "prelu", "Erf": "erf",
        "ThresholdedRelu": "threshold", "Swish": "silu"}
_ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Where", "Max", "Min", "Abs",
                "Reciprocal", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Not",
                "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Mod", "Sum", "Mean", "BitShift"}
_REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1",
           "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "TopK", "CumSum"}
_NORM = {"BatchNormalization": "native_batch_norm", "LayerNormalization": "native_layer_norm",
         "GroupNormalization": "native_group_norm", "InstanceNormalization": "native_group_norm",
         "RMSNormalization": "_fused_rms_norm"}
_VIEW = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
_COPY = {"Transpose", "Pad", "Slice", "Split", "Expand", "Tile", "Gather", "GatherElements", "GatherND", "Cast",
         "ScatterND", "ScatterElements", "DepthToSpace", "SpaceToDepth", "Trilu", "CastLike"}
# Quantize/dequantize of an activation: TensorRT fuses each pair into its neighbours' int8 kernels (explicit
# quantization), so they are taken as no kernel; the graph's notes say the model is quantized (QDQ_NOTE).
_QDQ = {"QuantizeLinear", "DequantizeLinear"}
_BOOKKEEPING = {"Shape", "Constant", "ConstantOfShape", "Range", "Size", "EyeLike", "RandomNormal",
                "RandomUniform", "RandomNormalLike", "RandomUniformLike"}
# Which inputs of an op are trainable weights when they are float initializers.
_WEIGHT_INPUTS = {"Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (1, 2), "MatMul": (0, 1),
                  "BatchNormalization": (1, 2), "LayerNormalization": (1, 2), "GroupNormalization": (1, 2),
                  "InstanceNormalization": (1, 2), "PRelu": (1,), "RMSNormalization": (1,)}
# a region grows to this many ops at most: GELU's tanh form takes 8, a layer norm 7 (9 with its weight and bias), and
# two on one tensor may interleave
_SPELLING_SIZE = 24


@dataclass(frozen=True)
class _Spelling:
    """One op an exporter spells as several: the ops its region must hold and may hold, what PyTorch runs it as, the
    ops its region closes at, and the ops that may follow it by a constant, each with what the constant must be:
    ``"half"`` the scalar 0.5 (GELU's scale, where the exporter puts it last), ``"affine"`` a vector along x's last
    dimension (a norm's weight, then its bias)."""
    needs: frozenset[str]
    may: frozenset[str]
    kind: LayerKind
    aten: str
    closes: frozenset[str]
    trailing: tuple[tuple[str, str], ...] = ()


# ops whose operands broadcast against each other by numpy's rule (from opset 7; before it, by attributes)
_BROADCASTING = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Where", "Equal", "Less", "Greater",
                           "And", "Or", "PRelu", "Mod", "BitShift"})
# the first match names a region: layer norm below opset 17 (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, keeping
# x's shape), GELU below opset 20, SiLU (no ONNX op before Swish at opset 24), Mish, hard-swish. Not RMS norm, which
# PyTorch runs as six kernels (nn.RMSNorm's capture), as the import reads its spelling
_POINTWISE_SPELLING = frozenset({"Sigmoid", "HardSigmoid", "Softplus", "Tanh", "Erf", "Mul", "Div", "Add", "Pow"})
_SPELLED = (
    _Spelling(frozenset({"ReduceMean", "Sub", "Pow", "Sqrt"}),
              frozenset({"ReduceMean", "Sub", "Pow", "Add", "Sqrt", "Div", "Mul", "Reciprocal"}), LayerKind.NORM,
              "native_layer_norm", frozenset({"Div", "Mul"}), (("Mul", "affine"), ("Add", "affine"))),
    _Spelling(frozenset({"Erf"}), _POINTWISE_SPELLING, LayerKind.ACTIVATION, "gelu", frozenset({"Mul"}),
              (("Mul", "half"),)),
    _Spelling(frozenset({"Softplus", "Tanh"}), _POINTWISE_SPELLING, LayerKind.ACTIVATION, "mish", frozenset({"Mul"})),
    _Spelling(frozenset({"Tanh"}), _POINTWISE_SPELLING, LayerKind.ACTIVATION, "gelu", frozenset({"Mul"}),
              (("Mul", "half"),)),
    _Spelling(frozenset({"Sigmoid"}), _POINTWISE_SPELLING, LayerKind.ACTIVATION, "silu", frozenset({"Mul"})),
    _Spelling(frozenset({"HardSigmoid"}), _POINTWISE_SPELLING, LayerKind.ACTIVATION, "hardswish",
              frozenset({"Mul"})))
_SPELLING_OPS = frozenset().union(*(sp.may for sp in _SPELLED))  # what a region may grow through
_ROLL = _Spelling(frozenset(), frozenset(), LayerKind.COPY, "roll", frozenset())  # torch.roll spelled (:func:`_rolls`)
_FLOAT_TYPES = {1, 10, 11, 16}  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
# an estimate's note where an ONNX graph is asked under eager PyTorch (hwaware.api); the range is python
# benchmarks/onnx_consistency.py's eager columns (2026-12-05)
ONNX_EAGER_NOTE = ("ONNX under eager PyTorch: timed as the file writes it, op by op (its layout ops, Transpose, Slice, "
                   "as copy kernels; batch norms folded away by the exporter), where the nn.Module is timed as PyTorch "
                   "runs it: the two came out 0.62-1.58x apart on benchmarks/onnx_consistency.py's networks; estimate "
                   "the nn.Module for eager PyTorch (under TensorRT a network and its export are one engine)")
FOLDED_NORM_NOTE = ("the ONNX graph has convolutions but no normalization nodes: if the source model had batch norm, "
                    "the exporter folded it into the convolutions (torch.onnx.export does), so this predicts without "
                    "the batch-norm kernels PyTorch runs; estimate the nn.Module to include them")


QDQ_NOTE = ("the ONNX graph is quantized ({n} QuantizeLinear/DequantizeLinear nodes on activations): TensorRT fuses "
            "them into int8 kernels, so they are counted as no kernel, and every layer is estimated at the precision "
            "asked for; for its TensorRT engine ask precision='int8' (which layers TensorRT keeps in int8 is not "
            "modelled)")


def is_onnx_model(obj: Any) -> bool:
    return type(obj).__name__ == "ModelProto" and hasattr(obj, "graph")


def _load(model: Any) -> tuple[Any, str]:
    import onnx

    if is_onnx_model(model):
        return model, model.graph.name or "onnx-model"
    path = os.fspath(model)
    if not os.path.exists(path):
        raise ModelNotFoundError(f"ONNX file {path!r} does not exist; check the path (a timm name must not end in .onnx)")
    if not os.path.isfile(path):  # a directory, or a pipe that reading would wait on forever (helper-161)
        raise ONNXLoadError(f"{path!r} is not a file (a directory, pipe or device); give the path of an .onnx file")
    try:  # only shapes are needed: weights stored beside the file may be absent
        return onnx.load(path, load_external_data=False), os.path.basename(path)
    except Exception as exc:
        raise ONNXLoadError(f"{path!r} is not a valid ONNX model ({type(exc).__name__}: {exc}); "
                            "re-export it with torch.onnx.export or check the file is complete") from exc


def _size(dim: Any) -> int | None:
    """A dimension's size, None where the file leaves it dynamic (a name, or nothing)."""
    return dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else None


def _dims(type_proto: Any) -> list[int | None] | None:
    if not type_proto.tensor_type.HasField("shape"):
        return None
    return [_size(d) for d in type_proto.tensor_type.shape.dim]


def capture_onnx(model: Any, *, batch_size: int = 1, input_size: Shape | int | None = None, precision: str = "fp32"
                 ) -> Graph:
    """Import an ONNX file path or ``ModelProto``; see the module docstring. ``input_size`` one number ``n``: an NCHW
    image's height and width, fixed or not (its channels fixed at 1-4); else every dimension after the batch that the
    file leaves dynamic (a sequence's length, a channels-last image's sides; dynamic channels are 3)."""
    import onnx

    proto, name = _load(model)
    proto = onnx.ModelProto.FromString(proto.SerializeToString())  # never modify the caller's proto
    graph = proto.graph
    inits = {i.name: i for i in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in inits]
    if not real_inputs:
        if not (graph.node or is_onnx_model(model) or name.lower().endswith(".onnx")):  # read as ONNX, it holds nothing
            raise ONNXLoadError(f"{name!r} is not an ONNX model (nothing in it reads as one); pass a timm model name, "
                                "'torchvision:<name>' or an .onnx file")
        raise ONNXLoadError(f"ONNX model {name!r} has no graph input (an empty or truncated file?); export it again, "
                            "e.g. with torch.onnx.export")
    # the input batch_size and input_size bind: the first with a dynamic dimension (a static scale vector may come
    # first), else the first
    first = next((i for i in real_inputs if _dynamic(i)), real_inputs[0])
    _check_input(first, name, precision)
    for other in (i for i in real_inputs if i is not first):
        if _dynamic(other):  # its dynamic dimension would stay unknown
            raise InvalidArgumentError(f"ONNX model {name!r} has a second input {other.name!r} with a dynamic "
                                       f"dimension; hwaware binds batch_size and input_size to the first, "
                                       f"{first.name!r}: export the others with static shapes")
        fixed = other.type.tensor_type.shape.dim
        if len(fixed) >= 2 and fixed[0].dim_value != batch_size:  # a batched input of another batch than asked
            raise InvalidArgumentError(f"ONNX input {other.name!r} of {name!r} fixes its batch at "
                                       f"{fixed[0].dim_value}, not {batch_size}: pass batch_size={fixed[0].dim_value} "
                                       f"(CLI: --batch {fixed[0].dim_value}) or export it with the batch dynamic")
    dims = first.type.tensor_type.shape.dim
    if isinstance(input_size, int):
        n = input_size
        if len(dims) == 4 and (_size(dims[1]) or 5) <= 4:  # an NCHW image: its sides, fixed or not, as a tuple's
            input_size = (_size(dims[1]), n, n)
        elif all(_size(d) is not None for d in dims[1:]):  # (a channels-last 1x32x32x3 is no NCHW image of 32)
            raise InvalidArgumentError(f"ONNX input {first.name!r} of {name!r} fixes every dimension after the batch "
                                       f"({'x'.join(str(_size(d)) for d in dims[1:])}), so input_size={n} has nowhere "
                                       "to go: give one size per dimension, or drop it")
        else:  # what the file leaves dynamic takes it; an NCHW image's dynamic channels, 3 (channels last: fixed)
            channels_last = (_size(dims[-1]) or 5) <= 4
            input_size = tuple(_size(d) or (3 if (i, len(dims)) == (1, 4) and not channels_last else n)
                               for i, d in enumerate(dims) if i > 0)
    if input_size is not None and len(input_size) != len(dims) - 1:
        raise InvalidArgumentError(f"ONNX input {first.name!r} has {len(dims) - 1} dimensions after the batch; "
                                   f"input_size={tuple(input_size)} has {len(input_size)}: give one size per dimension")
    wanted = [batch_size, *(input_size or [])]
    # fixed dimensions past the channels that the asked size replaces (a fixed-size CNN export asked at another size)
    overridden = [(i, _size(d)) for i, d in enumerate(dims)
                  if 2 <= i < len(wanted) and _size(d) not in (None, wanted[i])]
    for i, d in enumerate(dims):
        size = _size(d)
        if i < len(wanted):
            if size is not None and size != wanted[i] and i < 2:  # the batch, and the channels its first weights take
                raise InvalidArgumentError(
                    f"ONNX model {name!r} has a fixed batch size {size}; pass batch_size={size} (CLI: --batch {size}) "
                    "or re-export it with a dynamic batch axis" if i == 0 else
                    f"ONNX input {first.name!r} fixes dimension {i} at {size}, not {wanted[i]}: pass an "
                    f"input_size with {size} there, or re-export it with that dimension dynamic")
            d.ClearField("dim_param")
            d.dim_value = wanted[i]
        elif size is None:
            raise InvalidArgumentError(f"ONNX input {first.name!r} has a dynamic dimension {i}; pass input_size with "
                                       f"its {len(dims) - 1} sizes after the batch (an image: (C, H, W))")
    del graph.value_info[:]  # the exporter's shapes would pin the exported batch size
    for vi in graph.output:
        vi.type.tensor_type.ClearField("shape")
    types: dict[str, int] = {}
    shapes = _inferred_shapes(proto, name, types)
    folded = proto
    # each round folds what the last one's shapes made constant (a Swin: Shape -> ... -> Reshape) and declares what
    # they gave an op that keeps its input's shape (a norm after each block), until neither finds anything
    for _ in range(len(graph.node)):
        if not any(shapes.get(n) is None or None in shapes[n] for node in graph.node for n in node.output if n):
            break
        fold = _fold_constants(folded, shapes)  # shape arithmetic ONNX's inference leaves (Where, Equal, Shape)
        folded = fold or folded
        if not _declare_same_shapes(folded, shapes, types) and fold is None:
            break
        shapes.update(_inferred_shapes(folded, name, types))

    elem = PRECISIONS[precision]
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 13)
    layers: list[Layer] = []
    skipped: Counter[str] = Counter()
    producer: dict[str, int] = {first.name: -1}
    params_seen: set[str] = set()
    for node in graph.node:  # the legacy exporter's Identity of a deduplicated weight reads as that weight
        if node.op_type == "Identity" and node.input and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
            shapes[node.output[0]] = shapes[node.input[0]]
    consts, const_nodes = _constants(graph, inits)

    def fixed(name: str) -> bool:  # an initializer or a constant: read as a parameter, never an activation
        return name in inits or name in consts

    readers = _readers(graph)
    inner, spelled = _spelled_activations(graph, readers, consts | set(inits), shapes)
    for position, (x, halves) in _rolls(graph, readers, shapes).items():
        inner |= halves
        spelled[position] = (x, _ROLL, "onnx.Slice+Slice+Concat", set())
    biased = _biased_matmuls(graph, readers, inits)
    bias_adds = {add for add, _ in biased.values()}
    for position, node in enumerate(graph.node):
        op = node.op_type
        if position in inner or position in bias_adds:  # the region's last node, the MatMul it adds to: below
            skipped[f"onnx.{op}"] += 1
            continue
        if position in const_nodes:
            skipped[f"onnx.{op}"] += 1
            continue
        weights = {node.input[i] for i in _WEIGHT_INPUTS.get(op, ()) if i < len(node.input)
                   and node.input[i] in inits and inits[node.input[i]].data_type in _FLOAT_TYPES}
        x, spelling, label, read = spelled.get(position, (None, None, f"onnx.{op}", ()))
        if spelling and spelling.kind is K.NORM:  # its weight and bias among what the region read (not scalars)
            weights = {n for n in read if n in inits and inits[n].data_type in _FLOAT_TYPES
                       and ops.numel(shapes[n]) > 1}
        if op in _BROADCASTING and opset >= 7:  # opsets 1-6 broadcast by the node's broadcast/axis attributes
            _check_broadcast(node, shapes, name, first.name, overridden, input_size is not None)
        acts = [x] if x else [n for n in node.input if n and not fixed(n)]
        in_shapes = tuple(_shape(shapes, n, node) for n in acts)
        kind, attrs, aten = ((spelling.kind, {}, spelling.aten) if spelling else  # a malformed node names its fault
                             _classify(node, inits, shapes, weights, in_shapes, opset))
        add, bias = biased.get(position, (None, None))
        outputs = graph.node[add].output if bias else node.output
        out_shapes = tuple(_shape(shapes, n, node) for n in outputs if n)  # before its output's unknown shape
        if bias:  # x @ W + b: PyTorch's addmm
            weights.add(bias)
            attrs["bias"], aten, label = True, "addmm", f"{label}+Add"
        if kind is K.DENSE and op == "MatMul" and node.input[1] in weights:  # rows as PyTorch's linear folds them
            in_shapes, out_shapes = (tuple(ops.rows(s) for s in shapes_) for shapes_ in (in_shapes, out_shapes))
        attrs["aten_op"] = aten  # what Layer.aten_name gives every reader
        # bytes: every initializer and constant read (a DequantizeLinear'd or transposed weight is a constant)
        param_elems = sum(ops.numel(shapes[n]) for n in {*node.input, *weights} if fixed(n) and n in shapes)
        macs, flops, rd, wr = ops.layer_cost(kind, aten, in_shapes, out_shapes, attrs, param_elems, elem)
        trainable = sum(ops.numel(shapes[w]) for w in weights)
        params_seen |= weights
        index = len(layers)
        layers.append(Layer(index=index, kind=kind, op=label, module=node.name, input_shapes=in_shapes,
                            output_shapes=out_shapes, attrs=attrs, params=trainable, macs=macs, flops=flops,
                            bytes_read=rd, bytes_written=wr,
                            inputs=tuple(dict.fromkeys(producer.get(n, -1) for n in acts))))
        for n in outputs:
            producer[n] = index
    total = sum(ops.numel(shapes[w]) for w in params_seen)
    kinds = {l.kind for l in layers}
    notes = (FOLDED_NORM_NOTE,) if kinds & {K.CONV, K.DEPTHWISE_CONV} and K.NORM not in kinds else ()
    qdq = sum(l.op in (f"onnx.{q}" for q in _QDQ) for l in layers)
    notes += (QDQ_NOTE.format(n=qdq),) if qdq else ()
    return Graph(name=name, layers=layers, input_shape=tuple(wanted if input_size else shapes[first.name]),
                 precision=precision, total_params=total, source="onnx", skipped=skipped, notes=notes)


def _readers(graph: Any) -> dict[str, list[int]]:
    """Each tensor's readers, by node position in graph order; a graph output is also read at ``len(graph.node)``,
    by no node: outside every group of nodes."""
    readers: dict[str, list[int]] = {}
    for i, node in enumerate(graph.node):
        for n in node.input:
            readers.setdefault(n, []).append(i)
    for o in graph.output:
        readers.setdefault(o.name, []).append(len(graph.node))
    return readers


def _biased_matmuls(graph: Any, readers: dict[str, list[int]], inits: dict) -> dict[int, tuple[int, str]]:
    """``x @ W + b``, an exporter's ``nn.Linear`` on an input of more than two dimensions (a transformer's tokens, a
    ConvNeXt's channels-last map): each MatMul by a weight whose output one Add alone reads, the Add's other operand a
    weight of the output's width, with (the Add's position, the bias). PyTorch runs it as one addmm kernel, with the
    rows folded (:func:`hwaware.graph.ops.rows`), where an import op by op timed a matmul and an add kernel.
    ``readers``: :func:`_readers`; ``inits`` with the deduplicated weights the legacy exporter reads through Identity
    (equal biases, as an untrained network's zeros)."""
    out = {}
    for i, node in enumerate(graph.node):
        if node.op_type != "MatMul" or len(node.input) != 2 or node.input[1] not in inits:
            continue
        (y,) = node.output
        reads = readers.get(y, [])
        add = graph.node[reads[0]] if len(reads) == 1 and reads[0] < len(graph.node) else None
        if add is None or add.op_type != "Add" or len(add.input) != 2:
            continue
        b = add.input[1] if add.input[0] == y else add.input[0]
        width = inits[node.input[1]].dims[-1] if inits[node.input[1]].dims else None
        if b in inits and inits[b].data_type in _FLOAT_TYPES and list(inits[b].dims) in ([width], [1, width]):
            out[i] = (reads[0], b)
    return out


def _constants(graph: Any, inits: dict) -> tuple[set[str], set[int]]:
    """The tensors known before any input arrives, and the positions of the nodes that make them: Constant-like ops
    and what is computed from initializers and constants alone (shape arithmetic, an exporter's Identity of a shared
    initializer). An engine folds them, eager PyTorch holds them as attributes or sizes: none is a kernel or an
    activation input. A node with a subgraph (If, Loop, Scan) reads activations inside it."""
    const, nodes = set(inits), set()
    for i, node in enumerate(graph.node):
        subgraph = any(a.HasField("g") or a.graphs for a in node.attribute)
        if node.op_type in _BOOKKEEPING or (not subgraph and all(n in const for n in node.input if n)):
            const.update(n for n in node.output if n)
            nodes.add(i)
    return const - set(inits), nodes


def _spelled_activations(graph: Any, readers: dict[str, list[int]], const: set[str],
                         shapes: dict[str, list[int | None]]
                         ) -> tuple[set[int], dict[int, tuple[str, _Spelling, str, set[str]]]]:
    """Ops an exporter spells as several elementwise ops and reductions on one tensor ``x`` (:data:`_SPELLED`):
    ``x * Sigmoid(x)`` (ONNX has no SiLU op; Swish from opset 24), GELU's ``x * 0.5 * (1 + Erf(x / sqrt 2))`` or its
    tanh form (Gelu from opset 20), Mish, hard-swish, layer norm below opset 17 (``const``: initializers and
    constants; ``shapes``: a norm keeps x's shape). From the ops that read ``x``, a region grows in graph order,
    taking each such op whose inputs are ``x``, constants or the region's outputs; it closes at the first of its
    spelling's closing ops that, with the region's ops it is computed from, holds the ops its spelling needs and no
    other kind, keeps x's shape, reduces x's last dimension alone (a norm), reads ``x`` twice and writes nothing else
    reads; then the spelling's trailing ops by their constant join it (GELU's 0.5; a norm's weight and bias: a norm
    without either takes a following per-channel product as its weight, which ONNX cannot tell apart). Reviews
    helper-97 and -98 found a gamma scale, a residual add, a pooled deviation, a squeeze-excite gate, a channel norm,
    RMS norm and two norms on one tensor read wrong: each is tested. None closes, none is; a tensor may feed several.
    PyTorch runs
    ``nn.SiLU``, ``nn.GELU`` or ``nn.LayerNorm`` as one kernel, and TensorRT fuses an activation into its conv; read
    op by op, timm's efficientnet_b0 export came out 1.64x its module under TensorRT fp16 on the AGX Xavier (each
    Sigmoid a kernel of its own, the conv's output read twice), deit_tiny_patch16_224's at opset 14 1.71x (eager
    PyTorch 2.26x; 2026-12-05). Returns the positions of the regions' nodes but their last, and each last node's
    position with (``x``, its spelling, a label naming the ops, the constants the region read); ``readers``:
    :func:`_readers`."""
    scalars = _scalar_constants(graph)
    taken: set[int] = set()
    inner: set[int] = set()
    last: dict[int, tuple[str, _Spelling, str, set[str]]] = {}

    def joins(i: int, made: set[str]) -> bool:
        node = graph.node[i] if i < len(graph.node) else None
        ins = [n for n in node.input if n and n not in const] if node is not None else []
        return (node is not None and node.op_type in _SPELLING_OPS and i not in taken and bool(ins)
                and all(n in made for n in ins))

    def region_of(x: str) -> tuple[list[int], _Spelling, str] | None:
        """The first spelled op on ``x`` among the nodes not taken yet, its closing node last; None if none closes.
        Each node that could close it is tried with the region's nodes it is computed from alone (a reader of ``x``
        outside the spelling, a pooled statistic, stays out)."""
        grown: list[int] = []
        reads = [r for r in readers[x] if r not in taken]
        made, queue, seen = {x}, sorted(reads), set(reads)
        maker: dict[str, int] = {}  # a region output -> the node that writes it
        while queue and len(grown) < _SPELLING_SIZE:
            i = heapq.heappop(queue)
            if not joins(i, made):
                continue
            node = graph.node[i]
            grown.append(i)
            for n in (o for o in node.output if o):
                made.add(n)
                maker[n] = i
                for r in readers.get(n, ()):
                    if r not in seen:
                        seen.add(r)
                        heapq.heappush(queue, r)
            region, todo = set(), [i]  # the nodes the candidate is computed from
            while todo:
                j = todo.pop()
                if j not in region:
                    region.add(j)
                    todo.extend(maker[n] for n in graph.node[j].input if n in maker)
            ops = {graph.node[j].op_type for j in region}
            spelling = next((sp for sp in _SPELLED if sp.needs <= ops <= sp.may), None)
            y = node.output[0]
            if (spelling and node.op_type in spelling.closes and shapes.get(y) == shapes.get(x)
                    and sum(n == x for j in region for n in graph.node[j].input) >= 2
                    and all(r in region for j in region for n in graph.node[j].output if n and n != y
                            for r in readers.get(n, ()))
                    and all(last_axis(graph.node[j], x) for j in region if graph.node[j].op_type == "ReduceMean")):
                return sorted(region), spelling, y
        return None

    def last_axis(node: Any, x: str) -> bool:
        """Whether a ReduceMean reduces x's last dimension alone, as ``F.layer_norm`` over one dimension does."""
        axes = _attr(node, "axes")
        if axes is None and len(node.input) > 1:  # opset 18: the axes are an input
            axes = [scalars.get(node.input[1])]
        rank = len(shapes.get(x) or ())
        return axes is not None and len(axes) == 1 and axes[0] is not None and int(axes[0]) in (-1, rank - 1)

    def trails(y: str, op: str, rule: str, x: str) -> int | None:
        """The node after ``y`` that joins the region as its trailing ``op`` by a constant under ``rule`` (``"x"``: by
        ``x`` itself), or None."""
        after = readers.get(y, [])
        node = graph.node[after[0]] if len(after) == 1 and after[0] < len(graph.node) else None
        if node is None or node.op_type != op or after[0] in taken or len(node.input) != 2:
            return None
        c = node.input[1] if node.input[0] == y else node.input[0]
        if rule == "x":
            return after[0] if c == x else None
        if rule == "half":
            return after[0] if scalars.get(c) == 0.5 else None
        width = (shapes.get(x) or [None])[-1]
        return after[0] if c in const and shapes.get(c) in ([width], [1, width]) and width not in (None, 1) else None

    for x in list(readers):
        if x in const:
            continue
        while sum(r < len(graph.node) and r not in taken and graph.node[r].op_type in _SPELLING_OPS
                  for r in readers[x]) >= 2 and (found := region_of(x)):  # a tensor may feed several (two norms)
            region, spelling, y = found
            # GELU written x * (0.5 * (1 + tanh(...))) (the dynamo exporter's tanh form) closes at the product by 0.5,
            # as reading x twice already, before its product by x, which joins it (not a product by x after a GELU
            # that closed complete: x * gelu(x))
            halved = spelling.aten == "gelu" and any(scalars.get(n) == 0.5 for n in graph.node[region[-1]].input)
            if halved and (nxt := trails(y, "Mul", "x", x)) is not None:
                region.append(nxt)
                y = graph.node[nxt].output[0]
            for op, rule in () if halved else spelling.trailing:  # its 0.5 inside: no trailing product by 0.5 joins
                nxt = trails(y, op, rule, x)
                if nxt is None:
                    break
                region.append(nxt)
                y = graph.node[nxt].output[0]
            taken.update(region)
            inner.update(region[:-1])
            last[region[-1]] = (x, spelling, "onnx." + "+".join(sorted({graph.node[i].op_type for i in region})),
                                {n for i in region for n in graph.node[i].input if n in const})
    return inner, last


def _rolls(graph: Any, readers: dict[str, list[int]], shapes: dict[str, list[int | None]]
           ) -> dict[int, tuple[str, set[int]]]:
    """``torch.roll`` as exporters spell it: a Concat of two Slices of one tensor ``x``, read by it alone, that together
    give back x's shape, differing from it along the concat's axis alone (a rotation of x along that axis, Swin's
    shifted windows; the Slices' bounds are not read: any such concat is one copy of x's volume), with (``x``, the
    Slices' positions) by the Concat's position. PyTorch runs a roll as one copy kernel, which TensorRT's
    rewrite eliminates as it does the module's (:mod:`hwaware.runtime.tensorrt`, rule 4), where the two Slices and the
    Concat were copies the rewrite keeps: swin_tiny's export came out 1.27x its module under TensorRT fp16 on the AGX
    Xavier (``python benchmarks/onnx_exports.py``, 2026-12-05)."""
    made = {n: i for i, node in enumerate(graph.node) for n in node.output if n}
    out = {}
    for i, node in enumerate(graph.node):
        if node.op_type != "Concat" or len(node.input) != 2 or not all(n in made for n in node.input):
            continue
        halves = [made[n] for n in node.input]
        slices = [graph.node[h] for h in halves]
        if any(sl.op_type != "Slice" or readers.get(n) != [i] for sl, n in zip(slices, node.input)):
            continue
        x = slices[0].input[0]
        shape, parts = shapes.get(x), [shapes.get(n) for n in node.input]
        if slices[1].input[0] != x or not shape or None in shape or any(not p or None in p for p in parts):
            continue
        axis = int(_attr(node, "axis", 0)) % len(shape)
        others = all(len(p) == len(shape) and all(a == b for d, (a, b) in enumerate(zip(p, shape)) if d != axis)
                     for p in parts)
        if others and parts[0][axis] + parts[1][axis] == shape[axis] and shapes.get(node.output[0]) == shape:
            out[i] = (x, set(halves))
    return out


def _scalar_constants(graph: Any) -> dict[str, float]:
    """The values of the graph's one-element initializers and Constant nodes (weights are never read here)."""
    from onnx import numpy_helper

    tensors = [(i.name, i) for i in graph.initializer  # EXTERNAL (1): stored beside the file, not loaded
               if i.data_location != 1 and math.prod(i.dims) == 1]
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            for a in node.attribute:
                if a.name == "value" and math.prod(a.t.dims) == 1:
                    tensors.append((node.output[0], a.t))
                elif a.name == "value_float":
                    tensors.append((node.output[0], a.f))
    return {n: float(t if isinstance(t, float) else numpy_helper.to_array(t).reshape(())) for n, t in tensors}


def _check_broadcast(node: Any, shapes: dict[str, list[int | None]], name: str, input_name: str,
                     overridden: list[tuple[int, int | None]], sized: bool) -> None:
    """Refuse a broadcasting node whose known operand shapes do not broadcast: ONNX's shape inference lets them pass
    (a ViT's position embedding added to another number of patches, at an input size that replaces the sizes the file
    fixes, or fills the ones it leaves dynamic: ``sized``). A CNN's convolutions take any size, so a fixed-size export
    of one can still be asked at another."""
    known = [shapes[n] for n in node.input if n and shapes.get(n) is not None and None not in shapes[n]]
    try:
        np.broadcast_shapes(*(tuple(s) for s in known))
    except ValueError:
        operands = " with ".join(str(tuple(s)) for s in known)
        if overridden:
            fixed = ", ".join(f"dimension {i} at {size}" for i, size in overridden)
            raise InvalidArgumentError(
                f"ONNX input {input_name!r} of {name!r} fixes {fixed}; at the input_size asked, its {node.op_type} "
                f"{node.name!r} broadcasts {operands}: pass the fixed sizes, or re-export it with those dimensions "
                "dynamic") from None
        if sized:
            raise InvalidArgumentError(
                f"ONNX model {name!r}: at the input_size asked, its {node.op_type} {node.name!r} broadcasts "
                f"{operands}, shapes that do not agree (a tensor of the file sized for another input): pass the size "
                "it was exported at") from None
        raise InvalidArgumentError(f"ONNX model {name!r}: its {node.op_type} {node.name!r} broadcasts {operands}, "
                                   "shapes that do not agree; export it again") from None


def _inferred_shapes(proto: Any, name: str, types: dict[str, int] | None = None) -> dict[str, list[int | None]]:
    """Every tensor's shape after ONNX shape inference (``None`` for a dimension it could not compute); its element
    type into ``types`` if given."""
    import onnx

    try:
        graph = onnx.shape_inference.infer_shapes(proto, data_prop=True).graph
    except Exception as exc:
        raise ONNXLoadError(f"ONNX shape inference failed for {name!r}: {exc}") from exc
    infos = (*graph.value_info, *graph.output, *graph.input)
    shapes = {vi.name: dims for vi in infos if (dims := _dims(vi.type)) is not None}
    shapes.update({init.name: list(init.dims) for init in graph.initializer})
    if types is not None:
        types.update({vi.name: vi.type.tensor_type.elem_type for vi in infos if vi.type.tensor_type.elem_type})
        types.update({init.name: init.data_type for init in graph.initializer})
    return shapes


# ops whose first output has their first input's shape: where ONNX's inference leaves it unknown (onnx 1.23 infers no
# GroupNormalization-21 output: timm's poolformer_s12 exported at opset 23 was refused), the import takes that shape
_SAME_SHAPE = {*_NORM, *_ACT, "Softmax", "LogSoftmax"}


def _declare_same_shapes(proto: Any, shapes: dict[str, list[int | None]], types: dict[str, int]) -> bool:
    """Declare in ``proto`` (the import's own copy) the shape of each unknown first output of a :data:`_SAME_SHAPE`
    op whose first input's shape and element type (``types``) are known, in that type; whether there was any."""
    import onnx

    known = lambda n: shapes.get(n) is not None and None not in shapes[n] and n in types  # noqa: E731
    seeds = {node.output[0]: node.input[0] for node in proto.graph.node
             if node.op_type in _SAME_SHAPE and node.input and node.output and known(node.input[0])
             and not known(node.output[0])}
    proto.graph.value_info.extend(onnx.helper.make_tensor_value_info(n, types[x], shapes[x]) for n, x in seeds.items())
    return bool(seeds)


def _fold_constants(proto: Any, shapes: dict[str, list[int | None]]) -> Any | None:
    """A copy of ``proto`` whose nodes computed from constants alone are initializers, as an engine folds them, a
    ``Shape`` of a tensor whose ``shapes`` are known being a constant too: the legacy exporter builds a ViT's
    class-token Expand shape through ConstantOfShape, Equal and Where, and a Swin's window Reshape from its input's
    Shape, which ONNX's shape inference does not evaluate, so the shapes after them stayed unknown. None where
    nothing folds or the evaluation fails (a constant stored outside the file, an op the reference evaluator lacks)."""
    import onnx
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = proto.graph
    # a tensor stored beside the file was not loaded: what reads it (a class token's Expand) stays unfolded
    known = {i.name for i in graph.initializer if i.data_location != onnx.TensorProto.EXTERNAL}
    folded, rest, sizes = [], [], {}
    for node in graph.node:
        subgraph = any(a.HasField("g") or a.graphs for a in node.attribute)
        static = shapes.get(node.input[0]) if node.op_type == "Shape" and node.input else None
        if static is not None and None not in static:
            start, end = _attr(node, "start", 0), _attr(node, "end", len(static))
            sizes[node.output[0]] = np.array(static[start:end], dtype=np.int64)
            known.add(node.output[0])
        elif not subgraph and all(n in known for n in node.input if n):
            folded.append(node)
            known.update(n for n in node.output if n)
        else:
            rest.append(node)
    used = {n for node in rest for n in node.input} | {o.name for o in graph.output}
    outputs = [n for node in folded for n in node.output if n in used]
    if not outputs and not sizes:
        return None
    read = {n for node in folded for n in node.input}
    try:
        sub = helper.make_model(helper.make_graph(
            folded, "fold", [helper.make_tensor_value_info(n, onnx.TensorProto.INT64, [len(v)])
                             for n, v in sizes.items() if n in read],
            [helper.make_empty_tensor_value_info(n) for n in outputs],
            initializer=[i for i in graph.initializer if i.name in read]), opset_imports=proto.opset_import)
        values = ReferenceEvaluator(sub).run(outputs, {n: v for n, v in sizes.items() if n in read}) if outputs else []
    except Exception:  # noqa: BLE001 - folding is a second try; the caller's error names the tensor left unknown
        return None
    out = onnx.ModelProto.FromString(proto.SerializeToString())
    del out.graph.node[:]
    out.graph.node.extend(rest)
    out.graph.initializer.extend(numpy_helper.from_array(v, n) for n, v in (*sizes.items(), *zip(outputs, values)))
    return out


def _dynamic(graph_input: Any) -> bool:
    return any(_size(d) is None for d in graph_input.type.tensor_type.shape.dim)


def _check_input(first: Any, name: str, precision: str) -> None:
    """The first graph input must carry a batch, and its element type the precision asked for (an fp16 file answered
    as fp32 without a word, where an nn.Module after .half() is refused)."""
    import onnx

    tensor = first.type.tensor_type
    if not tensor.HasField("shape") or not tensor.shape.dim:
        raise InvalidArgumentError(f"ONNX input {first.name!r} of {name!r} is a scalar (or has no shape); hwaware "
                                   "needs a batched input, N x ...: export the model with its batch dimension")
    if tensor.elem_type == onnx.TensorProto.FLOAT16 and precision not in ("fp16", "amp", "int8"):
        raise InvalidArgumentError(f"ONNX model {name!r} takes an fp16 input (an fp16 export): pass precision='fp16' "
                                   "(CLI: --precision fp16; a calibration profile answers its own precision only)")
    if tensor.elem_type == onnx.TensorProto.BFLOAT16 and precision != "bf16":
        raise InvalidArgumentError(f"ONNX model {name!r} takes a bf16 input (a bf16 export): pass precision='bf16' "
                                   "(CLI: --precision bf16; a calibration profile answers its own precision only)")


def _shape(shapes: dict[str, list[int | None]], name: str, node: Any) -> Shape:
    s = shapes.get(name)
    if s is None or any(d is None for d in s):
        import onnx

        domain = "" if node.domain in ("", "ai.onnx") else node.domain  # onnx.defs names the default domain ''
        if not onnx.defs.has(node.op_type, domain):
            raise ONNXLoadError(f"node {node.name or node.op_type!r} is the op {node.op_type!r} (domain "
                                f"{domain or 'ai.onnx'!r}), which ONNX does not define, so its shapes are "
                                "unknown; export with standard ONNX ops, or estimate the nn.Module instead")
        if node.op_type in DATA_DEPENDENT:  # not a size the caller gave (helper-134: a detector's NonZero)
            raise ONNXLoadError(f"node {node.name or node.op_type!r} ({node.op_type}) gives a shape that depends on "
                                "the values, which no static reading of the file follows: estimate the nn.Module "
                                "with trace_device='cpu' (CLI: --trace-device cpu) instead")
        raise ONNXLoadError(f"no static shape for tensor {name!r} of node {node.name or node.op_type!r} "
                            f"({node.op_type}) after shape inference and constant folding: it depends on more than "
                            "the input's shape, or an input size given contradicts a size the file fixes (a "
                            "weight's: try the size it was exported at); estimate the nn.Module instead")
    return tuple(s)


def _attr(node: Any, name: str, default: Any = None) -> Any:
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _attention_attrs(node: Any, shapes: dict) -> dict[str, int]:
    """A capture's attributes of a fused attention (:func:`hwaware.graph.capture`'s) for ONNX's ``Attention``: Q, K, V
    as (batch, heads, length, head size), or 3-D (batch, length, heads x head size) with ``q_num_heads`` and
    ``kv_num_heads``; a ``past_key`` input lengthens the keys the queries read."""
    q, k, v = (_shape(shapes, node.input[i], node) for i in range(3))
    if len(q) == 4:
        heads, q_len, head_dim = q[1], q[2], q[3]
        kv_len, v_dim = k[2], v[3]
    else:
        heads, kv_heads = _attr(node, "q_num_heads"), _attr(node, "kv_num_heads")
        if not heads or not kv_heads:
            raise ONNXLoadError(f"ONNX Attention node {node.name or '?'!r} has 3-D inputs without q_num_heads and "
                                "kv_num_heads, which ONNX requires then; export it again")
        q_len, head_dim, kv_len, v_dim = q[1], q[2] // heads, k[1], v[2] // kv_heads
    if len(node.input) > 4 and node.input[4]:
        kv_len += _shape(shapes, node.input[4], node)[2]
    return {"batch_heads": int(q[0] * heads), "q_len": int(q_len), "kv_len": int(kv_len), "head_dim": int(head_dim),
            "v_dim": int(v_dim)}


def _softmax_dim(node: Any, in_shapes: tuple[Shape, ...], opset: int) -> int:
    """The dim a capture records for an ONNX (Log)Softmax: -1 where it normalises the last dimension alone, else its
    axis (below opset 13 it normalises the input flattened from ``axis`` on, by default 1; from 13 ``axis`` alone, by
    default the last)."""
    rank = max(1, len(in_shapes[0]) if in_shapes else 1)
    axis = int(_attr(node, "axis", -1 if opset >= 13 else 1)) % rank
    return -1 if axis == rank - 1 else axis


def _classify(node: Any, inits: dict, shapes: dict, weights: set[str], in_shapes: tuple[Shape, ...], opset: int
              ) -> tuple[LayerKind, dict[str, Any], str]:
    """(kind, attributes, aten op) of an ONNX node. The aten op is the one a PyTorch capture records for the same layer:
    costs and the learned estimators read it (:attr:`Layer.aten_name`), and the estimators were trained on captured
    graphs, where an ONNX name means nothing (before 2026-12-01 every ONNX layer read as an unknown op: resnet18 under
    TensorRT on a Xavier NX came out 1.89 ms from ONNX against 2.79 ms from torchvision, one fused graph)."""
    op = node.op_type
    if op in ("Conv", "ConvTranspose"):
        w = shapes[node.input[1]]
        groups = int(_attr(node, "group", 1))
        transposed = op == "ConvTranspose"
        in_ch = in_shapes[0][1]
        attrs = {"kernel": tuple(_attr(node, "kernel_shape", w[2:])), "stride": tuple(_attr(node, "strides", [1] * (len(w) - 2))),
                 "padding": tuple(_attr(node, "pads", [0] * 2 * (len(w) - 2))[: len(w) - 2]),
                 "dilation": tuple(_attr(node, "dilations", [1] * (len(w) - 2))), "groups": groups,
                 "in_channels": in_ch, "out_channels": w[1] * groups if transposed else w[0],
                 "transposed": transposed, "bias": len(node.input) > 2 and bool(node.input[2])}
        return ops.conv_kind(in_ch, groups), attrs, "convolution"
    if op in ("Gemm", "MatMul"):
        a_shape = shapes[node.input[0]]
        k = a_shape[0] if op == "Gemm" and _attr(node, "transA", 0) else a_shape[-1]
        attrs = {"k": int(k), "bias": op == "Gemm" and len(node.input) > 2 and bool(node.input[2])}
        if not weights and op == "MatMul":  # between activations
            return K.MATMUL, attrs, "bmm"
        return (K.DENSE if weights else K.MATMUL), attrs, "addmm" if attrs["bias"] else "mm"
    if op in _NORM:
        return K.NORM, {}, _NORM[op]
    if op in _ACT:
        return K.ACTIVATION, {}, _ACT[op]
    if op in ("MaxPool", "AveragePool", "LpPool"):
        ks = tuple(_attr(node, "kernel_shape"))
        return K.POOL, {"mode": "max" if op == "MaxPool" else "avg", "kernel": ks,
                        "stride": tuple(_attr(node, "strides", [1] * len(ks))),
                        "padding": tuple(_attr(node, "pads", [0] * 2 * len(ks))[: len(ks)]),
                        **ops.pool_dilation(_attr(node, "dilations", [1] * len(ks)))}, (
            "max_pool2d_with_indices" if op == "MaxPool" else "avg_pool2d")
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        return K.GLOBAL_POOL, {"mode": "max" if "Max" in op else "avg"}, "amax" if "Max" in op else "mean"
    if op in _REDUCE:
        out = _shape(shapes, node.output[0], node) if op == "ReduceMean" and in_shapes else None
        if out is not None and ops.is_global(in_shapes[0], out + (1,) * (len(in_shapes[0]) - len(out))):
            return K.GLOBAL_POOL, {"mode": "avg"}, "mean"
        return K.REDUCE, {}, "sum"
    if op in ("Softmax", "LogSoftmax"):  # the axis a capture records as dim (from opset 13 the default is the last)
        return K.SOFTMAX, {"dim": _softmax_dim(node, in_shapes, opset)}, "softmax" if op == "Softmax" else "log_softmax"
    if op == "Attention" and node.domain in ("", "ai.onnx"):  # opset 23; com.microsoft's takes its projections too
        return K.ATTENTION, _attention_attrs(node, shapes), "scaled_dot_product_attention"
    if op == "Concat":
        return K.CONCAT, {}, "cat"
    if op in ("Resize", "Upsample"):
        mode = _attr(node, "mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        return K.UPSAMPLE, {"mode": mode}, "upsample_nearest2d" if mode == "nearest" else "upsample_bilinear2d"
    if op in _ELEMENTWISE:
        return K.ELEMENTWISE, {}, op.lower()
    if op in _VIEW or op in _QDQ:
        return K.RESHAPE, {}, op.lower()
    if op in _COPY:
        return K.COPY, {}, "constant_pad_nd" if op == "Pad" else op.lower()
    return K.UNKNOWN, {}, op.lower()
