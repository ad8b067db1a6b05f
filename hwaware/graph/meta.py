"""Building a model on the meta device, where weights are shapes without values.

A constructor initialises its weights in place (``normal_``, ``uniform_``, ``fill_``...). On meta tensors those write
nothing, yet each runs a Python meta kernel: ``normal_`` alone cost a timm MobileNetV3 of the search space 40 ms per
build (57 calls), most of its build's time in ops. :func:`meta_device` skips them: an in-place op that only rewrites
values returns its tensor unchanged, as it would (every other op, and every tensor's shape, dtype and strides, is what
``torch.device("meta")`` alone gives).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

_aten = torch.ops.aten
# in-place ops that rewrite a tensor's values only (never its shape or strides), as weight initialisers use them
# (a fill_ with a tensor value only when that value is a scalar: plain meta refuses any other, and so must this)
_VALUE_ONLY = {_aten.normal_.default, _aten.uniform_.default, _aten.zero_.default, _aten.fill_.Scalar,
               _aten.fill_.Tensor, _aten.erfinv_.default, _aten.mul_.Scalar, _aten.add_.Scalar, _aten.clamp_.default,
               _aten.exponential_.default, _aten.bernoulli_.float, _aten.random_.default}


class _SkipValues(TorchDispatchMode):
    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if func in _VALUE_ONLY and _skippable(func, args):
            return args[0]
        return func(*args, **(kwargs or {}))


def _skippable(func: Any, args: tuple) -> bool:
    return args[0].device.type == "meta" and (func is not _aten.fill_.Tensor or args[1].dim() == 0)


@contextlib.contextmanager
def meta_device(enabled: bool = True) -> Iterator[None]:
    """``torch.device("meta")`` for building a model, without running the meta kernels of its weight initialisation
    (``enabled=False``: nothing changes, the model gets its weights)."""
    if not enabled:
        yield
        return
    with torch.device("meta"), _SkipValues():
        yield


@contextlib.contextmanager
def meta_weights() -> Iterator[None]:
    """Build a model whose constructor reads tensor values (torchvision's RegNets compute their widths with
    ``torch.arange``): tensors are made on the CPU, as the constructor needs, but each parameter and buffer a module
    registers moves to the meta device at once, so no weight is kept (a 645M-parameter RegNet would take 2.6 GB)
    and their initialisers run on meta."""
    register_parameter, register_buffer = nn.Module.register_parameter, nn.Module.register_buffer
    builder = threading.get_ident()  # the methods are the class's: another thread building a model keeps its weights

    def parameter(module: nn.Module, name: str, param: Any) -> None:
        if param is not None and param.device.type != "meta" and threading.get_ident() == builder:
            param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(module, name, param)

    def buffer(module: nn.Module, name: str, tensor: Any, persistent: bool = True) -> None:
        if tensor is not None and threading.get_ident() == builder:
            tensor = tensor.to("meta")
        register_buffer(module, name, tensor, persistent)

    patched, kept = (parameter, buffer), (register_parameter, register_buffer)
    nn.Module.register_parameter, nn.Module.register_buffer = patched  # type: ignore[method-assign]
    try:
        with _SkipValues():
            yield
    finally:
        nn.Module.register_parameter, nn.Module.register_buffer = kept  # type: ignore[method-assign]
