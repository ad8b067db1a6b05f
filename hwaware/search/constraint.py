"""Latency constraints for Optuna: predict a candidate's latency, record it on the trial, and tell
the sampler whether the candidate fits the budget (feasible when ``latency - budget <= 0``).

Two constraint APIs are supported:

* Optuna >= 5: :meth:`LatencyConstraint.__call__` calls ``trial.set_constraint(key, value)``;
  every sampler reads it, no sampler argument is needed.
* older Optuna (``constraints_func`` of TPE/NSGA-II/GP samplers, deprecated in 5): pass
  :func:`constraints_func`, which reads the value recorded as a user attribute (:func:`sampler_kwargs` gives what
  the installed Optuna needs; the CLI's sampler and ``examples/constrained_search.py`` use it).

"Predict, then prune before training": :meth:`LatencyConstraint.prune_if_infeasible` records the
constraint *before* raising ``optuna.TrialPruned``, so constraint-aware samplers still count the
pruned trial as infeasible and learn to avoid that region.

A budget in milliseconds binds only if it lies inside the space's predicted range, which depends on
the platform and the estimator: :meth:`LatencyConstraint.at_quantile` derives it from predictions of
random architectures instead of a hard-coded number.
"""
from __future__ import annotations

import math
import numbers
import random
import time
from typing import Any

import numpy as np

from hwaware.api import estimate, resolve
from hwaware.errors import InvalidArgumentError, checked_seed, positive_integer, positive_number
from hwaware.estimators.base import Estimate, get_estimator, list_estimators
from hwaware.graph.sources import InputSize, ModelLike
from hwaware.zoo.spaces import ModelSpace, get_space, list_spaces

ATTR = "hwaware"  # user-attribute prefix
_NO_INTERVAL = ("bound='high' (CLI: --bound high) needs a prediction interval, and {name} gives none on {gpu}: use "
                "bound='estimate' (--bound estimate), an estimator with intervals ({others}), or a calibration profile")


class LatencyConstraint:
    """A latency budget on one platform: ``gpu`` is a catalog GPU or a calibration profile's name or path
    (:func:`hwaware.calibrate`), ``batch_size``, ``precision`` and ``runtime`` as in :func:`hwaware.latency`.

    >>> import optuna
    >>> from hwaware.search import LatencyConstraint, get_space
    >>> space, budget = get_space("nb201"), LatencyConstraint(20.0, gpu="agx")
    >>> def objective(trial):
    ...     arch = space.sample(trial)
    ...     latency = budget(trial, space.build(arch), input_size=space.input_size(arch))
    ...     return latency
    >>> study = optuna.create_study()
    >>> study.optimize(objective, n_trials=2)
    >>> sorted(k for k in study.trials[0].user_attrs if k.startswith("hwaware_"))[:3]
    ['hwaware_bound', 'hwaware_budget_ms', 'hwaware_constraint']

    ``bound``: what must fit the budget, ``"estimate"`` (the predicted ms) or ``"high"``, the high end of the
    estimate's prediction interval (90 % nominal; :attr:`hwaware.Estimate.interval_ms`), for a deployment that must
    meet the budget whatever the prediction's error: a candidate is then feasible only where the pessimistic end
    fits. An estimator without intervals (the roofline, the CPU model) is refused for ``"high"``. Every trial records
    the interval (``hwaware_interval_ms``) either way, and the estimate's warnings (``hwaware_warnings``, per
    constraint key: an answer to check before trusting it; :attr:`hwaware.Estimate.warnings`). :func:`is_feasible`,
    :func:`constraints_func`, :meth:`at_quantile` and :mod:`hwaware.search.run`'s Pareto front, summary and figure
    follow the bound (the CLI: ``hwaware search --bound high``).
    """

    BOUNDS = ("estimate", "high")

    def __init__(self, budget_ms: float, gpu: str = "agx", *, batch_size: int = 1, precision: str | None = None,
                 runtime: str | None = None, estimator: str | None = None, key: str = "latency",
                 bound: str = "estimate") -> None:
        if not positive_number(budget_ms):
            raise InvalidArgumentError(f"budget_ms must be a positive number of milliseconds, got {budget_ms!r}")
        if bound not in self.BOUNDS:
            raise InvalidArgumentError(f"bound must be one of {', '.join(map(repr, self.BOUNDS))} (what must fit the "
                                       f"budget: the estimate or its interval's high end), got {bound!r}")
        # a typo in the GPU (a catalog name or a calibration profile) or the estimator, or a profile calibrated for
        # another runtime or precision, fails here, not inside the first trial (Optuna would log a traceback)
        platform, profile, name = resolve(gpu, precision=precision, runtime=runtime, batch_size=batch_size,
                                          estimator=estimator)
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(f"key must be a non-empty name for the constraint, got {key!r}")
        if not get_estimator(name).supports(platform):
            raise InvalidArgumentError(f"estimator {name!r} does not predict {platform.device.name} "
                                       f"({platform.runtime}, {platform.precision}, batch {batch_size}); leave "
                                       "estimator out for the platform's default (`hwaware estimators` lists them)")
        if bound == "high" and profile is None and not get_estimator(name).intervals:
            others = ", ".join(n for n in list_estimators()
                               if get_estimator(n).intervals and get_estimator(n).supports(platform))
            raise InvalidArgumentError(_NO_INTERVAL.format(name=name, gpu=platform.device.name,
                                                           others=others or f"none on {platform.device.name}"))
        self.budget_ms = float(budget_ms)
        self.gpu = gpu
        # for messages: a spec's repr is long, and a Profile object is its own device, not its base GPU
        self._gpu_name = gpu if isinstance(gpu, str) else profile.name if profile else platform.device.name
        self.batch_size = batch_size
        self.precision = platform.precision  # as resolved: a profile's own where none was given
        self.runtime = platform.runtime
        self.estimator = estimator
        self.key = key
        self.bound = bound

    def __repr__(self) -> str:  # the budget a quantile chose, and the platform it binds on
        return (f"LatencyConstraint({self.budget_ms:.4g} ms, gpu={self._gpu_name!r}, batch_size={self.batch_size}, "
                f"precision={self.precision!r}, runtime={self.runtime!r}, estimator={self.estimator!r}, "
                f"key={self.key!r}, bound={self.bound!r})")

    @classmethod
    def at_quantile(cls, space: ModelSpace | str, quantile: float = 0.5, gpu: str = "agx", *, samples: int = 20,
                    seed: int = 0, **kwargs: Any) -> LatencyConstraint:
        """A budget that binds: the ``quantile`` of the predicted latency of ``samples`` random
        architectures of ``space`` (0.5: about half of the space fits), of the intervals' high ends with
        ``bound="high"``. ``kwargs`` as for the constructor.

        >>> c = LatencyConstraint.at_quantile("nb201", 0.5, gpu="agx", samples=4)
        >>> c.budget_ms > 0
        True
        """
        if not isinstance(quantile, numbers.Real) or isinstance(quantile, bool) or not 0 < quantile <= 1:
            raise InvalidArgumentError(f"the budget quantile must be in (0, 1], e.g. 0.5 for the median; got {quantile!r}")
        if not positive_integer(samples):
            raise InvalidArgumentError(f"samples must be a positive number of architectures, got {samples!r}")
        space = get_space(space) if isinstance(space, str) else space
        if not isinstance(space, ModelSpace):
            raise InvalidArgumentError(f"space: a space name ({', '.join(list_spaces())}) or a ModelSpace, got "
                                       f"{type(space).__name__}")
        probe = cls(1.0, gpu, **kwargs)  # any budget: only its platform is used
        rng = random.Random(checked_seed(seed))
        predicted = []
        for _ in range(samples):
            arch = space.random_arch(rng)
            est = probe.estimate(space.graph(arch, batch_size=probe.batch_size, precision=probe.precision))
            predicted.append(probe.judged_ms(est))
        return cls(float(np.quantile(predicted, quantile)), gpu, **kwargs)

    def estimate(self, model: ModelLike, *, input_size: InputSize = None) -> Estimate:
        """The prediction for ``model`` on this constraint's platform (nothing recorded)."""
        return estimate(model, self.gpu, batch_size=self.batch_size, input_size=input_size, precision=self.precision,
                        runtime=self.runtime, estimator=self.estimator)

    def judged_ms(self, est: Estimate) -> float:
        """What of ``est`` must fit the budget: the estimate, or its interval's high end (``bound="high"``)."""
        if self.bound == "high" and est.interval_ms is None:  # an estimator whose class claims intervals it lacks
            raise InvalidArgumentError(_NO_INTERVAL.format(name=est.estimator, gpu=self._gpu_name,
                                                           others="`hwaware estimators`"))
        return est.total_ms if self.bound == "estimate" else est.interval_ms[1]

    def __call__(self, trial: Any, model: ModelLike, *, input_size: InputSize = None) -> float:
        """Predict ``model``'s latency, record it and its breakdown on ``trial``, set the constraint;
        returns the predicted milliseconds. Once per trial and key (a second constraint with another ``key``, e.g. a
        second GPU, sets its own constraint; the recorded breakdown is then the last call's)."""
        from optuna.trial import FrozenTrial

        _check_trial(trial)  # before the prediction, not after it when the first attribute is set
        # a study's finished trial has set_user_attr, but what it sets is stored nowhere; one made with
        # optuna.trial.create_trial (number -1) keeps it until study.add_trial
        if isinstance(trial, FrozenTrial) and trial.number >= 0:
            raise InvalidArgumentError("a trial already in a study (study.trials[i]) keeps no new attributes: call "
                                       "the constraint inside the objective, on the trial Optuna passes it")
        keys = list(trial.user_attrs.get(f"{ATTR}_constraint_keys", []))
        if self.key in keys:  # Optuna keeps a key's first value, while the attributes below would take the second's
            raise InvalidArgumentError(f"this trial already has the constraint {self.key!r}: constrain one model per "
                                       "trial, or give each constraint its own key=")
        t0 = time.perf_counter()
        est = self.estimate(model, input_size=input_size)
        value = self.judged_ms(est) - self.budget_ms
        by_kind: dict[str, float] = {}
        for row in est.layers:
            by_kind[row.kind] = by_kind.get(row.kind, 0.0) + row.ms
        attrs = {"latency_ms": est.total_ms, "pre_ms": est.pre_ms, "exe_ms": est.exe_ms, "post_ms": est.post_ms,
                 "budget_ms": self.budget_ms, "constraint": value, "bound": self.bound,
                 "interval_ms": list(est.interval_ms) if est.interval_ms is not None else None,
                 "gpu": est.platform.device.name,
                 "estimator": f"{est.estimator} {est.estimator_version}", "ms_by_kind": by_kind,
                 "unknown_ops": est.unknown_ops, "predict_s": time.perf_counter() - t0,
                 # per key (a second GPU's constraint adds its own): which platform warned stays visible
                 "warnings": {**trial.user_attrs.get(f"{ATTR}_warnings", {}), self.key: list(est.warnings)}}
        for k, v in attrs.items():
            trial.set_user_attr(f"{ATTR}_{k}", v)
        trial.set_user_attr(f"{ATTR}_constraint_keys", [*keys, self.key])
        # per key: the attribute "constraint" above is the last call's
        trial.set_user_attr(f"{ATTR}_constraints", {**trial.user_attrs.get(f"{ATTR}_constraints", {}), self.key: value})
        if hasattr(trial, "set_constraint"):  # Optuna >= 5
            trial.set_constraint(self.key, value)
        return est.total_ms

    def prune_if_infeasible(self, trial: Any, model: ModelLike, *, input_size: InputSize = None) -> float:
        """Predict and record (see :meth:`__call__`); raise ``optuna.TrialPruned`` when over budget (the estimate,
        or its interval's high end with ``bound="high"``)."""
        import optuna

        latency = self(trial, model, input_size=input_size)
        over = trial.user_attrs[f"{ATTR}_constraints"][self.key]
        if over > 0:
            what = "predicted" if self.bound == "estimate" else "interval's high end"
            raise optuna.TrialPruned(f"{what} {self.budget_ms + over:.2f} ms > budget {self.budget_ms:.2f} ms on "
                                     f"{self._gpu_name}")
        return latency


def constraints_func(trial: Any) -> list[float]:
    """For a sampler's ``constraints_func`` (Optuna < 5): the value :class:`LatencyConstraint` recorded, the largest
    over its keys where several constrained the trial (one number per trial, as the sampler needs the same count on
    every trial: feasible when every key is). A trial that failed before any prediction is infeasible.

    >>> import optuna
    >>> trial = optuna.create_study().ask()
    >>> ms = LatencyConstraint(5.0, gpu="agx")(trial, "resnet18")
    >>> constraints_func(trial) == [ms - 5.0]
    True
    """
    _check_trial(trial, "constraints_func(trial) as the sampler does, on a trial the constraint recorded")
    per_key = trial.user_attrs.get(f"{ATTR}_constraints") or {"": trial.user_attrs.get(f"{ATTR}_constraint", math.inf)}
    return [max(map(float, per_key.values()))]


def sampler_kwargs() -> dict[str, Any]:
    """What a constraint-aware sampler needs to read :class:`LatencyConstraint`: nothing on Optuna >= 5,
    ``constraints_func`` before it, so ``TPESampler(**sampler_kwargs())`` is constrained on both.

    >>> import optuna
    >>> sampler = optuna.samplers.TPESampler(seed=0, **sampler_kwargs())
    """
    from optuna.trial import Trial

    return {} if hasattr(Trial, "set_constraint") else {"constraints_func": constraints_func}


def is_feasible(trial: Any) -> bool:
    """Whether every constraint a trial recorded is met (Optuna >= 5: its ``constraints``; else
    :func:`constraints_func`'s value); a trial never constrained is not.

    >>> import optuna
    >>> study = optuna.create_study()
    >>> trial = study.ask()
    >>> _ = LatencyConstraint(1e4, gpu="agx")(trial, "resnet18")
    >>> is_feasible(trial)
    True
    """
    _check_trial(trial, "is_feasible(trial) on a trial the constraint recorded, e.g. one of study.trials")
    values = list(getattr(trial, "constraints", {}).values()) or constraints_func(trial)
    return all(v <= 0 for v in values)


def _check_trial(trial: Any, call: str = "the constraint as constraint(trial, model) inside the objective") -> None:
    if not hasattr(trial, "set_user_attr") or not hasattr(trial, "user_attrs"):
        raise InvalidArgumentError(f"expected an Optuna trial, got {type(trial).__name__}: call {call}")
