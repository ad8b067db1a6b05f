"""The estimator protocol, the result type every estimator returns, and the registry.

An estimator follows scikit-learn's contract: the constructor only stores parameters (``get_params``,
``set_params`` and ``sklearn.base.clone`` work), ``fit`` learns (state ending in ``_``), ``predict(graph, platform)``
returns an :class:`Estimate`.
"""
from __future__ import annotations

import hashlib
import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from hwaware.errors import (InvalidArgumentError, UnknownEstimatorError, UnsupportedModelError,
                            UnsupportedPlatformError, positive_integer)
from hwaware.estimators.cache import PredictionCache, default_cache_path
from hwaware.graph.layer import Graph, LayerKind, Shape
from hwaware.hardware.catalog import Platform, spec_digest
from hwaware.registry import register


@dataclass(frozen=True)
class LayerEstimate:
    """One row of the per-layer breakdown. ``kind`` is the layer kind's name, a plain ``str`` as JSON writes it
    (``LayerKind(row.kind)`` gives the :class:`~hwaware.graph.LayerKind`)."""

    index: int
    module: str
    kind: str
    op: str
    input_shapes: tuple[Shape, ...]
    output_shapes: tuple[Shape, ...]
    macs: int
    ms: float
    # the part of ``ms`` the host's dispatch decides (d log ms / d log host time, 0..1): what a calibration profile's
    # host factor acts on; 0 from estimators that do not split a layer's time
    host_share: float = 0.0
    # the least time physics allows this kernel on the platform's GPU (its arithmetic at the datasheet peak, its bytes
    # at the DRAM bandwidth), which a calibration profile does not go below; 0 where the estimator knows none
    floor_ms: float = 0.0


# How resperfnet-gpu's order warning begins (a Jetson answered faster than a measured one with more of every rate: a
# guessed host, or two measured modules' tables): a calibration profile, fitted to the device's own measurements,
# replaces the answer it doubts, so its estimates drop the warning.
HOST_GUESS_WARNING = "physically implausible: answered faster than"


def order_warning_prefix(gpu_name: str) -> str:
    """How resperfnet-gpu's order warning against ``gpu_name`` begins (hwaware.rank reads it to say that once)."""
    return f"{HOST_GUESS_WARNING} the {gpu_name} ("


# One GPU answered more than this factor slower than another that it dominates (every datasheet rate at least the
# other's) is an order inversion: resperfnet-gpu's Jetson warning and hwaware.rank's table (tests/test_sanity.py's
# DOMINANCE_SLACK: a learned estimator's noise)
ORDER_SLACK = 1.05
# in the note that says where an estimate's interval comes from; a calibration profile replaces that interval
INTERVAL_NOTE = "interval from held-out residuals"
# an estimator without intervals says so (a calibration profile gives its estimates one: the note goes)
NO_INTERVAL_NOTE = ("no prediction interval: an analytic baseline without an error model (on a GPU the default, "
                    "resperfnet-gpu, gives one)")
# a network outside the training domain: its interval also spans what such networks showed (resperfnet-gpu), which
# a calibration profile, fitted on CNNs' residuals, keeps
OUTSIDE_INTERVAL_NOTE = "interval widened for a network outside the training domain"
# the start of the note that host-side costs are another machine's; a calibration profile fits the user's own
HOST_NOTE = "host-side costs (dispatch per kernel, per call) are the"
# how a learned estimator's note on what its training data held of the platform begins; a calibration profile's
# answer keeps it as the model's before the profile
REGIME_NOTES = {"measured": "measured: ", "zero-shot": "zero-shot: "}
# the start of the CPU model's note on an answer above batch 1 (its figures are the model's, which a calibration
# profile's answer says of "the model before the profile", as of the regime notes)
CPU_BATCH_NOTE_LEAD = "above batch 1 "
# the start of the note on an unmeasured Jetson's expected error; a calibration profile's interval replaces it
UNMEASURED_JETSON_NOTE = "a Jetson the training never measured is extrapolated from two Jetsons"
# where a Jetson's TensorRT costs were learned from, and the one outside check of them (reported, never fitted); a
# calibration profile, fitted on the user's own engines, drops it
JETSON_TRT_NOTE = ("tensorrt on a Jetson: engine costs learned from torch2trt's timings (fp16 engines called from "
                   "Python on an AGX Xavier and a Nano; no network table times int8, whose kernel costs DeepBench's "
                   "desktop and data-centre int8 kernels train); NVIDIA's MLPerf ResNet-50 runs (int8 engines with its "
                   "own plugins, a C++ harness, CUDA graphs in later rounds) took 0.43-0.89x this model's answer on "
                   "four Jetsons: for engines tuned like those, expect less than the answer (python "
                   "benchmarks/external_mlperf.py)")
# the same for int8 engines on the other GPUs: no network table times int8 (reported, never fitted; a profile drops it)
INT8_TRT_NOTE = ("int8 under tensorrt: no network table times int8 (DeepBench's int8 kernels train the kernel costs); "
                 "NVIDIA's MLPerf ResNet-50 int8 engines on data-centre GPUs took 0.75-1.97x this model's answer at "
                 "batch 1 and 0.52-0.95x at their Offline batches (32-2048): expect large batches to run faster than "
                 "the answer (python benchmarks/external_mlperf.py)")


@dataclass(frozen=True)
class Estimate:
    """A predicted latency with its breakdown.

    ``total_ms = pre_ms + exe_ms + post_ms`` (paper 004's three phases: input to the device and
    launch, the layers, result back to the host). ``unknown_ops`` lists ops the capture could not
    classify and ``notes`` what the estimator did not model, so nothing is silently zero.
    ``interval_ms`` is the (low, high) prediction interval where the estimator has one (its notes say
    how it is derived and its held-out coverage). ``warnings`` say why the answer itself is doubtful
    (physically implausible, capped at a physical bound, more than the GPU's memory holds);
    :func:`hwaware.estimate` also raises each as an :class:`~hwaware.errors.ImplausibleEstimateWarning`.
    ``profile``: the name of the calibration profile that fitted the answer to a device's own measurements, if any.
    """

    total_ms: float
    pre_ms: float
    exe_ms: float
    post_ms: float
    layers: tuple[LayerEstimate, ...]
    unknown_ops: dict[str, int]
    estimator: str
    estimator_version: str
    platform: Platform
    model: str
    notes: tuple[str, ...] = field(default=())
    interval_ms: tuple[float, float] | None = None
    warnings: tuple[str, ...] = field(default=())
    profile: str | None = None

    def __post_init__(self) -> None:
        # plain floats whatever the estimator computed in (numpy scalars break json.dumps of anything counted over them)
        for name in ("total_ms", "pre_ms", "exe_ms", "post_ms"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.interval_ms is not None:
            object.__setattr__(self, "interval_ms", (float(self.interval_ms[0]), float(self.interval_ms[1])))

    def __repr__(self) -> str:
        # the dataclass's own repr spelled out every layer and the GPU's catalog record (tens of thousands of
        # characters in a notebook, helper-130); the fields stay attributes
        p = self.platform
        return (f"Estimate(model={self.model!r}, platform='{p.device.name}, {p.runtime}, {p.precision}, batch "
                f"{p.batch_size}', total_ms={self.total_ms:.4g}, interval_ms="
                + ("None" if self.interval_ms is None else "({:.4g}, {:.4g})".format(*self.interval_ms))
                + f", estimator='{self.estimator} {self.estimator_version}', "
                + ("" if self.profile is None else f"profile={self.profile!r}, ") + f"layers={len(self.layers)}, "
                f"notes={len(self.notes)}, warnings={len(self.warnings)})")

    def table(self, top: int | None = None) -> str:
        """The per-layer breakdown as a text table (the slowest ``top`` layers if given, a positive int)."""
        if top is not None and not positive_integer(top):
            raise InvalidArgumentError(f"top: a positive number of layers (or None for all of them), got {top!r}")
        rows = sorted(self.layers, key=lambda r: -r.ms)[:top] if top else list(self.layers)
        head = f"{'#':>4}  {'kind':<15}{'module':<34}{'output':<20}{'MMACs':>10}{'ms':>10}"
        lines = [head, "-" * len(head)]
        for r in rows:
            out = "x".join(map(str, r.output_shapes[0])) if r.output_shapes else ""
            lines.append(f"{r.index:>4}  {r.kind:<15}{_clip(r.module or r.op, 33):<34}{_clip(out, 19):<20}"
                         f"{r.macs / 1e6:>10.2f}{r.ms:>10.4f}")
        lines.append("-" * len(head))
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        """The answer, its phases and interval, then every warning and note, one per line (what the CLI prints)."""
        g = self.platform.device
        text = (f"{self.model} on {g.name} ({self.platform.runtime}, {self.platform.precision}, batch "
                f"{self.platform.batch_size}): {self.total_ms:.3f} ms = pre {self.pre_ms:.3f} + exe {self.exe_ms:.3f} "
                f"+ post {self.post_ms:.3f} [{self.estimator} {self.estimator_version}"
                + ("" if self.profile is None else f", profile {self.profile!r}") + "]")
        if self.interval_ms is not None:
            text += f"\ninterval: {self.interval_ms[0]:.3f} .. {self.interval_ms[1]:.3f} ms"
        if self.unknown_ops:
            text += f"\nunknown ops (timed as memory copies): {self.unknown_ops}"
        for warning in self.warnings:
            text += f"\nwarning: {warning}"
        for note in self.notes:
            text += f"\nnote: {note}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """Everything in the estimate as JSON-able types, per-layer rows included."""
        return {
            "model": self.model, "total_ms": self.total_ms, "pre_ms": self.pre_ms, "exe_ms": self.exe_ms,
            "post_ms": self.post_ms, "estimator": self.estimator, "estimator_version": self.estimator_version,
            "platform": {"device": self.platform.device.name, "runtime": self.platform.runtime,
                         "precision": self.platform.precision, "batch_size": self.platform.batch_size,
                         "profile": self.profile},
            "unknown_ops": self.unknown_ops, "warnings": list(self.warnings), "notes": list(self.notes),
            "interval_ms": list(self.interval_ms) if self.interval_ms is not None else None,
            "layers": [{"index": r.index, "module": r.module, "kind": r.kind, "op": r.op,
                        "input_shapes": [list(s) for s in r.input_shapes],
                        "output_shapes": [list(s) for s in r.output_shapes], "macs": r.macs, "ms": r.ms}
                       for r in self.layers],
        }

    def to_json(self) -> str:
        """:meth:`as_dict` as indented JSON."""
        return json.dumps(self.as_dict(), indent=2)


def require_cnns(graphs: Sequence[Graph], estimator: str) -> None:
    """Raise, naming the estimator that warns instead, if a graph has matmul or attention layers: the whole-network
    estimators learned on the GPU tables' CNNs have nothing that speaks for a transformer."""
    for g in graphs:
        odd = sorted({l.op for l in g.layers if l.kind in (LayerKind.MATMUL, LayerKind.ATTENTION)})
        if odd:
            raise UnsupportedModelError(f"{estimator} is trained on CNNs only; {g.name} has {', '.join(odd)} layers; "
                                        "use estimator='resperfnet-gpu', which warns outside its training domain")


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else "…" + text[-(n - 1):]


T = TypeVar("T")


class Estimator(ABC):
    """Base class: a name, a version, ``fit`` and ``predict``; the constructor's arguments are its parameters.

    >>> from sklearn.base import clone
    >>> from hwaware.estimators import RooflineEstimator
    >>> clone(RooflineEstimator(efficiency=0.5))
    RooflineEstimator(efficiency=0.5)
    """

    name: ClassVar[str]
    version: ClassVar[str]
    # False for estimators made of independent per-platform models (netregress): nothing ties their answers on two
    # platforms together, so relations between platforms (more batch, a faster GPU) are not theirs to promise
    joint_platforms: ClassVar[bool] = True
    # whether every estimate carries a prediction interval (Estimate.interval_ms); a calibration profile adds its own
    intervals: ClassVar[bool] = False
    # whether every layer it answers stops at the least time physics allows it (LayerEstimate.floor_ms), so that its
    # totals need no check against the network's floor (hwaware.api checks the others' on every GPU answer)
    floors_layers: ClassVar[bool] = False

    @classmethod
    def _parameters(cls) -> dict[str, inspect.Parameter]:
        return {k: p for k, p in inspect.signature(cls.__init__).parameters.items()
                if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments, as given (scikit-learn's contract; ``deep`` is accepted for it; an argument a
        subclass keeps under another name reads as its default)."""
        return {k: getattr(self, k, p.default) for k, p in self._parameters().items()}

    def set_params(self, **params: Any) -> Estimator:
        """Set constructor arguments; where one changes, forget what was learned or loaded under the old ones (a
        ``weights_dir`` of other weights, a fit with other settings: fit again)."""
        unknown = sorted(set(params) - set(self._parameters()))
        if unknown:
            raise InvalidArgumentError(f"{type(self).__name__} has no parameter {', '.join(map(repr, unknown))}; "
                                       f"its parameters: {', '.join(self._parameters()) or 'none'}")
        current = self.get_params()
        changed = [k for k, v in params.items() if not (v is current[k] or _same(v, current[k]))]
        self.__dict__.update(params)
        if changed:
            for k in [k for k in self.__dict__ if k.endswith("_")]:
                del self.__dict__[k]
        return self

    def __getstate__(self) -> dict[str, Any]:
        # an open cache holds a connection and a lock: a copy or another process opens its own when it predicts
        return {k: v for k, v in self.__dict__.items() if k != "cache_"}

    def __repr__(self) -> str:
        defaults = {k: p.default for k, p in self._parameters().items()}
        given = {k: v for k, v in self.get_params().items() if not (v is defaults[k] or _same(v, defaults[k]))}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in given.items())})"

    def _prediction_cache(self) -> PredictionCache | None:
        """The cache the ``cache`` parameter names: ``True``, the default file (opened once per estimator, kept as
        learned state so that ``cache`` stays as given); a :class:`PredictionCache`; anything else, none."""
        cache = getattr(self, "cache", None)
        if cache is True:
            return self._remembered("cache_", True, lambda: PredictionCache(default_cache_path()))
        return cache if isinstance(cache, PredictionCache) else None

    def fit(self, samples: Iterable[Any]) -> Estimator:
        """Learn from measured samples; analytic estimators override it only if they calibrate."""
        raise NotImplementedError(f"estimator {self.name!r} is not trainable")

    @abstractmethod
    def predict(self, graph: Graph, platform: Platform) -> Estimate:
        """Predict the latency of ``graph`` on ``platform``."""

    def predict_many(self, graphs: Sequence[Graph], platform: Platform) -> list[Estimate]:
        """``[predict(g, platform) for g in graphs]``; estimators that can batch their per-layer model
        across all layers of all graphs override it (the results must equal ``predict``'s exactly).

        >>> from hwaware.estimators import get_estimator
        >>> from hwaware.graph import capture
        >>> from hwaware.hardware import Platform
        >>> est, p = get_estimator("roofline"), Platform.resolve("2080ti")
        >>> [e.total_ms for e in est.predict_many([capture("resnet18")], p)] == [est.predict(capture("resnet18"), p).total_ms]
        True
        """
        return [self.predict(g, platform) for g in graphs]

    def supports(self, platform: Platform) -> bool:
        """Whether the estimator can predict for ``platform`` (a learned one needs trained weights)."""
        return True

    def _remembered(self, store: str, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, kept on this estimator in the dict ``store`` (learned state: its name ends in ``_``) under
        ``key``: what every warm prediction asks again (loaded weights, a GPU's host, a platform's constants)."""
        known = self.__dict__.setdefault(store, {})
        if key not in known:
            known[key] = compute()
        return known[key]

    def answers_version(self, platform: Platform) -> str:
        """The version since which this estimator's answers for ``platform`` are unchanged (default: its own)."""
        return self.version

    def model_id(self, platform: Platform) -> str:
        """What this estimator's predictions for ``platform`` are computed from: its name, the version of those
        answers (:meth:`answers_version`) and the device's spec (learned estimators add their weights). A calibration
        profile records it, so that a profile fitted on predictions that have since changed says so.

        >>> from hwaware.estimators import get_estimator
        >>> from hwaware.hardware import Platform
        >>> get_estimator("roofline").model_id(Platform.resolve("2080ti")).startswith("roofline ")
        True
        """
        return f"{self.name} {self.answers_version(platform)} spec {spec_digest(platform.device)}"

    def calibrated_interval(self) -> tuple[float, float] | None:
        """The interval of log(true / calibrated) that this estimator's answers after a 10-shot calibration profile
        showed on GPUs held out of its training, or None where it measured none; a profile's own interval is widened
        to contain it (:attr:`hwaware.calibration.Profile.interval`)."""
        return None


def _same(a: object, b: object) -> bool:
    """Whether two parameter values are equal plain values (numbers, strings, None; not arrays or caches)."""
    plain = (int, float, str, type(None))
    return isinstance(a, plain) and isinstance(b, plain) and a == b


def files_digest(*paths: Path) -> str:
    """A short hash of the bytes of ``paths`` (a folder: the files in it, by name; a missing path: nothing): what a
    learned estimator's weights are, for cache keys and :meth:`Estimator.model_id`."""
    h = hashlib.blake2b(digest_size=6)
    for path in paths:
        for f in sorted(p for p in path.glob("*") if p.is_file()) if path.is_dir() else [path] * path.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


_REGISTRY: dict[str, type[Estimator]] = {}
_INSTANCES: dict[str, Estimator] = {}
E = TypeVar("E", bound=type[Estimator])


def register_estimator(cls: E) -> E:
    """Class decorator: make ``cls`` available as ``estimator=cls.name`` (replacing another class of that name warns:
    :func:`hwaware.registry.register`)."""
    register(_REGISTRY, cls, Estimator, "register_estimator")
    _INSTANCES.pop(cls.name, None)  # get_estimator builds the class now registered, not the one it built before
    return cls


def list_estimators() -> list[str]:
    """Names of the registered estimators, sorted (each one a valid ``estimator=``).

    >>> "resperfnet-gpu" in list_estimators()
    True
    """
    return sorted(_REGISTRY)


def get_estimator(name: str) -> Estimator:
    """The shared instance of a registered estimator (built, and its weights loaded, once per process).

    >>> get_estimator("roofline").name
    'roofline'
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownEstimatorError(name, _REGISTRY)
    if name not in _INSTANCES:
        _INSTANCES[name] = _REGISTRY[name]()
    return _INSTANCES[name]


# Estimators in order of preference; the first that supports a platform is its default.
DEFAULT_ORDER: list[str] = ["resperfnet", "resperfnet-gpu", "roofline"]


def default_estimator(platform: Platform) -> str:
    """The first estimator of :data:`DEFAULT_ORDER` that supports ``platform``."""
    for name in DEFAULT_ORDER:
        if name in _REGISTRY and get_estimator(name).supports(platform):
            return name
    raise UnsupportedPlatformError(
        f"no estimator supports {platform.device.name} ({platform.runtime}, {platform.precision}); "
        f"registered: {', '.join(list_estimators())}")

