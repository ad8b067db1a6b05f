"""Capture a PyTorch module's executed operations as a :class:`Graph`.

The forward runs under a ``TorchDispatchMode`` that sees every aten op, so functional calls
(``F.relu``, ``x + y``, ``torch.cat``, ``x.mean((2, 3))``, SE gates) are captured as well as
modules. By default parameters, buffers and the input are ``meta`` tensors: shapes propagate,
no weights are allocated and nothing is computed; the caller's module is not modified
(``torch.func.functional_call`` swaps the tensors in for the call only).

``trace_device="cpu"`` is the fallback for models whose forward cannot run on meta (an op
without a meta kernel, a CPU tensor held as a plain attribute, or control flow that reads tensor
values): it runs the real forward on CPU with the model's own weights (zeros where the model has
none, e.g. one built on meta) and a seeded random input, so value-dependent branches follow that input.
It runs with one torch thread (:func:`hwaware.threads.torch_threads`).

A module converted with ``.half()`` (or to bfloat16) is traced with an input of its own dtype and
needs the matching ``precision``. When the forward fails, the error says why when hwaware can tell
(an input whose channels do not match the first convolution, mixed dtypes) instead of suggesting
another trace device.
"""
from __future__ import annotations

import contextlib
import inspect
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_unflatten

from hwaware.errors import DynamicControlFlowError, GraphCaptureError, InvalidArgumentError
from hwaware.graph import ops
from hwaware.graph.cache import GraphCache, cache_mode, copy_graph, default_graph_cache
from hwaware.graph.layer import Graph, Layer, LayerKind, Shape
from hwaware.graph.structure import graph_key, module_keys
from hwaware.hardware.catalog import PRECISIONS
from hwaware.threads import torch_threads

TRACE_DEVICES = ("meta", "cpu")
_DYNAMIC_MARKERS = ("item() cannot be called on meta", "data-dependent", "Could not guard on data-dependent",
                    "cannot be called on meta tensors", "nonzero is not supported for meta",
                    "register_meta function for torch.nonzero()")
# a layer refused the input's number of dimensions: input_size was given with the batch (or without a dimension)
# an input of the wrong rank: a layer's own message, or a forward's ``B, C, H, W = x.shape`` (a ViT's patch embedding)
_RANK_MARKERS = ("(unbatched) or", "D input", "D (batched)", "values to unpack (expected")
# a layer wants integer inputs (token ids into an embedding): the trace feeds a float tensor
_INTEGER_MARKERS = ("scalar types: Long, Int", "'indices' to have", "indices to be long or int")
_REDUCED = {torch.float16: "fp16", torch.bfloat16: "bf16"}  # module dtypes that need their own precision


def _packet(func: Any) -> str:
    name = func.overloadpacket.__name__
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name


# On the meta device an op's outputs follow from its inputs' metadata and its other arguments alone, yet many meta
# kernels are Python decompositions (convolution, batch norm, hardtanh: 2-3 ms each, most of a NAS candidate's trace).
# For ops that neither mutate nor alias their inputs the outputs' metadata is remembered and fresh meta tensors made
# from it (a least-recently-used store of META_KEPT calls, shared across traces: a search space repeats its shapes;
# about 2 KB a call, measured on 180 FBNet, OFA and MobileNetV3 candidates, 4,032 calls: 8 MB). An in-place op that
# writes only its first argument and returns it (relu_; hardswish_, a decomposition of 1.2 ms a call on meta, about
# 20 ms of a MobileNetV3 candidate's trace) is remembered where its first call left that argument's shape, strides
# and dtype as they were: the same arguments' metadata give the same answer, the tensor itself. Where that argument
# is its only tensor and the others are numbers or flags (no size list: not ``_resize_output_``), whether it runs
# depends on the tensor's dtype and rank alone (two that check its sides aside, :data:`_SIDES_CHECKED`), so its key
# has no shape: one decomposition per dtype, not one per activation shape of every candidate.
META_KEPT = 10_000
_meta_outputs: OrderedDict[tuple, tuple[Any, list] | str] = OrderedDict()
_meta_lock = threading.Lock()
_forms: dict[Any, str | None] = {}
_SELF = "self"  # a remembered in-place call: it returns its first argument
_VALUES = "values"  # an in-place call on its only tensor argument, remembered whatever that tensor's shape
# in-place ops of one tensor whose kernels check its sides, not only its rank (fill_diagonal_: equal sides above rank
# 2; _sobol_engine_initialize_state_: [dimension, 30 or more]); keyed by shape
_SIDES_CHECKED = frozenset({torch.ops.aten.fill_diagonal_.default,
                            torch.ops.aten._sobol_engine_initialize_state_.default})
try:  # private torch helpers: a torch without them never serves from the store
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack
except ImportError:  # pragma: no cover
    def _get_current_dispatch_mode_stack() -> list:
        return [None]


def _storage(t: torch.Tensor) -> int | None:
    """An id of ``t``'s storage (None where torch does not expose one)."""
    return getattr(t.untyped_storage(), "_cdata", None)


def _form(func: Any) -> str | None:
    """How a meta call's outputs can be remembered: "fresh" where ``func`` mutates no argument and no output aliases
    one, :data:`_SELF` where it writes its first argument alone and returns it (:data:`_VALUES` where that is its only
    tensor argument and its others are numbers, flags or dtypes, not sizes), else None; never an op that re-views its
    argument (``squeeze_``, ``set_``: cheap, and a hit would skip what it does to the tensor's metadata or storage)."""
    if func not in _forms:
        schema = func._schema
        args, returns = schema.arguments, schema.returns
        written = [a.name for a in args if a.alias_info is not None and a.alias_info.is_write]
        if not schema.is_mutable and all(r.alias_info is None for r in returns):
            _forms[func] = "fresh"
        elif args and str(args[0].type) == "Tensor" and written == [args[0].name] and len(returns) == 1 \
                and returns[0].alias_info is not None \
                and returns[0].alias_info.before_set == args[0].alias_info.before_set \
                and torch.Tag.inplace_view not in func.tags:
            # a size list (``_resize_output_``) or another tensor decides the result beyond the rank and dtype
            sized = any("Tensor" in str(a.type) or "List" in str(a.type) for a in args[1:])
            _forms[func] = _SELF if sized or func in _SIDES_CHECKED else _VALUES
        else:
            _forms[func] = None
    return _forms[func]


def _metadata(t: torch.Tensor) -> tuple:
    return tuple(t.shape), t.stride(), t.dtype, t.storage_offset()


_SCALARS = (int, float, bool, str, torch.dtype, torch.device, torch.layout, torch.memory_format, type(None))


def _meta_key(func: Any, args: tuple, kwargs: dict, shapes: bool = True) -> tuple | None:
    """What a meta call's outputs depend on, hashable; None where an argument is not a meta tensor, a scalar or a
    list or tuple of those (the arguments aten ops take; a plain walk: pytree's costs a trace more than the ops).
    ``shapes=False``: a tensor is its rank and dtype."""

    def key(a: Any) -> Any:
        if isinstance(a, torch.Tensor):
            if a.device.type != "meta" or a.layout is not torch.strided:  # a sparse tensor's strides say nothing
                raise LookupError
            return ("T", *_metadata(a)) if shapes else ("T", a.dim(), a.dtype)
        if isinstance(a, (list, tuple)):
            return (type(a), tuple(key(v) for v in a))
        if isinstance(a, _SCALARS):
            return (type(a), a)
        raise LookupError

    try:  # the default dtype decides a Python scalar's type (arange(0., 3.), a tensor times 1.5)
        return (func, torch.get_default_dtype(), key(args), tuple((k, key(v)) for k, v in kwargs.items()))
    except LookupError:
        return None


def _tensor_leaves(obj: Any) -> list[torch.Tensor]:
    """The tensors in an aten call's arguments or outputs (lists, tuples and dicts of them), in pytree's order."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _tensor_leaves(v)]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensor_leaves(v)]
    return []


def _run_meta(func: Any, args: tuple, kwargs: dict) -> Any:
    """``func(*args, **kwargs)``, from the remembered outputs' metadata where :func:`_meta_key` allows and no other
    dispatch mode (a user's, below the recorder) would see the op."""
    alone = not _get_current_dispatch_mode_stack()
    form = _form(func) if alone else None
    key = _meta_key(func, args, kwargs, shapes=form != _VALUES) if form else None
    with _meta_lock:
        hit = _meta_outputs.get(key) if key is not None else None
        if hit is not None:
            _meta_outputs.move_to_end(key)
    if hit is _SELF:
        return args[0]
    if hit is not None:
        spec, metas = hit
        return tree_unflatten([torch.empty_strided(m[0], m[1], dtype=m[2], device="meta") if isinstance(m, tuple)
                               else m for m in metas], spec)
    before = _metadata(args[0]) if form in (_SELF, _VALUES) else None
    out = func(*args, **kwargs)
    if key is None:
        return out
    if before is not None:
        remembered = _SELF if out is args[0] and _metadata(out) == before else None
    else:
        leaves, spec = tree_flatten(out)
        # fresh, plain outputs only (``_unsafe_view`` passes the schema test yet shares its input's storage)
        inputs = {_storage(t) for t in _tensor_leaves((args, kwargs))} | {None}
        fresh = all(not isinstance(t, torch.Tensor) or (t.device.type == "meta" and t.layout is torch.strided
                                                         and t.storage_offset() == 0 and _storage(t) not in inputs)
                    for t in leaves) and not any(isinstance(t, tuple) for t in leaves)
        remembered = (spec, [(tuple(t.shape), t.stride(), t.dtype) if isinstance(t, torch.Tensor) else t
                             for t in leaves]) if fresh else None
    if remembered is not None:
        with _meta_lock:
            _meta_outputs[key] = remembered
            while len(_meta_outputs) > META_KEPT:
                _meta_outputs.popitem(last=False)
    return out


class _Recorder(TorchDispatchMode):
    """Records each aten op as a Layer; tracks which layer produced each tensor."""

    def __init__(self, param_names: dict[int, str], param_sizes: dict[str, int], trainable: set[str],
                 input_ids: set[int], elem_bytes: int, trace_device: str, input_shape: Shape) -> None:
        super().__init__()
        self.trace_device = trace_device
        self.input_shape = input_shape
        self.param_names = param_names  # id(tensor) -> parameter/buffer name (also views of them)
        self.param_sizes = param_sizes
        self.trainable = trainable
        self.producer: dict[int, int] = dict.fromkeys(input_ids, -1)
        self.keep: list[torch.Tensor] = []  # keeps ids unique while the trace runs
        self.layers: list[Layer] = []
        self.skipped: Counter[str] = Counter()
        self.module_stack: list[str] = []
        self.elem_bytes = elem_bytes

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name = _packet(func)
        if torch.is_inference_mode_enabled():  # the forward entered it (the trace itself runs outside it)
            where = f" in module {self.module!r}" if self.module else ""
            raise GraphCaptureError(
                f"the forward enters torch.inference_mode (at aten.{name}{where}), under which PyTorch skips the "
                "decomposition the trace reads: use torch.no_grad() there instead (the GPU runs the same kernels)",
                op=f"aten.{name}", module=self.module)
        try:
            out = _run_meta(func, args, kwargs) if self.trace_device == "meta" else func(*args, **kwargs)
        except Exception as exc:
            cause = _diagnose(name, args, self)
            raise _capture_error(exc, f"aten.{name}", self.module, self.trace_device, cause) from exc
        kind = ops.aten_kind(name)
        if kind is None:
            self.skipped[f"aten.{name}"] += 1
            return out
        tensors = _tensor_leaves((args, kwargs))
        outs = _tensor_leaves(out)
        acts = [t for t in tensors if id(t) not in self.param_names]
        params = [self.param_names[id(t)] for t in tensors if id(t) in self.param_names]
        if kind is LayerKind.RESHAPE and not acts and params:
            for o in outs:  # a view of a weight (e.g. linear's transpose) is still that weight
                self.param_names[id(o)] = params[0]
                self.keep.append(o)
            self.skipped[f"aten.{name} (view of a parameter)"] += 1
            return out
        if kind is LayerKind.NORM:
            outs = outs[:1]  # the saved mean/rstd outputs are empty or tiny bookkeeping
        kind, attrs = _attributes(name, kind, args, acts, outs, params)
        in_shapes = tuple(tuple(t.shape) for t in acts)
        out_shapes = tuple(tuple(t.shape) for t in outs)
        used = list(dict.fromkeys(params))
        param_elems = sum(self.param_sizes[p] for p in used)
        macs, flops, rd, wr = ops.layer_cost(kind, name, in_shapes, out_shapes, attrs, param_elems, self.elem_bytes)
        index = len(self.layers)
        self.layers.append(Layer(
            index=index, kind=kind, op=f"aten.{name}", module=self.module, input_shapes=in_shapes,
            output_shapes=out_shapes, attrs=attrs, params=sum(self.param_sizes[p] for p in used if p in self.trainable),
            macs=macs, flops=flops, bytes_read=rd, bytes_written=wr,
            inputs=tuple(dict.fromkeys(self.producer.get(id(t), -1) for t in acts)),
        ))
        for o in outs:
            self.producer[id(o)] = index
            self.keep.append(o)
        return out

    @property
    def module(self) -> str:
        return self.module_stack[-1] if self.module_stack else ""


def _diagnose(name: str, args: tuple, recorder: _Recorder) -> str | None:
    """What is wrong when an op fails, if the arguments tell: the channels a convolution expects, or mixed dtypes."""
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    dtypes = sorted({str(t.dtype).replace("torch.", "") for t in tensors if t.is_floating_point()})
    if len(dtypes) > 1:
        return (f"its tensors mix {' and '.join(dtypes)}; convert the whole module to one dtype (.float() or .half()) "
                "and pass the matching precision")
    if name == "convolution" and len(args) > 8:
        x, weight, transposed, groups = args[0], args[1], args[6], args[8]
        channels = weight.shape[0] if transposed else weight.shape[1] * groups
        if x.dim() == weight.dim() and x.shape[1] == channels:
            return None
        # a 3-D convolution's input is N x C x T x H x W (video: frames, then the image's sides)
        dims = {1: ("length",), 2: ("height", "width"), 3: ("frames", "height", "width")}[weight.dim() - 2]
        wanted = f"N x {channels} x {' x '.join(d[0].upper() for d in dims)}"
        if not any(l.kind in (LayerKind.CONV, LayerKind.DEPTHWISE_CONV) for l in recorder.layers):
            got = " x ".join(map(str, recorder.input_shape))
            # the sides alone (1024x2048, helper-134) are echoed with the channels; not a channel count and one side
            # (3x224: its first number is no side)
            given = recorder.input_shape[1:]
            sides = (given if len(given) == len(dims) and min(given) > 4
                     else [{"frames": "16"}.get(d, "224") for d in dims])
            size = "x".join(map(str, [channels, *sides]))
            return (f"the input is {got} (batch first) but the first convolution expects {wanted}: pass an input "
                    f"size of {channels} channels x {' x '.join(dims)}, e.g. input_size={size!r} (CLI: --input {size})")
        got = " x ".join(map(str, x.shape))
        return f"it receives {got} but its weight expects {wanted}: the model's channel counts disagree"
    return None


def _capture_error(exc: Exception, op: str | None, module: str, trace_device: str,
                   cause: str | None = None, input_shape: Shape | None = None) -> GraphCaptureError:
    # the message's first line, without the full stop the sentences below add (helper-130: "(224).. If")
    text = (str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__).rstrip(".")
    where = f" in module {module!r}" if module else ""
    at = f" at {op}" if op else ""
    if isinstance(exc, GraphCaptureError):
        return exc
    if cause:
        return GraphCaptureError(f"the forward failed{at}{where}: {cause}", op=op, module=module)
    if input_shape is not None and any(m in text for m in _RANK_MARKERS):
        return GraphCaptureError(
            f"the forward failed{at}{where}: {text}. The traced input was {tuple(input_shape)} (the batch, then "
            "input_size): input_size is one sample's shape without the batch, e.g. (3, 224, 224) (CLI --input "
            "3x224x224); batch_size= sets the batch.", op=op, module=module)
    if any(m in text for m in _INTEGER_MARKERS):
        return GraphCaptureError(
            f"the forward failed{at}{where}: it takes integer inputs (token ids) and hwaware traces a float tensor "
            "of input_size. Wrap the model in a module whose forward(x) calls it on "
            "torch.zeros_like(x, dtype=torch.long) (ids in range; the latency does not depend on their values).",
            op=op, module=module)
    if "doesn't match model" in text:  # timm's patch embedding, built for one image size
        return GraphCaptureError(
            f"the forward failed{at}{where}: {text}. The model was built for another input size: create it at this "
            "one (timm.create_model(name, img_size=...)) or pass its timm name with input_size, which hwaware builds "
            "at that size.", op=op, module=module)
    if trace_device == "meta" and any(m in str(exc) for m in _DYNAMIC_MARKERS):
        # torch's own advice for nonzero (a config flag that fakes its output) competes with the fix (helper-134)
        why = ("its output's size depends on the values" if "meta_nonzero_assume_all_nonzero" in text else text)
        return DynamicControlFlowError(
            f"the forward reads tensor values{at}{where} (dynamic control flow or data-dependent shapes: {why}); "
            "a meta-device trace cannot follow it. Pass trace_device='cpu' (CLI: --trace-device cpu) to trace "
            "with real values on the CPU.", op=op, module=module)
    if trace_device == "meta":
        return GraphCaptureError(
            f"the forward failed on the meta device{at}{where}: {text}. If the model runs on the CPU with this "
            "input size, pass trace_device='cpu' (CLI: --trace-device cpu) to trace with real tensors.",
            op=op, module=module)
    return GraphCaptureError(
        f"the forward failed with real tensors on the CPU{at}{where}: {text}. The model does not run on an input "
        "of this size as it is: check the input size and that the model runs in PyTorch.", op=op, module=module)


def _attributes(name: str, kind: LayerKind, args: tuple, acts: list[torch.Tensor], outs: list[torch.Tensor],
                params: list[str]) -> tuple[LayerKind, dict[str, Any]]:
    """Refine the kind (depthwise, dense vs matmul, global pooling) and extract the cost-relevant attributes."""
    x = acts[0] if acts else None
    y = outs[0] if outs else None
    if kind is LayerKind.CONV:
        inp, weight, bias = args[0], args[1], args[2]
        stride, padding, dilation, transposed, _, groups = args[3:9]
        w = tuple(weight.shape)
        in_ch = inp.shape[1]
        out_ch = w[1] * groups if transposed else w[0]
        attrs = {"kernel": w[2:], "stride": tuple(stride), "padding": tuple(padding), "dilation": tuple(dilation),
                 "groups": int(groups), "in_channels": int(in_ch), "out_channels": int(out_ch),
                 "transposed": bool(transposed), "bias": bias is not None}
        return ops.conv_kind(in_ch, groups), attrs
    if kind is LayerKind.DENSE:
        operands = [a for a in args if isinstance(a, torch.Tensor)]
        if name in ("addmm", "baddbmm", "addbmm", "_addmm_activation"):
            bias, operands = operands[0], operands[1:]
        else:
            bias = None
        k = int(operands[0].shape[-1]) if operands and operands[0].dim() else 1
        attrs = {"k": k, "bias": bias is not None}
        # a product with a weight is a dense layer; a product of two activations is a matmul
        return (LayerKind.DENSE if params else LayerKind.MATMUL), attrs
    if kind is LayerKind.ATTENTION:
        q, k_, v = args[0], args[1], args[2]
        return kind, {"batch_heads": int(q.numel() // (q.shape[-2] * q.shape[-1])), "q_len": int(q.shape[-2]),
                      "kv_len": int(k_.shape[-2]), "head_dim": int(q.shape[-1]), "v_dim": int(v.shape[-1])}
    if kind is LayerKind.POOL:
        if x is not None and y is not None and ("adaptive" in name) and ops.is_global(tuple(x.shape), tuple(y.shape)):
            return LayerKind.GLOBAL_POOL, {"mode": "max" if "max" in name else "avg"}
        if "adaptive" in name:
            out_hw = tuple(y.shape[2:]) if y is not None else ()
            in_hw = tuple(x.shape[2:]) if x is not None else ()
            kernel = tuple(-(-i // o) for i, o in zip(in_hw, out_hw))  # largest adaptive window
            return kind, {"mode": "max" if "max" in name else "avg", "kernel": kernel, "adaptive": True}
        ks = _as_tuple(args[1], x.dim() - 2 if x is not None else 2)
        stride = _as_tuple(args[2], len(ks)) if len(args) > 2 and args[2] else ks
        padding = _as_tuple(args[3], len(ks)) if len(args) > 3 else (0,) * len(ks)
        ceil_at = 5 if "max" in name else 4  # max: (.., dilation, ceil_mode); avg: (.., ceil_mode, count_include_pad)
        ceil = bool(args[ceil_at]) if len(args) > ceil_at else False
        dilation = _as_tuple(args[4], len(ks)) if "max" in name and len(args) > 4 else (1,) * len(ks)
        return kind, {"mode": "max" if "max" in name else "avg", "kernel": ks, "stride": stride, "padding": padding,
                      "ceil_mode": ceil, **ops.pool_dilation(dilation)}
    if kind is LayerKind.REDUCE and x is not None and y is not None:
        if name == "mean" and ops.is_global(tuple(x.shape), tuple(y.shape) + (1,) * (x.dim() - y.dim())):
            return LayerKind.GLOBAL_POOL, {"mode": "avg", "keepdim": y.dim() == x.dim()}
        dims = args[1] if len(args) > 1 and isinstance(args[1], (list, tuple, int)) else None
        return kind, {"dims": _as_tuple(dims, 1) if dims is not None else None, "keepdim": y.dim() == x.dim()}
    if kind is LayerKind.NORM:
        if name == "native_group_norm":
            return kind, {"groups": int(args[6]), "eps": float(args[7])}
        if name == "native_layer_norm":
            return kind, {"normalized_shape": tuple(int(d) for d in args[1]), "eps": float(args[4])}
        return kind, {"eps": float(args[-1]) if isinstance(args[-1], float) else 1e-5}
    if kind is LayerKind.ACTIVATION:
        scalars = tuple(a for a in args[1:] if isinstance(a, (int, float)) and not isinstance(a, bool))
        return kind, {"scalars": scalars} if scalars else {}
    if kind in (LayerKind.SOFTMAX, LayerKind.CONCAT):
        dim = next((a for a in args[1:] if isinstance(a, int) and not isinstance(a, bool)), _default_dim(kind))
        return kind, {"dim": dim}
    return kind, {}


def _default_dim(kind: LayerKind) -> int:
    """The default ``dim`` of ops that omit it: ``torch.cat`` concatenates along 0, softmax has none."""
    return 0 if kind is LayerKind.CONCAT else -1


def _as_tuple(v: Any, n: int) -> Shape:
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(i) for i in v)
    return v * n if len(v) == 1 else v


@contextlib.contextmanager
def _module_names(model: nn.Module, recorder: _Recorder) -> Iterator[None]:
    names = {id(m): n for n, m in model.named_modules()}
    owner = threading.get_ident()  # the hooks are global: another thread's forwards are not this trace's

    def pre(module: nn.Module, _args: Any) -> None:
        if threading.get_ident() == owner:
            recorder.module_stack.append(names.get(id(module), type(module).__name__))

    def post(module: nn.Module, _args: Any, _out: Any) -> None:
        if threading.get_ident() == owner and recorder.module_stack:
            recorder.module_stack.pop()

    h1 = nn.modules.module.register_module_forward_pre_hook(pre)
    h2 = nn.modules.module.register_module_forward_hook(post, always_call=True)
    try:
        yield
    finally:
        h1.remove()
        h2.remove()


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Inference behaviour for the trace; the caller's train/eval flags are restored afterwards."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in flags:
            m.training = training


def capture_module(model: nn.Module, input_shape: Shape, *, name: str = "", precision: str = "fp32",
                   trace_device: str = "meta", cache: GraphCache | None = None) -> Graph:
    """Trace ``model`` on an input of ``input_shape`` (batch first) and return its layer graph.

    Meta traces are cached by structural key (:mod:`hwaware.graph.structure` says when that is
    exact): a module with the structure of one captured before is not traced again. ``cache``:
    a :class:`~hwaware.graph.cache.GraphCache`, default the process-wide one (``HWAWARE_GRAPH_CACHE=0``: none).
    """
    check_trace_device(trace_device)
    _check_capturable(model)
    mode = cache_mode()
    module_key = module_keys(model).get(id(model)) if trace_device == "meta" and mode != "off" else None
    if module_key is None:  # a CPU trace follows tensor values the key cannot see; unkeyable state
        return _trace(model, input_shape, name, precision, trace_device)
    cache = cache if cache is not None else default_graph_cache()
    key = graph_key(module_key, input_shape, precision)
    cached = cache.get(key)
    if cached is None or mode == "verify":
        fresh = _trace(model, input_shape, name, precision, trace_device)
        if cached is not None and cached.layers != fresh.layers:
            raise GraphCaptureError(
                f"{type(model).__name__}'s forward depends on state its structural key does not see (the graph "
                "differs from the one cached for the same structure); set HWAWARE_GRAPH_CACHE=0 to trace it every time")
        if cached is None:
            cache.put(key, copy_graph(fresh))
        return fresh
    return copy_graph(cached, name=name or type(model).__name__)


def _check_capturable(model: nn.Module) -> None:
    """Refuse in one line what no trace can capture, before a trace fails with advice that cannot help (helper-130: a
    TorchScript module and a two-input forward were told to pass trace_device='cpu', which then failed too)."""
    if isinstance(model, torch.jit.ScriptModule):  # torch.jit.script's and torch.jit.trace's
        raise GraphCaptureError(f"{type(model).__name__} is a TorchScript module, which hwaware cannot trace: pass the "
                                "eager nn.Module it was made from, or export that to ONNX (torch.onnx.export) and pass "
                                "the .onnx file")
    try:
        params = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):  # a builtin forward: let the trace say what it needs
        return
    required = [p.name for p in params if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if len(required) > 1:
        raise GraphCaptureError(f"{type(model).__name__}.forward takes {len(required)} inputs ({', '.join(required)}) "
                                "and hwaware traces one tensor: wrap it in a module whose forward(x) builds the others "
                                "(their shapes are what its latency depends on)")


def check_trace_device(trace_device: object) -> None:
    """Refuse a ``trace_device`` that is not one of :data:`TRACE_DEVICES`."""
    if not isinstance(trace_device, str) or trace_device not in TRACE_DEVICES:
        raise InvalidArgumentError(f"trace_device must be one of {', '.join(TRACE_DEVICES)}, got {trace_device!r}")


# Inference mode (a caller's block) makes inference tensors, which skip the autograd key where composite ops (conv2d,
# linear) decompose into the ops the recorder reads: the trace's own tensors are made outside it.
@torch.inference_mode(False)
def _trace(model: nn.Module, input_shape: Shape, name: str, precision: str, trace_device: str) -> Graph:
    originals = {**dict(model.named_parameters(remove_duplicate=False)), **dict(model.named_buffers(remove_duplicate=False))}
    dtype = _input_dtype(originals.values(), precision)
    swapped: dict[int, torch.Tensor] = {}  # one replacement per original tensor keeps tied weights tied
    state: dict[str, torch.Tensor] = {}
    param_names: dict[int, str] = {}
    canonical: dict[int, str] = {}
    for pname, t in originals.items():
        if id(t) not in swapped:
            swapped[id(t)] = _replacement(t, trace_device)
            canonical[id(t)] = pname
        state[pname] = swapped[id(t)]
        param_names[id(swapped[id(t)])] = canonical[id(t)]
    sizes = {canonical[id(t)]: t.numel() for t in originals.values()}
    trainable = {canonical[id(p)] for p in model.parameters() if p.requires_grad}
    if trace_device == "meta":
        x = torch.empty(input_shape, device="meta", dtype=dtype)
    else:
        try:
            x = torch.randn(input_shape, generator=torch.Generator().manual_seed(0)).to(dtype)
        except RuntimeError as exc:  # the input alone is beyond this machine's memory
            raise InvalidArgumentError(f"a CPU trace allocates its input ({'x'.join(map(str, input_shape))}) and "
                                       "every activation, and this machine cannot hold the input: use "
                                       "trace_device='meta' (the default), or a smaller input or batch") from exc
    recorder = _Recorder(param_names, sizes, trainable, {id(x)}, PRECISIONS[precision], trace_device,
                         tuple(input_shape))
    try:
        with torch.no_grad(), torch_threads(1), _eval_mode(model), _module_names(model, recorder), recorder:
            torch.func.functional_call(model, state, (x,), strict=False, tie_weights=True)
    except GraphCaptureError:
        raise
    except Exception as exc:
        # a rank refused before any layer was recorded, or one naming the traced input's shape: input_size is the
        # suspect (a rank error deeper in the model, on another tensor, is not)
        named = "[" + ", ".join(map(str, input_shape)) + "]" in str(exc)
        shape = input_shape if named or not recorder.layers else None
        raise _capture_error(exc, None, recorder.module, trace_device, input_shape=shape) from exc
    total = sum(sizes[n] for n in trainable)
    return Graph(name=name or type(model).__name__, layers=_mark_rnn_steps(model, recorder.layers),
                 input_shape=tuple(input_shape), precision=precision, total_params=total,
                 source="torch", skipped=recorder.skipped)


def _mark_rnn_steps(model: nn.Module, layers: list[Layer]) -> list[Layer]:
    """``layers`` with those a recurrent module (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``, a cell) ran marked ``rnn_step``:
    on the meta device and the CPU its op decomposes into the ops of each time step, which is what the trace records,
    where eager PyTorch on a GPU calls cuDNN's fused RNN, or a cell's fused kernel (``hwaware.estimate`` warns). A
    model with a cell can be keyed, so the mark came with capture version 3 (graphs cached before it lack it)."""
    rnn = {n for n, m in model.named_modules() if isinstance(m, (nn.RNNBase, nn.RNNCellBase))}
    if not rnn:
        return layers
    return [replace(l, attrs={**l.attrs, "rnn_step": True}) if l.module in rnn else l for l in layers]


def _input_dtype(tensors: Iterable[torch.Tensor], precision: str) -> torch.dtype:
    """float32, or the module's own dtype when all its floating tensors are fp16 (or all bf16), which then
    has to be the precision asked for: the trace follows the module, the estimate follows ``precision``."""
    dtypes = {t.dtype for t in tensors if t.is_floating_point()}
    if dtypes == {torch.float64}:  # a fp64 trace would fail on its fp32 input, and so would a CPU one
        raise InvalidArgumentError("the module's weights are float64 (.double()), which no precision here estimates: "
                                   "convert it with .float() (fp32), .half() (fp16) or .bfloat16() and pass that "
                                   "precision")
    if len(dtypes) != 1 or (dtype := dtypes.pop()) not in _REDUCED:
        return torch.float32
    if _REDUCED[dtype] != precision:
        how = ".half()" if dtype is torch.float16 else ".bfloat16()"
        raise InvalidArgumentError(
            f"the module's weights are {str(dtype).replace('torch.', '')} (converted with {how} or .to()): pass "
            f"precision={_REDUCED[dtype]!r} (CLI: --precision {_REDUCED[dtype]}) to estimate it as it is, or "
            "convert it back with .float() for fp32")
    return dtype


def _replacement(t: torch.Tensor, trace_device: str) -> torch.Tensor:
    if trace_device == "meta":  # empty_like of a meta tensor runs a Python reference: a plain empty where that is it
        plain = torch.empty(t.shape, dtype=t.dtype, device="meta")
        same = plain.stride() == t.stride() and t.layout is torch.strided
        return plain if same else torch.empty_like(t, device="meta")
    return t.detach() if t.device.type == "cpu" else torch.zeros(t.shape, dtype=t.dtype)
