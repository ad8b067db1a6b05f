"""Whole-network regressors of paper 003 (Bouzidi et al.): one model per measured platform, on network features.

A network is described by the paper's features (its Table II: FLOPs, sum of activations, weighted sum of neurons,
conv / fully-connected / batch-norm parameters and layer counts, number of layers, input image size) as
:func:`hwaware.features.network_features` computes them, and its latency on a platform — (GPU, runtime, precision,
batch), one measured table column — is read off a regressor fitted to that column. Five families, as in the paper:
``netregress-ols``, ``-mlp``, ``-svr``, ``-rf``, ``-xgb``.

Where we differ from the paper, and why: features enter as ``log1p`` (standardised for OLS/MLP/SVR) and the target is
``log(ms)``, because the tables span three decades of latency and the error we report is relative (MAPE); the random
forest is XGBoost's ``rf`` mode so that every fitted model is stored as JSON (no pickles). ``scripts/train_netregress.py``
trains them; the weights live in ``weights/netregress/`` (``<family>.json`` for OLS/MLP/SVR, ``<family>/<platform>.json.gz``
(gzipped XGBoost-JSON) for RF/XGB, ``meta.json`` for the data, split, grid and figures).

An estimate is a single number (no per-layer breakdown); its interval is the 5-95 % quantile of the selected
candidate's grouped cross-validation log-residuals on that platform.

>>> from hwaware.estimators import get_estimator
>>> from hwaware.graph import capture
>>> from hwaware.hardware import Platform
>>> est = get_estimator("netregress-xgb")
>>> p = Platform.resolve("2080ti", batch_size=32)
>>> est.supports(p)
True
>>> est.predict(capture("resnet18", input_size=32), p).total_ms > 0
True
"""
from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hwaware.errors import UnsupportedPlatformError
from hwaware.estimators.base import Estimate, Estimator, files_digest, register_estimator, require_cnns
from hwaware.features import network_features
from hwaware.graph.layer import Graph
from hwaware.hardware.catalog import CPUSpec, Platform

# Paper 003, Table II order (most to least important there), plus total parameters and depthwise convs (which the
# paper's conv parameters include; we keep them apart because grouped convs cost differently). Each is additive over
# kernels or a property of the input, so a graph rebuilt from its kernels alone gives the same vector.
FEATURES: tuple[str, ...] = (
    "flops", "activations", "weighted_neurons", "params_conv", "params_depthwise_conv", "kernels", "input_height",
    "params_dense", "params_norm", "layers_norm", "layers_conv", "layers_depthwise_conv", "layers_dense", "params",
)
FAMILIES: tuple[str, ...] = ("ols", "mlp", "svr", "rf", "xgb")
WEIGHTS_DIR = "netregress"
LOG10 = float(np.log(10.0))
# A network with a feature beyond twice (or under half) the training networks' range on the platform is outside the
# training domain, whatever the answer (a tree predicts a leaf's constant there, which no clip shows): an assumption
LOG_DOMAIN_MARGIN = float(np.log(2.0))


def outside_domain(x: np.ndarray, feature_range: Sequence[Sequence[float]], names: Sequence[str] = FEATURES,
                   read: Sequence[Callable[[float], float]] | None = None) -> str | None:
    """The feature of ``x`` (one row of :func:`feature_matrix`, or of another model's log features ``names``, each
    read back by ``read``: ``expm1`` by default) furthest beyond ``feature_range`` (the training rows' lowest and
    highest, as stored) by more than :data:`LOG_DOMAIN_MARGIN`, said; None if none is."""
    lo, hi = (np.asarray(v, dtype=float) for v in feature_range)
    beyond = np.maximum(lo - x, x - hi)
    i = int(np.argmax(beyond))
    if beyond[i] <= LOG_DOMAIN_MARGIN:
        return None
    inv = read[i] if read else np.expm1
    return f"{names[i]} {inv(x[i]):.4g}, where the training data span {inv(lo[i]):.4g}-{inv(hi[i]):.4g}"


def platform_key(gpu: str, runtime: str, precision: str, batch: int) -> str:
    """The key of a platform a model is trained for: a measured table column (``NetworkLatency.column``)."""
    return f"{gpu}|{runtime}|{precision}|{batch}"


def feature_matrix(graphs: Sequence[Graph]) -> np.ndarray:
    """``log1p`` of :data:`FEATURES` per graph (per image, so batch-independent), shape ``(len(graphs), n)``.

    >>> from hwaware.graph import capture
    >>> feature_matrix([capture("resnet18")]).shape
    (1, 14)
    """
    rows = []
    for g in graphs:
        d = network_features(g).as_dict()
        rows.append([d[f] for f in FEATURES])
    return np.log1p(np.asarray(rows, dtype=float).reshape(len(graphs), len(FEATURES)))


# -- fitted models as JSON, and their exact numpy forward passes ------------------------------------------------------

def _standardise(x: np.ndarray, doc: dict[str, Any]) -> np.ndarray:
    return (x - np.asarray(doc["mean"])) / np.asarray(doc["scale"])


def _predict_ols(doc: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return _standardise(x, doc) @ np.asarray(doc["coef"]) + doc["intercept"]


_ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "identity": lambda z: z,
                "logistic": lambda z: 1.0 / (1.0 + np.exp(-z))}


def _predict_mlp(doc: dict[str, Any], x: np.ndarray) -> np.ndarray:
    h = _standardise(x, doc)
    layers = list(zip(doc["weights"], doc["biases"]))
    for i, (w, b) in enumerate(layers):
        h = h @ np.asarray(w) + np.asarray(b)
        if i < len(layers) - 1:  # scikit-learn's MLPRegressor: identity output
            h = _ACTIVATIONS[doc["activation"]](h)
    return h[:, 0]


def _predict_svr(doc: dict[str, Any], x: np.ndarray) -> np.ndarray:
    z, sv = _standardise(x, doc), np.asarray(doc["support_vectors"])
    kernel, gamma = doc["kernel"], doc["gamma"]
    if kernel == "linear":
        k = z @ sv.T
    elif kernel == "rbf":
        d2 = (z ** 2).sum(1)[:, None] + (sv ** 2).sum(1)[None, :] - 2 * z @ sv.T
        k = np.exp(-gamma * np.maximum(d2, 0.0))
    elif kernel == "poly":
        k = (gamma * z @ sv.T + doc["coef0"]) ** doc["degree"]
    else:  # sigmoid
        k = np.tanh(gamma * z @ sv.T + doc["coef0"])
    return k @ np.asarray(doc["dual_coef"]) + doc["intercept"]


def _predict_knn(doc: dict[str, Any], x: np.ndarray) -> np.ndarray:
    z, pts, ys = _standardise(x, doc), np.asarray(doc["points"]), np.asarray(doc["targets"])
    k = min(doc["k"], len(ys))
    out = np.empty(len(z))
    for i in range(0, len(z), 256):  # bounded memory: 256 queries x every training row at a time
        d = np.sqrt(np.maximum((z[i:i + 256, None, :] - pts[None]) ** 2, 0.0).sum(-1))
        near = np.argsort(d, axis=1, kind="stable")[:, :k]
        dn = np.take_along_axis(d, near, 1)
        w = np.where(dn[:, :1] == 0.0, (dn == 0.0).astype(float), 1.0 / np.maximum(dn, 1e-300))  # exact hits win
        out[i:i + 256] = (w * ys[near]).sum(1) / w.sum(1)
    return out


def _predict_xgb(path: Path, x: np.ndarray) -> np.ndarray:
    return _booster(str(path)).inplace_predict(x)


@functools.cache
def _booster(path: str) -> Any:
    import xgboost

    booster = xgboost.Booster()
    with gzip.open(path, "rb") as f:  # XGBoost-JSON, gzipped (a tenth of the size)
        booster.load_model(bytearray(f.read()))
    booster.set_param({"nthread": 1})
    return booster


def predict_log_ms(family: str, doc: dict[str, Any], x: np.ndarray, folder: Path | None = None) -> np.ndarray:
    """``log(ms)`` from a stored model ``doc`` of ``family`` (RF/XGB docs name an XGBoost-JSON file in ``folder``)."""
    if family in ("rf", "xgb", "dt"):
        assert folder is not None
        return _predict_xgb(folder / doc["file"], x)
    return {"ols": _predict_ols, "mlp": _predict_mlp, "svr": _predict_svr, "knn": _predict_knn}[family](doc, x)


def weights_folder() -> Path:
    return Path(str(resources.files("hwaware.estimators.weights").joinpath(WEIGHTS_DIR)))


class NetRegressEstimator(Estimator):
    """A whole-network regressor of one family, with one fitted model per trained platform (see the module doc)."""

    family: ClassVar[str]
    version: ClassVar[str] = "1"
    intervals: ClassVar[bool] = True
    joint_platforms: ClassVar[bool] = False  # one independent regressor per measured column

    def __init__(self, weights_dir: str | Path | None = None) -> None:
        self.weights_dir = weights_dir

    @functools.cached_property
    def models_(self) -> dict[str, dict[str, Any]]:
        """platform key -> stored model (empty when no weights are shipped)."""
        path = self.folder / f"{self.family}.json"
        if not path.is_file():
            return {}
        with open(path) as f:
            doc = json.load(f)
        if tuple(doc["features"]) != FEATURES:
            raise UnsupportedPlatformError(f"{path} was trained on other features; retrain with "
                                           "scripts/train_netregress.py")
        return doc["platforms"]

    @property
    def folder(self) -> Path:
        return Path(self.weights_dir) if self.weights_dir is not None else weights_folder()

    def model_id(self, platform: Platform) -> str:
        return f"{super().model_id(platform)} weights {self.weights_id_}"

    @functools.cached_property
    def weights_id_(self) -> str:
        """The family's weights: its JSON and its folder of per-platform boosters (RF/XGB)."""
        return files_digest(self.folder / f"{self.family}.json", self.folder / self.family)

    def platforms(self) -> list[str]:
        """The platform keys (``gpu|runtime|precision|batch``) this estimator was trained for."""
        return sorted(self.models_)

    def supports(self, platform: Platform) -> bool:
        return self._key(platform) in self.models_

    @staticmethod
    def _key(platform: Platform) -> str:
        return platform_key(platform.device.name, platform.runtime, platform.precision, platform.batch_size)

    def _model(self, platform: Platform) -> dict[str, Any]:
        key = self._key(platform)
        if key not in self.models_:
            have = "; ".join(self.platforms()) or "none (no weights shipped)"
            other = ("estimator='resperfnet' (the CPU's)" if isinstance(platform.device, CPUSpec)
                     else "estimator='resperfnet-gpu' or 'roofline'")
            raise UnsupportedPlatformError(
                f"{self.name} has no model for {key} (gpu|runtime|precision|batch); it was trained for: {have}. "
                f"Use {other}, or train this platform's column with scripts/train_netregress.py")
        return self.models_[key]

    def predict(self, graph: Graph, platform: Platform) -> Estimate:
        return self.predict_many([graph], platform)[0]

    def predict_many(self, graphs: Sequence[Graph], platform: Platform) -> list[Estimate]:
        doc = self._model(platform)
        if not graphs:
            return []
        require_cnns(graphs, self.name)  # trained on HELP's cells and timm's and torchvision's CNNs
        x = feature_matrix(graphs)
        raw = predict_log_ms(self.family, doc, x, self.folder)
        # a regressor far outside its training networks can diverge (an MLP to inf): bound it to a decade beyond the
        # latencies it was trained on, and say so
        y_lo, y_hi = doc["log_ms_range"]
        log_ms = np.clip(raw, y_lo - LOG10, y_hi + LOG10)
        lo, hi = doc["residual_q05"], doc["residual_q95"]
        # an answer whose own cross-validated error passes 100 % is, on average, further off than the latency itself
        useless = ((f"{self.name}'s own cross-validated error on this platform is {100 * doc['cv_mape']:.0f} % "
                    f"({doc['n_train']} networks): its answers here are not meaningful; leave estimator out for the "
                    "platform's default",) if doc["cv_mape"] > 1.0 else ())
        note = (f"whole-network {self.family} regression on network features (paper 003), no per-layer breakdown; "
                f"interval: 5-95 % of grouped {doc['cv_folds']}-fold CV residuals "
                f"(CV MAPE {100 * doc['cv_mape']:.1f} % on {doc['n_train']} networks)")
        clipped = (f"outside the training domain: prediction clipped to a decade beyond the trained latencies "
                   f"({np.exp(y_lo):.3g}-{np.exp(y_hi):.3g} ms): this network is unlike the training networks, and "
                   "the answer and its interval mean little",)
        beyond = [outside_domain(v, doc["feature_range"]) if "feature_range" in doc else None for v in x]
        return [Estimate(total_ms=float(np.exp(m)), pre_ms=0.0, exe_ms=float(np.exp(m)), post_ms=0.0, layers=(),
                         unknown_ops={}, estimator=self.name, estimator_version=self.version, platform=platform,
                         model=g.name, notes=(note,), interval_ms=(float(np.exp(m + lo)), float(np.exp(m + hi))),
                         warnings=useless + (clipped if m != r else ()) + (
                             (f"outside the training domain: {why} (features per image): the answer and its interval "
                              "mean little",) if why and m == r else ()))
                for g, m, r, why in zip(graphs, log_ms, raw, beyond)]


def _register(family: str) -> type[NetRegressEstimator]:
    name = f"NetRegress{family.upper()}Estimator"
    # named in this module, as a class statement would be: pickle and copy find it by module and name
    cls = type(name, (NetRegressEstimator,),
               {"name": f"netregress-{family}", "family": family, "__module__": __name__, "__qualname__": name,
                "__doc__": f"Paper 003's {family.upper()} regressor: whole-network latency from network features, on "
                           "the platforms it was trained for."})
    globals()[name] = cls
    return register_estimator(cls)


ESTIMATORS: dict[str, type[NetRegressEstimator]] = {f: _register(f) for f in FAMILIES}
