"""Training side of the paper-003 regressors (:mod:`hwaware.estimators.netregress`): data per platform, the five
families' fitters with their JSON export, and grouped grid search. Used by ``scripts/train_netregress.py``, the
leaderboard and the tests; scikit-learn and XGBoost are imported here only.

>>> import numpy as np
>>> x = np.log1p(np.arange(40, dtype=float).reshape(20, 2)); y = x[:, 0] * 0.5 + 1
>>> fitted = fit_family("ols", {}, x, y)
>>> bool(np.allclose(fitted.predict(x), y))
True
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hwaware.datasets.gpu_tables import NetworkLatency, load_help, load_timm_gpu, load_torch2trt
from hwaware.datasets.graph_store import GraphStore, load_store, store_key
from hwaware.datasets.paths import DataNotFoundError
from hwaware.estimators.netregress import FEATURES, feature_matrix, predict_log_ms
from hwaware.evaluation.splits import GroupKFold, stable_unit
from hwaware.graph.layer import Graph

# The grid, declared before any fit (paper 003 tunes each family by exhaustive grid search with K-fold CV; ours is
# smaller because 2 shared cores train ~30 platforms). Forest sizes (50 RF trees of depth <= 10, 200 boosted trees)
# were cut once, before the reported run, to keep the shipped XGBoost-JSON files small (a first run with 100 / 300
# trees and depth <= 12 wrote 39 MB), not on any accuracy figure; that run's figures were not kept, so they cannot be
# reported beside (review helper-125: the rule asks for both).
GRIDS: dict[str, list[dict[str, Any]]] = {
    "ols": [{}],
    "mlp": [{"hidden_layer_sizes": h, "alpha": a} for h in ((32,), (64, 64)) for a in (1e-4, 1e-2)],
    "svr": [{"kernel": k, "C": c, "epsilon": e} for k in ("rbf", "linear") for c in (1.0, 10.0) for e in (0.01, 0.05)],
    "rf": [{"max_depth": d, "colsample_bynode": c} for d in (6, 10) for c in (0.5, 1.0)],
    "xgb": [{"max_depth": d, "learning_rate": lr} for d in (3, 6) for lr in (0.05, 0.2)],
    # the two further families of papers 000/001 (used by ipc-tree): one exact-greedy regression tree, k neighbours
    "dt": [{"max_depth": d, "min_child_weight": m} for d in (4, 8, 12) for m in (1, 20)],
    "knn": [{"n_neighbors": k} for k in (1, 5, 15)],
}
SEED = 0
CV_SEED = 3  # fold assignment; must differ from the hash seeds of GPU_TEST / GPU_VAL / NCA (0, 1), whose held-out
# side is defined by the same hash: with the same seed, every training group would fall into the same fold


# -- data ----------------------------------------------------------------------------------------------------------

def stored_graph(store: GraphStore, arch_id: str) -> Graph:
    """A batch-1 fp32 graph of a stored network made of its kernels (views, which the store drops, launch nothing;
    layer order and edges are not stored, which none of :data:`FEATURES` needs)."""
    n = store.nets[arch_id]
    layers = [store.layers[i] for i, c in sorted(n.counts.items()) for _ in range(c)]
    return Graph(f"{store.space}:{arch_id}", layers, (1, *n.input_shape), "fp32", n.params, "graph-store")


@functools.cache
def _live_graph(model: str, input_size: tuple[int, ...]) -> Graph:
    from hwaware.graph.sources import capture

    return capture(model, input_size=input_size)


def graph_key(r: NetworkLatency) -> tuple[str, str | None]:
    """The network :func:`row_graph` reads for a row, (space, its key: the store's, a torchvision model's name):
    rows of one architecture can differ (a timm run that timed a reparameterizable model unfused,
    :func:`~hwaware.datasets.graph_store.store_key`)."""
    return r.space, (r.arch_id if r.space == "torchvision" else store_key(r))


def row_graph(r: NetworkLatency) -> Graph:
    """The batch-1 fp32 graph of a measured row (from the store; torchvision models captured live, unfused: the
    regressors read the network as the user passes it, whatever the runtime)."""
    space, key = graph_key(r)
    if space == "torchvision":
        return _live_graph(r.arch["model"], tuple(r.arch["input_size"]))
    return stored_graph(load_store(space), key)


def modal_batch(rows: Sequence[NetworkLatency]) -> int:
    values, counts = np.unique([r.batch for r in rows], return_counts=True)
    return int(values[np.argmax(counts)])


def measured_rows() -> list[NetworkLatency]:
    """Every whole-network row a platform model can train on: HELP rows whose graphs are stored, timm rows at the
    table's most common batch (timm shrinks the batch per row on OOM; other batches would be platforms of a handful
    of rows) whose graphs are stored in the form they timed (:func:`~hwaware.datasets.graph_store.store_key`),
    torch2trt rows."""
    out: list[NetworkLatency] = []
    for space in ("nb201", "fbnet", "ofa_mbv3"):
        try:
            nets = load_store(space).nets
        except DataNotFoundError:
            continue
        out += [r for r in load_help(space) if r.arch_id in nets]
    try:
        timm = load_timm_gpu()
        for gpu in sorted({r.gpu for r in timm}):
            rows = [r for r in timm if r.gpu == gpu]
            batch = modal_batch(rows)
            out += [r for r in rows if r.batch == batch and store_key(r) is not None]
    except DataNotFoundError:
        pass
    return out + list(load_torch2trt())


def cap_rows(rows: Sequence[NetworkLatency], cap: int | None) -> list[NetworkLatency]:
    """At most ``cap`` rows, taken in stable-hash order of their network (a uniform, reproducible sample; by network,
    not by split group: NB201's groups are layer multisets shared by ~16 architectures each, and taking whole groups
    would train on a few dozen distinct networks)."""
    ordered = sorted(rows, key=lambda r: (stable_unit(f"{r.space}:{r.arch_id}", SEED + 7), r.arch_id))
    return list(ordered if cap is None else ordered[:cap])


class FeatureCache:
    """:func:`feature_matrix` of each row's graph, computed once per :func:`graph_key`."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str | None], np.ndarray] = {}

    def matrix(self, rows: Sequence[NetworkLatency]) -> np.ndarray:
        todo = [r for k, r in {graph_key(r): r for r in rows}.items() if k not in self._rows]
        if todo:
            for r, x in zip(todo, feature_matrix([row_graph(r) for r in todo])):
                self._rows[graph_key(r)] = x
        return np.stack([self._rows[graph_key(r)] for r in rows]) if rows else np.zeros((0, len(FEATURES)))


# -- the five families: fit, predict, export ------------------------------------------------------------------------

@dataclass
class Fitted:
    """A fitted candidate: ``predict`` (log ms) and ``doc``, its JSON form (``booster_json`` for RF/XGB)."""

    family: str
    params: dict[str, Any]
    predict: Callable[[np.ndarray], np.ndarray]
    doc: dict[str, Any]
    booster_json: bytes | None = field(default=None, repr=False)


def _scaler(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = x.mean(0), x.std(0)
    return mean, np.where(scale > 0, scale, 1.0)


def fit_family(family: str, params: dict[str, Any], x: np.ndarray, y: np.ndarray) -> Fitted:
    """Fit one candidate of ``family`` with ``params`` on log1p features ``x`` and log-ms targets ``y``."""
    if family in ("rf", "xgb", "dt"):
        import xgboost

        if family == "dt":  # one tree, no shrinkage, no leaf regularisation: leaves are their rows' mean (CART)
            model = xgboost.XGBRegressor(n_estimators=1, learning_rate=1.0, reg_lambda=0.0, tree_method="exact",
                                         n_jobs=1, random_state=SEED, **params)
        elif family == "rf":  # a random forest: parallel trees on bootstrap-like row samples, one round, no shrinkage
            model = xgboost.XGBRFRegressor(n_estimators=50, subsample=0.8, learning_rate=1.0, n_jobs=1,
                                           random_state=SEED, **params)
        else:
            model = xgboost.XGBRegressor(n_estimators=200, subsample=0.8, n_jobs=1, random_state=SEED, **params)
        model.fit(x, y)
        raw = bytes(model.get_booster().save_raw("json"))
        return Fitted(family, params, lambda z: model.predict(z).astype(float), {"file": None}, raw)
    mean, scale = _scaler(x)
    z = (x - mean) / scale
    base = {"mean": mean.tolist(), "scale": scale.tolist()}
    if family == "ols":
        from sklearn.linear_model import LinearRegression

        m = LinearRegression().fit(z, y)
        doc = {**base, "coef": m.coef_.tolist(), "intercept": float(m.intercept_)}
    elif family == "mlp":
        from sklearn.neural_network import MLPRegressor

        m = MLPRegressor(max_iter=500, random_state=SEED, **params).fit(z, y)
        doc = {**base, "activation": m.activation, "weights": [w.tolist() for w in m.coefs_],
               "biases": [b.tolist() for b in m.intercepts_]}
    elif family == "svr":
        from sklearn.svm import SVR

        m = SVR(gamma="scale", max_iter=200_000, **params).fit(z, y)
        doc = {**base, "kernel": m.kernel, "gamma": float(m._gamma), "coef0": float(m.coef0), "degree": int(m.degree),
               "support_vectors": m.support_vectors_.tolist(), "dual_coef": m.dual_coef_[0].tolist(),
               "intercept": float(m.intercept_[0])}
    elif family == "knn":  # distance-weighted mean of the k nearest standardised training rows
        doc = {**base, "k": int(params["n_neighbors"]), "points": z.tolist(), "targets": np.asarray(y).tolist()}
    else:
        raise ValueError(f"unknown family {family!r}; one of {', '.join(GRIDS)}")
    return Fitted(family, params, lambda q: predict_log_ms(family, doc, q), doc)


def mape_of_log(pred_log: np.ndarray, y_log: np.ndarray) -> float:
    # clipped: a diverged candidate scores astronomically badly (and loses) rather than overflowing to inf
    return float(np.mean(np.abs(np.exp(np.clip(pred_log - y_log, -50.0, 50.0)) - 1.0)))


@dataclass
class Search:
    """The result of one family's grid search: every candidate's CV MAPE, the selected one refitted on all rows."""

    family: str
    candidates: list[dict[str, Any]]
    best: Fitted
    cv_mape: float
    residual_q: tuple[float, float]
    grid_seconds: float
    fit_seconds: float


def grid_search(family: str, x: np.ndarray, y: np.ndarray, groups: Sequence[str], n_splits: int = 3) -> Search:
    """Grouped ``n_splits``-fold CV over :data:`GRIDS` [family]; rule: lowest mean-over-rows CV MAPE (first in grid
    order on a tie); the winner is refitted on every row. Its out-of-fold log residuals give the interval quantiles."""
    folds = list(GroupKFold(lambda i: groups[i], n_splits=n_splits, seed=CV_SEED).split(range(len(y))))
    folds = [(tr, te) for tr, te in folds if len(tr) and len(te)]
    if len(folds) < 2:
        raise ValueError(f"{len(set(groups))} groups give fewer than 2 non-empty folds; need more training networks")
    t0 = time.perf_counter()
    cands, oofs = [], []
    for params in GRIDS[family]:
        oof = np.zeros(len(y))
        for tr, te in folds:
            oof[te] = fit_family(family, params, x[tr], y[tr]).predict(x[te])
        tested = np.concatenate([te for _, te in folds])
        cands.append({"params": params, "cv_mape": mape_of_log(oof[tested], y[tested])})
        oofs.append((oof, tested))
    grid_seconds = time.perf_counter() - t0
    k = int(np.argmin([c["cv_mape"] for c in cands]))
    oof, tested = oofs[k]
    resid = y[tested] - oof[tested]
    t0 = time.perf_counter()
    best = fit_family(family, cands[k]["params"], x, y)
    fit_seconds = time.perf_counter() - t0
    return Search(family, cands, best, cands[k]["cv_mape"],
                  (float(np.quantile(resid, 0.05)), float(np.quantile(resid, 0.95))), grid_seconds, fit_seconds)
