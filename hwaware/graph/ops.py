"""Operation semantics in one place: which kind an op is, and what it costs.

The PyTorch capture classifies aten ops with :func:`aten_kind`; the ONNX importer maps ONNX op
types to the same kinds. Both call :func:`layer_cost`, so a conv costs the same wherever it came from.

Cost conventions (documented choices, not measurements):

* MACs: conv = out_elements x (C_in/groups) x prod(kernel) (transposed: in_elements x (C_out/groups)
  x prod(kernel)); dense and matmul = out_elements x K; attention = B*H*L*S*(E+Ev). Bias adds are
  not MACs. This is the usual convention (fvcore, timm's ``infer_gmacs`` for conv/linear).
* FLOPs: 2 per MAC (+1 per output for a bias); elementwise 1 per output; activations per
  :data:`ACTIVATION_FLOPS` (rough op counts of each function); norms 2 (inference batch norm:
  scale+shift) or 5 (layer/group norm, which also compute statistics) per element; pooling
  window-size per output; reductions 1 per input; softmax 5 per element; upsample 1 (nearest)
  or 4 (bilinear/bicubic) per output.
* fvcore-equivalent MACs (:func:`fvcore_macs`): the unit of timm's published ``infer_gmacs``,
  which fvcore computes as our MACs plus 2 per element of inference batch norm (1 without affine),
  5 per element of layer/group/instance norm (4 without affine) and 1 (nearest) or 4 (bilinear)
  per upsampled output. fvcore also counts 1 per input element of ``adaptive_avg_pool2d`` as
  traced by TorchScript; at aten level global average pooling and ``x.mean((2, 3))`` are the
  same op, so we count neither (under 0.1 % of a CNN's total).
* Bytes: every activation input and parameter/buffer read once, every output written once.
  Views (reshape kind) move nothing.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hwaware.graph.layer import LayerKind, Shape

K = LayerKind

ACTIVATION_FLOPS: dict[str, int] = {
    "relu": 1, "threshold": 1, "hardtanh": 2, "clamp": 2, "clamp_min": 1, "clamp_max": 1, "leaky_relu": 2,
    "prelu": 2, "_prelu_kernel": 2, "sigmoid": 4, "tanh": 5, "silu": 5, "hardswish": 4, "hardsigmoid": 3,
    "gelu": 8, "mish": 8, "elu": 4, "celu": 4, "selu": 4, "softplus": 4, "log_sigmoid": 5, "erf": 5,
}

_NORM_FLOPS = {"native_batch_norm": 2, "_native_batch_norm_legit_no_training": 2, "_native_batch_norm_legit": 2,
               "_batch_norm_no_update": 2, "_batch_norm_with_update": 2, "native_layer_norm": 5,
               "native_group_norm": 5, "_fused_rms_norm": 4}

_ELEMENTWISE = {
    "add", "sub", "mul", "div", "rsub", "neg", "exp", "exp2", "log", "log2", "log1p", "sqrt", "rsqrt", "pow",
    "where", "maximum", "minimum", "abs", "reciprocal", "masked_fill", "addcmul", "addcdiv", "lerp", "sign",
    "floor", "ceil", "round", "trunc", "frac", "sin", "cos", "square", "fill", "zeros_like", "ones_like",
    "full_like", "zero", "remainder", "fmod", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_not", "bitwise_xor", "sigmoid_backward", "mul_scalar",
    "clone_if_needed", "nan_to_num", "copysign", "atan2", "hypot", "floor_divide", "xlogy",
}
_REDUCE = {"mean", "sum", "amax", "amin", "max", "min", "var", "std", "var_mean", "std_mean", "linalg_vector_norm",
           "norm", "logsumexp", "prod", "cumsum", "argmax", "argmin", "any", "all", "topk", "sort"}
_POOL = {"max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices", "max_pool3d_with_indices",
         "avg_pool1d", "avg_pool2d", "avg_pool3d", "_adaptive_avg_pool2d", "adaptive_avg_pool2d",
         "_adaptive_avg_pool3d", "adaptive_max_pool2d", "adaptive_max_pool1d", "adaptive_avg_pool1d", "lp_pool2d"}
_CONV = {"convolution", "_convolution", "conv2d", "conv1d", "conv3d", "cudnn_convolution", "mkldnn_convolution",
         "convolution_overrideable", "_slow_conv2d_forward", "slow_conv_transpose2d", "conv_transpose2d"}
_MATMUL = {"addmm", "mm", "bmm", "baddbmm", "matmul", "linear", "addbmm", "_addmm_activation", "einsum", "dot", "mv"}
_ATTENTION = {"_scaled_dot_product_flash_attention", "_scaled_dot_product_flash_attention_for_cpu",
              "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
              "_scaled_dot_product_fused_attention_overrideable", "scaled_dot_product_attention"}
_SOFTMAX = {"_softmax", "softmax", "_log_softmax", "log_softmax", "_safe_softmax"}
_UPSAMPLE = {"upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_upsample_nearest_exact2d",
             "upsample_bilinear2d", "_upsample_bilinear2d_aa", "upsample_bicubic2d", "upsample_linear1d",
             "upsample_trilinear3d", "grid_sampler_2d", "grid_sampler"}
_CONCAT = {"cat", "stack", "concat", "hstack", "vstack"}
_COPY = {"clone", "contiguous", "_to_copy", "copy", "constant_pad_nd", "pad", "reflection_pad1d",
         "reflection_pad2d", "replication_pad1d", "replication_pad2d", "index_select", "gather", "index", "roll",
         "repeat", "flip", "native_channel_shuffle", "channel_shuffle", "pixel_shuffle", "pixel_unshuffle",
         "im2col", "col2im", "scatter", "scatter_add", "index_put", "masked_select", "tril", "triu",
         "repeat_interleave", "embedding", "_unsafe_index", "lift_fresh_copy", "slice_scatter", "select_scatter"}
_VIEW = {"view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "expand", "expand_as",
         "unsqueeze", "squeeze", "select", "slice", "split", "split_with_sizes", "chunk", "unbind", "narrow",
         "as_strided", "alias", "flatten", "unflatten", "view_as", "diagonal", "unfold", "movedim", "numpy_T",
         "detach", "lift_fresh", "_reshape_copy", "view_as_real", "view_as_complex", "swapaxes", "unsafe_split",
         "tensor_split", "split_with_sizes_copy", "mT", "adjoint"}
# Run no kernel and produce no layer: allocations and autograd/bookkeeping.
BOOKKEEPING = {"empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "_local_scalar_dense",
               "sym_size", "sym_stride", "sym_numel", "set_", "resize", "resize_", "_assert_async",
               "_assert_tensor_metadata", "_functional_assert_async", "record_stream", "is_same_size",
               "_has_compatible_shallow_copy_type", "result_type", "scalar_tensor", "arange", "zeros", "ones", "full",
               "linspace", "randn", "rand", "normal", "uniform", "bernoulli", "dropout", "native_dropout",
               "feature_dropout", "alpha_dropout"}


def aten_kind(name: str) -> LayerKind | None:
    """Kind of an aten op (overload packet name, in-place ``_`` suffix stripped); ``None`` for bookkeeping."""
    if name in BOOKKEEPING:
        return None
    for names, kind in ((_CONV, K.CONV), (_MATMUL, K.DENSE), (_ATTENTION, K.ATTENTION), (_POOL, K.POOL),
                        (_NORM_FLOPS, K.NORM), (ACTIVATION_FLOPS, K.ACTIVATION), (_SOFTMAX, K.SOFTMAX),
                        (_ELEMENTWISE, K.ELEMENTWISE), (_REDUCE, K.REDUCE), (_CONCAT, K.CONCAT),
                        (_UPSAMPLE, K.UPSAMPLE), (_COPY, K.COPY), (_VIEW, K.RESHAPE)):
        if name in names:
            return kind
    return K.UNKNOWN


def conv_kind(in_channels: int, groups: int) -> LayerKind:
    return K.DEPTHWISE_CONV if groups > 1 and groups == in_channels else K.CONV


def pool_dilation(dilation: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """A pooling layer's ``dilation`` attribute: recorded only where a tap skips positions, so an undilated pool's
    attributes (and its signature) stay as they were before pools recorded it (capture and the ONNX import alike)."""
    return {"dilation": tuple(dilation)} if any(d != 1 for d in dilation) else {}


def is_global(in_shape: Shape, out_shape: Shape) -> bool:
    """A pooling/reduction whose output keeps batch and channels and has every spatial dim 1."""
    return (len(in_shape) >= 3 and len(out_shape) >= 2 and tuple(out_shape[:2]) == tuple(in_shape[:2])
            and all(d == 1 for d in out_shape[2:]) and any(d > 1 for d in in_shape[2:]))


def rows(shape: Sequence[int]) -> tuple[int, ...]:
    """``shape`` with every dimension but the last folded into one, as PyTorch's linear hands a tensor of more than
    two dimensions to its matrix product (a 2-D or smaller shape as it is)."""
    return tuple(shape) if len(shape) <= 2 else (numel(shape[:-1]), shape[-1])


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


def layer_cost(kind: LayerKind, op: str, in_shapes: Sequence[Shape], out_shapes: Sequence[Shape],
               attrs: dict[str, Any], param_elements: int, elem_bytes: int) -> tuple[int, int, int, int]:
    """(MACs, FLOPs, bytes read, bytes written) of one layer; see the module docstring for conventions."""
    if kind is K.RESHAPE:
        return 0, 0, 0, 0
    out = sum(numel(s) for s in out_shapes)
    inp = sum(numel(s) for s in in_shapes)
    main_in = numel(in_shapes[0]) if in_shapes else 0
    main_out = numel(out_shapes[0]) if out_shapes else 0
    macs = 0
    if kind in (K.CONV, K.DEPTHWISE_CONV):
        k = numel(attrs["kernel"])
        if attrs.get("transposed"):
            macs = main_in * (attrs["out_channels"] // attrs["groups"]) * k
        else:
            macs = main_out * (attrs["in_channels"] // attrs["groups"]) * k
        flops = 2 * macs + (main_out if attrs.get("bias") else 0)
    elif kind in (K.DENSE, K.MATMUL):
        macs = main_out * attrs["k"]
        flops = 2 * macs + (main_out if attrs.get("bias") else 0)
    elif kind is K.ATTENTION:
        macs = attrs["batch_heads"] * attrs["q_len"] * attrs["kv_len"] * (attrs["head_dim"] + attrs["v_dim"])
        flops = 2 * macs + 5 * attrs["batch_heads"] * attrs["q_len"] * attrs["kv_len"]
    elif kind is K.NORM:
        flops = _NORM_FLOPS.get(op, 5) * main_in
    elif kind is K.ACTIVATION:
        flops = ACTIVATION_FLOPS.get(op, 1) * main_out
    elif kind is K.ELEMENTWISE:
        flops = out
    elif kind is K.POOL:
        flops = main_out * numel(attrs.get("kernel", ()) or (1,))
    elif kind in (K.GLOBAL_POOL, K.REDUCE):
        flops = main_in
    elif kind is K.SOFTMAX:
        flops = 5 * main_in
    elif kind is K.UPSAMPLE:
        flops = main_out * (1 if "nearest" in op else 4)
    else:  # concat, copy, unknown: data movement only
        flops = 0
    return macs, flops, (inp + param_elements) * elem_bytes, out * elem_bytes


BATCH_NORMS = {"native_batch_norm", "_native_batch_norm_legit_no_training", "_native_batch_norm_legit",
               "_batch_norm_no_update", "_batch_norm_with_update"}


def fvcore_macs(kind: LayerKind, op: str, macs: int, params: int, in_shapes: Sequence[Shape],
                out_shapes: Sequence[Shape]) -> int:
    """MACs in fvcore's convention (timm's ``infer_gmacs``); see the module docstring."""
    name = op.split(".", 1)[-1]
    if kind is K.NORM and in_shapes:
        n = numel(in_shapes[0])
        if name in BATCH_NORMS:
            return n * (2 if params else 1)
        return n * (5 if params else 4)
    if kind is K.UPSAMPLE and out_shapes:
        return numel(out_shapes[0]) * (1 if "nearest" in name else 4)
    return macs
