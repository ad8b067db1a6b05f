"""Eager PyTorch on a CUDA GPU as a graph rewrite: a convolution's bias is a kernel of its own.

PyTorch's ``at::_convolution`` runs a cuDNN convolution without its bias and then adds the bias in place
(``output.add_(reshape_bias(...))`` after ``at::cudnn_convolution`` and ``cudnn_convolution_transpose``,
aten/src/ATen/native/Convolution.cpp): one more elementwise kernel that reads and writes the whole output. Under
TensorRT and on the CPU (oneDNN) the bias is inside the convolution's kernel, so this rewrite belongs to the GPU's
eager runtime alone (from resperfnet-gpu version 6; until then a biased conv was one layer whose ``bias`` flag the
learned kernel head read, and the training data tie that flag to VGG, AlexNet and SqueezeNet: giving every conv
of resnet50 a bias moved its eager batch-32 answer 1.30-1.34x, ``python benchmarks/onnx_consistency.py``).

Assumptions, named here because no table separates them: a depthwise convolution keeps its bias inside (PyTorch
sends it to its own depthwise kernel, which takes the bias, unless cuDNN's depthwise path is chosen, fp16 on some
shapes; a transposed one goes to cuDNN and is split); a dense layer's bias stays in its GEMM (``addmm``); the add has
no host-side dispatch of its own (:func:`inside_call`: PyTorch launches it from C++ within the convolution's call,
without the Python and dispatch cost the learned framework time stands for), only its kernel time.
"""
from __future__ import annotations

from dataclasses import replace

from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.graph.ops import layer_cost
from hwaware.graph.transform import param_elements

K = LayerKind
NOT_MODELLED = ("eager PyTorch rewrite: a convolution's bias is its own add kernel (cuDNN), without a host-side "
                "dispatch of its own; a depthwise conv's and a dense layer's bias are taken as inside their kernels")


def kernels(layer: Layer) -> tuple[Layer, ...]:
    """The kernels eager PyTorch launches on a CUDA GPU for one captured layer: a biased (not depthwise) convolution
    is the convolution without its bias and an in-place add of the bias; any other layer is itself. Costs come from
    :func:`hwaware.graph.ops.layer_cost`, as a capture's do, so the two re-batch exactly. Their FLOPs and parameters
    are the layer's; their bytes add the output read and written once more."""
    split = layer.kind is K.CONV or (layer.kind is K.DEPTHWISE_CONV and layer.attrs.get("transposed"))
    if not split or not layer.attrs.get("bias"):
        return (layer,)
    elem = layer.bytes_written // max(1, layer.output_elements)
    out = layer.output_shapes[:1]
    channels = out[0][1]
    weights = param_elements(layer, elem) - channels
    attrs = {**layer.attrs, "bias": False}
    macs, flops, read, written = layer_cost(K.CONV, layer.aten_name, layer.input_shapes, layer.output_shapes, attrs,
                                            weights, elem)
    # max: a quantized ONNX conv's int32 bias is read but is no trainable parameter
    conv = replace(layer, attrs=attrs, params=max(0, layer.params - channels), macs=macs, flops=flops, bytes_read=read,
                   bytes_written=written)
    _, flops, read, written = layer_cost(K.ELEMENTWISE, "add", out, out, {}, channels, elem)
    add = Layer(index=layer.index, kind=K.ELEMENTWISE, op="aten.add", module=layer.module, input_shapes=out,
                output_shapes=out, attrs={"bias_of": layer.aten_name}, params=channels, macs=0, flops=flops,
                bytes_read=read, bytes_written=written, inputs=(layer.index,))
    return conv, add


def inside_call(layer: Layer) -> bool:
    """Whether ``layer`` is a kernel that PyTorch launches inside another op's call (a conv's bias add): it has no
    host-side dispatch of its own, so the learned model gives it its kernel time alone."""
    return "bias_of" in layer.attrs


def rewrite(graph: Graph) -> Graph:
    """The layers eager PyTorch runs on a CUDA GPU for ``graph`` (:func:`kernels` of each), renumbered in order (a
    reader of a split convolution reads its bias add); ``graph`` itself if no layer splits."""
    split = [kernels(l) for l in graph.layers]
    if all(len(ks) == 1 for ks in split):
        return graph
    layers: list[Layer] = []
    new: dict[int, int] = {}  # original index -> index of the kernel that writes its output
    for l, ks in zip(graph.layers, split):
        for j, k in enumerate(ks):
            inputs = tuple(new.get(i, i) for i in k.inputs) if j == 0 else (len(layers) - 1,)
            layers.append(k.placed(len(layers), k.module, inputs))  # keeps an unchanged layer's signature
        new[l.index] = len(layers) - 1
    return replace(graph, layers=layers)
