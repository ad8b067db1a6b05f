"""Rebuild an executable PyTorch op from a captured :class:`Layer` record (for the micro-benchmarks and the PTX
compile of single layers).

The op is rebuilt from the record alone (kind, op, shapes, attributes), so layers sampled from
real networks and randomly generated ones are measured the same way, and the PTX count of ``ipc-tree``
(:mod:`hwaware.ptx.layers`) compiles the same rebuild. A few records do not determine their op exactly; the
choices are: ``copy`` layers clone their input where it has the output's size and otherwise run a flat copy of the
same number of elements (the bytes are what matters), ``elementwise`` layers with one tensor input apply their op
to a scalar operand (an op without a scalar form multiplies), ``reduce`` layers without recorded dims reduce the
last dim, and a reduction other than mean/amax/amin sums.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from hwaware.errors import UnsupportedLayerError
from hwaware.graph.layer import Layer, LayerKind
from hwaware.graph.ops import numel

K = LayerKind
REBUILT_KINDS = (  # the kinds build_op rebuilds: what the micro-benchmarks measure
    K.CONV, K.DEPTHWISE_CONV, K.DENSE, K.MATMUL, K.POOL, K.GLOBAL_POOL, K.NORM, K.ACTIVATION, K.ELEMENTWISE,
    K.SOFTMAX, K.REDUCE, K.CONCAT, K.UPSAMPLE, K.COPY)

_ACTIVATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "relu": F.relu, "silu": F.silu, "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid, "sigmoid": torch.sigmoid,
    "tanh": torch.tanh, "gelu": F.gelu, "mish": F.mish, "elu": F.elu, "celu": F.celu, "selu": F.selu,
    "softplus": F.softplus, "leaky_relu": F.leaky_relu, "log_sigmoid": F.logsigmoid, "erf": torch.erf,
    "hardtanh": lambda x, lo=-1.0, hi=1.0, *_: F.hardtanh(x, lo, hi),
    "clamp": lambda x, lo=0.0, hi=6.0, *_: torch.clamp(x, lo, hi),
    "clamp_min": lambda x, lo=0.0, *_: torch.clamp_min(x, lo), "clamp_max": lambda x, hi=6.0, *_: torch.clamp_max(x, hi),
    "threshold": lambda x, t=0.0, v=0.0, *_: F.threshold(x, t, v),
}
_BINARY: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "maximum": torch.maximum,
    "minimum": torch.minimum, "pow": torch.pow, "where": lambda a, b: torch.where(a > 0, a, b),
}
_SCALAR_FORM = ("add", "sub", "mul", "div", "pow")  # ops of _BINARY that take a Python scalar as second operand


@dataclass
class RunnableOp:
    """``fn(*inputs)`` runs the layer; ``inputs()`` makes fresh input tensors on ``device``. ``kernel`` takes the
    activation inputs then ``params``: the weights are arguments, as in eager PyTorch, so that a compiler given
    :meth:`module` sees them as inputs, not as constants it may fold (what a closure over them would be)."""

    layer: Layer
    kernel: Callable[..., torch.Tensor]
    input_shapes: tuple[tuple[int, ...], ...]
    device: torch.device
    dtype: torch.dtype
    params: tuple[torch.Tensor, ...] = ()

    def fn(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.kernel(*xs, *self.params)

    def inputs(self) -> list[torch.Tensor]:
        return [torch.randn(s, device=self.device, dtype=self.dtype) for s in self.input_shapes]

    def module(self) -> OpModule:
        return OpModule(self.kernel, self.params)


class OpModule(torch.nn.Module):
    """A callable as a module, for what needs one (torch.export, micro-benchmarks): ``forward(*xs)`` is
    ``fn(*xs, *params)``, the ``params`` registered as the module's (frozen) parameters."""

    def __init__(self, fn: Callable[..., torch.Tensor], params: tuple[torch.Tensor, ...] = ()) -> None:
        super().__init__()
        self.fn = fn
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(p, requires_grad=False) for p in params])

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(*xs, *self.weights)


def _param(shape: tuple[int, ...], device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.randn(shape, device=device, dtype=dtype) * 0.1


def build_op(layer: Layer, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> RunnableOp:
    """Rebuild ``layer`` as a runnable op with its own (random) parameters on ``device``."""
    dev = torch.device(device)
    name = layer.aten_name
    a = layer.attrs
    ins = layer.input_shapes
    out = layer.output_shapes[0] if layer.output_shapes else ()
    kind = layer.kind
    if not ins:
        raise UnsupportedLayerError(f"layer {layer.index} ({layer.op}) reads no activation")
    x_shape = ins[0]

    if kind in (K.CONV, K.DEPTHWISE_CONV):
        nd = len(a["kernel"])
        if a.get("transposed"):
            w = _param((a["in_channels"], a["out_channels"] // a["groups"], *a["kernel"]), dev, dtype)
            conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nd]
        else:
            w = _param((a["out_channels"], a["in_channels"] // a["groups"], *a["kernel"]), dev, dtype)
            conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
        params = (w, _param((a["out_channels"],), dev, dtype)) if a.get("bias") else (w,)
        if a.get("transposed"):
            fn = lambda x, w, b=None: conv(x, w, b, a["stride"], a["padding"], 0, a["groups"], a["dilation"])  # noqa: E731
        else:
            fn = lambda x, w, b=None: conv(x, w, b, a["stride"], a["padding"], a["dilation"], a["groups"])  # noqa: E731
        return RunnableOp(layer, fn, (x_shape,), dev, dtype, params)
    if kind is K.DENSE:
        k, m = a["k"], out[-1]
        w = _param((m, k), dev, dtype)
        params = (w, _param((m,), dev, dtype)) if a.get("bias") else (w,)
        return RunnableOp(layer, F.linear, (x_shape,), dev, dtype, params)
    if kind is K.MATMUL:
        if len(ins) >= 2:
            return RunnableOp(layer, torch.matmul, ins[:2], dev, dtype)
        return RunnableOp(layer, torch.matmul, (x_shape,), dev, dtype, (_param((a["k"], out[-1]), dev, dtype),))
    if kind is K.POOL:
        nd = len(x_shape) - 2
        if a.get("adaptive"):
            pool = F.adaptive_max_pool2d if a["mode"] == "max" else F.adaptive_avg_pool2d
            return RunnableOp(layer, lambda x: pool(x, out[2:]), (x_shape,), dev, dtype)
        if nd == 2:
            pool = F.max_pool2d if a["mode"] == "max" else F.avg_pool2d
        elif nd == 1:
            pool = F.max_pool1d if a["mode"] == "max" else F.avg_pool1d
        else:
            pool = F.max_pool3d if a["mode"] == "max" else F.avg_pool3d
        ceil = a.get("ceil_mode", False)
        return RunnableOp(layer, lambda x: pool(x, a["kernel"], a["stride"], a["padding"], ceil_mode=ceil),
                          (x_shape,), dev, dtype)
    if kind is K.GLOBAL_POOL:
        dims = tuple(range(2, len(x_shape)))
        keep = a.get("keepdim", len(out) == len(x_shape))
        if a.get("mode") == "max":
            return RunnableOp(layer, lambda x: torch.amax(x, dims, keepdim=keep), (x_shape,), dev, dtype)
        return RunnableOp(layer, lambda x: x.mean(dims, keepdim=keep), (x_shape,), dev, dtype)
    if kind is K.NORM:
        eps = a.get("eps", 1e-5)
        if name == "native_layer_norm":
            ns = a["normalized_shape"]
            return RunnableOp(layer, lambda x, w, b: F.layer_norm(x, ns, w, b, eps), (x_shape,), dev, dtype,
                              (_param(ns, dev, dtype), _param(ns, dev, dtype)))
        c = x_shape[1]
        affine = (_param((c,), dev, dtype), _param((c,), dev, dtype))
        if name == "native_group_norm":
            return RunnableOp(layer, lambda x, w, b: F.group_norm(x, a["groups"], w, b, eps), (x_shape,), dev, dtype,
                              affine)
        stats = (torch.zeros(c, device=dev, dtype=dtype), torch.ones(c, device=dev, dtype=dtype))  # mean, var
        return RunnableOp(layer, lambda x, w, b, mean, var: F.batch_norm(x, mean, var, w, b, False, 0.0, eps),
                          (x_shape,), dev, dtype, affine + stats)
    if kind is K.ACTIVATION:
        if name in ("prelu", "_prelu_kernel"):
            return RunnableOp(layer, F.prelu, (x_shape,), dev, dtype,
                              (_param((x_shape[1] if len(x_shape) > 1 else 1,), dev, dtype),))
        if name not in _ACTIVATIONS:
            raise UnsupportedLayerError(f"no micro-benchmark for activation {layer.op}")
        act, scalars = _ACTIVATIONS[name], a.get("scalars", ())
        return RunnableOp(layer, lambda x: act(x, *scalars), (x_shape,), dev, dtype)
    if kind is K.ELEMENTWISE:
        if len(ins) >= 2:
            op = _BINARY.get(name, torch.add)
            return RunnableOp(layer, op, ins[:2], dev, dtype)
        scalar_op = _BINARY[name] if name in _SCALAR_FORM else torch.mul
        return RunnableOp(layer, lambda x: scalar_op(x, 0.5), (x_shape,), dev, dtype)
    if kind is K.SOFTMAX:
        dim = a.get("dim", -1)
        return RunnableOp(layer, lambda x: torch.softmax(x, dim), (x_shape,), dev, dtype)
    if kind is K.REDUCE:
        dims = tuple(a.get("dims") or (-1,))
        keep = bool(a.get("keepdim", False))
        reduce = {"mean": torch.mean, "amax": torch.amax, "amin": torch.amin}.get(name, torch.sum)
        return RunnableOp(layer, lambda x: reduce(x, dims, keepdim=keep), (x_shape,), dev, dtype)
    if kind is K.CONCAT:
        dim = a.get("dim", 1)
        return RunnableOp(layer, lambda *xs: torch.cat(xs, dim), ins, dev, dtype)
    if kind is K.UPSAMPLE:
        mode = "nearest" if "nearest" in name else "bilinear"
        return RunnableOp(layer, lambda x: F.interpolate(x, size=out[2:], mode=mode), (x_shape,), dev, dtype)
    if kind is K.COPY:
        if len(ins) == 1 and out and numel(x_shape) == numel(out):
            return RunnableOp(layer, lambda x: x.clone().reshape(out), (x_shape,), dev, dtype)
        n = min(sum(numel(s) for s in ins), numel(out)) if out else numel(x_shape)

        def flat_copy(x: torch.Tensor) -> torch.Tensor:
            y = torch.empty(out or x_shape, device=x.device, dtype=x.dtype)
            y.view(-1)[:n].copy_(x.reshape(-1)[:n])
            return y

        return RunnableOp(layer, flat_copy, (x_shape,), dev, dtype)
    raise UnsupportedLayerError(f"no micro-benchmark for {kind.value} layers ({layer.op})")

