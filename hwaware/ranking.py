"""Rank networks across GPUs: the seeds' design-space-exploration question, "which GPU for this network, which
network for this GPU", answered from predictions only.

>>> import hwaware
>>> t = hwaware.rank(["resnet18", "resnet50"], gpus=["2080ti", "agx"], estimator="roofline")
>>> t.fastest_gpu("resnet50") == min(t.gpus, key=lambda g: t.latency("resnet50", g))
True
>>> [m for m, _ in t.by_gpu("agx")]
['resnet18', 'resnet50']

Comparing GPUs, the table also says where a GPU that outclasses another on paper is answered slower
(:attr:`RankTable.inversions`), which no single answer can show.
"""
from __future__ import annotations

import math
import os
import textwrap
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import permutations
from typing import Any

from hwaware.api import _user_stacklevel, estimate_many, model_list, resolve
from hwaware.calibration.profile import Profile
from hwaware.errors import HwawareError, ImplausibleEstimateWarning, InvalidArgumentError
from hwaware.estimators.base import ORDER_SLACK, Estimate, order_warning_prefix
from hwaware.graph.layer import Graph
from hwaware.graph.sources import InputSize, ModelLike
from hwaware.hardware.catalog import GPUSpec, Platform

# What an inversion means and what to expect, under the table
ORDER_WHY = ("on one machine a GPU with every datasheet rate at least another's runs a network no slower. Where the "
             "host's cost per launch decides (small batches), a GPU timed in the training data carries the host of "
             "the machine that timed it and another GPU its class's average; where the GPU decides, the learned "
             "model is not monotone in the rates. hwaware.estimate(...).notes says which host an answer takes; "
             "`hwaware calibrate` fits your own device")
SHOWN = 10  # GPU pairs listed under the text table; the rest are counted (every inversion is in as_dict)


@dataclass(frozen=True)
class Inversion:
    """``model`` answered ``ms`` on ``gpu`` and ``below_ms`` on ``below``, a GPU that ``gpu`` outclasses on paper
    (:meth:`~hwaware.hardware.GPUSpec.dominates`: the same class, every datasheet rate at least ``below``'s), more
    than ``ORDER_SLACK`` x slower. Between a discrete GPU and an integrated SoC (``kernels``) the times are the
    kernels' (:attr:`~hwaware.Estimate.exe_ms`: an estimator may count copies over a link in the other phases).
    ``warned``: ``below``'s own estimate warns of it (resperfnet-gpu's check of a Jetson against a measured one).
    Column labels as in :attr:`RankTable.gpus`."""

    model: str
    gpu: str
    below: str
    ms: float
    below_ms: float
    kernels: bool = False
    warned: bool = False

    @property
    def ratio(self) -> float:
        return self.ms / self.below_ms


@dataclass(frozen=True)
class RankTable:
    """Predicted milliseconds per (model, GPU): ``ms[i][j]`` is ``models[i]`` on ``gpus[j]``, ``intervals[i][j]`` its
    prediction interval (low, high) ms, None where the estimator gives none; ``estimators[j]`` is the estimator that
    answered for ``gpus[j]``. ``precisions[j]`` and ``runtimes[j]`` are the platform ``gpus[j]``
    was answered on (a calibration profile brings its own); ``precision`` and ``runtime`` label them all, each GPU's
    where they differ (``"2080ti fp32, my-2080ti fp16"``)."""

    models: tuple[str, ...]
    gpus: tuple[str, ...]
    ms: tuple[tuple[float, ...], ...]
    estimators: tuple[str, ...]
    batch_size: int
    precision: str
    runtime: str
    precisions: tuple[str, ...] = ()  # per GPU, as each resolved (a calibration profile's own)
    runtimes: tuple[str, ...] = ()
    inversions: tuple[Inversion, ...] = ()  # GPU order against the datasheets, most inverted first (see rank)
    intervals: tuple[tuple[tuple[float, float] | None, ...], ...] = ()

    def _row(self, model: str) -> int:
        if model not in self.models:
            raise InvalidArgumentError(f"{model!r} is not a model of this table; its models: {', '.join(self.models)}")
        return self.models.index(model)

    def _column(self, gpu: str) -> int:
        """The column of ``gpu``, by its label or any name that resolves to the same device ('xavier' for 'agx')."""
        if gpu in self.gpus:
            return self.gpus.index(gpu)
        device = _device(gpu)
        same = [j for j, g in enumerate(self.gpus) if _device(g) == device] if device else []
        if not same:
            raise InvalidArgumentError(f"{gpu!r} is not a GPU of this table; its GPUs: {', '.join(self.gpus)}")
        return same[0]

    def latency(self, model: str, gpu: str) -> float:
        """The predicted ms of ``model`` on ``gpu`` (names as in :attr:`models`; a GPU by any of its names)."""
        return self.ms[self._row(model)][self._column(gpu)]

    def by_gpu(self, gpu: str) -> list[tuple[str, float]]:
        """Which network for this GPU: (model, ms), fastest first."""
        j = self._column(gpu)
        return sorted(((m, row[j]) for m, row in zip(self.models, self.ms)), key=lambda t: t[1])

    def by_model(self, model: str) -> list[tuple[str, float]]:
        """Which GPU for this network: (gpu, ms), fastest first."""
        row = self.ms[self._row(model)]
        return sorted(zip(self.gpus, row), key=lambda t: t[1])

    def fastest_gpu(self, model: str) -> str:
        """The GPU with the lowest predicted ms for ``model``."""
        return self.by_model(model)[0][0]

    def _interval_rows(self) -> Sequence[Sequence[tuple[float, float] | None]]:
        """:attr:`intervals`, or None in every cell of a table made without them."""
        return self.intervals or [[None] * len(self.gpus)] * len(self.models)

    def table(self) -> str:
        """Text table: ms with its interval and the model's rank on that GPU in brackets, and each model's GPU
        order."""
        rank = {(m, g): i + 1 for g in self.gpus for i, (m, _) in enumerate(self.by_gpu(g))}
        w = max(12, *(len(m) for m in self.models)) + 2
        cells = [[f"{v:.3f}{f' [{iv[0]:.3f}..{iv[1]:.3f}]' if iv else ''} ({rank[(m, g)]})"
                  for g, v, iv in zip(self.gpus, row, ivs)]
                 for m, row, ivs in zip(self.models, self.ms, self._interval_rows())]
        # every column at least two spaces wider than anything in it: names, estimators and cells never run together
        cw = max(14, *(len(t) + 2 for t in (*self.gpus, *self.estimators, *(c for r in cells for c in r))))
        lines = [f"{'model':<{w}}" + "".join(f"{g:>{cw}}" for g in self.gpus) + "   GPUs fastest first",
                 f"{'':<{w}}" + "".join(f"{e:>{cw}}" for e in self.estimators)]
        for m, row in zip(self.models, cells):
            lines.append(f"{m:<{w}}" + "".join(f"{c:>{cw}}" for c in row)
                         + f"   {' < '.join(g for g, _ in self.by_model(m))}")
        lines.append(f"ms per batch of {self.batch_size} ({self.runtime}, {self.precision}); "
                     + ("[low..high] = the prediction interval; " if any(map(any, self.intervals)) else "")
                     + "(n) = the model's rank on that GPU, 1 = fastest")
        if len(set(zip(self.runtimes, self.precisions))) > 1:  # profiles bring their own platform
            lines.append("the columns run different runtimes or precisions (above): 'GPUs fastest first' orders "
                         "platforms, not devices alone")
        if self.inversions:
            pairs = _pairs(self.inversions)
            warned = sum(v.warned for v in self.inversions)
            said = f" ({warned} of them warned of by the faster-answered GPU's own estimate)" if warned else ""
            lines.append(textwrap.fill(f"GPU order against the datasheets, {_count(pairs)}{said}: more than "
                                       f"{ORDER_SLACK}x slower on a GPU than on one it outclasses on paper (the same "
                                       f"class, every datasheet rate at least the other's; a discrete GPU over an "
                                       f"integrated SoC: the kernels' time, exe); {ORDER_WHY}", 120))
            lines += [f"  {gpu} slower than {below}: " + ", ".join(
                f"{v.model} {v.ms:.3f} against {v.below_ms:.3f} ms{' exe' if v.kernels else ''} ({v.ratio:.2f}x"
                f"{f', {below} warns of it' if v.warned else ''})" for v in found)
                for (gpu, below), found in list(pairs.items())[:SHOWN]]
            if len(pairs) > SHOWN:
                lines.append(f"  and {len(pairs) - SHOWN} more GPU pairs (--json, or RankTable.inversions)")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The table as JSON-able types, with each GPU's model order and each model's GPU order."""
        return {"models": list(self.models), "gpus": list(self.gpus), "estimators": list(self.estimators),
                "batch_size": self.batch_size, "precision": self.precision, "runtime": self.runtime,
                "precisions": list(self.precisions), "runtimes": list(self.runtimes),
                "ms": [list(r) for r in self.ms],
                "intervals": [[list(iv) if iv else None for iv in r] for r in self._interval_rows()],
                "inversions": [{**asdict(v), "ratio": v.ratio} for v in self.inversions],
                "by_gpu": {g: [m for m, _ in self.by_gpu(g)] for g in self.gpus},
                "by_model": {m: [g for g, _ in self.by_model(m)] for m in self.models}}


def _device(gpu: str) -> str | None:
    """The device (or profile) a GPU name resolves to, None where it resolves to none."""
    try:
        platform, profile, _ = resolve(gpu)
    except HwawareError:
        return None
    return profile.name if profile else platform.device.name


def _labels(models: list[ModelLike | Graph]) -> list[str]:
    """Row names: a name as given, a graph's name, else the module's class name, with its position in ``models``
    where two modules share one (two ``nn.Linear`` candidates are two rows, not a repeat). Names and graphs are not
    numbered: 'resnet18' and its captured graph are one model twice."""
    labels = [m if isinstance(m, str) else m.name if isinstance(m, Graph) else type(m).__name__ for m in models]
    counts = Counter(labels)
    return [f"{label}#{i}" if counts[label] > 1 and not isinstance(m, (str, Graph)) else label
            for i, (label, m) in enumerate(zip(labels, models))]


def rank(models: Iterable[ModelLike | Graph], gpus: Sequence[str], *, batch_size: int = 1,
         input_size: InputSize = None, precision: str | None = None, runtime: str | None = None,
         estimator: str | None = None, progress: bool | None = None) -> RankTable:
    """Predict every model on every GPU (one :func:`~hwaware.estimate_many` call per GPU) and order them.

    ``gpus``: catalog names/aliases or calibration profiles, as for :func:`hwaware.latency`. ``estimator``: one for
    all GPUs, or ``None`` for each GPU's default (the table records which answered).

    Every pair of catalog GPUs in the table where one outclasses the other on paper
    (:meth:`~hwaware.hardware.GPUSpec.dominates`) and one estimator answered both is checked per model: an answer
    more than ``ORDER_SLACK`` x slower on the stronger GPU is an :class:`Inversion`, listed under the table and
    counted in one :class:`~hwaware.errors.ImplausibleEstimateWarning`, except where the weaker GPU's own answer
    already warns of that GPU (resperfnet-gpu's check of a Jetson against a measured one): listed after the others,
    marked, not counted again. Calibration profiles are left out: their device is the user's own, named by its closest
    catalog GPU.

    >>> import hwaware
    >>> t = hwaware.rank(["resnet18", "resnet50"], gpus=["agx", "orin"])
    >>> t.ms[1][0] > t.ms[0][0]  # resnet50 is slower than resnet18 on the AGX Xavier
    True
    """
    models = model_list(models, "rank")
    if isinstance(gpus, str) or not isinstance(gpus, Sequence):  # a name is a sequence too: one GPU per character
        raise InvalidArgumentError("rank takes a list of GPUs, e.g. hwaware.rank(['resnet50'], gpus=['agx', 'orin'])")
    if not models or not gpus:
        raise InvalidArgumentError("rank needs at least one model and one GPU, e.g. "
                                   "hwaware.rank(['resnet50'], gpus=['agx', 'orin'])")
    labels = _labels(models)
    # each GPU as it resolves: 't4' and 'T4' are one device; the estimator that answers (a profile's own, for one)
    resolved = [_resolved(g, precision, runtime, batch_size, estimator) for g in gpus]
    devices = [profile.name if profile else platform.device.name for platform, profile, _ in resolved]
    objects = [id(m) for m in models if not isinstance(m, str)]
    files = [os.path.realpath(m) for m in models if isinstance(m, str) and os.path.isfile(m)]  # cnn.onnx, ./cnn.onnx
    twice = [x for c in (Counter(labels), Counter(files), Counter(devices)) for x, n in c.items() if n > 1]
    if twice or len(set(objects)) < len(objects):
        what = f" ({', '.join(map(str, twice))} more than once)" if twice else " (one module object twice)"
        raise InvalidArgumentError(f"rank needs distinct models and distinct GPUs{what}; drop the repeated ones")
    columns, names = [], [name for _, _, name in resolved]
    for gpu in gpus:
        columns.append(estimate_many(models, gpu, batch_size=batch_size, input_size=input_size, precision=precision,
                                     runtime=runtime, estimator=estimator, progress=progress))
    gpu_labels = tuple(g if isinstance(g, str) else d for g, d in zip(gpus, devices))  # a GPUSpec by its name

    def shared(values: list[str]) -> str:
        return values[0] if len(set(values)) == 1 else ", ".join(f"{g} {v}" for g, v in zip(gpu_labels, values))

    precisions, runtimes = ([getattr(p, f) for p, _, _ in resolved] for f in ("precision", "runtime"))
    ms = [[e.total_ms for e in column] for column in columns]
    # a check per answer against every related GPU would multiply each prediction's cost; the table has them all
    inversions = _inversions(labels, gpu_labels, columns, [None if profile else p for p, profile, _ in resolved],
                             names)
    unwarned = [v for v in inversions if not v.warned]  # the others' estimates have warned already
    if unwarned:
        worst = unwarned[0]
        warnings.warn(f"GPU order: {_count(_pairs(unwarned))} slower on a GPU than on one it outclasses on paper "
                      f"(worst: {worst.model} {worst.ratio:.2f}x slower on {worst.gpu} than on {worst.below}"
                      f"{', its kernels' if worst.kernels else ''}); the "
                      "table and RankTable.inversions say which and why", ImplausibleEstimateWarning,
                      stacklevel=_user_stacklevel())
    return RankTable(tuple(labels), gpu_labels, tuple(zip(*ms)), tuple(names), batch_size, shared(precisions),
                     shared(runtimes), tuple(precisions), tuple(runtimes), inversions,
                     tuple(zip(*([e.interval_ms for e in column] for column in columns))))


def _resolved(gpu: str, precision: str | None, runtime: str | None, batch_size: int, estimator: str | None
              ) -> tuple[Platform, Profile | None, str]:
    """:func:`~hwaware.api.resolve` of one column; a GPU that cannot run the setting is named with the way out that a
    table of several has: leave it out (int8 on a Jetson Nano stopped the whole table)."""
    try:
        return resolve(gpu, precision=precision, runtime=runtime, batch_size=batch_size, estimator=estimator)
    except InvalidArgumentError as exc:
        exc.args = (f"{exc}; or leave {gpu} out of the GPUs",)  # its class kept for callers
        raise


def _inversions(models: Sequence[str], gpus: Sequence[str], columns: Sequence[Sequence[Estimate]],
                platforms: Sequence[Platform | None], estimators: Sequence[str]) -> tuple[Inversion, ...]:
    """Every (model, GPU pair) answered against the datasheets' order, the unwarned first, each most inverted first
    (the table shows :data:`SHOWN` pairs, in the order of each pair's first): ``columns[j]`` are
    column ``j``'s estimates, ``platforms[j]`` its platform (None for a calibration profile's, left out),
    ``estimators[j]`` the estimator that answered it (two estimators are not compared). An answer whose weaker GPU's
    estimate already warns of the stronger one is marked ``warned`` (until 2026-12-06 it was left out, and the table
    then named no model for it: helper-139); a zero or non-finite one is left out."""
    found = []
    for j, k in permutations(range(len(gpus)), 2):
        a, b = platforms[j], platforms[k]
        if (a is None or b is None or not isinstance(a.device, GPUSpec) or not isinstance(b.device, GPUSpec)
                or estimators[j] != estimators[k] or not a.device.dominates(b.device, kernels=True)):
            continue
        kernels = not a.device.dominates(b.device)  # a discrete GPU over an SoC: the kernels' times
        for m, x, y in zip(models, columns[j], columns[k]):
            warned = any(w.startswith(order_warning_prefix(a.device.name)) for w in y.warnings)
            xs, ys = (x.exe_ms, y.exe_ms) if kernels else (x.total_ms, y.total_ms)
            if 0 < ys < math.inf and xs > ORDER_SLACK * ys:
                found.append(Inversion(m, gpus[j], gpus[k], xs, ys, kernels, warned))
    return tuple(sorted(found, key=lambda v: (v.warned, -v.ratio)))  # the unwarned first: the table shows them


def _pairs(inversions: Sequence[Inversion]) -> dict[tuple[str, str], list[Inversion]]:
    """The inversions per (GPU, GPU below) pair, in the order of each pair's first (:func:`_inversions`' order)."""
    pairs: dict[tuple[str, str], list[Inversion]] = {}
    for v in inversions:
        pairs.setdefault((v.gpu, v.below), []).append(v)
    return pairs


def _count(pairs: dict[tuple[str, str], list[Inversion]]) -> str:
    n, p = sum(map(len, pairs.values())), len(pairs)
    return f"{n} answer{'s' if n > 1 else ''} over {p} GPU pair{'s' if p > 1 else ''}"
