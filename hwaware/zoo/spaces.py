"""Model spaces a sampler explores: a trial -> an architecture (a JSON-able dict) -> a built model.

timm families (MobileNetV3, EfficientNet and ResNet block definitions: depth, width, kernel,
expansion, SE, resolution) map an architecture to the kwargs of timm's own model classes; the NAS
benchmark spaces (NAS-Bench-201, FBNet, OFA) use :mod:`hwaware.zoo`. An architecture round-trips
through a spec string ``"<space>:<json>"``: trial -> architecture -> spec -> architecture -> model.

>>> from hwaware.search import get_space, from_spec
>>> space = get_space("nb201")
>>> arch = space.default()
>>> again, same = from_spec(space.spec(arch))
>>> (again.name, same) == (space.name, arch)
True
"""
from __future__ import annotations

import difflib
import itertools
import json
import math
import numbers
import random
from abc import ABC, abstractmethod
from functools import partial
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
from torch import nn

from hwaware.errors import InvalidArgumentError, ModelNotFoundError, checked_seed
from hwaware.graph.meta import meta_device
from hwaware.threads import torch_threads
from hwaware.registry import register
from hwaware.zoo.nb201 import DATASETS

if TYPE_CHECKING:
    from hwaware.graph.layer import Graph
    from hwaware.zoo.chain import Block

Arch = dict[str, Any]
T = TypeVar("T")


class ModelSpace(ABC):
    """A parametrised family of networks."""

    name: ClassVar[str]
    # True: :meth:`check` holds an architecture to :meth:`default`'s fields, list lengths and types (this package's
    # spaces; a space of its own whose lists vary in length, or whose numbers may be 0, leaves it False)
    CHECKED: ClassVar[bool] = False
    # a top-level field's only values (each item's, for a list), where a builder tests for one or indexes by it;
    # other numbers must be above 0
    CHOICES: ClassVar[dict[str, tuple[Any, ...]]] = {}

    @abstractmethod
    def sample(self, trial: Any) -> Arch:
        """Draw an architecture with ``trial.suggest_*`` (an Optuna trial)."""

    def build(self, arch: Arch) -> nn.Module:
        """The network of ``arch`` (random weights; callers may build under ``torch.device('meta')``).
        Weight initialisation runs with one torch thread: a search builds a model per trial, and torch's
        default thread count stalls when another process keeps the cores busy."""
        self.check(arch)
        with torch_threads(1):
            try:
                return self._build(arch)
            except RuntimeError as exc:  # torch refusing a size (a space of one's own: a negative width, helper-163)
                raise InvalidArgumentError(f"not an architecture of the {self.name} space: its builder failed "
                                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); give "
                                           f"values its _build accepts (e.g. {self._spec(self.default())})") from exc

    def check(self, arch: Arch) -> None:
        """Refuse, in one line, an architecture unlike :meth:`default`'s where the space is :attr:`CHECKED`: other
        fields, other list lengths, a value of another type, a number not above 0, a value outside :attr:`CHOICES`
        (builders read some fields loosely: a ResNet ``block`` of 'x' built a bottleneck network, five MobileNetV3
        stages zipped with no stages)."""
        if not self.CHECKED:
            return
        problem = _unlike(arch, self.default(), "arch", set(self.CHOICES)) or next(
            (f"{k} must be one of {list(v)}{' each' if isinstance(arch[k], list) else ''}, got {arch[k]!r}"
             for k, v in self.CHOICES.items()
             if not set(arch[k] if isinstance(arch[k], list) else [arch[k]]) <= set(v)), None)
        if problem:
            raise InvalidArgumentError(f"not an architecture of the {self.name} space: {problem}; write it as "
                                       f"get_space({self.name!r}).spec(arch) does (e.g. {self._spec(self.default())})")

    @abstractmethod
    def _build(self, arch: Arch) -> nn.Module:
        """The network of ``arch``; see :meth:`build`."""

    @abstractmethod
    def default(self) -> Arch:
        """A reference architecture of the space (documentation, tests)."""

    def input_size(self, arch: Arch) -> tuple[int, int, int]:
        """The (C, H, W) input ``arch`` takes; an architecture unlike :meth:`default`'s (:meth:`check`) is one line,
        not a KeyError on the field read."""
        self.check(arch)
        return self._input_size(arch)

    def _input_size(self, arch: Arch) -> tuple[int, int, int]:
        """An RGB image of ``arch["resolution"]`` pixels a side; a space whose architectures have no such field
        overrides this (a user's space without it raised KeyError, helper-130)."""
        if "resolution" not in arch:
            raise InvalidArgumentError(f"space {self.name!r}: its architectures have no 'resolution' field, so the "
                                       "input size is unknown; give them one, or override _input_size(arch) to return "
                                       "(C, H, W)")
        return (3, arch["resolution"], arch["resolution"])

    def shell(self, arch: Arch) -> nn.Module:
        """The network on the meta device: shapes without weights, all a latency prediction needs."""
        with meta_device():
            return self.build(arch)

    def graph(self, arch: Arch, *, batch_size: int = 1, precision: str = "fp32") -> Graph:
        """The captured graph of ``arch``; a structure seen before comes from the graph cache, not a trace."""
        from hwaware.graph.sources import capture  # (the package's `capture` can be shadowed by its submodule)

        shell = self.shell(arch)  # build() checks the architecture; input_size() would check it again
        return capture(shell, batch_size=batch_size, input_size=self._input_size(arch), precision=precision)

    def archs(self) -> Iterator[Arch]:
        """Every architecture of a finite space, in a fixed order (the index of ``hwaware space-latency``)."""
        raise InvalidArgumentError(f"space {self.name!r} is too large to enumerate; spaces that can: nb201")

    def random_arch(self, rng: random.Random) -> Arch:
        """An architecture drawn uniformly (each choice independently), without an Optuna study."""
        return self.sample(_RandomTrial(rng))

    def random_specs(self, count: int, seed: int) -> list[str]:
        """``count`` draws of :meth:`random_arch` from ``random.Random(seed)`` as :meth:`spec` strings, repeats
        dropped: what ``hwaware collect networks --space NAME --count COUNT --seed SEED`` measures.

        >>> specs = get_space("nb201").random_specs(4, seed=4)
        >>> len(specs), specs == get_space("nb201").random_specs(4, seed=4), specs[0].startswith("nb201:")
        (4, True, True)
        """
        rng = random.Random(checked_seed(seed))
        return list(dict.fromkeys(self.spec(self.random_arch(rng)) for _ in range(count)))

    def spec(self, arch: Arch) -> str:
        """``arch`` as one string (``nb201:{...}``) that :func:`from_spec` reads back; an architecture unlike
        :meth:`default`'s (:meth:`check`) is refused here, not when the string is read."""
        self.check(arch)
        return self._spec(arch)

    def _spec(self, arch: Arch) -> str:
        return f"{self.name}:{json.dumps(arch, sort_keys=True, separators=(',', ':'), default=_plain)}"


def _plain(value: Any) -> Any:
    """A NumPy scalar (an array's item, as a sampler may give) as JSON writes Python's (helper-163: a TypeError)."""
    if isinstance(value, np.generic):  # np.int64, np.float32, np.bool_
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _unlike(value: Any, like: Any, where: str, chosen: set[str] = frozenset(), positive: bool = True) -> str | None:
    """How ``value`` differs in shape or type from the reference ``like`` (None: it does not); numbers must be above 0
    (``positive``) but in the top-level fields ``chosen``, whose values :attr:`ModelSpace.CHOICES` checks."""
    if isinstance(like, dict):
        if not isinstance(value, dict) or set(value) != set(like):
            return (f"{where} must have the fields {sorted(like)}, got "
                    f"{sorted(value) if isinstance(value, dict) else type(value).__name__}")
        return next((p for k in like
                     if (p := _unlike(value[k], like[k], f"{where}[{k!r}]", positive=positive and k not in chosen))),
                    None)
    if isinstance(like, list):
        if not isinstance(value, list) or len(value) != len(like):
            return f"{where} must be a list of {len(like)}, got {value!r}"
        return next((p for i, (v, l) in enumerate(zip(value, like))
                     if (p := _unlike(v, l, f"{where}[{i}]", positive=positive))), None)
    # numpy's numbers too (a search's own sampling makes them); a bool is no number here
    kind = (bool if isinstance(like, bool) else numbers.Integral if isinstance(like, int)
            else numbers.Real if isinstance(like, float) else type(like))
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        return f"{where} must be {'a number' if kind is numbers.Real else kind.__name__}, got {value!r}"
    if positive and isinstance(like, (int, float)) and not isinstance(like, bool) and not value > 0:
        return f"{where} must be above 0, got {value!r}"
    return None


class _RandomTrial:
    """The part of an Optuna trial that :meth:`ModelSpace.sample` uses, drawing uniformly from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.user_attrs: dict[str, Any] = {}

    def set_user_attr(self, key: str, value: Any) -> None:
        """Kept, as a trial keeps it (a sample() that records what it drew, helper-163: an AttributeError)."""
        self.user_attrs[key] = value

    def suggest_categorical(self, name: str, choices: tuple[Any, ...]) -> Any:
        return self.rng.choice(list(choices))

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        _no_log_step(name, log, step != 1)
        if log:  # as Optuna's: uniform in log space
            return min(high, max(low, round(math.exp(self.rng.uniform(math.log(low), math.log(high))))))
        return self.rng.randrange(low, high + 1, step)

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        _no_log_step(name, log, step is not None)
        if log:
            return math.exp(self.rng.uniform(math.log(low), math.log(high)))
        if step:  # as Optuna's: the grid low, low + step, ... up to high, the top cut to the last step inside
            return low + step * self.rng.randrange(math.floor((high - low) / step + 1e-9) + 1)
        return self.rng.uniform(low, high)

    def __getattr__(self, name: str) -> Any:  # another suggest_* of Optuna's: one line naming those offered
        if not name.startswith("suggest_"):  # hasattr probes (copy, IPython) get their AttributeError
            raise AttributeError(name)
        raise InvalidArgumentError(f"a space's sample() called trial.{name}, which drawing without a study "
                                   "(random_arch, LatencyConstraint.at_quantile) does not offer: use "
                                   "suggest_categorical, suggest_int or suggest_float")


def _no_log_step(name: str, log: bool, step: bool) -> None:
    if log and step:  # as Optuna refuses it
        raise InvalidArgumentError(f"{name}: a suggestion is on a log scale or in steps, not both")


_SPACES: dict[str, type[ModelSpace]] = {}


def register_space(cls: type[ModelSpace]) -> type[ModelSpace]:
    """Class decorator: make ``cls`` available as ``get_space(cls.name)`` (replacing another class of that name warns:
    :func:`hwaware.registry.register`)."""
    register(_SPACES, cls, ModelSpace, "register_space")
    return cls


def list_spaces() -> list[str]:
    """Names of the registered spaces, sorted (each one a valid :func:`get_space` name).

    >>> "nb201" in list_spaces()
    True
    """
    return sorted(_SPACES)


def get_space(name: str) -> ModelSpace:
    """A registered space by name (:func:`list_spaces`).

    >>> get_space("nb201").name
    'nb201'
    """
    if isinstance(name, str) and name not in _SPACES and name.lower() in _SPACES:  # 'NB201'
        name = name.lower()
    if not isinstance(name, str) or name not in _SPACES:
        near = difflib.get_close_matches(name.lower(), list(_SPACES), n=2, cutoff=0.5) if isinstance(name, str) else []
        hint = f"did you mean {' or '.join(map(repr, near))}? " if near else ""
        raise ModelNotFoundError(f"no model space {name!r}; {hint}available: {', '.join(list_spaces())}")
    return _SPACES[name]()


def from_spec(spec: str) -> tuple[ModelSpace, Arch]:
    """Inverse of :meth:`ModelSpace.spec`."""
    name, sep, payload = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if not sep:
        raise InvalidArgumentError(f"a spec is '<space>:<json>', got {spec!r}")
    try:
        arch = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(f"malformed architecture JSON in spec {spec!r}: {exc}") from exc
    return get_space(name), arch


def is_spec(text: object) -> bool:
    """Whether ``text`` is an architecture of a registered space as :meth:`ModelSpace.spec` writes it (``nb201:{...}``):
    a study's ``hwaware_arch``, a Pareto row, a ``space-latency`` row."""
    if not isinstance(text, str):
        return False
    name, sep, payload = text.partition(":")
    return bool(sep) and payload.lstrip().startswith("{") and name in list_spaces()


def checked_spec(spec: str) -> tuple[ModelSpace, Arch]:
    """:func:`from_spec`, the architecture built on the meta device: a malformed one is one line here, not a KeyError
    deep in a build (or hours into measuring)."""
    space, arch = from_spec(spec)
    _as_space(space, arch, lambda: space.shell(arch))
    return space, arch


def spec_graph(spec: str, *, batch_size: int = 1, precision: str = "fp32") -> Graph:
    """The captured graph of the architecture a spec string names (:meth:`ModelSpace.graph`, at the space's own input
    size), built once; a malformed one is one line, as :func:`checked_spec` says it."""
    space, arch = from_spec(spec)
    # the call's settings are refused as such, not as the architecture's
    batch_size, precision = _setting(batch_size, precision, _as_space(space, arch, lambda: space.input_size(arch)))
    return _as_space(space, arch, lambda: space.graph(arch, batch_size=batch_size, precision=precision))


def build_from_spec(spec: str) -> nn.Module:
    """The network a spec string names (:meth:`ModelSpace.spec`), with random weights."""
    space, arch = from_spec(spec)
    return _as_space(space, arch, lambda: space.build(arch))


def _as_space(space: ModelSpace, arch: Arch, make: Callable[[], T]) -> T:
    """``make()`` of ``arch``, whose check fails in its own line and whose builder's refusal is said as the space's."""
    space.check(arch)
    try:
        return make()
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise InvalidArgumentError(f"not an architecture of the {space.name} space ({type(exc).__name__}: {exc}); "
                                   f"write it as hwaware.search.get_space({space.name!r}).spec(arch) does, as searches "
                                   "and space-latency record it") from None


def _setting(batch_size: object, precision: object, input_size: tuple[int, ...]) -> tuple[int, str]:
    """The batch size and precision a graph is asked at, checked as a capture checks them."""
    from hwaware.graph.sources import check_elements
    from hwaware.hardware.catalog import check_batch_size, check_precision

    batch_size, precision = check_batch_size(batch_size), check_precision(precision)
    check_elements(batch_size, input_size)
    return batch_size, precision


def _assembly_setting(space: ModelSpace, arch: Arch, batch_size: object, precision: object) -> tuple[int, str]:
    """:func:`_setting` of a graph assembled without a capture, ``arch`` checked as :meth:`ModelSpace.build` does."""
    space.check(arch)
    return _setting(batch_size, precision, space._input_size(arch))


def _stage_params(trial: Any, prefix: str, depths: range, kernels: tuple[int, ...], expands: tuple[int, ...]) -> dict:
    return {"depth": trial.suggest_int(f"{prefix}_depth", depths.start, depths.stop - 1),
            "kernel": trial.suggest_categorical(f"{prefix}_kernel", kernels),
            "expand": trial.suggest_categorical(f"{prefix}_expand", expands),
            "se": trial.suggest_categorical(f"{prefix}_se", (False, True))}


def _ir(stage: dict, stride: int, channels: int, suffix: str = "") -> str:
    se = "_se0.25" if stage["se"] else ""
    return f"ir_r{stage['depth']}_k{stage['kernel']}_s{stride}_e{stage['expand']}_c{channels}{se}{suffix}"


@register_space
class MobileNetV3Space(ModelSpace):
    """timm MobileNetV3 (large layout): five searchable stages after the depthwise stem block."""

    name = "mobilenetv3"
    CHECKED = True
    CHANNELS = (24, 40, 80, 112, 160)
    STRIDES = (2, 2, 2, 1, 2)
    RELU_STAGES = 2  # the first two stages use ReLU, the rest hard-swish, as in MobileNetV3-Large

    def sample(self, trial: Any) -> Arch:
        return {"width": trial.suggest_categorical("width", (0.5, 0.75, 1.0, 1.25)),
                "resolution": trial.suggest_categorical("resolution", (160, 192, 224, 256)),
                "stages": [_stage_params(trial, f"s{i}", range(1, 5), (3, 5, 7), (3, 4, 6)) for i in range(5)]}

    def default(self) -> Arch:
        return {"width": 1.0, "resolution": 224, "stages": [
            {"depth": 2, "kernel": 3, "expand": 4, "se": False}, {"depth": 3, "kernel": 5, "expand": 3, "se": True},
            {"depth": 4, "kernel": 3, "expand": 6, "se": False}, {"depth": 2, "kernel": 3, "expand": 6, "se": True},
            {"depth": 3, "kernel": 5, "expand": 6, "se": True}]}

    def timm_kwargs(self, arch: Arch) -> dict[str, Any]:
        from timm.layers import get_act_layer
        from timm.models._efficientnet_blocks import SqueezeExcite
        from timm.models._efficientnet_builder import decode_arch_def, round_channels

        arch_def = [["ds_r1_k3_s1_e1_c16_nre"]]
        arch_def += [[_ir(st, s, c, "_nre" if i < self.RELU_STAGES else "")]
                     for i, (st, s, c) in enumerate(zip(arch["stages"], self.STRIDES, self.CHANNELS))]
        arch_def.append(["cn_r1_k1_s1_c960"])
        return {"block_args": decode_arch_def(arch_def), "num_features": 1280, "stem_size": 16,
                "round_chs_fn": partial(round_channels, multiplier=arch["width"]),
                "se_layer": partial(SqueezeExcite, gate_layer="hard_sigmoid", force_act_layer=nn.ReLU,
                                    rd_round_fn=round_channels),
                "act_layer": get_act_layer("hard_swish")}

    def _build(self, arch: Arch) -> nn.Module:
        from timm.models.mobilenetv3 import MobileNetV3

        return MobileNetV3(**self.timm_kwargs(arch))


@register_space
class EfficientNetSpace(ModelSpace):
    """timm EfficientNet (B0 layout): six searchable inverted-residual stages."""

    name = "efficientnet"
    CHECKED = True
    CHANNELS = (24, 40, 80, 112, 192, 320)
    STRIDES = (2, 2, 2, 1, 2, 1)

    def sample(self, trial: Any) -> Arch:
        return {"width": trial.suggest_categorical("width", (0.75, 1.0, 1.25)),
                "resolution": trial.suggest_categorical("resolution", (192, 224, 256)),
                "stages": [_stage_params(trial, f"s{i}", range(1, 5), (3, 5), (3, 4, 6)) for i in range(6)]}

    def default(self) -> Arch:  # EfficientNet-B0's stages
        b0 = ((2, 3), (2, 5), (3, 3), (3, 5), (4, 5), (1, 3))
        return {"width": 1.0, "resolution": 224,
                "stages": [{"depth": d, "kernel": k, "expand": 6, "se": True} for d, k in b0]}

    def timm_kwargs(self, arch: Arch) -> dict[str, Any]:
        from timm.layers import get_act_layer
        from timm.models._efficientnet_builder import decode_arch_def, round_channels

        arch_def = [["ds_r1_k3_s1_e1_c16_se0.25"]]
        arch_def += [[_ir(st, s, c)] for st, s, c in zip(arch["stages"], self.STRIDES, self.CHANNELS)]
        round_chs = partial(round_channels, multiplier=arch["width"])
        return {"block_args": decode_arch_def(arch_def), "num_features": round_chs(1280), "stem_size": 32,
                "round_chs_fn": round_chs, "act_layer": get_act_layer("swish")}

    def _build(self, arch: Arch) -> nn.Module:
        from timm.models.efficientnet import EfficientNet

        return EfficientNet(**self.timm_kwargs(arch))


@register_space
class ResNetSpace(ModelSpace):
    """timm ResNet: block type, depth per stage, width, stem, resolution."""

    name = "resnet"
    CHECKED = True
    CHOICES = {"block": ("basic", "bottleneck")}

    def sample(self, trial: Any) -> Arch:
        return {"block": trial.suggest_categorical("block", self.CHOICES["block"]),
                "layers": [trial.suggest_int(f"layers{i}", 1, hi) for i, hi in enumerate((3, 4, 6, 3))],
                "width": trial.suggest_categorical("width", (0.5, 0.75, 1.0)),
                "deep_stem": trial.suggest_categorical("deep_stem", (False, True)),
                "resolution": trial.suggest_categorical("resolution", (160, 192, 224))}

    def default(self) -> Arch:  # resnet50
        return {"block": "bottleneck", "layers": [3, 4, 6, 3], "width": 1.0, "deep_stem": False, "resolution": 224}

    def check(self, arch: Arch) -> None:
        """As :meth:`ModelSpace.check`, and a width that leaves every stage a channel (helper-163: 0.001 built
        convolutions of 0 channels, which failed as a forward on the meta device)."""
        super().check(arch)
        if int(64 * arch["width"]) < 1:
            raise InvalidArgumentError(f"not an architecture of the {self.name} space: width {arch['width']!r} leaves "
                                       "the first stage int(64 x width) = 0 channels; the least width is 1/64")

    def timm_kwargs(self, arch: Arch) -> dict[str, Any]:
        from timm.models.resnet import BasicBlock, Bottleneck

        w = arch["width"]
        return {"block": BasicBlock if arch["block"] == "basic" else Bottleneck, "layers": tuple(arch["layers"]),
                "channels": tuple(int(c * w) for c in (64, 128, 256, 512)),
                "stem_width": 32 if arch["deep_stem"] else int(64 * w), "stem_type": "deep" if arch["deep_stem"] else ""}

    def _build(self, arch: Arch) -> nn.Module:
        from timm.models.resnet import ResNet

        return ResNet(**self.timm_kwargs(arch))


@register_space
class NB201Space(ModelSpace):
    """NAS-Bench-201: one of five ops on each of the cell's six edges (CIFAR-10 network)."""

    name = "nb201"
    CHECKED = True
    CHOICES = {"dataset": tuple(DATASETS)}

    def sample(self, trial: Any) -> Arch:
        from hwaware.zoo.nb201 import OPS

        ops = [trial.suggest_categorical(f"edge{i}", OPS) for i in range(6)]
        return {"arch": f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|", "dataset": "cifar10"}

    def default(self) -> Arch:
        return {"arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
                "dataset": "cifar10"}

    def archs(self) -> Iterator[Arch]:
        """All 5^6 = 15,625 cells, edges 0..5 in :data:`hwaware.zoo.nb201.OPS` order, the last edge varying fastest
        (this enumeration's index, not NAS-Bench-201's own)."""
        from hwaware.zoo.nb201 import OPS

        for ops in itertools.product(OPS, repeat=6):
            yield {"arch": f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|", "dataset": "cifar10"}

    def _input_size(self, arch: Arch) -> tuple[int, int, int]:
        r = DATASETS[arch["dataset"]][0]
        return (3, r, r)

    def _build(self, arch: Arch) -> nn.Module:
        from hwaware.zoo import build

        return build("nb201", arch=arch["arch"], dataset=arch["dataset"])

    def graph(self, arch: Arch, *, batch_size: int = 1, precision: str = "fp32") -> Graph:
        """The graph a capture of :meth:`shell` gives, assembled from per-edge templates without building or tracing
        a module (:func:`hwaware.zoo.nb201.nb201_graph`)."""
        from hwaware.zoo.nb201 import nb201_graph

        batch_size, precision = _assembly_setting(self, arch, batch_size, precision)
        return nb201_graph(arch["arch"], arch["dataset"], batch_size=batch_size, precision=precision)


class _ChainSpace(ModelSpace):
    """A space of chain networks: :meth:`graph` assembles each from per-block captures (:mod:`hwaware.zoo.chain`)."""

    @abstractmethod
    def _blocks(self, arch: Arch) -> list[Block]:
        """The network's blocks, in order, as its builder makes them."""

    def _reference(self, arch: Arch) -> Arch:
        """A network with ``arch``'s stem, head and input size."""
        return self.default()

    def graph(self, arch: Arch, *, batch_size: int = 1, precision: str = "fp32") -> Graph:
        """The graph a capture of :meth:`shell` gives, assembled from per-block captures without building or tracing
        the network (:func:`hwaware.zoo.chain.chain_graph`); traced whole where the assembly does not give the
        reference network's capture back (a subclass whose builder makes other blocks than :meth:`_blocks`)."""
        from hwaware.graph.transform import with_batch
        from hwaware.zoo.chain import chain_graph

        batch_size, precision = _assembly_setting(self, arch, batch_size, precision)
        ref = self._reference(arch)
        # a frame is the space's class and settings' (a space of one's own may take constructor arguments)
        key = (type(self), repr(sorted(vars(self).items())), self._input_size(arch))
        graph = chain_graph(key, lambda: ModelSpace.graph(self, ref), lambda: self._blocks(ref), self._blocks(arch))
        if graph is None:
            return ModelSpace.graph(self, arch, batch_size=batch_size, precision=precision)
        return graph if (batch_size, precision) == (1, "fp32") else with_batch(graph, batch_size, precision)


@register_space
class FBNetSpace(_ChainSpace):
    """HW-NAS-Bench FBNet: one of nine ops at each of 22 positions (CIFAR-100 network, 32x32)."""

    name = "fbnet"
    CHECKED = True
    CHOICES = {"ops": tuple(range(9))}  # an index into the nine ops

    def sample(self, trial: Any) -> Arch:
        return {"ops": [trial.suggest_int(f"pos{i}", 0, len(self.CHOICES["ops"]) - 1) for i in range(22)]}

    def default(self) -> Arch:
        return {"ops": [7, 8, 1, 8, 4, 8, 8, 8, 7, 4, 1, 4, 7, 3, 2, 7, 3, 2, 4, 2, 4, 5]}

    def _input_size(self, arch: Arch) -> tuple[int, int, int]:
        return (3, 32, 32)

    def _build(self, arch: Arch) -> nn.Module:
        from hwaware.zoo import build

        return build("fbnet", ops=arch["ops"])

    def _blocks(self, arch: Arch) -> list[Block]:
        from hwaware.zoo.fbnet import blocks

        return blocks(arch["ops"])


@register_space
class OFASpace(_ChainSpace):
    """Once-for-All MobileNetV3 (w1.2): kernel and expansion per slot, depth per stage, resolution."""

    name = "ofa_mbv3"
    CHECKED = True
    # OFA's supernet (HELP's 5,000 rows take every value and no other): a kernel of 4 or a 31-pixel input built and
    # was answered as this space's (helper-136)
    CHOICES = {"ks": (3, 5, 7), "e": (3, 4, 6), "d": (2, 3, 4), "resolution": tuple(range(128, 225, 4))}

    def sample(self, trial: Any) -> Arch:
        sides = self.CHOICES["resolution"]
        return {"ks": [trial.suggest_categorical(f"k{i}", self.CHOICES["ks"]) for i in range(20)],
                "e": [trial.suggest_categorical(f"e{i}", self.CHOICES["e"]) for i in range(20)],
                "d": [trial.suggest_int(f"d{i}", min(self.CHOICES["d"]), max(self.CHOICES["d"])) for i in range(5)],
                "resolution": trial.suggest_int("resolution", min(sides), max(sides), step=sides[1] - sides[0])}

    def default(self) -> Arch:
        return {"ks": [7, 5, 5, 5, 7, 7, 5, 7, 5, 7, 3, 7, 5, 3, 7, 3, 5, 3, 5, 3],
                "e": [6, 4, 4, 6, 6, 3, 4, 3, 3, 6, 3, 3, 3, 6, 3, 4, 6, 4, 3, 6], "d": [2, 2, 2, 2, 3], "resolution": 204}

    def _build(self, arch: Arch) -> nn.Module:
        from hwaware.zoo import build

        return build("ofa_mbv3", ks=arch["ks"], e=arch["e"], d=arch["d"], resolution=arch["resolution"])

    def _blocks(self, arch: Arch) -> list[Block]:
        from hwaware.zoo.ofa import blocks

        return blocks(arch["ks"], arch["e"], arch["d"])

    def _reference(self, arch: Arch) -> Arch:
        return {**self.default(), "resolution": arch["resolution"]}
