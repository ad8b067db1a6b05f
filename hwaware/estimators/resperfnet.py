"""ResPerfNet (paper 004): per-layer residual 1-D CNN regressors, summed three-phase.

Network (paper Fig. 1, Sec. 3): the feature vector is a 1-channel sequence; head conv 128 filters
(k3) -> 2 residual blocks (128) -> head conv 64 -> 2 blocks (64) -> head conv 32 -> 2 blocks (32)
(15 convs, 6 adds) -> three FC-128 -> dropout 0.2 -> one output. Inputs: Box-Cox (on x + 1,
lambda per feature fitted on the training split) then z-score; targets scaled by 10 (Appendix B);
L2 weight penalty; Adam with step decay (Appendix E).

Choices where the paper is vague or its defaults do not transfer (made in short exploratory runs on this CPU's
data whose figures were not recorded by any script, so none is quoted here):

* loss: MAPLE (Eq. 7) caps the penalty of under-prediction at 1 while over-prediction is unbounded;
  with layer times spanning five orders of magnitude the optimiser drove predictions towards 0 on some
  kinds. The shipped models minimise mean |log(pred/true)| instead; ``loss="maple"`` keeps the paper's.
* output: the last layer gives a standardised log time, t = exp(mean + std * out) (training targets'
  log mean and std); residual blocks start as identities (zero-initialised second conv); gradients
  are clipped to norm 1; inputs are z-scores clipped to +-10.
* optimiser: Adam lr 1e-3, weight decay 1e-5 (the paper's lr 0.1 and lambda_2 0.1 did not train
  here), batch 32, 30 epochs with step decay x0.5 every 6; the epoch with the best validation MAPE is kept
  (validation: whole layer groups, ``CPU_VAL`` in :mod:`hwaware.evaluation.splits`).
* targets are scaled by 10 (Appendix B) before the log.

Phase models: exe per layer kind, or one model conditioned on the kind (one-hot): both are trained by
``scripts/train_resperfnet.py``, which declares the selection rule before training and records both
candidates' figures in the shipped meta.json (``candidates``). Pre and post (input/output copies, which depend
on sizes, not kinds) use one conditioned model each.

Whole network (Eq. 2): T = T_pre(first kernel) + sum T_exe + T_post(last kernel). Views cost 0.
Isolated micro-benchmarks miss what a real forward pass adds around each op (module calls, Python
glue between ops, inputs that come from memory rather than a warm cache), so each kernel's exe time is calibrated
(:class:`NetworkCalibration`) as a * T_exe + c + d * MB [up to a cap] + e * MB ** alpha (MB the kernel reads and
writes), fitted by least squares on whole-network measurements (:func:`hwaware.evaluation.cpu_networks.fit_calibration`;
``scripts/fit_network_calibration.py`` chooses the form by cross-validation; stored in meta.json). Without a
calibration, a = 1 and c = d = e = 0; the held-out figures are reported both ways (``benchmarks/cpu_wholenet.py``).
Layers of kinds without training data are predicted with the ``copy`` model (a memory-bound
op of the same bytes) and reported in the estimate's notes.
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hwaware.errors import InvalidArgumentError, UnsupportedPlatformError
from hwaware.estimators.base import (CPU_BATCH_NOTE_LEAD, Estimate, Estimator, LayerEstimate, files_digest,
                                    register_estimator)
from hwaware.estimators.cache import PredictionCache
from hwaware.estimators.features import DEVICE_FEATURES, KINDS, LAYER_FEATURES, device_features, kind_one_hot, layer_features
from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.hardware.catalog import Platform

PHASES = ("pre", "exe", "post")
TARGET_SCALE = 10.0
ALL_KINDS = "*"  # the key of a model conditioned on the kind


class _Residual(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.c1 = nn.Conv1d(ch, ch, 3, padding=1)
        self.c2 = nn.Conv1d(ch, ch, 3, padding=1)
        nn.init.zeros_(self.c2.weight)  # each block starts as the identity: six unnormalised blocks stay stable
        nn.init.zeros_(self.c2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.c2(torch.relu(self.c1(x))) + x)


class ResPerfNet(nn.Module):
    """The paper's regressor over an ``n_features`` vector."""

    def __init__(self, n_features: int, dropout: float = 0.2, log_mean: float = 0.0, log_std: float = 1.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = 1
        for ch in (128, 64, 32):
            layers += [nn.Conv1d(prev, ch, 3, padding=1), nn.ReLU(), _Residual(ch), _Residual(ch)]
            prev = ch
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * n_features, 128), nn.ReLU(), nn.Linear(128, 128),
                                  nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, 1))
        # the last layer's output is a standardised log time: t = exp(log_mean + log_std * out)
        self.register_buffer("log_mean", torch.tensor(float(log_mean)))
        self.register_buffer("log_std", torch.tensor(float(log_std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.body(x.unsqueeze(1))).squeeze(1)
        return torch.exp(self.log_mean + self.log_std * out)


def maple(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute percentage logarithmic error (paper 004, Eq. 7, without the L2 term)."""
    lt = torch.log1p(target)
    return (torch.abs(torch.log1p(pred) - lt) / lt.clamp_min(1e-6)).mean()


def log_ratio(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean |log(pred / target)|: symmetric in over- and under-prediction, about MAPE for small errors."""
    return torch.abs(torch.log(pred.clamp_min(1e-12)) - torch.log(target.clamp_min(1e-12))).mean()


LOSSES = {"maple": maple, "log_ratio": log_ratio}


@dataclass
class InputTransform:
    """Box-Cox on x + 1 (per-feature lambda, clipped to [-2, 2]; only for features with more than 10
    distinct values), then z-score clipped to +-10; constant features map to 0."""

    lambdas: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> InputTransform:
        from scipy import stats

        lambdas = np.ones(x.shape[1])
        for j in range(x.shape[1]):
            col = x[:, j] + 1.0
            if len(np.unique(col)) > 10 and col.min() > 0:  # not for flags and small categorical codes
                lambdas[j] = np.clip(stats.boxcox_normmax(col, method="mle"), -2.0, 2.0)
        z = _boxcox(x + 1.0, lambdas)
        std = z.std(axis=0)
        return cls(lambdas, z.mean(axis=0), np.where(std > 0, std, 1.0))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = (_boxcox(x + 1.0, self.lambdas) - self.mean) / self.std
        return np.clip(z, -10.0, 10.0).astype(np.float32)  # a layer far outside the training range stays finite


def _boxcox(x: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    x = np.maximum(x, 1e-12)
    with np.errstate(over="ignore", invalid="ignore"):
        powered = (np.power(x, lambdas) - 1.0) / np.where(lambdas == 0, 1.0, lambdas)
    out = np.where(np.abs(lambdas) < 1e-8, np.log(x), powered)
    return np.nan_to_num(out, nan=0.0, posinf=1e6, neginf=-1e6)


@dataclass
class PhaseModel:
    """One trained regressor: transform + network; ``predict`` returns milliseconds."""

    net: ResPerfNet
    transform: InputTransform
    conditioned: bool
    history: dict[str, Any] = field(default_factory=dict)

    def inputs(self, layers: Sequence[Layer], device_vec: np.ndarray) -> np.ndarray:
        return self.inputs_for(layers, device_vec, self.conditioned)

    @staticmethod
    def inputs_for(layers: Sequence[Layer], device_vec: np.ndarray, conditioned: bool) -> np.ndarray:
        rows = [np.concatenate([layer_features(l), device_vec, kind_one_hot(l.kind) if conditioned else []])
                for l in layers]
        return np.asarray(rows, dtype=np.float64)

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        with torch.no_grad():
            return self.net(torch.from_numpy(self.transform(x))).numpy().astype(np.float64) / TARGET_SCALE


def feature_names(conditioned: bool) -> list[str]:
    return [*LAYER_FEATURES, *DEVICE_FEATURES, *(f"kind_{k.value}" for k in KINDS if conditioned)]


def train_phase_model(x: np.ndarray, y_ms: np.ndarray, *, conditioned: bool, epochs: int = 30, lr: float = 1e-3,
                      batch_size: int = 32, weight_decay: float = 1e-5, seed: int = 0, loss: str = "log_ratio",
                      val_rows: np.ndarray | None = None, log: Any = None) -> PhaseModel:
    """Train one regressor on features ``x`` and times ``y_ms``; the rows ``val_rows`` (default: a seeded random
    10 %) select the best epoch and are not trained on."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    if val_rows is None or len(val_rows) == 0:
        order = rng.permutation(len(x))
        n_val = max(1, len(x) // 10)
        val, tr = order[:n_val], order[n_val:]
    else:
        val, tr = np.asarray(val_rows), np.setdiff1d(np.arange(len(x)), val_rows)
    transform = InputTransform.fit(x[tr])
    xt = torch.from_numpy(transform(x))
    yt = torch.from_numpy((y_ms * TARGET_SCALE).astype(np.float32))
    log_y = np.log(np.maximum(y_ms[tr] * TARGET_SCALE, 1e-9))
    net = ResPerfNet(x.shape[1], log_mean=float(log_y.mean()), log_std=float(max(log_y.std(), 1e-3)))
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, epochs // 5), gamma=0.5)
    best = (math.inf, None, -1)
    t0 = time.time()
    for epoch in range(epochs):
        net.train()
        perm = torch.from_numpy(rng.permutation(tr))
        for i in range(0, len(perm), batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            value = LOSSES[loss](net(xt[idx]), yt[idx])
            value.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        sched.step()
        net.eval()
        with torch.no_grad():
            p = net(xt[val]).numpy()
        mape = float(np.mean(np.abs(p - yt[val].numpy()) / np.maximum(yt[val].numpy(), 1e-9)))
        if mape < best[0]:
            best = (mape, {k: v.clone() for k, v in net.state_dict().items()}, epoch)
        if log:
            log(f"epoch {epoch + 1}/{epochs} train loss {value.item():.4f} val MAPE {mape:.2%}")
    net.load_state_dict(best[1])
    history = {"val_mape": best[0], "best_epoch": best[2] + 1, "epochs": epochs, "train_rows": len(tr),
               "val_rows": len(val), "seconds": round(time.time() - t0, 1), "lr": lr, "batch_size": batch_size,
               "weight_decay": weight_decay, "seed": seed, "loss": loss,
               "val": "random 10 %" if val_rows is None or len(val_rows) == 0 else "given rows"}
    return PhaseModel(net, transform, conditioned, history)


WEIGHTS_PACKAGE = "hwaware.estimators.weights"


@register_estimator
class ResPerfNetEstimator(Estimator):
    """Per-layer ResPerfNet predictions, cached, summed three-phase.

    >>> import hwaware
    >>> est = hwaware.estimate("resnet18", gpu="cpu", estimator="resperfnet")
    >>> est.estimator, est.total_ms > 0
    ('resperfnet', True)
    """

    name = "resperfnet"
    version = "1"

    def __init__(self, weights_dir: str | Path | None = None, cache: PredictionCache | None | bool = True, *,
                 mode: str = "per_kind", epochs: int = 30, lr: float = 1e-3, batch_size: int = 32,
                 weight_decay: float = 1e-5, seed: int = 0, min_samples: int = 40,
                 copy_phase_rows: int | None = 4000) -> None:
        self.weights_dir = weights_dir
        self.cache = cache
        self.mode = mode
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.seed = seed
        self.min_samples = min_samples
        self.copy_phase_rows = copy_phase_rows

    # -- training --------------------------------------------------------------------------------------------------
    def fit(self, samples: Sequence[Any], platform: Platform | str = "cpu", log: Any = None,
            phases: Sequence[str] = PHASES, val: Sequence[Any] = ()) -> ResPerfNetEstimator:
        """Train on measured :class:`~hwaware.datasets.measured.LayerSample` rows of one platform.

        ``mode="per_kind"``: one exe model per layer kind with at least ``min_samples`` rows (rarer kinds
        share a conditioned model); ``mode="conditioned"``: one exe model for all kinds. Pre and post
        (host<->device copies, functions of the tensor sizes) are one conditioned model each, trained on
        at most ``copy_phase_rows`` rows drawn evenly over kinds. ``val`` (e.g. whole layer groups, see
        :mod:`hwaware.evaluation.splits`) selects each model's best epoch; without it, a random 10 % of its rows."""
        if self.mode not in ("per_kind", "conditioned"):
            raise InvalidArgumentError(f"mode must be 'per_kind' or 'conditioned', got {self.mode!r}")
        if not samples:
            raise InvalidArgumentError("fit needs measured layer samples (hwaware.datasets.measured.LayerSample "
                                       "rows, e.g. from `hwaware collect layers`); got none")
        platform = platform if isinstance(platform, Platform) else Platform.resolve(platform)
        dev = device_features(platform.device)
        counts = Counter(s.layer.kind for s in samples)
        own = {k for k, n in counts.items() if n >= self.min_samples} if self.mode == "per_kind" else set()

        def members(pool: Sequence[Any], phase: str, key: str) -> list[Any]:
            if phase != "exe" or not own:
                return list(pool)
            return [s for s in pool if (s.layer.kind not in own if key == ALL_KINDS else s.layer.kind.value == key)]

        keys = [(phase, k.value) for phase in phases if phase == "exe" for k in sorted(own, key=lambda k: k.value)]
        keys += [(phase, ALL_KINDS) for phase in phases
                 if phase != "exe" or any(s.layer.kind not in own for s in samples)]
        models: dict[tuple[str, str], PhaseModel] = {}
        for phase, key in keys:
            rows = members(samples, phase, key)
            if phase != "exe":
                rows = _even_subsample(rows, self.copy_phase_rows, self.seed)
            held = members(val, phase, key)
            conditioned = key == ALL_KINDS
            x = PhaseModel.inputs_for([s.layer for s in rows + held], dev, conditioned)
            y = np.array([getattr(s, f"{phase}_ms") for s in rows + held])
            if log:
                log(f"training {phase}/{key} on {len(rows)} layers ({len(held)} validation)")
            models[(phase, key)] = train_phase_model(x, y, conditioned=conditioned, epochs=self.epochs, lr=self.lr,
                                                     batch_size=self.batch_size, weight_decay=self.weight_decay,
                                                     seed=self.seed, val_rows=np.arange(len(rows), len(rows) + len(held)))
        self.__dict__.setdefault("models_", {})[platform.key] = models
        self.fit_platform_ = platform.key
        return self

    def save(self, folder: str | Path, meta: dict[str, Any]) -> Path:
        """Write the fitted models of the last ``fit`` as ``folder/<platform key>/`` (safetensors + meta.json)."""
        out = Path(folder) / self.fit_platform_
        save_models(self.models_[self.fit_platform_], out, {**meta, "platform": self.fit_platform_, "mode": self.mode,
                                                            "feature_order": {"conditioned": feature_names(True),
                                                                              "per_kind": feature_names(False)}})
        return out

    # -- model store -------------------------------------------------------------------------------------------
    def _root(self) -> Path:
        if self.weights_dir is not None:
            return Path(self.weights_dir)
        return Path(str(resources.files(WEIGHTS_PACKAGE).joinpath("resperfnet")))

    def platforms(self) -> list[str]:
        root = self._root()
        return sorted(p.name for p in root.iterdir() if (p / "meta.json").is_file()) if root.is_dir() else []

    def supports(self, platform: Platform) -> bool:
        return platform.key in self.platforms()

    def _models(self, platform: Platform) -> dict[tuple[str, str], PhaseModel]:
        def load() -> dict[tuple[str, str], PhaseModel]:
            if not self.supports(platform):
                raise UnsupportedPlatformError(
                    f"no ResPerfNet model trained for {platform.device.name} ({platform.runtime}, {platform.precision}); "
                    f"trained platforms: {', '.join(self.platforms()) or 'none'}. Use estimator='resperfnet-gpu' (or "
                    "'roofline') for a GPU from the catalog, or train one with scripts/train_resperfnet.py")
            return load_models(self._root() / platform.key)

        return self._remembered("models_", platform.key, load)

    def model_id(self, platform: Platform) -> str:
        return f"{super().model_id(platform)} weights {self._weights_id(platform)}"

    def _weights_id(self, platform: Platform) -> str:
        """A digest of the platform's weights: cache keys name them, so re-trained weights never read old entries."""
        return self._remembered("weights_ids_", platform.key, lambda: files_digest(self._root() / platform.key))

    def calibration(self, platform: Platform) -> NetworkCalibration:
        """The whole-network calibration stored with the platform's weights (none: :class:`NetworkCalibration`())."""
        def stored() -> NetworkCalibration:
            meta_path = self._root() / platform.key / "meta.json"
            cal = json.loads(meta_path.read_text()).get("network_calibration", {}) if meta_path.is_file() else {}
            return NetworkCalibration.from_doc(cal)

        return self._remembered("calibration_", platform.key, stored)

    @contextmanager
    def using_calibration(self, platform: Platform, calibration: NetworkCalibration) -> Iterator[None]:
        """Inside the block, predict on ``platform`` with ``calibration`` instead of the stored one (fitting and
        evaluating calibrations); the stored one is back afterwards."""
        cache = self.__dict__.setdefault("calibration_", {})
        before = cache.get(platform.key)
        cache[platform.key] = calibration
        try:
            yield
        finally:
            if before is None:
                del cache[platform.key]  # read from meta.json again when next asked
            else:
                cache[platform.key] = before

    # -- prediction ------------------------------------------------------------------------------------------------
    def layer_phases(self, layers: Sequence[Layer], platform: Platform) -> list[tuple[float, float, float]]:
        """(pre, exe, post) ms for each layer, from the cache where possible."""
        cache = self._prediction_cache()
        prefix = f"{self.name}:{self.version}:{self._weights_id(platform)}:{platform.key}:"
        keys = [prefix + l.signature() for l in layers]
        known = cache.get_many(keys) if cache is not None else {}
        todo = [i for i, k in enumerate(keys) if k not in known]
        if todo:
            fresh = self._predict_layers([layers[i] for i in todo], platform)
            new = {keys[i]: fresh[j] for j, i in enumerate(todo)}
            if cache is not None:  # (an empty cache is falsy: it has __len__)
                cache.put_many(new)
            known.update(new)
        return [known[k] for k in keys]

    def _predict_layers(self, layers: Sequence[Layer], platform: Platform) -> list[tuple[float, float, float]]:
        models = self._models(platform)
        dev = device_features(platform.device)
        out = np.zeros((len(layers), 3))
        for p, phase in enumerate(PHASES):
            groups: dict[str, list[int]] = {}
            for i, l in enumerate(layers):
                if l.kind.launches_kernel:
                    groups.setdefault(_model_key(models, phase, l.kind), []).append(i)
            for key, idx in groups.items():
                model = models[(phase, key)]
                out[idx, p] = model.predict_raw(model.inputs([layers[i] for i in idx], dev))
        return [tuple(r) for r in out]  # type: ignore[misc]

    def predict(self, graph: Graph, platform: Platform) -> Estimate:
        models = self._models(platform)
        times = self.layer_phases(graph.layers, platform)
        kernels = [i for i, l in enumerate(graph.layers) if l.kind.launches_kernel]
        cal = self.calibration(platform)
        exe = [cal.kernel_ms(t[1], (l.bytes_read + l.bytes_written) / 1e6) if l.kind.launches_kernel else 0.0
               for l, t in zip(graph.layers, times)]
        pre = times[kernels[0]][0] if kernels else 0.0
        post = times[kernels[-1]][2] if kernels else 0.0
        rows = tuple(LayerEstimate(l.index, l.module, l.kind.value, l.op, l.input_shapes, l.output_shapes, l.macs, exe[i])
                     for i, l in enumerate(graph.layers))
        fallback = Counter(l.kind.value for l in graph.layers if l.kind.launches_kernel
                           and _model_key(models, "exe", l.kind) == LayerKind.COPY.value != l.kind.value)
        notes = [f"no training data for {dict(fallback)}: predicted with the copy model"] if fallback else []
        if cal != NetworkCalibration():
            notes.append(cal.describe())
        if platform.batch_size > 1:
            beyond = ("; no larger batch was measured" if platform.batch_size > max(MEASURED_BATCHES) else "")
            notes.append(BATCH_NOTE.format(batch=platform.batch_size, beyond=beyond))
        return Estimate(total_ms=pre + sum(exe) + post, pre_ms=pre, exe_ms=sum(exe), post_ms=post, layers=rows,
                        unknown_ops=graph.unknown_ops, estimator=self.name, estimator_version=self.version,
                        platform=platform, model=graph.name, notes=tuple(notes))


# what a larger batch's answer is, measured (the calibration's rows at batches 4 and 16 did not narrow it)
BATCH_NOTE = (CPU_BATCH_NOTE_LEAD + "(this answer: batch {batch}): this model's layer micro-benchmarks time few layers "
              "above batch 16, its calibration's network rows are at batches 1, 4 and 16; measured live at batches 8 "
              "and 32 (an AMD EPYC, one thread), new NAS-space draws and held-out timm networks came out 11.5-22.7 % "
              "MAPE against 6.9-8.7 % at batch 1 (python benchmarks/cpu_batches.py){beyond}")
MEASURED_BATCHES = (1, 8, 32)  # benchmarks/cpu_batches.py's


@dataclass(frozen=True)
class NetworkCalibration:
    """Whole-network calibration of the per-layer exe times: a kernel that moves ``mb`` MB and was predicted ``exe``
    ms in isolation costs ``scale * exe + per_kernel_ms + per_mb_ms * min(mb, mb_cap) + per_mb_pow_ms * mb **
    exponent`` in a forward pass (``mb_cap`` 0: no cap). The bytes terms are the cost of inputs that come from memory
    rather than a warm cache: measured here, the time a forward pass adds per kernel grows with the kernel's bytes (a
    median 7 us per kernel in NB201 networks, 43 us in timm networks over the fit set's rows at batches 1, 4 and 16;
    ``benchmarks/results/cpu_calibration.json``); the power term lets it grow less than linearly, the cap stop growing
    where a kernel outgrows the caches (its micro-benchmark then streams from memory too). Which terms ship is chosen
    by ``scripts/fit_network_calibration.py``."""

    scale: float = 1.0
    per_kernel_ms: float = 0.0
    per_mb_ms: float = 0.0
    per_mb_pow_ms: float = 0.0
    exponent: float = 0.0
    mb_cap: float = 0.0

    def __post_init__(self) -> None:
        if self.mb_cap < 0:
            raise ValueError(f"a calibration's bytes cap is >= 0 MB (0: none), not {self.mb_cap}")

    def kernel_ms(self, exe_ms: float, mb: float) -> float:
        capped = np.minimum(mb, self.mb_cap) if self.mb_cap else mb  # mb: one kernel's, or an array of them
        return (self.scale * exe_ms + self.per_kernel_ms + self.per_mb_ms * capped
                + (self.per_mb_pow_ms * mb ** self.exponent if self.per_mb_pow_ms else 0.0))

    def never_negative(self) -> bool:
        """Whether every kernel's overhead is >= 0 whatever its size (and the scale positive)."""
        return self.scale > 0 and min(self.per_kernel_ms, self.per_mb_ms, self.per_mb_pow_ms) >= 0

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> NetworkCalibration:
        """From meta.json's ``network_calibration`` (absent terms are 0)."""
        return cls(float(doc.get("scale", 1.0)), float(doc.get("overhead_ms_per_kernel", 0.0)),
                   float(doc.get("overhead_ms_per_mb", 0.0)), float(doc.get("overhead_ms_per_mb_pow", 0.0)),
                   float(doc.get("overhead_exponent", 0.0)), float(doc.get("overhead_mb_cap", 0.0)))

    def to_doc(self) -> dict[str, float]:
        return {"scale": self.scale, "overhead_ms_per_kernel": self.per_kernel_ms, "overhead_ms_per_mb": self.per_mb_ms,
                "overhead_ms_per_mb_pow": self.per_mb_pow_ms, "overhead_exponent": self.exponent,
                "overhead_mb_cap": self.mb_cap}

    def describe(self) -> str:
        added = [f"{self.per_kernel_ms * 1e3:.1f} us per kernel"] if self.per_kernel_ms else []
        if self.per_mb_ms:
            added.append(f"{self.per_mb_ms * 1e3:.1f} us per MB moved"
                         + (f" (up to {self.mb_cap:g} MB per kernel)" if self.mb_cap else ""))
        if self.per_mb_pow_ms:
            added.append(f"{self.per_mb_pow_ms * 1e3:.1f} us x MB^{self.exponent:g} per kernel")
        plus = f", plus {', '.join(added)}" if added else ""
        return f"per-layer times scaled by {self.scale:.3f}{plus} (whole-network calibration)"


def _even_subsample(samples: Sequence[Any], limit: int | None, seed: int) -> list[Any]:
    """At most ``limit`` samples, the same number from every kind where possible."""
    if limit is None or len(samples) <= limit:
        return list(samples)
    by_kind: dict[LayerKind, list[Any]] = {}
    for s in samples:
        by_kind.setdefault(s.layer.kind, []).append(s)
    rng = np.random.default_rng(seed)
    share = max(1, limit // len(by_kind))
    picked: list[Any] = []
    for rows in by_kind.values():
        picked += [rows[i] for i in rng.permutation(len(rows))[:share]]
    return picked


def _model_key(models: dict[tuple[str, str], PhaseModel], phase: str, kind: LayerKind) -> str:
    if (phase, kind.value) in models:
        return kind.value
    if (phase, ALL_KINDS) in models:
        return ALL_KINDS
    return LayerKind.COPY.value


# -- persistence: safetensors weights + JSON metadata (no pickles) ---------------------------------------------------
def save_models(models: dict[tuple[str, str], PhaseModel], folder: Path, meta: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    entries = []
    for (phase, kind), m in sorted(models.items()):
        prefix = f"{phase}.{kind}."
        tensors.update({prefix + k: v.detach().contiguous() for k, v in m.net.state_dict().items()})
        entries.append({"phase": phase, "kind": kind, "conditioned": m.conditioned, "prefix": prefix,
                        "n_features": int(m.transform.lambdas.shape[0]), "boxcox_lambda": m.transform.lambdas.tolist(),
                        "mean": m.transform.mean.tolist(), "std": m.transform.std.tolist(), "history": m.history})
    # float16 storage halves the shipped size; predictions move by < 0.1 % (checked by the training script)
    save_file({k: v.half() if v.is_floating_point() and v.dim() else v for k, v in tensors.items()},
              str(folder / "weights.safetensors"))
    meta = {**meta, "models": entries, "estimator": ResPerfNetEstimator.name, "version": ResPerfNetEstimator.version,
            "target_scale": TARGET_SCALE}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))


def load_models(folder: Path) -> dict[tuple[str, str], PhaseModel]:
    from safetensors.torch import load_file

    meta = json.loads((folder / "meta.json").read_text())
    tensors = load_file(str(folder / "weights.safetensors"))
    models = {}
    for e in meta["models"]:
        net = ResPerfNet(e["n_features"])
        net.load_state_dict({k[len(e["prefix"]):]: v.float() for k, v in tensors.items() if k.startswith(e["prefix"])})
        net.eval()
        transform = InputTransform(np.array(e["boxcox_lambda"]), np.array(e["mean"]), np.array(e["std"]))
        models[(e["phase"], e["kind"])] = PhaseModel(net, transform, e["conditioned"], e["history"])
    return models
