"""Per-layer feature vectors for learned per-layer estimators (one function, one fixed order).

The same vector describes every layer kind, so a model can be trained per kind or one model
conditioned on the kind (one-hot). Shapes are read from the captured :class:`Layer` record; conv
and pool attributes default to 0 for kinds that do not have them.
"""
from __future__ import annotations

import numpy as np

from hwaware.graph.layer import Layer, LayerKind
from hwaware.graph.ops import ACTIVATION_FLOPS
from hwaware.hardware.catalog import CPUSpec, Device, GPUSpec

KINDS: tuple[LayerKind, ...] = tuple(k for k in LayerKind if k is not LayerKind.RESHAPE)
# Ops with their own cost per element (activations, elementwise and norm flavours): a categorical code.
_OP_CODES = {name: i + 1 for i, name in enumerate(sorted({
    *ACTIVATION_FLOPS, "add", "sub", "mul", "div", "native_batch_norm", "native_layer_norm", "native_group_norm",
    "max_pool2d_with_indices", "avg_pool2d", "mean", "amax", "sum", "cat", "clone", "constant_pad_nd",
    "upsample_nearest2d", "upsample_bilinear2d", "addmm", "mm", "bmm", "convolution"}))}

LAYER_FEATURES: tuple[str, ...] = (
    "batch", "n_inputs", "in_elements", "out_elements", "in_c", "in_h", "in_w", "out_c", "out_h", "out_w",
    "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w", "dilation", "groups", "macs", "flops",
    "bytes_read", "bytes_written", "params", "bias", "op_code", "max_mode", "dense_k", "broadcast",
)
DEVICE_FEATURES: tuple[str, ...] = ("is_gpu", "threads_or_sms", "fp32_tflops", "bandwidth_gbs", "l2_mb", "integrated")


def _dims(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(channels, height, width) of an NC[H[W]] tensor; a 2-D tensor is (features, 1, 1)."""
    rest = shape[1:] if len(shape) > 1 else shape
    c = rest[0] if rest else 1
    h = rest[1] if len(rest) > 1 else 1
    w = int(np.prod(rest[2:])) if len(rest) > 2 else 1
    return c, h, w


def _pair(v: object, default: int = 0) -> tuple[int, int]:
    if v is None:
        return default, default
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1])) if v else (default, default)
    return int(v), int(v)


def layer_features(layer: Layer) -> np.ndarray:
    """The :data:`LAYER_FEATURES` vector of one layer."""
    a = layer.attrs
    x = layer.input_shapes[0] if layer.input_shapes else (1,)
    y = layer.output_shapes[0] if layer.output_shapes else (1,)
    in_c, in_h, in_w = _dims(x)
    out_c, out_h, out_w = _dims(y)
    kh, kw = _pair(a.get("kernel"))
    sh, sw = _pair(a.get("stride"))
    ph, pw = _pair(a.get("padding"))
    dil = _pair(a.get("dilation"), 1)[0]
    name = layer.aten_name
    return np.array([  # x[0]: the batch, 1 for a 0-d first input (a scalar tensor)
        x[0] if x else 1, len(layer.input_shapes), sum(int(np.prod(s)) for s in layer.input_shapes), layer.output_elements,
        in_c, in_h, in_w, out_c, out_h, out_w, kh, kw, sh, sw, ph, pw, dil, a.get("groups", 0), layer.macs,
        layer.flops, layer.bytes_read, layer.bytes_written, layer.params, int(bool(a.get("bias"))),
        _OP_CODES.get(name, 0), int(a.get("mode") == "max"), a.get("k", 0),
        int(len({tuple(s) for s in layer.input_shapes}) > 1),
    ], dtype=np.float64)


def kind_one_hot(kind: LayerKind) -> np.ndarray:
    v = np.zeros(len(KINDS))
    v[KINDS.index(kind)] = 1.0
    return v


def device_features(device: Device) -> np.ndarray:
    """A device descriptor shared by CPU and GPU platforms (CPUs have no catalog: their GPU fields are 0)."""
    if isinstance(device, CPUSpec):
        return np.array([0.0, device.threads, 0.0, 0.0, 0.0, 0.0])
    assert isinstance(device, GPUSpec)
    return np.array([1.0, device.sm_count, device.fp32_tflops, device.memory_bandwidth_gbs, device.l2_cache_mb or 0.0,
                     float(device.is_integrated_soc)])
