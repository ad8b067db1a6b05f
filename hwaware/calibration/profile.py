"""Few-shot calibration: a handful of whole-network measurements of your own device become a profile.

A profile corrects a base GPU's zero-shot predictions with two numbers, fitted on your measurements:
``T = scale * T_predicted + overhead_ms_per_kernel * kernels``. The scale absorbs what the catalog does not
say (clocks under your power mode, a different driver or cuDNN); the per-kernel term absorbs your host's
dispatch cost, which dominates small networks at batch 1. The fit minimises squared *relative* error with a
weak ridge pull towards (1, 0), so two or three samples cannot produce a wild profile. The interval comes from
leave-one-out residuals of the fit.

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

    def apply(self, predicted_ms: float, kernels: int) -> float:
        return max(self.scale * predicted_ms + self.overhead_ms_per_kernel * kernels, 1e-6)

    def apply_estimate(self, est: Estimate) -> Estimate:
        """``est`` (a zero-shot estimate on the base GPU) corrected by this profile, phase by phase: every phase
        is scaled and every kernel gets the per-kernel overhead; the interval is the leave-one-out range."""
        kernels = [r for r in est.layers if r.ms > 0]
        # a negative per-kernel term (the zero-shot overhead was too high) never makes a layer negative
        layers = tuple(replace(r, ms=max(self.scale * r.ms + self.overhead_ms_per_kernel, 0.0)) if r.ms > 0 else r
                       for r in est.layers)
        pre, post = self.scale * est.pre_ms, self.scale * est.post_ms
        total = max(pre + sum(r.ms for r in layers) + post, 1e-6)  # apply(est.total_ms, kernels) unless clamped
        lo, hi = self.log_residual_interval
        notes = (f"calibrated by profile {self.name!r} ({self.n_samples} measurements): x{self.scale:.3f} "
                 f"{self.overhead_ms_per_kernel * 1e3:+.1f} us per kernel ({len(kernels)} kernels); interval from "
                 "its leave-one-out residuals", *est.notes)
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


def _solve(pred: np.ndarray, kernels: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    # rows: scale * pred/true + c * kernels/true = 1, plus the ridge rows sqrt(l) * (scale - 1) and sqrt(l) * c * k0
    k0 = float(np.median(kernels / true)) or 1.0
    lam = math.sqrt(RIDGE)
    a = np.vstack([np.column_stack([pred / true, kernels / true]), [[lam, 0.0], [0.0, lam * k0]]])
    b = np.concatenate([np.ones(len(true)), [lam, 0.0]])
    scale, c = np.linalg.lstsq(a, b, rcond=None)[0]
    return float(scale), float(c)


def fit_profile(gpu: str, predicted_ms: Sequence[float], measured_ms: Sequence[float], kernels: Sequence[int], *,
                name: str, runtime: str = "pytorch", precision: str = "fp32",
                estimator: str = "resperfnet-gpu") -> Profile:
    """Fit a profile from zero-shot predictions, your measurements and each network's kernel count."""
    pred, true, k = (np.asarray(v, dtype=float) for v in (predicted_ms, measured_ms, kernels))
    if not (len(pred) == len(true) == len(k)) or len(true) < 2:
        raise InvalidArgumentError(f"calibration needs at least 2 measured networks, got {len(true)}; "
                                   "measure more with `hwaware collect networks`")
    if (true <= 0).any() or not np.isfinite(true).all():
        raise InvalidArgumentError("measured latencies must be positive milliseconds")
    scale, c = _solve(pred, k, true)
    if scale <= 0:
        raise InvalidArgumentError(f"the measurements do not fit {gpu}'s predictions (scale {scale:.3f} <= 0): "
                                   "check that they are ms per forward pass of the listed models at the stated batch")
    fitted = np.maximum(scale * pred + c * k, 1e-6)
    loo = []
    for i in range(len(true)):
        keep = np.arange(len(true)) != i
        s_i, c_i = _solve(pred[keep], k[keep], true[keep])
        loo.append(math.log(true[i] / max(s_i * pred[i] + c_i * k[i], 1e-6)))
    lo, hi = (min(loo), max(loo)) if len(loo) < 20 else tuple(np.quantile(loo, [0.05, 0.95]))
    return Profile(name=name, gpu=get_gpu(gpu).name, runtime=runtime, precision=precision, scale=scale,
                   overhead_ms_per_kernel=c, n_samples=len(true), log_residual_interval=(float(lo), float(hi)),
                   estimator=estimator, fit_mape=float(np.mean(np.abs(fitted - true) / true)))


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
