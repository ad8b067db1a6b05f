"""Structural keys: two modules with the same key give the same captured graph, so it is traced once.

The key of a module is a digest of its subtree: for every module, its class (module, qualified name
and the bytecode and constants of every method its class and bases define below ``nn.Module``), the
simple values of its instance state (``__dict__`` minus parameters, buffers, children and hooks: ints,
floats, strings, tuples, dicts of those, dtypes, functions and classes by name and bytecode,
``functools.partial``), its class-level data attributes, the current values of the module-level
globals its methods read by name (``if FAST_PATH:``), its children's keys by name, and the name,
shape, dtype and ``requires_grad`` of each parameter and buffer. The capture adds the input shape,
the precision, the torch version and :data:`CAPTURE_VERSION`.

The key is valid, and a cached graph equals a fresh capture, when the forward's control flow and
the ops it issues depend only on what the key sees: the module tree's state listed above and the
input's shape and dtype. It is **not** valid when the forward branches on state outside the tree:

* globals read by helper functions the module's methods call (only the methods' own global names
  are seen), environment variables, ``torch.backends`` flags, objects reached through a global;
* state of other objects held in attributes of unknown types -- such a module gets no key (it is
  traced every time), as do modules holding plain tensors, modules with forward hooks or
  pre-hooks. A module or parameter used at two places is part of the root's key (:func:`sharing`).

Tensor values are never seen: the meta trace cannot read them (the capture raises), and the CPU
trace (``trace_device="cpu"``), which can, is never cached. When in doubt, ``HWAWARE_GRAPH_CACHE=verify``
re-traces on every hit and raises :class:`~hwaware.errors.GraphCaptureError` on a mismatch.

>>> from torch import nn
>>> a, b, c = nn.Conv2d(3, 8, 3), nn.Conv2d(3, 8, 3), nn.Conv2d(3, 8, 5)
>>> module_keys(a)[id(a)] == module_keys(b)[id(b)], module_keys(a)[id(a)] == module_keys(c)[id(c)]
(True, False)
"""
from __future__ import annotations

import enum
import functools
import hashlib
import types
from typing import Any

import torch
from torch import nn

# bump when the capture records layers differently: old cached graphs stop matching (2: a max-pool's dilation; 3: a
# recurrent cell's steps marked, whose model a graph cache can key)
CAPTURE_VERSION = "3"

_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks")
# bookkeeping of nn.Module that does not change what the forward computes
_IGNORED = {"_parameters", "_buffers", "_modules", "training", "_non_persistent_buffers_set", "_backward_hooks",
            "_backward_pre_hooks", "_is_full_backward_hook", "_state_dict_hooks", "_state_dict_pre_hooks",
            "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks", "_forward_hooks_with_kwargs",
            "_forward_hooks_always_called", "_forward_pre_hooks_with_kwargs", *_HOOK_DICTS}
_SIMPLE = (type(None), bool, int, float, complex, str, bytes)


class Unkeyable(Exception):
    """Some state of the module cannot be put in a key; the module is traced every time."""


def _digest(payload: str) -> str:
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def _code(co: types.CodeType) -> tuple:
    return (co.co_code.hex(), tuple(_const(c) for c in co.co_consts), co.co_names)


def _const(c: Any) -> Any:
    """A code constant, described the same in every process: ``x in {"zeros", "reflect"}`` compiles to a frozenset,
    whose repr follows the process's string hash seed (nn.Conv2d's keys differed between processes, so the on-disk
    graph cache missed across them, helper-157)."""
    if isinstance(c, types.CodeType):
        return _code(c)
    if isinstance(c, frozenset):
        return ("frozenset", tuple(sorted(repr(_const(x)) for x in c)))
    if isinstance(c, tuple):
        return ("tuple", tuple(_const(x) for x in c))
    return repr(c)


def _encode(v: Any) -> Any:
    """A hashable, repr-stable description of an attribute value; raises :class:`Unkeyable`."""
    if isinstance(v, _SIMPLE):
        return v
    if isinstance(v, (tuple, list)):
        return (type(v).__name__, tuple(_encode(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple(sorted((repr(_encode(k)), _encode(x)) for k, x in v.items())))
    if isinstance(v, (set, frozenset)):
        return ("set", tuple(sorted(repr(_encode(x)) for x in v)))
    if isinstance(v, (torch.dtype, torch.device, torch.Size, enum.Enum, torch.memory_format)):
        return (type(v).__name__, str(v))
    if isinstance(v, type):
        return ("class", _class_digest(v))
    if isinstance(v, types.FunctionType):
        return ("fn", v.__module__, v.__qualname__, _code(v.__code__), _encode(v.__defaults__))
    if isinstance(v, (types.BuiltinFunctionType, types.MethodWrapperType, types.WrapperDescriptorType)):
        return ("builtin", getattr(v, "__module__", None), v.__qualname__)
    if isinstance(v, functools.partial):
        return ("partial", _encode(v.func), _encode(v.args), _encode(v.keywords))
    raise Unkeyable(f"{type(v).__module__}.{type(v).__qualname__}")


@functools.lru_cache(maxsize=None)
def _class_parts(cls: type) -> tuple[str, tuple[str, ...], tuple[tuple[dict, str], ...]]:
    """(digest of the methods' code, class-level data attribute names, globals the methods read by name)."""
    code, data, global_names = [], [], []
    for c in cls.__mro__:
        if c in (nn.Module, object):
            break
        for name, v in sorted(vars(c).items()):
            fn = v.__func__ if isinstance(v, (staticmethod, classmethod)) else v
            fn = fn.fget if isinstance(fn, property) else fn
            if isinstance(fn, types.FunctionType):
                code.append((c.__qualname__, name, _code(fn.__code__)))
                # a global that is a module, function or class is code, not state: only data globals are read
                global_names += [(fn.__globals__, n) for n in sorted(_names(fn.__code__))
                                 if n in fn.__globals__ and _is_data(fn.__globals__[n])]
            elif not name.startswith("__") and not callable(v):
                data.append(name)
    return (_digest(repr((cls.__module__, cls.__qualname__, code))), tuple(data), tuple(global_names))


def _names(co: types.CodeType) -> set[str]:
    out = set(co.co_names)
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            out |= _names(c)
    return out


def _is_data(v: Any) -> bool:
    return isinstance(v, _SIMPLE) or (isinstance(v, tuple) and all(isinstance(x, _SIMPLE) for x in v))


def _class_digest(cls: type) -> str:
    return _class_parts(cls)[0]


def _class_state(cls: type) -> str:
    """The class's code digest with its data attributes and the data globals its methods read, as they are now."""
    digest, data, global_names = _class_parts(cls)
    values = [(n, _encode(getattr(cls, n))) for n in data] + [(n, g.get(n)) for g, n in global_names]
    return _digest(repr((digest, values))) if values else digest


def _own(module: nn.Module, classes: dict[type, str]) -> tuple:
    d = module.__dict__
    if d.get("_forward_hooks") or d.get("_forward_pre_hooks"):
        raise Unkeyable("forward hooks")
    state = []
    for k, v in d.items():
        if k in _IGNORED:
            continue
        if type(v) in _SIMPLE:  # the common case first: the walk runs on every capture
            state.append((k, v))
        else:
            if isinstance(v, torch.Tensor):
                raise Unkeyable(f"tensor attribute {k!r}")
            state.append((k, _encode(v)))
    params = [(n, p.shape, p.dtype, p.requires_grad) for n, p in d["_parameters"].items() if p is not None]
    buffers = [(n, b.shape, b.dtype) for n, b in d["_buffers"].items() if b is not None]
    cls = type(module)
    if cls not in classes:
        classes[cls] = _class_state(cls)
    return (classes[cls], state, params, buffers)


def module_keys(model: nn.Module) -> dict[int, str]:
    """``id(module) -> structural key`` for every module of ``model`` that can be keyed (see the
    module docstring); a module whose state or any descendant's state cannot be keyed is absent.
    The root's key also covers modules, parameters and buffers used at two places (:func:`sharing`)."""
    keys: dict[int, str] = {}
    tensors: set[int] = set()
    shared = [False]
    root = _walk(model, keys, set(), {}, tensors, shared)
    if root is not None and shared[0]:
        keys[id(model)] = _digest(repr((root, sharing(model))))
    return keys


def _walk(module: nn.Module, keys: dict[int, str], seen: set[int], classes: dict[type, str], tensors: set[int],
          shared: list[bool]) -> str | None:
    seen.add(id(module))
    children = []
    ok = True
    for name, child in module._modules.items():
        if child is None:
            children.append((name, None))
        elif id(child) in seen:
            shared[0] = True
            children.append((name, keys.get(id(child))))
            ok &= id(child) in keys
        else:
            key = _walk(child, keys, seen, classes, tensors, shared)
            ok &= key is not None
            children.append((name, key))
    for t in (*module._parameters.values(), *module._buffers.values()):
        if t is not None:
            shared[0] |= id(t) in tensors
            tensors.add(id(t))
    if not ok:
        return None
    try:
        own = _own(module, classes)
    except Unkeyable:
        return None
    keys[id(module)] = key = _digest(repr((own, children)))
    return key


def sharing(model: nn.Module) -> tuple[tuple[str, str], ...]:
    """Pairs (second path, first path) of modules, parameters and buffers that appear twice in ``model``."""
    first: dict[int, str] = {}
    pairs = []
    items = [*model.named_modules(remove_duplicate=False), *model.named_parameters(remove_duplicate=False),
             *model.named_buffers(remove_duplicate=False)]
    for path, obj in items:
        if id(obj) in first and first[id(obj)] != path:
            pairs.append((path, first[id(obj)]))
        first.setdefault(id(obj), path)
    return tuple(pairs)


def graph_key(module_key: str, input_shape: tuple[int, ...], precision: str) -> str:
    """The key of a whole captured graph: the root's module key, input shape, precision, torch and capture versions."""
    return _digest(repr((module_key, tuple(input_shape), precision, torch.__version__, CAPTURE_VERSION)))
