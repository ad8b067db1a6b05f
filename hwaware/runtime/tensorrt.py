"""TensorRT as a graph rewrite: the kernels an engine runs, derived from the captured eager graph.

TensorRT's builder fuses layers before it picks kernels (NVIDIA's TensorRT developer guide, "Types of
Fusions"). This pass applies the fusions that matter for CNN inference, in graph order:

1. **BatchNorm folding**: a batch norm whose only input is a conv/dense output used by nothing else is folded
   into that conv's weights and bias (no kernel; until 2026-12-01 any norm was, a group or layer norm too, whose
   per-sample statistics cannot fold: such a norm is now a kernel, which no training network has). The fused layer
   is the conv with a bias, as an exporter's folded ONNX conv is: its ``bias`` flag set, the bias's FLOPs,
   parameters and bytes counted, and the norm listed under ``attrs["folded"]``, not among the fused operations (from 2026-12-01, resperfnet-gpu version 5: until then the
   conv kept the flags of its bias-free capture and listed the norm as fused, so a network and its ONNX export,
   one engine, got different kernels: resnet18 under TensorRT fp16 came out 1.07-1.83x from the export over five
   GPUs, ``python benchmarks/onnx_consistency.py``; torchvision's VGG16 and VGG16-BN, alike once folded and timed
   within 1 % of each other by torch2trt, read differently).
2. **Conv + residual add + activation**: an activation or an elementwise add whose producer is a conv
   group used by nothing else joins that conv's kernel (cuDNN/TensorRT epilogue fusion), through a view read by it
   alone (a dense layer on folded rows, then its map: ConvNeXt's GELU, from 2026-12-05) or an export's Transpose,
   where the module has a permute view (ConvNeXt's layer scale and residual add, from 2026-12-05; a batch norm folds
   through views other than transposes alone); the kernel keeps its own output layout, which the fused
   op's may only re-view or transpose.
3. **Pointwise fusion**: chains of activations and elementwise ops whose intermediate results have one
   consumer run as one pointwise kernel (h-swish, SE gates' hsigmoid x mul ...); a norm that cannot be
   folded (pre-activation BN after a concat) becomes a scale layer that its activation joins.
4. **Concat and copy elimination**: layout copies disappear and a concatenation's producers write into its
   output in place, neither launching a kernel (views never did). A tensor has one home: the first
   multi-input concat that reads it (others read it there). Every other concat input is copied into the
   output, one copy kernel each: a tensor a previous concat already holds (each feature of a torchvision
   DenseNet block is read by every later layer's ``torch.cat``), part of a tensor read elsewhere (ShuffleNet's
   channel split) or a graph input; where the captured inputs do not line up with the concat's operands (a
   producer read twice), every operand is copied. That the copies are separate kernels is an assumption. The
   torch2trt rows fit it on the AGX Xavier: from densenet121 to densenet169 its TensorRT time grows 10.7 ms
   while 620 copies and 24 small dense layers (7x7 and 14x14 maps) are added, against 3.37 ms for all of
   resnet50. On the Jetson Nano the same step adds 6.4 ms; there the copies' share cannot be told apart from
   the layers'.
5. **Pooling writes its values only**: eager max pooling's argmax indices (kept for backward) are not an output
   (from resperfnet-gpu version 5).
6. **Attention fusion**: a batched matmul of two activations (the scores ``Q Kᵀ``), an optional mask or bias added
   to them, a softmax and the matmul of its result with a third activation (``V``), each read by the next alone
   (through views), run as one fused attention kernel, the kernel an ONNX ``Attention`` node (opset 23) or a capture
   of fused ``scaled_dot_product_attention`` reads as (:attr:`LayerKind.ATTENTION`): NVIDIA's TensorRT developer
   guide ("Fused Attention") fuses attention built from matrix-multiply and softmax layers as it fuses its attention
   layer. That guide requires the scale on ``Q`` or ``K`` (or ``sqrt`` of it on both) before the first matmul: such
   a multiplication by a scalar, read by the matmul alone, joins the kernel (PyTorch's ``scaled_dot_product_attention``
   written out, as a meta-device capture and an opset-18 export record it), while a multiplication (or division)
   of the scores keeps the chain unfused (LeViT, XCiT), as do a log-softmax, a softmax over another axis than the
   keys' and a per-channel multiplier of Q or K. From 2026-12-05: until then a ViT and its opset-23 export, one
   engine, read as different kernels (deit_tiny under TensorRT fp16 on the AGX Xavier: the export 0.65x its module,
   ``python benchmarks/onnx_exports.py``). Which TensorRT versions and GPUs fuse it is not modelled (every one is
   taken to); no training row has attention, so such a kernel is timed at its roofline (resperfnet-gpu).

What a fused kernel costs is not modelled here: the result is a :class:`Graph` whose layers are the
surviving kernels, each carrying the FLOPs of everything fused into it, its own inputs and the fused
group's output (``attrs["fused"]`` lists the absorbed ops). Per-layer estimators then learn TensorRT's
kernel costs from measurements of this graph (``runtime="tensorrt"``).

Not modelled here (named in the estimate's notes by the estimators): TensorRT's per-layer precision choice (every
layer is taken in the requested precision; resperfnet-gpu takes it per network where no row timed the platform,
:func:`hwaware.estimators.resperfnet_gpu.engine_bound`), horizontal fusion of parallel 1x1 convs, and tactic selection.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.graph.ops import BATCH_NORMS, numel

K = LayerKind
_MAIN = {K.CONV, K.DEPTHWISE_CONV, K.DENSE, K.MATMUL}
_WEIGHTED = {K.CONV, K.DEPTHWISE_CONV, K.DENSE}  # what a batch norm can fold into
_POINTWISE = {K.ACTIVATION, K.ELEMENTWISE}
_ELIMINATED = frozenset({K.CONCAT, K.COPY, K.RESHAPE})

NOT_MODELLED = ("TensorRT graph rewrite: conv/BN/activation/residual, pointwise and attention fusions, concat and copy "
                "elimination (an operand an earlier concat already holds, a split's half or a graph input is copied); "
                "per-layer precision choice and horizontal fusion are not modelled")


def fuse(graph: Graph) -> Graph:
    """The layers a TensorRT engine of ``graph`` runs (see the module docstring for the rules)."""
    consumers: dict[int, int] = {}
    for l in graph.layers:
        for i in l.inputs:
            consumers[i] = consumers.get(i, 0) + 1
    groups: dict[int, Layer] = {}  # surviving index -> its (merged) layer
    copies: dict[tuple[int, int], Layer] = {}  # (concat index, operand position) -> the kernel copying that operand
    homes: set[int] = set()  # tensors (original indices) already written in place into a concat's output
    tails: dict[int, int] = {}  # original index of a group's last op -> the group (its kernel writes that output)
    last: dict[int, int] = {}  # group -> original index of its last op
    # softmax and P @ V of each fusable chain (rule 6) -> its scores matmul; the scales of Q and K -> the same
    attention, scales = _attention_chains(graph, consumers)
    for l in graph.layers:
        if l.index in scales:  # in its chain's attention kernel (_as_attention)
            continue
        if l.kind in _ELIMINATED:  # concat/copy/view: no kernel of its own
            if l.kind is K.CONCAT and len(l.input_shapes) > 1:
                copies.update({(l.index, j): _copy_kernel(l, j, source)
                               for j, source in _copied_operands(l, graph, consumers, homes)})
            continue
        target = (tails.get(_key_axis_views(l.inputs[0], graph, consumers)) if l.index in attention
                  else _fusion_target(l, graph, groups, consumers, tails))
        if target is None:
            groups[l.index] = _values_only(replace(l, attrs={**l.attrs, "fused": [l.op]}))
            last[l.index] = l.index
        else:
            groups[target] = _absorb(groups[target], l)
            if l.kind is K.MATMUL and l.index in attention:  # the chain's last op: one attention kernel
                groups[target] = _as_attention(groups[target], graph.layers[attention[l.index]], l,
                                               [graph.layers[i] for i, m in scales.items() if m == attention[l.index]])
            del tails[last[target]]  # the group's kernel now produces l's output, not its earlier op's
            last[target] = l.index
        tails[l.index] = l.index if target is None else target
    # a concat's index is never a group's, so its copies sort between the layers around it
    kernels = {**{(k, 0): g for k, g in groups.items()}, **copies}
    layers = [replace(g, index=i) for i, g in enumerate(kernels[k] for k in sorted(kernels))]
    return replace(graph, name=f"{graph.name} [tensorrt]", layers=layers)


def _fusion_target(l: Layer, graph: Graph, groups: dict[int, Layer], consumers: dict[int, int],
                   tails: dict[int, int]) -> int | None:
    """The surviving group ``l`` joins, or None if it runs as its own kernel."""
    if len(l.inputs) == 0:
        return None
    for src in l.inputs:
        viewed = _key_axis_views(src, graph, consumers)
        src = _through_views(src, graph, consumers)
        if src < 0 or consumers.get(src, 0) != 1:
            continue
        producer = graph.layers[src]
        head = tails.get(src)
        if head is None:
            continue
        head_kind = groups[head].kind
        if (l.kind is K.NORM and l.aten_name in BATCH_NORMS and producer.kind in _WEIGHTED and len(l.inputs) == 1
                and viewed == src):  # a batch norm's fixed statistics fold into weights (a group norm's do not), the
            # conv's channels its own: not across a transpose
            return head
        if l.kind in _POINTWISE and (head_kind in _MAIN or head_kind in _POINTWISE or head_kind is K.NORM):
            return head
    return None


def _walk_back(src: int, graph: Graph, consumers: dict[int, int], passes: Callable[[Layer], bool]) -> int:
    """The layer whose output original layer ``src`` is, past single-input layers that ``passes``, each read by one
    layer alone; ``src`` itself if it is no such layer, a negative index for a graph input."""
    while src >= 0 and passes(graph.layers[src]) and consumers.get(src, 0) == 1 and len(graph.layers[src].inputs) == 1:
        src = graph.layers[src].inputs[0]
    return src


def _through_views(src: int, graph: Graph, consumers: dict[int, int]) -> int:
    """:func:`_walk_back` past views and layout copies (:func:`_is_layout_copy`): a kernel writes through them."""
    return _walk_back(src, graph, consumers, lambda l: l.kind is K.RESHAPE or _is_layout_copy(l))


def _is_layout_copy(l: Layer) -> bool:
    """Whether ``l`` is a layout copy alone: an ONNX Transpose, where a capture has a permute view, or a capture's
    clone of a permuted view (a reshape after a transpose), where an export has Transpose and Reshape; so that
    ConvNeXt's layer scale and residual add join its dense kernel, and LeViT's activation its attention's second
    matmul, from an export as from the module (2026-12-05)."""
    return l.kind is K.COPY and (l.op == "onnx.Transpose" or l.aten_name in ("clone", "contiguous"))


def _attention_chains(graph: Graph, consumers: dict[int, int]) -> tuple[dict[int, int], dict[int, int]]:
    """Rule 6's chains: for each, its softmax's and its ``P @ V`` matmul's original indices, each mapped to the
    index of the chain's scores matmul (``Q Kᵀ``; a mask or bias added to the scores, as the add's second operand,
    joins that matmul by rule 3); and the multiplications of ``Q`` and ``K`` by scalars read by that matmul alone,
    mapped to it. Batched matmuls only, the softmax over the scores' last axis (the keys) through views that keep it
    last; a probability map the graph returns is not seen (a :class:`Graph` has no outputs), as for rules 2 and 3."""
    readers: dict[int, list[int]] = {}
    for l in graph.layers:
        for i in l.inputs:
            readers.setdefault(i, []).append(l.index)
    chains: dict[int, int] = {}
    scales: dict[int, int] = {}
    for s in graph.layers:
        if s.aten_name not in _SOFTMAX or len(s.inputs) != 1 or len(s.input_shapes) != 1 or not _over_last_axis(s):
            continue
        src = _key_axis_views(s.inputs[0], graph, consumers)
        while src >= 0 and graph.layers[src].kind is K.ELEMENTWISE and graph.layers[src].aten_name == "add" \
                and consumers.get(src, 0) == 1:  # a mask or bias; a scale here keeps the chain unfused
            src = _key_axis_views(graph.layers[src].inputs[0], graph, consumers)
        scores = graph.layers[src] if src >= 0 else None
        if (scores is None or scores.kind is not K.MATMUL or consumers.get(src, 0) != 1
                or len(scores.output_shapes[0]) < 3 or scores.output_shapes[0][-1] != s.input_shapes[0][-1]):
            continue
        out = s.index  # the softmax's one reader, past the views _key_axis_views walks back through
        while consumers.get(out, 0) == 1 and _keeps_axes(graph.layers[readers[out][0]]):
            out = readers[out][0]
        pv = graph.layers[readers[out][0]] if consumers.get(out, 0) == 1 else None
        if (pv is not None and pv.kind is K.MATMUL and pv.inputs and pv.inputs[0] == out
                and len(pv.output_shapes[0]) >= 3):
            chains[s.index] = chains[pv.index] = src
            # past the layout copies the engine eliminates (rule 4): the expand-and-clone of a written-out attention
            operands = (_walk_back(i, graph, consumers, lambda l: l.kind in _ELIMINATED) for i in scores.inputs)
            scales.update((i, src) for i in operands
                          if i >= 0 and _is_scale(graph.layers[i]) and consumers.get(i, 0) == 1)
    return chains, scales


_SOFTMAX = {"_softmax", "softmax", "_safe_softmax"}  # not log-softmax
_TRANSPOSING = {"permute", "transpose", "t", "swapaxes", "movedim"}  # views that may move the keys' axis


def _over_last_axis(softmax: Layer) -> bool:
    """Whether ``softmax`` normalises its input's last axis."""
    dim = softmax.attrs.get("dim", -1)
    return isinstance(dim, int) and dim % max(1, len(softmax.input_shapes[0])) == len(softmax.input_shapes[0]) - 1


def _keeps_axes(l: Layer) -> bool:
    """Whether ``l`` is a single-input view that transposes nothing (a capture's permute is a view too)."""
    return l.kind is K.RESHAPE and l.aten_name not in _TRANSPOSING and len(l.inputs) == 1


def _key_axis_views(src: int, graph: Graph, consumers: dict[int, int]) -> int:
    """:func:`_walk_back` past :func:`_keeps_axes` views only."""
    return _walk_back(src, graph, consumers, _keeps_axes)


def _is_scale(l: Layer) -> bool:
    """Whether ``l`` multiplies (or divides) one activation by scalars only (no parameter or constant of more than
    one element: a per-channel multiplier is a kernel of its own)."""
    elem = l.bytes_written // max(1, l.output_elements)
    return (l.kind is K.ELEMENTWISE and l.aten_name in ("mul", "div") and len(l.inputs) == 1
            and all(numel(shape) <= 1 for shape in l.input_shapes[1:])
            and l.bytes_read // max(1, elem) - sum(numel(shape) for shape in l.input_shapes) <= 1)


def _as_attention(group: Layer, scores: Layer, pv: Layer, scales: list[Layer]) -> Layer:
    """The fused chain ``group`` (scores matmul ``scores`` through ``pv``, rule 6) as the attention layer a capture or
    an ONNX import reads fused attention as: its attributes, both matmuls' multiply-adds, the ``scales`` of Q and K."""
    q_len, kv_len = scores.output_shapes[0][-2:]
    attrs = {"batch_heads": numel(scores.output_shapes[0]) // max(1, q_len * kv_len), "q_len": q_len,
             "kv_len": kv_len, "head_dim": scores.attrs["k"], "v_dim": pv.output_shapes[0][-1]}
    return replace(group, kind=K.ATTENTION, op="tensorrt.attention", macs=group.macs + pv.macs,
                   flops=group.flops + sum(l.flops for l in scales),
                   attrs={**attrs, "aten_op": "scaled_dot_product_attention",
                          "fused": [*(l.op for l in scales), *group.attrs["fused"]]})


def _copied_operands(concat: Layer, graph: Graph, consumers: dict[int, int], homes: set[int]
                     ) -> list[tuple[int, int]]:
    """(operand position, original index of its producer) of each operand of ``concat`` that is copied into its
    output (module docstring, rule 4); the tensors it holds in place are added to ``homes``. Where capture listed a
    producer once, positions are unknown: every operand is copied and named after the first producer."""
    if len(concat.inputs) != len(concat.input_shapes):  # capture lists a producer once: positions are unknown
        return [(j, concat.inputs[0]) for j in range(len(concat.input_shapes))]
    copied = []
    for j, i in enumerate(concat.inputs):
        tensor = _whole_tensor(i, graph, consumers)
        if tensor is None or tensor in homes:
            copied.append((j, i))
        else:
            homes.add(tensor)
    return copied


def _whole_tensor(index: int, graph: Graph, consumers: dict[int, int]) -> int | None:
    """The kernel output that original layer ``index`` is, following views read by one layer alone down to it;
    None for a graph input or a view that something else reads too (a split's halves). A concat read by one
    concat alone counts as a kernel output: its own operands were placed (or copied) into it, and it into its
    reader."""
    while index >= 0:
        layer = graph.layers[index]
        if layer.kind not in _ELIMINATED:
            return index
        if consumers.get(index, 0) != 1:
            return None
        if layer.kind is K.CONCAT:
            return index
        if len(layer.inputs) != 1:
            return None
        index = layer.inputs[0]
    return None


def _copy_kernel(concat: Layer, position: int, source: int) -> Layer:
    """The kernel that copies operand ``position`` of ``concat``, produced by original layer ``source``, into its
    output (``inputs``: that index, as fused layers keep)."""
    shape = concat.input_shapes[position]
    size = numel(shape) * (concat.bytes_written // max(1, concat.output_elements))
    return Layer(index=concat.index, kind=K.COPY, op="tensorrt.concat_copy", module=concat.module,
                 input_shapes=(shape,), output_shapes=(shape,), attrs={"fused": [concat.op]}, params=0, macs=0,
                 flops=0, bytes_read=size, bytes_written=size, inputs=(source,))


def _values_only(l: Layer) -> Layer:
    """``l`` without the outputs an engine does not write: eager max pooling also returns its argmax indices (for
    backward), TensorRT's pooling layer the values alone (from resperfnet-gpu version 5, as an ONNX MaxPool)."""
    if l.kind is not K.POOL or len(l.output_shapes) < 2:
        return l
    share = numel(l.output_shapes[0]) / sum(numel(s) for s in l.output_shapes)
    return replace(l, output_shapes=l.output_shapes[:1], bytes_written=round(l.bytes_written * share))


def _absorb(group: Layer, l: Layer) -> Layer:
    """``group`` with ``l`` fused into it: l's arithmetic, l's output, and l's other inputs read; a norm folds into
    the group's conv as its bias (module docstring, rule 1)."""
    elem = group.bytes_written // max(1, group.output_elements)
    if l.kind is K.NORM:
        attrs = {**group.attrs, "folded": [*group.attrs.get("folded", ()), l.op]}
        if group.attrs.get("bias"):  # a biased conv's bias absorbs the shift
            return replace(group, attrs=attrs)
        channels = l.input_shapes[0][1]  # what the norm normalises: one bias per channel
        return replace(group, flops=group.flops + group.output_elements, params=group.params + channels,
                       bytes_read=group.bytes_read + channels * elem, attrs={**attrs, "bias": True})
    # l's other operands: all it reads but the group's output, whichever operand that is (timm's squeeze-excite
    # multiplies x by its gate, torchvision's the gate by x; before 2026-12-05 the first operand was taken for the
    # group's, and timm's fused gate read its 96 gate values in place of its 96 x 56 x 56 map)
    extra_bytes = max(0, sum(numel(s) for s in l.input_shapes) - group.output_elements) * elem
    # the kernel writes l's values in its own layout: an ONNX dense layer's rows fold its tokens as PyTorch's do
    # (onnx_import), while the activation it fuses reads them unfolded (convnext_tiny's export: the kernel head read a
    # fused (1, 56, 56, 384) output as another shape of layer, 2.8x its (3136, 384) time on the RTX 2080 Ti)
    same = len(l.output_shapes) == 1 and numel(l.output_shapes[0]) == group.output_elements
    return replace(group, output_shapes=group.output_shapes if same else l.output_shapes, flops=group.flops + l.flops,
                   bytes_read=group.bytes_read + extra_bytes, bytes_written=l.bytes_written,
                   attrs={**group.attrs, "fused": [*group.attrs["fused"], l.op]})
