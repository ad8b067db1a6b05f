"""Few-shot calibration: a handful of whole-network measurements of your own device become a profile.

A profile corrects a base GPU's zero-shot predictions with two or three numbers, fitted on your measurements:
``T = scale * T_predicted + overhead_ms_per_kernel * kernels [+ ms_per_gmac * GMACs]``. The scale absorbs what the
catalog does not say (clocks under your power mode, a different driver or cuDNN); the per-kernel term absorbs your
host's dispatch cost, which dominates small networks at batch 1; the per-GMAC term corrects the device's compute
rate where the model, trained on other GPUs, mis-ranks compute-bound networks (large batches). The fit minimises
squared *relative* error with a weak ridge pull towards (1, 0, 0), so a few samples cannot produce a wild profile.
The per-GMAC term is kept only when it lowers the leave-one-out error of your measurements (a rule that reads
nothing but them; with fewer than :data:`MIN_FOR_GMAC` measurements it is never tried). The interval comes from
leave-one-out residuals of the chosen form (chosen on the same residuals, so slightly optimistic).

A profile is a small JSON file. Pass its path (or, once saved with :func:`save_profile`, its name) wherever a
GPU name goes: ``hwaware.latency(model, gpu="my-orin.json")``, the CLI's ``--gpu``, the Optuna constraint.

>>> from hwaware.calibration import fit_profile
>>> p = fit_profile("xavier-nx", [10.0, 20.0, 40.0], [12.0, 23.0, 45.0], [100, 150, 300], name="nx-15w")
>>> round(p.apply(30.0, 200), 2) > 30.0
True
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from hwaware.errors import InvalidArgumentError
from hwaware.estimators.base import Estimate
from hwaware.hardware.catalog import get_gpu

# pull towards (scale 1, overhead 0), worth about a twentieth of one measurement: it steadies two or three samples
# and fades as measurements accumulate
RIDGE = 0.05


@dataclass(frozen=True)
class Profile:
    """A calibrated device: a catalog GPU plus a two-number correction of one estimator's predictions."""

    name: str
    gpu: str  # catalog name of the base GPU
    runtime: str
    precision: str
    scale: float
    overhead_ms_per_kernel: float
    n_samples: int
    log_residual_interval: tuple[float, float]  # leave-one-out residual range of log(true / calibrated)
    estimator: str = "resperfnet-gpu"
    fit_mape: float = 0.0
    notes: tuple[str, ...] = field(default=())
    ms_per_gmac: float = 0.0  # 0 when the leave-one-out rule did not keep the term

    @property
    def terms(self) -> str:
        """The terms the profile uses (the per-GMAC one only when its rule kept it)."""
        return "scale, kernel, gmac" if self.ms_per_gmac else "scale, kernel"

    def apply(self, predicted_ms: float, kernels: int, gmacs: float = 0.0) -> float:
        return max(self.scale * predicted_ms + self.overhead_ms_per_kernel * kernels + self.ms_per_gmac * gmacs, 1e-6)

    def layer_ms(self, ms: np.ndarray, macs: np.ndarray) -> tuple[np.ndarray, int]:
        """Calibrated times of kernel layers with zero-shot times ``ms`` and ``macs``, and how many were clamped: a
        negative per-kernel term (the zero-shot overhead was too high) never makes a layer negative."""
        raw = self.scale * ms + self.overhead_ms_per_kernel + self.ms_per_gmac * macs / 1e9
        return np.maximum(raw, 0.0), int((raw < 0).sum())

    def apply_estimate(self, est: Estimate) -> Estimate:
        """``est`` (a zero-shot estimate on the base GPU) corrected by this profile, phase by phase: every phase
        is scaled and every kernel gets the per-kernel overhead (a layer that a negative overhead would make negative
        is set to 0, and the notes say how many; the fit saw only totals, so this total can exceed :meth:`apply`'s);
        the interval is the leave-one-out range."""
        kernels = [i for i, r in enumerate(est.layers) if r.ms > 0]
        ms, clamped = self.layer_ms(np.array([est.layers[i].ms for i in kernels]),
                                    np.array([est.layers[i].macs for i in kernels], dtype=float))
        calibrated = dict(zip(kernels, ms.tolist()))
        layers = tuple(replace(r, ms=calibrated[i]) if i in calibrated else r for i, r in enumerate(est.layers))
        pre, post = self.scale * est.pre_ms, self.scale * est.post_ms
        total = max(pre + sum(r.ms for r in layers) + post, 1e-6)  # apply(est.total_ms, kernels) unless clamped
        lo, hi = self.log_residual_interval
        gmac = f" {self.ms_per_gmac:+.4f} ms per GMAC" if self.ms_per_gmac else ""
        notes = (f"calibrated by profile {self.name!r} ({self.n_samples} measurements): x{self.scale:.3f} "
                 f"{self.overhead_ms_per_kernel * 1e3:+.1f} us per kernel ({len(kernels)} kernels){gmac}; interval from "
                 "its leave-one-out residuals",
                 *([f"the profile's negative per-kernel term exceeds {clamped} of {len(kernels)} layers' predicted "
                    "times: those are set to 0 (the profile was fitted on whole-network totals)"] if clamped else []),
                 *est.notes)
        return replace(est, total_ms=total, pre_ms=pre, exe_ms=total - pre - post, post_ms=post, layers=layers,
                       notes=notes, interval_ms=(total * math.exp(lo), total * math.exp(hi)))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        d = json.loads(text)
        try:
            d["log_residual_interval"] = tuple(d["log_residual_interval"])
            d["notes"] = tuple(d.get("notes", ()))
            return cls(**d)
        except (KeyError, TypeError) as exc:
            raise InvalidArgumentError(f"not an hwaware calibration profile ({exc}); make one with `hwaware calibrate`") from exc


MIN_FOR_GMAC = 5  # three numbers from fewer measurements would fit noise


def _solve(cols: np.ndarray, true: np.ndarray) -> np.ndarray:
    """(scale, per kernel[, per GMAC]) for ``cols`` = (pred, kernels[, GMACs]) per network: rows ``cols @ coef / true =
    1`` plus ridge rows pulling towards (1, 0, 0), each term's pull scaled to its typical share of a measurement."""
    lam = math.sqrt(RIDGE)
    ridge = np.diag([lam] + [lam * (float(np.median(cols[:, j] / true)) or 1.0) for j in range(1, cols.shape[1])])
    target = np.zeros(cols.shape[1])
    target[0] = lam
    a = np.vstack([cols / true[:, None], ridge])
    return np.linalg.lstsq(a, np.concatenate([np.ones(len(true)), target]), rcond=None)[0]


def _loo(cols: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Leave-one-out log residuals log(true / calibrated) of the form ``cols``."""
    out = np.zeros(len(true))
    for i in range(len(true)):
        keep = np.arange(len(true)) != i
        out[i] = math.log(true[i] / max(float(cols[i] @ _solve(cols[keep], true[keep])), 1e-6))
    return out


def fit_profile(gpu: str, predicted_ms: Sequence[float], measured_ms: Sequence[float], kernels: Sequence[int], *,
                name: str, runtime: str = "pytorch", precision: str = "fp32", estimator: str = "resperfnet-gpu",
                gmacs: Sequence[float] | None = None) -> Profile:
    """Fit a profile from zero-shot predictions, your measurements and each network's kernel count (and GMACs at the
    measured batch, which lets the rule try the per-GMAC term)."""
    pred, true, k = (np.asarray(v, dtype=float) for v in (predicted_ms, measured_ms, kernels))
    if not (len(pred) == len(true) == len(k)) or len(true) < 2:
        raise InvalidArgumentError(f"calibration needs at least 2 measured networks, got {len(true)}; "
                                   "measure more with `hwaware collect networks`")
    if (true <= 0).any() or not np.isfinite(true).all():
        raise InvalidArgumentError("measured latencies must be positive milliseconds")
    forms = [np.column_stack([pred, k])]
    if gmacs is not None and len(true) >= MIN_FOR_GMAC:
        forms.append(np.column_stack([pred, k, np.asarray(gmacs, dtype=float)]))
    loo = [_loo(cols, true) for cols in forms]
    best = min(range(len(forms)), key=lambda i: float(np.mean(np.abs(np.expm1(loo[i])))))  # the simpler on a tie
    coef = _solve(forms[best], true)
    if coef[0] <= 0:
        raise InvalidArgumentError(f"the measurements do not fit {gpu}'s predictions (scale {coef[0]:.3f} <= 0): "
                                   "check that they are ms per forward pass of the listed models at the stated batch")
    fitted = np.maximum(forms[best] @ coef, 1e-6)
    lo, hi = (min(loo[best]), max(loo[best])) if len(true) < 20 else tuple(np.quantile(loo[best], [0.05, 0.95]))
    return Profile(name=name, gpu=get_gpu(gpu).name, runtime=runtime, precision=precision, scale=float(coef[0]),
                   overhead_ms_per_kernel=float(coef[1]), n_samples=len(true), log_residual_interval=(float(lo), float(hi)),
                   estimator=estimator, fit_mape=float(np.mean(np.abs(fitted - true) / true)),
                   ms_per_gmac=float(coef[2]) if len(coef) > 2 else 0.0)


def profile_dir() -> Path:
    """Where named profiles live: ``$HWAWARE_PROFILES`` or ``~/.cache/hwaware/profiles``."""
    return Path(os.environ.get("HWAWARE_PROFILES") or Path.home() / ".cache" / "hwaware" / "profiles")


def save_profile(profile: Profile, path: str | Path | None = None) -> Path:
    out = Path(path) if path is not None else profile_dir() / f"{profile.name}.json"
    try:
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
        if not path.is_file():
            raise InvalidArgumentError(f"no calibration profile at {name}; make one with `hwaware calibrate`")
        return Profile.from_json(path.read_text())
    saved = profile_dir() / f"{name}.json"
    return Profile.from_json(saved.read_text()) if saved.is_file() else None
