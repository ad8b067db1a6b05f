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


_building = threading.local()  # per thread: how many meta_weights() blocks it is inside
_patch_lock = threading.Lock()
_inside: set[int] = set()  # the threads inside a meta_weights() block
_saved: list[Any] = [nn.Module.register_parameter, nn.Module.register_buffer]  # the class's own, as last installed


def _in_meta_weights() -> bool:
    return getattr(_building, "depth", 0) > 0


def _register_parameter(module: nn.Module, name: str, param: Any) -> None:
    if param is not None and param.device.type != "meta" and _in_meta_weights():
        param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
    _saved[0](module, name, param)


def _register_buffer(module: nn.Module, name: str, tensor: Any, persistent: bool = True) -> None:
    if tensor is not None and _in_meta_weights():
        tensor = tensor.to("meta")
    _saved[1](module, name, tensor, persistent)


@contextlib.contextmanager
def meta_weights() -> Iterator[None]:
    """Build a model whose constructor reads tensor values (torchvision's RegNets compute their widths with
    ``torch.arange``): tensors are made on the CPU, as the constructor needs, but each parameter and buffer a module
    registers in this thread moves to the meta device at once, so no weight is kept (a 645M-parameter RegNet would
    take 2.6 GB) and their initialisers run on meta. ``nn.Module``'s two register methods are the class's: replaced
    while any thread is inside a block, restored when the last one leaves; other threads keep their weights."""
    me = threading.get_ident()
    with _patch_lock:
        if not _inside:
            _saved[:] = [nn.Module.register_parameter, nn.Module.register_buffer]
            nn.Module.register_parameter, nn.Module.register_buffer = (  # type: ignore[method-assign]
                _register_parameter, _register_buffer)
        _inside.add(me)
    _building.depth = getattr(_building, "depth", 0) + 1
    try:
        with _SkipValues():
            yield
    finally:
        _building.depth -= 1
        if not _building.depth:
            with _patch_lock:
                _inside.discard(me)
                if not _inside:
                    nn.Module.register_parameter, nn.Module.register_buffer = _saved  # type: ignore[method-assign]
