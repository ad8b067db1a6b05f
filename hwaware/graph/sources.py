"""Turn whatever the user passed as a model into a :class:`Graph`.

Accepted: an ``nn.Module``; a timm model name (``"resnet50"``); ``"torchvision:<name>"`` for a
torchvision classifier; a path to an ``.onnx`` file; an ``onnx.ModelProto``. The input size
comes from ``input_size``, else the timm model's default config (``pretrained_cfg["input_size"]``),
else torchvision's weight metadata, else an error that says how to pass it.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import numbers
import os
import re
from collections.abc import Callable, Sequence
from typing import Any, Union

import torch
from torch import nn

from hwaware.errors import InvalidArgumentError, ModelNotFoundError, UnsupportedModelError
from hwaware.graph.layer import Graph, LayerKind, Shape, data_dependent_ops
from hwaware.graph.meta import meta_device, meta_weights
from hwaware.hardware.catalog import COMPILE_NOT_MODELLED, check_batch_size, check_precision

ModelLike = Union[nn.Module, str, os.PathLike, Any]  # Any: onnx.ModelProto (onnx is imported lazily)
InputSize = Union[int, str, tuple[int, ...], list[int], None]

TORCHVISION_PREFIXES = ("torchvision:", "tv:")
TIMM_PREFIXES = ("hf-hub", "hf_hub", "local-dir")  # sources timm.create_model reads before a ":" (its _factory)


def parse_input_size(input_size: InputSize) -> Shape | None:
    """``224`` -> (3, 224, 224); ``"3x224x224"`` or ``(3, 224, 224)`` -> (3, 224, 224); ``None`` -> None."""
    if input_size is None:
        return None
    if isinstance(input_size, bool):
        raise InvalidArgumentError(f"input size must be C x H x W such as 3x224x224, got {input_size!r}")
    if isinstance(input_size, numbers.Integral):  # numpy's integers too, as batch_size takes them
        dims: tuple[int, ...] = (3, int(input_size), int(input_size))
    elif isinstance(input_size, str):
        parts = re.split(r"[x,× ]+", input_size.strip().lower())
        doubled = re.search(r"[x,×]\s*[x,×]", input_size.lower())  # 3xx224: a dimension left out, not 3x224
        if doubled or not parts or not all(p.isdigit() for p in parts):
            raise InvalidArgumentError(
                f"malformed input size {input_size!r}: write channels x height x width, e.g. 3x224x224 (or 224 for 3x224x224)")
        dims = tuple(int(p) for p in parts)
        if len(dims) == 1:
            dims = (3, dims[0], dims[0])
    elif isinstance(input_size, (tuple, list, torch.Size)):
        if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in input_size):
            raise InvalidArgumentError(f"input size must be integers, got {input_size!r}")
        dims = tuple(int(d) for d in input_size)
    else:
        raise InvalidArgumentError(f"input size must be an int, a 'CxHxW' string or a tuple, got {type(input_size).__name__}")
    if len(dims) < 1 or any(d <= 0 for d in dims):
        raise InvalidArgumentError(f"input size must have positive dimensions (C x H x W, no batch), got {input_size!r}")
    return dims


def _timm_input_size(model: nn.Module) -> Shape | None:
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None)
    if isinstance(cfg, dict) and cfg.get("input_size"):
        return tuple(int(d) for d in cfg["input_size"])
    return None


def _as_eager(model: nn.Module) -> tuple[nn.Module, tuple[str, ...]]:
    """The module a capture traces and what its notes say of how the user runs it: a ``torch.compile``'d module is
    traced as the module it wraps (its name too), answered as eager PyTorch; channels-last weights are answered as
    the NCHW layout every table timed (helper-130: both answered without a word): seen on a dense convolution with a
    kernel above 1x1 (a 1x1's or a depthwise one's weight is contiguous in both layouts)."""
    said: tuple[str, ...] = ()
    inner = getattr(model, "_orig_mod", None)
    if type(model).__name__ == "OptimizedModule" and isinstance(inner, nn.Module):
        model, said = inner, (f"a torch.compile'd module, answered as its eager module: {COMPILE_NOT_MODELLED}",)
    if any(m.weight.dim() == 4 and not m.weight.is_contiguous() and m.weight.is_contiguous(
            memory_format=torch.channels_last) for m in model.modules() if isinstance(m, nn.Conv2d)):
        said += ("channels-last weights, answered as the NCHW layout the tables timed (cuDNN's NHWC kernels, faster "
                 "on tensor cores in fp16, are not modelled)",)
    return model, said


def _values_note(graph: Graph, trace_device: str) -> tuple[str, ...]:
    """A note where a CPU trace ran ops whose output shapes depend on the values: random weights decided what came
    after them (helper-134: Faster R-CNN's RoIAlign ran on 0 boxes, as random scores kept none)."""
    ops = data_dependent_ops(graph)
    if trace_device != "cpu" or not ops:
        return ()
    return (f"traced on the CPU with random weights: what follows {', '.join(ops)} (their output shapes depend on the "
            "values) is what this trace's values gave, e.g. the boxes a detector kept, not a trained model's",)


def _resize_note(model: nn.Module, shape: Shape) -> tuple[str, ...]:
    """A note where the model resizes its input itself (torchvision's detection models: ``GeneralizedRCNNTransform``,
    anywhere among its modules) to another size than ``shape``'s, so its layers compute at that size, not the one asked
    (helper-134: Faster R-CNN asked at 1024x2048 ran 672x1344). The size is the transform's rule (a fixed size, else
    the scale that takes the shorter side to ``min_size`` with the longer at most ``max_size``), before its padding to
    a multiple of ``size_divisible``."""
    t = next((m for m in model.modules() if hasattr(m, "min_size") and hasattr(m, "max_size")), None)
    if t is None or len(shape) != 3:
        return ()
    h, w = shape[1:]
    short = t.min_size[-1] if isinstance(t.min_size, (tuple, list)) else t.min_size
    fixed = getattr(t, "fixed_size", None)
    scale = min(short / min(h, w), t.max_size / max(h, w))
    size = tuple(fixed) if fixed else (int(h * scale), int(w * scale))
    if size == (h, w):
        return ()
    return (f"{type(t).__name__} resizes each image inside the model to about {size[0]}x{size[1]} (shorter side "
            f"{short}, longer at most {t.max_size}): its layers compute at that size, not at the {h}x{w} asked; build "
            "the model with min_size= and max_size= to time another",)


def _test_size_note(model: nn.Module, name: str, shape: Shape) -> tuple[str, ...]:
    """A note where ``shape`` came from timm's ``input_size`` and the weights' tag is evaluated at another size
    (``test_input_size``, which timm's own benchmark and validation scripts run): ``resnet50.a1h_in1k`` trains at 176
    and is evaluated at 224 (helper-130). The training size stays the default, as timm's ``create_model`` and every
    stored table's networks are sized so; the note says how to time the other."""
    cfg = getattr(model, "pretrained_cfg", None)
    test = cfg.get("test_input_size") if isinstance(cfg, dict) else None
    if not test or tuple(int(d) for d in test) == tuple(shape):
        return ()
    size, arch, tag = "x".join(str(int(d)) for d in test), cfg.get("architecture"), cfg.get("tag")
    named = f"{arch}.{tag}" if arch and tag else name  # the weights' full name, whatever the caller passed
    return (f"input {'x'.join(map(str, shape))}: timm's input_size for {named}; its weights are evaluated at {size} "
            f"(test_input_size): pass input_size='{size}' (CLI: --input {size}) to time that",)


def check_timm_name(name: str) -> None:
    """Raise :class:`ModelNotFoundError`, with the closest names, unless timm knows ``name``."""
    import difflib

    import timm

    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=5, cutoff=0.7)
        hint = f"; similar names: {', '.join(close)}" if close else ""
        hub = name.partition("timm/")[2] if name.startswith(("timm/", "hf-hub:timm/", "hf_hub:timm/")) else ""
        # a Hugging Face Hub id of timm's weights: the registry name is its tail (is_model ignores a tag)
        if timm.is_model(hub) and ("." not in hub or hub in timm.list_models(f"{hub.split('.')[0]}.*",
                                                                            include_tags=True)):
            hint = f"; pass the name timm registers, {hub!r} (a Hub id is not read)"
        elif ":" in name and name.partition(":")[0] not in TIMM_PREFIXES:  # a '<space>:...' that is_spec refused
            hint += ("; a search space's architecture is '<space>:{json}', <space> one of "
                     "hwaware.zoo.spaces.list_spaces() and the JSON an object")
        raise ModelNotFoundError(
            f"{name!r} is neither a timm model name nor an existing .onnx file{hint}. "
            "`timm.list_models('*pattern*')` lists timm names; prefix 'torchvision:' for torchvision models")
    arch, tag = timm.models.split_model_name_tag(name)
    # timm.is_model ignores the tag, create_model refuses one it does not register (with or without weights)
    tagged = timm.list_models(f"{arch}.*", include_tags=True) if tag else []
    if tag and name not in tagged:
        tags = [t.split(".", 1)[1] for t in tagged]
        raise ModelNotFoundError(f"{name!r}: timm has no tag {tag!r} for {arch!r}; pass "
                                 + (f"one of its tags ({', '.join(tags[:8])}{' ...' if len(tags) > 8 else ''}) or "
                                    if tags else "") + f"the bare name {arch!r}")


@functools.cache
def _model_to_family() -> dict[str, str]:
    import timm

    family = {m: module for module in timm.list_modules() for m in timm.list_models(module=module)}
    # a deprecated alias (gluon_resnext50_32x4d -> resnext50_32x4d.gluon_in1k) is its current model's: older tables
    # name networks so, and a family of one name would split a family (paper 003's NCA, review helper-125)
    for old, new in timm.models.get_deprecated_models().items():
        if new and old not in family:
            family[old] = family.get(new.split(".")[0], old)
    return family


def timm_family(model: str) -> str:
    """The timm module defining ``model`` (``"mobilenetv2_100"`` -> ``"efficientnet"``); a graph store's key for
    another form of it (``"mobileone_s1:unfused"``) is the same model."""
    return _model_to_family().get(model.split(":")[0].split(".")[0].split("@")[0], model)


def build_timm(name: str, *, fused: bool = True, weights: bool = False, img_size: tuple[int, int] | None = None
               ) -> nn.Module:
    """Build a timm model without weights (``weights``: with random ones on the CPU, to run or compile it).
    Reparameterizable models (RepVGG, MobileOne, ...) are returned in their fused inference form, as they are
    deployed and as timm's newer benchmark tables time them; the fusion computes weights, so those are built on
    the CPU. ``fused=False``: the train-time multi-branch form, which older tables timed (their parameter counts say
    which, :func:`hwaware.datasets.graph_store.store_key`). ``img_size``: built for that (H, W), for models whose
    constructor takes it (ViTs, Swins: their patch embeddings and windows are sized at construction)."""
    import timm
    from timm.utils.model import reparameterize_model

    check_timm_name(name)
    sized = {} if img_size is None else {"img_size": img_size}
    model = _on_meta(lambda: timm.create_model(name, pretrained=False, **sized), weights)
    if fused and reparameterizable(model):  # a meta model has no weights to fuse: built again on the CPU
        # in eval mode, as deployed (EfficientViM's fusion refuses a model in training mode)
        model = reparameterize_model((model if weights else timm.create_model(name, pretrained=False, **sized)).eval(),
                                     inplace=True)
    return model


def _on_meta(build: Callable[[], nn.Module], weights: bool) -> nn.Module:
    """``build()`` on the meta device, no weights allocated, unless ``weights``. Where the constructor reads tensor
    values, which meta tensors do not have (torchvision's RegNets, some timm models), its tensors are made on the CPU
    and its weights moved to meta as they are registered (:func:`meta_weights`); where it reads back what it
    registered, wholly on the CPU."""
    try:
        with meta_device(enabled=not weights):
            return build()
    except Exception:
        if weights:  # the same build again would fail the same way
            raise
    try:
        with meta_weights():
            return build()
    except Exception:  # a constructor that reads back what it registered (a buffer's values): on the CPU, whole
        return build()


def _fixed_to_another_size(model: nn.Module, size: Shape) -> bool:
    """Whether ``model`` refuses inputs of ``size`` but can be built for it: a patch embedding fixed to another
    (H, W) (timm's ``strict_img_size``: ViTs, Swins) in a model whose constructor takes ``img_size``. Models that
    take other sizes as built keep that build (CrossViT cannot be rebuilt at 224; EfficientViT-MSRA would change)."""
    strict = [m for m in model.modules() if getattr(m, "strict_img_size", False) and getattr(m, "img_size", None)]
    return (len(size) == 3 and any(tuple(m.img_size) != tuple(size[1:]) for m in strict)
            and "img_size" in inspect.signature(type(model).__init__).parameters)


def reparameterizable(model: nn.Module) -> bool:
    """Whether timm's ``reparameterize_model`` changes ``model`` (a module of it can fuse its branches)."""
    return any(hasattr(m, "reparameterize") or hasattr(m, "fuse") for m in model.modules())


def build_model(name: str, *, weights: bool = False, input_size: Shape | None = None
                ) -> tuple[nn.Module, Shape | None]:
    """(module, default input size) of a timm name or ``'torchvision:<name>'``, as :func:`capture` builds it: on the
    meta device, or with random weights on the CPU (``weights``: to run or compile it); timm's reparameterizable
    models fused (:func:`build_timm`) at timm's input size, torchvision's at their weights' crop size (a segmentation
    model's resize, square; None where neither says). ``input_size`` (C, H, W): a timm model whose patch embedding is
    fixed to another size is built for this one (a ViT asked at 256 x 256 failed its own input check)."""
    if name.startswith(TORCHVISION_PREFIXES):
        return _build_torchvision(name.split(":", 1)[1], weights)
    module = build_timm(name, weights=weights)
    default = _timm_input_size(module)
    if input_size is not None and _fixed_to_another_size(module, input_size):
        module = build_timm(name, weights=weights, img_size=(input_size[1], input_size[2]))
    return module, default


def _torchvision_size(name: str) -> tuple[Shape | None, tuple[str, ...]]:
    """(default input size, what a note says of it) of a torchvision model: its weights' crop (a classifier's), else
    their evaluation resize (a segmentation model's: the shorter side, 520, taken square, which the note says), else
    none (a detection model resizes inside itself). Metadata only: nothing is downloaded."""
    import torchvision

    try:
        t = torchvision.models.get_model_weights(name).DEFAULT.transforms()
    except Exception:  # no weights registered for the name
        return None, ()
    crop, resize = getattr(t, "crop_size", None), getattr(t, "resize_size", None)
    if crop:
        return (3, int(crop[0]), int(crop[0])), ()
    if not resize:
        return None, ()
    side = int(resize[0])
    return (3, side, side), (f"input 3x{side}x{side}: the weights' evaluation resize (the shorter side to {side}), "
                             "taken square; pass input_size for your images' aspect",)


def _build_torchvision(name: str, weights: bool = False) -> tuple[nn.Module, Shape | None]:
    import torchvision

    if name not in torchvision.models.list_models():
        raise ModelNotFoundError(f"no torchvision model {name!r}; torchvision.models.list_models() lists them")
    size = _torchvision_size(name)[0]
    kwargs: dict[str, Any] = {"aux_logits": False, "init_weights": False} if name in ("inception_v3", "googlenet") else {}
    if "weights_backbone" in inspect.signature(torchvision.models.get_model_builder(name)).parameters:
        kwargs["weights_backbone"] = None  # detection/segmentation default to downloading ImageNet backbone weights
    return _on_meta(lambda: torchvision.models.get_model(name, weights=None, **kwargs), weights), size


def _check_side(graph: Graph, side: int, name: str) -> Graph:
    """``graph``, refused where one number was taken as an image's side and a dense layer reads that image as it is:
    ``784`` is a 3x784x784 image, which an MLP's first ``nn.Linear(784, ...)`` ran on 2,352 rows, answered without a
    word (helper-130). Decided on the captured layers: a module's first registered submodule need not run first (a
    ViT with a Linear patch projection reads patches, helper-132)."""
    image = math.prod(graph.input_shape)  # the image as rows of its last dimension (a Linear's view of it)
    dense = next((l for l in graph.layers if l.kind is LayerKind.DENSE and l.input_shapes
                  and math.prod(l.input_shapes[0]) == image and l.input_shapes[0][-1] == side), None)
    if dense is not None:
        raise InvalidArgumentError(f"input_size={side} reads as a 3x{side}x{side} image, but {name}'s dense layer "
                                   f"{dense.module or dense.op!r} reads that image as it is: pass the input's shape "
                                   f"without the batch, e.g. input_size=({side},)")
    return graph


def check_elements(batch_size: int, shape: Sequence[int]) -> None:
    """Refuse an input of more elements than any device holds, in one line (a tensor's storage size overflows in torch
    well before 2**63)."""
    if math.prod((batch_size, *shape)) >= 2 ** 50:
        raise InvalidArgumentError(f"batch {batch_size} x input {'x'.join(map(str, shape))} is more elements than any "
                                   "device holds; lower the batch size or the input size")


def capture(model: ModelLike, *, batch_size: int = 1, input_size: InputSize = None, precision: str = "fp32",
            trace_device: str = "meta") -> Graph:
    """Capture the layer graph of ``model`` for one forward pass at ``batch_size``.

    >>> g = capture("resnet18")
    >>> g.input_shape, round(g.macs / 1e9, 2)
    ((1, 3, 224, 224), 1.81)
    """
    batch_size, precision = check_batch_size(batch_size), check_precision(precision)
    size = parse_input_size(input_size)
    from hwaware.graph.capture import capture_module
    from hwaware.graph.onnx_import import capture_onnx, is_onnx_model

    # one number is a side for ONNX, which reads from the file what it sizes: (n,) for a sequence, (C, n, n) an image
    side = int(str(input_size)) if size is not None and str(input_size).strip().isdigit() else None
    if is_onnx_model(model):
        return capture_onnx(model, batch_size=batch_size, input_size=side or size, precision=precision)
    if isinstance(model, (str, os.PathLike)):
        text = os.fspath(model)
        if text.lower().endswith(".onnx") or os.path.isfile(text):
            return capture_onnx(text, batch_size=batch_size, input_size=side or size, precision=precision)
        (module, default), name = build_model(text, input_size=size), text
        tv = size is None and text.startswith(TORCHVISION_PREFIXES)
        said = _torchvision_size(text.split(":", 1)[1])[1] if tv else ()
    elif isinstance(model, nn.Module):
        module, said = _as_eager(model)
        default, name = _timm_input_size(module), type(module).__name__
    else:
        raise UnsupportedModelError(
            f"cannot estimate a {type(model).__name__}: pass an nn.Module, a timm model name, "
            "'torchvision:<name>', a path to an .onnx file or an onnx.ModelProto")
    shape = size or default
    if shape is None:
        raise InvalidArgumentError(
            f"cannot tell the input size of {name}: pass input_size=(3, 224, 224) (CLI: --input 3x224x224)")
    check_elements(batch_size, shape)
    graph = capture_module(module, (batch_size, *shape), name=name, precision=precision, trace_device=trace_device)
    said += ((_test_size_note(module, name, shape) if size is None else ()) + _resize_note(module, shape)
             + _values_note(graph, trace_device))
    graph = dataclasses.replace(graph, notes=graph.notes + said) if said else graph
    return graph if side is None else _check_side(graph, side, name)
