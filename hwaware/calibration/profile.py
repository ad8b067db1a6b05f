"""Few-shot calibration: a handful of whole-network measurements of your own device become a profile.

A profile corrects a base GPU's zero-shot estimate with two or three numbers fitted on your measurements, layer by
layer. Every layer's predicted time ``t`` has a host share ``s`` (the part of it the host's dispatch decides, which
the estimator reports as :attr:`~hwaware.estimators.base.LayerEstimate.host_share`; 0 where it reports none). The
profile has one of these forms (:data:`FORMS`):

* ``scale, kernel``: ``t' = scale * t + overhead_ms_per_kernel``, the per-call time scaled too;
* ``device, host``: ``t' = t * scale^(1 - s) * host_scale^s``, the per-call time times ``host_scale``: one factor for
  the device's kernels (clocks under your power mode, another cuDNN or TensorRT), one for the host around them (your
  CPU and driver). It is the estimator's own split of a layer, so a host that dispatches faster does not shorten
  layers whose kernels hide the dispatch (the ``scale, kernel`` form subtracts its per-kernel term from those too:
  on the AGX Xavier's TensorRT column of the leave-one-GPU-out run that made 10 measurements worse than none);
* either with ``+ ms_per_gmac * GMACs``: corrects the device's compute rate where the model, trained on other GPUs,
  mis-ranks compute-bound networks (large batches);
* either with ``+ overhead_ms_per_call`` (:data:`CALL_FORMS`, from 2026-12-06): a constant per forward pass, at
  least 0, that the model's per-call time does not scale to: what a timing harness adds around the network (a
  synchronisation; an input copy, which is constant only at the measured batch and input size) or a runtime's
  per-call cost the model answers near 0 (TensorRT on a Jetson held out of its training: 0.003 ms on the AGX Xavier's
  leave-one-GPU-out fold). ``CALL_FORMS_RULE`` (scripts/train_gpu.py) added them to :data:`FORMS`, declared before
  any figure of them: 10-shot profiles on GPUs held out of training were closer with them (mean |log| 0.0316
  against 0.0323 over 42 columns) and one more column met 12 % (``python scripts/train_gpu.py call-forms``).

The fit minimises squared *relative* error of the totals, each layer corrected as your estimates will be (at least 0
and the least time its arithmetic or bytes allow, from version 8.2), with a weak ridge pull towards no correction, so
a few samples cannot produce a wild profile. The form is chosen by the leave-one-out error of your measurements (a rule
that reads nothing but them; the three-number forms need at least :data:`MIN_FOR_THREE` measurements; on a tie, within
a relative :data:`TIE`, the form listed first). The interval is the range of the chosen form's leave-one-out residuals
(chosen on the same residuals, so optimistic: ten measurements' extremes hold a next network at best 9 times in 11, and
only if it is like them), widened to contain the estimator's own 10-shot interval where it measured one on GPUs held
out of its training (resperfnet-gpu: meta.json's ``calibrated``; from 2026-12-05, ``PROFILE_INTERVAL_RULE`` in
scripts/train_gpu.py). At a batch outside the measurements' (format 6 records them) the answer warns and the interval
is widened to the estimate's own, where the estimator gives one; so too at an input size outside theirs (format 9) where
the profile adds a per-call term, which was fitted at their sizes, and for a profile of fewer networks than the
held-out 10-shot figures measured (its error was never measured), which a note says.

A profile is a small JSON file. Pass its path (or, once saved with :func:`save_profile`, its name) wherever a
GPU name goes: ``hwaware.latency(model, gpu="my-orin.json")``, the CLI's ``--gpu``, the Optuna constraint (in Python,
the :class:`Profile` itself too).

>>> import numpy as np
>>> from hwaware.calibration import Breakdown, fit_profile
>>> nets = [Breakdown(0.1, np.full(n, 0.05), np.full(n, 0.5), np.full(n, 1e6)) for n in (100, 150, 300)]
>>> p = fit_profile("xavier-nx", nets, [6.0, 9.0, 18.0], name="nx-15w")
>>> p.apply(nets[0]) > nets[0].total_ms
True
"""
from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

from hwaware.calibration.folder import profile_dir
from hwaware.errors import InvalidArgumentError, UnknownGPUError
from hwaware.estimators.base import (CPU_BATCH_NOTE_LEAD, HOST_GUESS_WARNING, HOST_NOTE, INT8_TRT_NOTE, INTERVAL_NOTE,
                                    JETSON_TRT_NOTE, NO_INTERVAL_NOTE, OUTSIDE_INTERVAL_NOTE, REGIME_NOTES,
                                    UNMEASURED_JETSON_NOTE, Estimate)
from hwaware.hardware.catalog import get_device

# pull towards no correction, worth about a twentieth of one measurement: it steadies two or three samples
# and fades as measurements accumulate
RIDGE = 0.05
LINEAR_FORMS: tuple[str, ...] = ("scale, kernel", "scale, kernel, gmac")  # profiles before 2026-11-30 (version 1)
# before 2026-12-06 (CALL_FORMS_RULE's 'without')
FORMS_BEFORE_CALL: tuple[str, ...] = (*LINEAR_FORMS, "device, host", "device, host, gmac")
CALL_FORMS: tuple[str, ...] = ("scale, kernel, call", "device, host, call")  # with a constant per call
FORMS: tuple[str, ...] = FORMS_BEFORE_CALL + CALL_FORMS
MIN_FOR_THREE = 5  # three numbers from fewer measurements would fit noise
# leave-one-out errors this close (relative) are one: a bounded fit ends within ~1e-10 of its form without the term
TIE = 1e-6
# The shots of every held-out few-shot figure and of the model's 10-shot interval (evaluation.splits.ten_shots): a
# profile from fewer networks has no measured error, which `hwaware calibrate` says
TEN_SHOTS = 10
# An assumption, not a measurement: a device whose measurements sit further than this from its base GPU's predictions
# (median ratio) is another device or timed in other units (seconds or microseconds are 1000x off)
MAX_MEDIAN_RATIO = 50.0
# Also an assumption: one measurement further than this from the measurements' median ratio (measured / predicted)
# is a slip (units, another device's or batch's row), not a network the model mis-ranks; the widest zero-shot interval
# the model states, an unmeasured Jetson's TensorRT x0.39-x10.43 (meta.json), spans 27x end to end
MAX_ROW_RATIO = 30.0
FACTOR_RANGE = (1e-3, 1e3)  # a fitted factor outside it fits no device (the fit refuses it, a file cannot hold it)
# Assumptions too, the additive terms' counterparts: 0.1 s per kernel launch, 1 s per GMAC (2 GFLOP/s, slower
# than any device a profile corrects), or 1 s per call, describes no device
MAX_TERM_MS = {"overhead_ms_per_kernel": 100.0, "ms_per_gmac": 1e3, "overhead_ms_per_call": 1e3}
# A per-GMAC term that moves an answer by more than this share, on a network of more than twice (or under half) the
# GMACs of every measured one, is extrapolated: the answer warns (an assumption; the term was fitted on its range)
GMAC_TERM_SHARE = 0.2
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# profile files: 1 had the linear forms only and no format field; 2 no base; 3 no held_out_interval; 4 no gmac_range;
# 5 no batch_range; 6 no n_networks; 7 no overhead_ms_per_call; 8 no input_range
FORMAT = 9


@dataclass(frozen=True)
class Breakdown:
    """What a profile corrects of one network's zero-shot estimate: the per-call ms, and per kernel layer its ms, host
    share and MACs (``counts``: how often each layer occurs; default once; ``floor_ms``: the least time physics allows
    it, :attr:`~hwaware.estimators.base.LayerEstimate.floor_ms`; default none)."""

    call_ms: float
    layer_ms: np.ndarray
    host_share: np.ndarray
    macs: np.ndarray
    counts: np.ndarray | None = None
    floor_ms: np.ndarray | None = None

    @staticmethod
    def kernels(est: Estimate) -> list[int]:
        """The indices of ``est``'s layers that take time: the ones a breakdown holds, in order."""
        return [i for i, r in enumerate(est.layers) if r.ms > 0]

    @classmethod
    def of(cls, est: Estimate) -> Breakdown:
        rows = [est.layers[i] for i in cls.kernels(est)]
        return cls(est.pre_ms + est.post_ms, np.array([r.ms for r in rows]), np.array([r.host_share for r in rows]),
                   np.array([r.macs for r in rows], dtype=float), floor_ms=np.array([r.floor_ms for r in rows]))

    @property
    def weights(self) -> np.ndarray:
        return np.ones(len(self.layer_ms)) if self.counts is None else np.asarray(self.counts, dtype=float)

    @property
    def total_ms(self) -> float:
        return self.call_ms + float(self.weights @ self.layer_ms)

    @property
    def gmacs(self) -> float:
        """The network's GMACs (what a per-GMAC term multiplies)."""
        return float(self.weights @ self.macs) / 1e9


@dataclass(frozen=True)
class Profile:
    """A calibrated device: a catalog GPU plus a correction of one estimator's predictions (module docstring)."""

    name: str
    gpu: str  # catalog name of the base GPU
    runtime: str
    precision: str
    scale: float  # the device's kernels (the whole layer in the scale-and-kernel forms)
    overhead_ms_per_kernel: float
    n_samples: int
    log_residual_interval: tuple[float, float]  # leave-one-out residual range of log(true / calibrated)
    estimator: str = "resperfnet-gpu"
    fit_mape: float = 0.0
    notes: tuple[str, ...] = field(default=())
    ms_per_gmac: float = 0.0  # 0 unless the form has the term
    host_scale: float | None = None  # the host-side part and the per-call time; None: ``scale`` (the linear forms)
    terms: str = "scale, kernel"  # the form, one of FORMS
    loo_mape: float = 0.0  # the chosen form's leave-one-out mean |error| on the measurements
    format: int = FORMAT  # of the file: a later hwaware may add fields, and an earlier one then says so
    # the model its correction was fitted on (:meth:`hwaware.estimators.Estimator.model_id`: estimator, version, GPU
    # spec, weights); "" in files before format 3
    base: str = ""
    # that model's log(true / calibrated) interval on held-out GPUs after 10 shots
    # (:meth:`hwaware.estimators.Estimator.calibrated_interval`), which :attr:`interval` contains; None: none measured
    # (files before format 4 too). As recorded at the fit: hwaware.estimate widens with the model's current one
    held_out_interval: tuple[float, float] | None = None
    # the measured networks' GMACs (at their batch), lowest and highest: where the per-GMAC term was fitted; None in
    # files before format 5
    gmac_range: tuple[float, float] | None = None
    # the measurements' batch sizes, lowest and highest; None where not given (files before format 6 too)
    batch_range: tuple[int, int] | None = None
    # the networks measured (one at several batches is one; the leave-one-out rule leaves each out whole); None in
    # files before format 7
    n_networks: int | None = None
    # ms added once per forward pass (the pre phase), at least 0: 0 unless the form has the term (files before format 8)
    overhead_ms_per_call: float = 0.0
    # the measurements' input sizes as values per image (3x224x224: 150528), lowest and highest: where the per-call
    # term was fitted; None where not given (files before format 9 too)
    input_range: tuple[int, int] | None = None

    @property
    def interval(self) -> tuple[float, float]:
        """The interval of log(true / calibrated) an estimate carries: the leave-one-out range, widened to contain
        :attr:`held_out_interval`."""
        lo, hi = self.log_residual_interval
        if self.held_out_interval is None:
            return lo, hi
        return min(lo, self.held_out_interval[0]), max(hi, self.held_out_interval[1])

    @property
    def host(self) -> float:
        return self.scale if self.host_scale is None else self.host_scale

    def _raw_ms(self, ms: np.ndarray, host_share: np.ndarray, macs: np.ndarray) -> np.ndarray:
        share = np.clip(host_share, 0.0, 1.0)
        factor = self.scale if self.host_scale is None else self.scale ** (1 - share) * self.host_scale ** share
        return factor * ms + self.overhead_ms_per_kernel + self.ms_per_gmac * macs / 1e9

    def layer_ms(self, ms: np.ndarray, host_share: np.ndarray, macs: np.ndarray, floor_ms: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated times of kernel layers with zero-shot times ``ms``, host shares and ``macs``, and which were
        clamped: a negative per-kernel term (the zero-shot overhead was too high) never makes a layer negative, nor a
        device factor below 1 one faster than its ``floor_ms`` (the base GPU's datasheet bound, which its power modes
        only lower)."""
        raw = self._raw_ms(ms, host_share, macs)
        least = 0.0 if floor_ms is None else np.asarray(floor_ms, dtype=float)
        # a layer the estimator raised to its floor sits there within float32 rounding: not counted as clamped
        return np.maximum(raw, least), raw < least * (1 - 1e-6)

    def call_phases_ms(self, call_ms: float | np.ndarray) -> float | np.ndarray:
        """The calibrated per-call time of networks whose zero-shot one (pre and post phases) is ``call_ms``: the host
        factor's share of it, plus the per-call term."""
        return self.host * call_ms + self.overhead_ms_per_call

    def apply(self, net: Breakdown) -> float:
        """The calibrated total of one network (what :meth:`apply_estimate` gives for its estimate)."""
        ms, _ = self.layer_ms(net.layer_ms, net.host_share, net.macs, net.floor_ms)
        return max(self.call_phases_ms(net.call_ms) + float(net.weights @ ms), 1e-6)

    def describe(self) -> str:
        if self.host_scale is None:
            text = f"x{self.scale:.3f} {self.overhead_ms_per_kernel * 1e3:+.1f} us per kernel"
        else:
            text = f"device x{self.scale:.3f}, host x{self.host_scale:.3f}"
        return (text + (f" {self.ms_per_gmac:+.4f} ms per GMAC" if self.ms_per_gmac else "")
                + (f" +{self.overhead_ms_per_call:.4f} ms per call" if self.overhead_ms_per_call >= 5e-5 else ""))

    def apply_estimate(self, est: Estimate, input_shape: Sequence[int] | None = None) -> Estimate:
        """``est`` (a zero-shot estimate on the base GPU) corrected by this profile layer by layer (a layer that a
        negative per-kernel term would take below 0 or its floor stays there, and the notes say how many), the
        per-call phases by the host factor, the pre phase plus the per-call term; the interval is :attr:`interval`,
        widened to ``est``'s own at an unmeasured batch, at an ``input_shape`` (batch first) unlike the measured ones'
        where a per-call term was fitted, and for a profile of fewer than :data:`TEN_SHOTS` networks."""
        kernels = Breakdown.kernels(est)
        net = Breakdown.of(est)
        ms, below = self.layer_ms(net.layer_ms, net.host_share, net.macs, net.floor_ms)
        clamped = int(below.sum())
        calibrated = dict(zip(kernels, ms.tolist()))
        layers = tuple(replace(r, ms=calibrated[i]) if i in calibrated else r for i, r in enumerate(est.layers))
        pre, post = self.call_phases_ms(est.pre_ms), self.host * est.post_ms  # the per-call term once, in pre
        total = max(pre + sum(r.ms for r in layers) + post, 1e-6)  # apply(Breakdown.of(est))
        lo, hi = self.interval
        widened = (lo, hi) != tuple(self.log_residual_interval)
        other_batch = self._other_batch(est.platform.batch_size, est.interval_ms is not None)
        other_input = self._other_input(input_shape, est.interval_ms is not None)
        few = self.few_networks()
        # the profile's residuals are CNNs' at its measured batches: outside those (a note or warning says so), or
        # from fewer networks than any measured error, the interval keeps what the model's own showed
        if (other_batch or other_input or few or any(n.startswith(OUTSIDE_INTERVAL_NOTE) for n in est.notes)
                ) and est.interval_ms:
            lo = min(lo, math.log(est.interval_ms[0] / est.total_ms))
            hi = max(hi, math.log(est.interval_ms[1] / est.total_ms))
        model_leads = (*REGIME_NOTES.values(), CPU_BATCH_NOTE_LEAD)  # notes that state the model's own error
        notes = (f"calibrated by profile {self.name!r} ({self.n_samples} measurements): {self.describe()} "
                 f"({len(kernels)} kernels); interval from its leave-one-out residuals"
                 + (", widened to contain the model's 10-shot interval on held-out GPUs" if widened else "")
                 + (", and to the model's own at this unmeasured batch" if other_batch and est.interval_ms else "")
                 + (", and to the model's own at this unmeasured input size" if other_input and est.interval_ms
                    else ""),
                 *([f"profile {self.name!r} was fitted on {self.n_networks} networks, fewer than the {TEN_SHOTS} "
                    "whose held-out error was measured: its own error is unmeasured"
                    + (", so its interval is widened to the model's own" if est.interval_ms else "")
                    + f" ({self.to_ten_shots()})"]
                   if few else []),
                 *([f"the profile would take {clamped} of {len(kernels)} layers below 0 or below the least time their "
                    "arithmetic or bytes allow on the base GPU: those stay at that bound (the profile was fitted on "
                    "whole-network totals)"] if clamped else []),
                 *([] if self.base else ["the profile does not record the model it was fitted on (a file written "
                                         "before format 3 has none): if hwaware or its weights changed since, "
                                         "re-run `hwaware calibrate` with the same measurements"]),
                 # the interval is the profile's now; host and engine costs were fitted on the user's own machine
                 *(f"the model before the profile: {n}" if n.startswith(model_leads) else n for n in est.notes
                   if INTERVAL_NOTE not in n and n not in (JETSON_TRT_NOTE, INT8_TRT_NOTE, NO_INTERVAL_NOTE)
                   and not n.startswith((HOST_NOTE, UNMEASURED_JETSON_NOTE))))
        return replace(est, total_ms=total, pre_ms=pre, exe_ms=total - pre - post, post_ms=post, layers=layers,
                       notes=notes, profile=self.name, interval_ms=(total * math.exp(lo), total * math.exp(hi)),
                       warnings=(*(w for w in est.warnings if not w.startswith(HOST_GUESS_WARNING)),
                                 *(self._extrapolated(net.gmacs, total)
                                   if self.ms_per_gmac else ()), *other_batch, *other_input))

    def few_networks(self) -> bool:
        """Whether the profile was fitted on fewer networks than the held-out 10-shot figures, which measured its
        model's calibrated error (a model without them, or a file that does not record the count, says nothing)."""
        return self.held_out_interval is not None and self.n_networks is not None and self.n_networks < TEN_SHOTS

    def to_ten_shots(self) -> str:
        """What a profile of :meth:`few_networks` lacks, in words."""
        more = TEN_SHOTS - (self.n_networks or 0)
        return f"{more} more network{'s' if more > 1 else ''} make{'' if more > 1 else 's'} it a {TEN_SHOTS}-shot one"

    def _other_input(self, input_shape: Sequence[int] | None, model_interval: bool) -> tuple[str, ...]:
        """The warning of an answer at an input size outside the measured ones where the profile adds a per-call
        term: what a timer adds around the network (a copy of the input, a synchronisation) was fitted at their
        sizes."""
        if self.input_range is None or input_shape is None or self.overhead_ms_per_call <= 0:
            return ()
        values = math.prod(input_shape[1:])
        if self.input_range[0] <= values <= self.input_range[1]:
            return ()
        shown = "x".join(map(str, input_shape[1:]))
        return (f"profile {self.name!r} extrapolates: its per-call term ({self.overhead_ms_per_call:+.4g} ms) was "
                f"fitted on inputs of {_span(*self.input_range)} values per image, this answer's is {shown} "
                f"({values}), {_widened(model_interval, 'inputs', 'size')}; add measurements at this input size to the "
                "profile (hwaware calibrate)",)

    def _other_batch(self, batch: int, model_interval: bool) -> tuple[str, ...]:
        """The warning of an answer at a batch outside the measured ones: a batch-1 profile scaled a compute-bound
        batch 256 by its host-bound factor (a T4's 459 ms against 670 uncalibrated), with its batch-1 interval.
        ``model_interval``: whether the estimate it corrects has an interval of its own to widen to."""
        if self.batch_range is None or self.batch_range[0] <= batch <= self.batch_range[1]:
            return ()
        return (f"profile {self.name!r} extrapolates: its measurements were at batch {_span(*self.batch_range)}, this "
                f"answer is at batch {batch}, {_widened(model_interval, 'batches', 'batch')}; add measurements at this "
                "batch to the profile (hwaware calibrate)",)

    def _extrapolated(self, gmacs: float, total_ms: float) -> tuple[str, ...]:
        """The warning of an answer whose per-GMAC term is more than :data:`GMAC_TERM_SHARE` of it on a network of
        ``gmacs`` outside (by 2x) the measured networks' range, where nothing checked the term (a file before format 5
        records no range: none warns)."""
        term = self.ms_per_gmac * gmacs  # before the layers' floors, which may hold back a negative one
        if self.gmac_range is None or abs(term) <= GMAC_TERM_SHARE * total_ms:
            return ()
        lo, hi = self.gmac_range
        if lo / 2 <= gmacs <= 2 * hi:
            return ()
        return (f"profile {self.name!r} extrapolates: its per-GMAC term ({self.ms_per_gmac:+.3g} ms per GMAC) comes to "
                f"{term:+.4g} ms here, at {gmacs:.4g} GMAC, where its measurements spanned {lo:.3g}-{hi:.3g} GMAC; add "
                "measurements near this size and batch to the profile (hwaware calibrate), or use the base GPU's "
                "answer",)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        try:
            d = json.loads(text)
            d["format"] = int(d.get("format", 1))
            if d["format"] > FORMAT:
                raise InvalidArgumentError(f"profile {d.get('name')!r} was written by a newer hwaware (format "
                                           f"{d['format']}, this one reads up to {FORMAT}); upgrade hwaware or re-run "
                                           "`hwaware calibrate`")
            d["log_residual_interval"] = tuple(d["log_residual_interval"])
            for k in ("held_out_interval", "gmac_range", "batch_range", "input_range"):
                if d.get(k) is not None:
                    d[k] = tuple(d[k])
            notes = d.get("notes", ())
            if not isinstance(notes, (list, tuple)) or not all(isinstance(n, str) for n in notes):
                raise TypeError(f"notes must be a list of texts, not {notes!r:.40}")
            d["notes"] = tuple(notes)
            # profiles saved before the forms were named: the per-GMAC term marked theirs
            d.setdefault("terms", LINEAR_FORMS[1] if d.get("ms_per_gmac") else LINEAR_FORMS[0])
            missing = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
                       and f.name not in d]
            if missing:
                raise KeyError(missing[0])
            p = cls(**d)
        except InvalidArgumentError:  # a ValueError too: said as it is, not as a malformed file
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            why = f"no {exc.args[0]!r} field" if isinstance(exc, KeyError) and exc.args else exc
            raise InvalidArgumentError(f"not an hwaware calibration profile ({why}); make one with `hwaware calibrate`"
                                       ) from exc
        factors = [p.scale] + ([] if p.host_scale is None else [p.host_scale])
        ranges = [r for r in (p.log_residual_interval, p.held_out_interval, p.gmac_range, p.batch_range,
                              p.input_range) if r is not None]
        terms = [*factors, p.overhead_ms_per_kernel, p.ms_per_gmac, p.overhead_ms_per_call,
                 *(v for r in ranges for v in r)]
        # an interval's bounds are log factors: one beyond FACTOR_RANGE holds no device (e^50 ms once printed)
        logs = [v for r in (p.log_residual_interval, p.held_out_interval) if r is not None for v in r]
        if (any(len(r) != 2 for r in ranges) or not all(_finite(v) for v in terms) or not p.terms_plausible()
                or p.format < 1 or not all(map(_plausible_log, logs))
                or any(r[0] > r[1] for r in ranges) or p.terms not in FORMS
                or any(getattr(p, k) and _third_term(p.terms) != t
                       for k, t in (("ms_per_gmac", "gmac"), ("overhead_ms_per_call", "call")))
                or any(r is not None and not all(type(v) is int and v >= 1 for v in r)
                       for r in (p.batch_range, p.input_range))
                or (p.n_networks is not None and not (type(p.n_networks) is int and 2 <= p.n_networks <= p.n_samples))):
            raise InvalidArgumentError(f"profile {p.name!r} holds impossible values (factors between "
                                       f"{FACTOR_RANGE[0]:g} and {FACTOR_RANGE[1]:g}, additive terms below "
                                       f"{MAX_TERM_MS['overhead_ms_per_kernel']:g} ms per kernel and "
                                       f"{MAX_TERM_MS['ms_per_gmac']:g} ms per GMAC, the per-call term from 0 to "
                                       f"{MAX_TERM_MS['overhead_ms_per_call']:g} ms, as a fit allows, every term "
                                       f"finite, its ranges two numbers low to high, its intervals' log factors "
                                       f"within the factors', its batches whole, its input sizes whole, at least 2 "
                                       f"networks and no more than measurements, its form one "
                                       f"of {list(FORMS)} and its per-GMAC or per-call term 0 unless the form "
                                       "has it); "
                                       "re-run `hwaware calibrate` rather than editing the file")
        return p

    def terms_plausible(self) -> bool:
        """Whether every fitted number could describe a device: factors within :data:`FACTOR_RANGE`, additive terms
        within :data:`MAX_TERM_MS`, the per-call term not negative (what a fit is refused beyond, and a file may not
        hold)."""
        return (all(_plausible(v) for v in (self.scale, self.host)) and self.overhead_ms_per_call >= 0
                and all(abs(getattr(self, k)) < v for k, v in MAX_TERM_MS.items()))


def _span(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _widened(model_interval: bool, measured: str, this: str) -> str:
    """What an extrapolating answer's interval is: the model's own, or (the model gives none) the measured ones'."""
    return ("so its interval is widened to the model's own" if model_interval else
            f"and its interval is its measured {measured}' (the model gives none): it says nothing of this {this}")


def _third_term(form: str) -> str | None:
    """A form's third term ("gmac" or "call"), None for the two-number forms."""
    parts = form.split(", ")
    return parts[2] if len(parts) > 2 else None


def _plausible(factor: float) -> bool:
    return FACTOR_RANGE[0] < factor < FACTOR_RANGE[1]


def _no_fit(gpu: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"the measurements do not fit {gpu}'s predictions ({why}): check that they are ms per "
                                "forward pass of the listed models at the stated batch, precision and runtime")


def _plausible_log(log_factor: float) -> bool:
    return _plausible(math.exp(min(log_factor, 700.0)))  # (no overflow)


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_profile_name(name: object) -> str:
    """``name`` if a profile may take it: letters, digits, ``.``, ``_``, ``-`` (no path, no ``.json``), and not a
    name a GPU argument already resolves to (a catalog GPU or alias, ``cpu``), which the profile would shadow."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(".json"):
        raise InvalidArgumentError(f"profile name {name!r}: use letters, digits, '.', '_' or '-' (not a path, not "
                                   "ending in .json), e.g. 'my-orin-15w'")
    try:
        taken = bool(get_device(name))  # a catalog GPU or alias, or a CPU target ('cpu', 'cpu-epyc-1t')
    except UnknownGPUError:
        taken = False
    if taken:
        raise InvalidArgumentError(f"profile name {name!r} already names a GPU of the catalog (or the CPU), which the "
                                   f"profile would replace wherever gpu={name!r} is passed; pick another, e.g. "
                                   f"'{name}-mine'")
    return name


class _Nets:
    """The measured networks' breakdowns as arrays, for fitting every form on any subset."""

    def __init__(self, nets: Sequence[Breakdown]) -> None:
        self.nets = list(nets)
        self.pred = np.array([n.total_ms for n in nets])
        self.kernels = np.array([n.weights.sum() for n in nets])
        self.gmacs = np.array([n.gmacs for n in nets])

    def _third(self, form: str, idx: np.ndarray) -> list[np.ndarray]:
        """What a three-number form's last coefficient multiplies on networks ``idx`` (GMACs, or 1 per call)."""
        third = _third_term(form)
        return [] if third is None else [self.gmacs[idx] if third == "gmac" else np.ones(len(idx))]

    def solve(self, form: str, true: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Coefficients of ``form`` fitted on networks ``idx``: (scale, per kernel[, per GMAC or per call]) for the
        linear forms, (log device, log host[, per GMAC or per call]) for the others. Rows ``calibrated / true = 1``,
        each network calibrated as a user's estimate is (:meth:`Profile.apply`: per layer, at least 0 and its floor),
        plus ridge rows pulling towards no correction: ``factor - 1`` for every factor (as the linear scale's), each
        additive term's pull scaled to its typical share of a measurement. The linear forms are solved exactly where
        no layer meets a clamp and the per-call term is not negative at the solution; otherwise, and for the others
        (started from the median ratio of measured to predicted), by nonlinear least squares (the per-call term
        bounded at 0)."""
        lam = math.sqrt(RIDGE)
        y = true[idx]
        extra = self._third(form, idx)
        if form.startswith("scale"):
            cols = np.column_stack([self.pred[idx], self.kernels[idx], *extra])
            ridge = np.diag([lam] + [lam * (float(np.median(cols[:, j] / y)) or 1.0) for j in range(1, cols.shape[1])])
            target = np.zeros(cols.shape[1])
            target[0] = lam
            a = np.vstack([cols / y[:, None], ridge])
            start = np.linalg.lstsq(a, np.concatenate([np.ones(len(y)), target]), rcond=None)[0]
            exact = self.profile(form, start)
            if exact.overhead_ms_per_call >= 0 and not any(
                    exact.layer_ms(n.layer_ms, n.host_share, n.macs, n.floor_ms)[1].any()
                    for n in (self.nets[i] for i in idx)):
                return start

            def pull(c: np.ndarray) -> np.ndarray:
                return ridge @ c - target
        else:
            t_pull = lam * (float(np.median(extra[0] / y)) or 1.0) if extra else 0.0
            start = np.zeros(2 + len(extra))
            start[:2] = math.log(float(np.median(y / np.maximum(self.pred[idx], 1e-9))))

            def pull(c: np.ndarray) -> np.ndarray:
                return np.concatenate([lam * np.expm1(c[:2]), [t_pull * c[2]] if len(c) > 2 else []])

        def residuals(c: np.ndarray) -> np.ndarray:
            fit = self.profile(form, c)
            return np.concatenate([np.array([fit.apply(self.nets[i]) for i in idx]) / y - 1.0, pull(c)])

        if _third_term(form) != "call":  # unbounded: Levenberg-Marquardt, as every form before the per-call ones
            return least_squares(residuals, start, method="lm").x
        low = np.full(len(start), -np.inf)
        low[2] = 0.0
        start[2] = max(start[2], 0.0)
        return least_squares(residuals, start, bounds=(low, np.inf), method="trf").x

    def profile(self, form: str, coef: np.ndarray) -> Profile:
        """The correction that ``coef`` of ``form`` describes, as a (nameless) profile: what a user gets, per layer
        and clamped."""
        linear = form.startswith("scale")
        third = {_third_term(form): float(coef[2])} if len(coef) > 2 else {}
        return Profile(name="", gpu="", runtime="", precision="", scale=float(coef[0] if linear else math.exp(coef[0])),
                       overhead_ms_per_kernel=float(coef[1]) if linear else 0.0, n_samples=0,
                       log_residual_interval=(0.0, 0.0), ms_per_gmac=third.get("gmac", 0.0),
                       host_scale=None if linear else float(math.exp(coef[1])), terms=form,
                       overhead_ms_per_call=third.get("call", 0.0))

    def loo(self, form: str, true: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Leave-one-group-out log residuals log(true / calibrated) of ``form``, each measurement calibrated as a
        user's estimate is (:meth:`Profile.apply`: per layer, clamped) by a fit without its group's rows."""
        every = np.arange(len(true))
        fits = [self.profile(form, self.solve(form, true, every[groups != groups[i]])) for i in every]
        return np.array([math.log(true[i] / fit.apply(self.nets[i])) for i, fit in zip(every, fits)])


def check_forms(forms: str | Sequence[str]) -> tuple[str, ...]:
    """``forms`` (one form's name, or several) as a tuple, if every one is a form of :data:`FORMS`."""
    forms = (forms,) if isinstance(forms, str) else tuple(forms) if isinstance(forms, Iterable) else (forms,)
    unknown = [f for f in forms if f not in FORMS]
    if unknown or not forms:
        raise InvalidArgumentError(f"{f'unknown profile forms {unknown}' if forms else 'no profile forms given'}; "
                                   f"choose from {list(FORMS)}")
    return forms


def fit_profile(gpu: str, nets: Sequence[Breakdown], measured_ms: Sequence[float], *, name: str,
                runtime: str = "pytorch", precision: str = "fp32", estimator: str = "resperfnet-gpu",
                forms: Sequence[str] = FORMS, base: str = "", held_out_interval: tuple[float, float] | None = None,
                groups: Sequence[Hashable] | None = None, batches: Sequence[int] | None = None,
                inputs: Sequence[int] | None = None) -> Profile:
    """Fit a profile from the zero-shot breakdown of each measured network (:meth:`Breakdown.of` its estimate at the
    measured batch) and your measurements, choosing among ``forms`` by leave-one-out error; ``base``: the model id
    of the estimator that gave the breakdowns (:meth:`hwaware.estimators.Estimator.model_id`), ``held_out_interval``
    its 10-shot interval on held-out GPUs (:meth:`hwaware.estimators.Estimator.calibrated_interval`), which the
    profile's interval is widened to contain. ``groups``: the network of each measurement (default: each its own),
    which the leave-out rule leaves out together (one network at two batches is not two networks); ``batches``: the
    batch of each measurement (default: not recorded), outside whose range an answer warns; ``inputs``: the values
    per image of each measurement's input (default: not recorded), outside whose range an answer with a per-call term
    warns."""
    true = np.asarray(measured_ms, dtype=float)
    keys = range(len(true)) if groups is None else [str(g) for g in groups]
    ids = np.unique(np.asarray(list(keys)), return_inverse=True)[1]
    n_nets = len(set(ids.tolist()))
    if len(nets) != len(true) or len(ids) != len(true) or n_nets < 2:
        raise InvalidArgumentError(f"calibration needs at least 2 measured networks, got {n_nets}; "
                                   "measure more with `hwaware collect networks`")
    if (true <= 0).any() or not np.isfinite(true).all():
        raise InvalidArgumentError("measured latencies must be positive milliseconds")
    forms = check_forms(forms)
    data = _Nets(nets)
    ratio = float(np.median(true / np.maximum(data.pred, 1e-9)))
    if not 1 / MAX_MEDIAN_RATIO < ratio < MAX_MEDIAN_RATIO:
        raise InvalidArgumentError(f"the measurements do not fit {gpu}'s predictions: they are {ratio:.3g}x them "
                                   "(median); give milliseconds (not seconds or microseconds) per forward pass of the "
                                   "listed models at the stated batch, precision and runtime, on the GPU the device is")
    # the three-number forms need MIN_FOR_THREE networks, unless only such forms were asked for
    tried = [f for f in forms if _third_term(f) is None or n_nets >= MIN_FOR_THREE] or list(forms)
    try:
        loo = {f: data.loo(f, true, ids) for f in tried}
        err = {f: float(np.mean(np.abs(np.expm1(loo[f])))) for f in tried}
        form = tried[0]
        for f in tried[1:]:  # a later form only if better beyond float noise (a per-call term held at 0 is a tie)
            if err[f] < err[form] * (1 - TIE):
                form = f
        fit = data.profile(form, data.solve(form, true, np.arange(len(true))))
    except (OverflowError, FloatingPointError) as exc:  # a factor beyond floats: no profile describes them
        raise _no_fit(gpu, f"the fit diverged: {exc}") from exc
    fitted = np.array([fit.apply(n) for n in nets])
    fit_mape = float(np.mean(np.abs(fitted - true) / true))
    if not fit.terms_plausible() or fit_mape > 0.5:
        raise _no_fit(gpu, f"{fit.describe()}, fit error {fit_mape:.0%}")
    lo, hi = (min(loo[form]), max(loo[form])) if len(true) < 20 else tuple(np.quantile(loo[form], [0.05, 0.95]))
    if not (_plausible_log(lo) and _plausible_log(hi)):  # a file could not hold it
        raise _no_fit(gpu, f"left out in turn, some are {math.exp(max(-lo, hi)):.3g}x their fit")
    return replace(fit, name=name, gpu=get_device(gpu).name, runtime=runtime, precision=precision, n_samples=len(true),
                   log_residual_interval=(float(lo), float(hi)), estimator=estimator, fit_mape=fit_mape,
                   loo_mape=float(np.mean(np.abs(np.expm1(loo[form])))), base=base,
                   held_out_interval=None if held_out_interval is None else tuple(map(float, held_out_interval)),
                   gmac_range=(float(data.gmacs.min()), float(data.gmacs.max())),
                   batch_range=None if batches is None else (int(min(batches)), int(max(batches))), n_networks=n_nets,
                   input_range=None if inputs is None else (int(min(inputs)), int(max(inputs))))


def check_rows(nets: Sequence[Breakdown], measured_ms: Sequence[float], labels: Sequence[str]) -> None:
    """Refuse, by its label, the measurement furthest from the median ratio of measured to predicted if it is
    :data:`MAX_ROW_RATIO` or more from it (two measurements: if they are that far apart). :func:`hwaware.calibrate`
    checks a user's rows so before :func:`fit_profile`, whose median check passes one such row and whose leave-one-out
    interval it then widens to hundreds of times (beyond :data:`FACTOR_RANGE`, a refusal that names no row)."""
    if len(measured_ms) < 2:
        return
    ratios = np.asarray(measured_ms, dtype=float) / np.maximum(_Nets(nets).pred, 1e-9)
    median = float(np.median(ratios))
    far = np.abs(np.log(ratios / median)) >= math.log(MAX_ROW_RATIO) / 2  # half the gap from the middle
    if max(ratios) / min(ratios) >= MAX_ROW_RATIO and (len(ratios) == 2 or 2 * far.sum() >= len(ratios)):
        # two rows, or groups as large on either side: which is the slip, nothing says
        raise InvalidArgumentError(f"the measurements disagree {max(ratios) / min(ratios):.3g}x against their "
                                   f"predictions ({labels[int(np.argmin(ratios))]} against "
                                   f"{labels[int(np.argmax(ratios))]}): some are a slip of units (seconds, "
                                   "microseconds) or rows of another device, batch or precision; correct them")
    i = int(np.argmax(np.abs(np.log(ratios / median))))  # the row furthest from the rest: the one to name
    if not 1 / MAX_ROW_RATIO < ratios[i] / median < MAX_ROW_RATIO:
        raise InvalidArgumentError(f"{labels[i]}: {measured_ms[i]:.4g} ms is {ratios[i]:.3g}x its prediction where "
                                   f"the measurements' median is {median:.3g}x: a slip of units (seconds, "
                                   "microseconds) or a row of another device, batch or precision? Correct or remove "
                                   "it")


def saved_profile(path: Path) -> Profile | str | None:
    """What a profile file holds before it is replaced: the profile, ``"not a readable profile"``, or None (no file)."""
    if not path.is_file():
        return None
    try:
        return Profile.from_json(path.read_bytes().decode("utf-8"))
    except (InvalidArgumentError, UnicodeDecodeError, OSError):
        return "not a readable profile"


def profile_path(name: str, path: str | Path | None = None) -> Path:
    """Where :func:`save_profile` writes the profile ``name``: ``path`` (a ``.json`` file in an existing folder: a GPU
    argument is read as a profile's path only so), or under the name in :func:`profile_dir`."""
    if path is None:
        return profile_dir() / f"{check_profile_name(name)}.json"
    out = Path(path)
    if str(path) and out.is_dir():
        raise InvalidArgumentError(f"{out} is a folder; a profile's path is a file in it, e.g. {out / f'{name}.json'}")
    if not str(path) or out.suffix != ".json":
        raise InvalidArgumentError(f"a profile's path is a file ending in .json (only then does gpu=PATH read it as a "
                                   f"profile), got {str(path)!r}; e.g. {name}.json")
    if not out.parent.is_dir():
        raise InvalidArgumentError(f"cannot write the profile to {out}: no folder {out.parent}; create it or pass "
                                   "another path")
    return out


def save_profile(profile: Profile, path: str | Path | None = None) -> Path:
    """Write ``profile`` to :func:`profile_path` (``path``, or under its name in :func:`profile_dir`)."""
    out = profile_path(profile.name, path)
    try:
        if path is None:  # the profiles' own folder is made on first use; a path the caller gives must exist
            out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(profile.to_json())
    except OSError as exc:
        raise InvalidArgumentError(f"cannot write the profile to {out} ({exc.strerror}); pass another path "
                                   "(CLI: --out) or set HWAWARE_PROFILES to a writable folder") from exc
    return out


def find_profile(name: str) -> Profile | None:
    """The profile a GPU argument names (a ``.json`` path, or a saved profile's name), else None."""
    if not isinstance(name, str):
        return None
    path = Path(name)
    if name.endswith(".json"):
        if not os.path.isfile(path):
            raise InvalidArgumentError(f"no calibration profile at {name}; make one with `hwaware calibrate`")
    else:
        path = profile_dir() / f"{name}.json"
        if not os.path.isfile(path):
            return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"cannot read the calibration profile {path} ({exc}); make one with "
                                   "`hwaware calibrate`") from exc
    try:
        return Profile.from_json(text)
    except InvalidArgumentError as exc:  # name the file the GPU argument read, not only the name inside it
        raise InvalidArgumentError(f"{path}: {exc}") from None
