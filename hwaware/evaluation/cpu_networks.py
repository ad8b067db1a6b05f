"""Whole-network figures of a CPU ResPerfNet model, computed one way for the training script, the calibration
script, ``benchmarks/cpu_wholenet.py`` and the tests.

Networks: the batch-1 rows of ``data/cpu/networks.csv.gz``. The calibration (``measured = a * sum exe + c *
kernels + pre + post``, see :mod:`hwaware.estimators.resperfnet`) is fitted on the training families only
(:func:`hwaware.evaluation.splits.is_held_out`); figures that count are on the held-out families, and both the
calibrated and the uncalibrated (a = 1, c = 0) figures are reported.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hwaware.datasets.measured import NetworkSample, load_network_samples
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.splits import is_held_out
from hwaware.graph import capture
from hwaware.graph.layer import Graph
from hwaware.hardware.catalog import Platform

UNCALIBRATED = (1.0, 0.0)


def batch1_networks() -> list[tuple[NetworkSample, Graph]]:
    """Every measured batch-1 network with its graph at the measured input size."""
    return [(n, capture(n.model, input_size=(3, n.img_size, n.img_size))) for n in load_network_samples()
            if n.batch == 1]


SPACE_NETWORKS = "cpu/space_networks.csv"  # under data/: `hwaware collect networks --models none --space ...`


def space_networks() -> list[tuple[NetworkSample, Graph]]:
    """The measured batch-1 networks of the NAS spaces (NB201, FBNet, OFA: the specs ``hwaware collect networks
    --space`` drew), each with its graph as the space builds it (what a search asks the estimator about)."""
    from hwaware.datasets.measured import REPO_DATA
    from hwaware.search.spaces import from_spec

    out = []
    for n in load_network_samples(REPO_DATA / SPACE_NETWORKS):
        if n.batch == 1:
            space, arch = from_spec(n.model)
            out.append((n, space.graph(arch)))
    return out


def totals(est: Any, platform: Platform, nets: Sequence[tuple[NetworkSample, Graph]],
           calibration: tuple[float, float]) -> np.ndarray:
    """Predicted whole-network ms of ``est`` (a :class:`ResPerfNetEstimator`) with ``calibration`` = (a, c ms)
    in place of the one stored in its meta.json: the estimator's own ``predict`` path."""
    est.__dict__.setdefault("calibration_", {})[platform.key] = calibration
    return np.array([est.predict(g, platform).total_ms for _, g in nets])


def fit_calibration(est: Any, platform: Platform, nets: Sequence[tuple[NetworkSample, Graph]]) -> dict[str, Any]:
    """Least squares (a, c) over the training-family networks of ``nets`` (held-out families are not read)."""
    train = [(n, g) for n, g in nets if not is_held_out(n.model)]
    est.__dict__.setdefault("calibration_", {})[platform.key] = UNCALIBRATED
    x, y = [], []
    for n, g in train:
        e = est.predict(g, platform)
        x.append((e.exe_ms, sum(l.kind.launches_kernel for l in g.layers)))
        y.append(n.total_ms - e.pre_ms - e.post_ms)
    (a, c), *_ = np.linalg.lstsq(np.array(x), np.array(y), rcond=None)
    fitted = totals(est, platform, train, (float(a), float(c)))
    return {"scale": float(a), "overhead_ms_per_kernel": float(c), "networks": [n.model for n, _ in train],
            "in_sample_mape": accuracy(fitted, [n.total_ms for n, _ in train])["mape"] * 100,
            "data": "data/cpu/networks.csv.gz (batch 1, training families only)"}


def held_out_accuracy(est: Any, platform: Platform, nets: Sequence[tuple[NetworkSample, Graph]],
                      calibration: tuple[float, float]) -> dict[str, dict[str, float]]:
    """:func:`~hwaware.evaluation.metrics.accuracy` on the held-out families, calibrated and uncalibrated."""
    held = [(n, g) for n, g in nets if is_held_out(n.model)]
    true = [n.total_ms for n, _ in held]
    return {name: accuracy(totals(est, platform, held, cal), true)
            for name, cal in (("calibrated", calibration), ("uncalibrated", UNCALIBRATED))}
