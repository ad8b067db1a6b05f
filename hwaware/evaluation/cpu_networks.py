"""Whole-network figures of a CPU ResPerfNet model, computed one way for the training script, the calibration
script, ``benchmarks/cpu_wholenet.py`` and the tests.

Networks: the batch-1 rows of ``data/cpu/networks.csv.gz`` (timm) and of the NAS-space files (NB201, FBNet,
OFA-MBv3 drawn at random and measured here with ``hwaware collect networks --space``), and 100 of the fit set's
networks at batches 4 and 16 (:data:`BATCH_FIT_NETWORKS`). The calibration
(:class:`~hwaware.estimators.resperfnet.NetworkCalibration`) is fitted on the *fit set* (:func:`is_fit_network`):
the timm training families and ``data/cpu/space_networks.csv.gz`` (seed 0), with those rows above batch 1. The
figures that count are on the held-out timm families and on ``data/cpu/space_networks_test.csv.gz`` (seed 1, measured
while the calibration rule was being committed, before any was predicted) without the networks whose layer multiset
(:func:`~hwaware.evaluation.splits.graph_multiset`) is in the fit set. Calibrated and uncalibrated figures are both
reported.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from hwaware.datasets.measured import REPO_DATA, NetworkSample, load_network_samples
from hwaware.estimators.resperfnet import NetworkCalibration
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.splits import graph_multiset, is_held_out, timm_family
from hwaware.graph import capture
from hwaware.graph.layer import Graph
from hwaware.hardware.catalog import Platform

Net = tuple[NetworkSample, Graph]
UNCALIBRATED = NetworkCalibration()

# The calibration forms: measured - pre - post = sum over kernels of a * exe + the named terms (c per kernel, d per MB
# the kernel reads and writes, e * MB ** alpha with alpha from EXPONENTS, chosen by the fit's own least squares), on
# absolute ms or on relative error (each network weighted by 1 / its measured time).
# scripts/fit_network_calibration.py chooses among them (its RULE).
# Disclosed: "kernels" was the first shipped form; the three other forms without a power term were written after its
# held-out and NAS-space results were seen; the two power forms after the seed-0 NAS-space networks' added time per
# kernel was seen to grow less than linearly with the kernel's bytes (the results file and meta.json say so too).
CALIBRATION_FORMS: dict[str, tuple[tuple[str, ...], bool]] = {  # name -> (terms besides a * exe, relative)
    "kernels": (("kernels",), False), "kernels+bytes": (("kernels", "mb"), False),
    "kernels, relative": (("kernels",), True), "kernels+bytes, relative": (("kernels", "mb"), True),
    "bytes^alpha, relative": (("mb_pow",), True), "kernels+bytes^alpha, relative": (("kernels", "mb_pow"), True),
    "kernels+capped bytes": (("kernels", "mb_cap"), False),
    "kernels+capped bytes, relative": (("kernels", "mb_cap"), True)}
EXPONENTS = (0.25, 0.5, 0.75)  # 0 and 1 are the kernels and bytes terms
# The capped forms (added 2026-12-07 with the batch-4 and batch-16 fit rows, scripts/fit_network_calibration.py): a
# kernel's bytes count up to the cap (MB), chosen by the fit's own least squares: a kernel that outgrows the caches
# streams its bytes from memory in its micro-benchmark too, so a forward pass adds nothing for the bytes beyond (this
# CPU: L2 1 MB per core, L3 32 MB).
CAPS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)

SPACE_NETWORKS = "cpu/space_networks.csv"  # under data/: seed 0, part of the fit set
SPACE_TEST_NETWORKS = "cpu/space_networks_test.csv"  # seed 1: test only
# batches 4 and 16 of 100 fit-set networks: part of the fit set (scripts/fit_network_calibration.py --measure)
BATCH_FIT_NETWORKS = "cpu/fit_batches.csv"
OTHER_CPU_NETWORKS = "cpu/other_cpu_networks.csv"  # seed 2, measured on another CPU (benchmarks/cpu_other_machine.py)
# seed 3 and the held-out timm families, measured on that CPU too (benchmarks/cpu_host_profile.py)
HOST_TEST_NETWORKS = "cpu/host_test_networks.csv"
HOST_SUITE_RUNS = "cpu/host_suite_runs"  # `hwaware calibrate --here` measurements there: run1.csv.gz, ...
# the same networks measured again on that CPU (benchmarks/cpu_host_profile.py, added after its results)
HOST_TEST_AGAIN = "cpu/remeasured/host_test_networks.csv"
OTHER_CPU_AGAIN = "cpu/remeasured/other_cpu_networks.csv"
# one pass of the host suite against rounds, with test networks timed between (benchmarks/cpu_here_rounds.py)
HERE_ROUNDS = "cpu/here_rounds"


def batch1_networks() -> list[Net]:
    """Every measured batch-1 timm network with its graph at the measured input size."""
    return space_networks("cpu/networks.csv")


def space_networks(name: str = SPACE_NETWORKS) -> list[Net]:
    """The measured networks of the NAS spaces in ``data/<name>`` (NB201, FBNet, OFA: the specs ``hwaware collect
    networks --space`` drew), each with its graph as the space builds it at the measured batch (what a search asks
    about); a timm name's row (``data/cpu/host_test_networks.csv``) with its graph captured at the measured input size
    and batch. Every file but :data:`BATCH_FIT_NETWORKS` holds batch-1 rows only."""
    return list(_space_networks(name))


@functools.cache
def _space_networks(name: str) -> tuple[Net, ...]:
    # once per process: an FBNet or OFA graph is a trace (about 0.1 s each, 66 s for both files on an AMD EPYC), and
    # space_test_networks, the tests and the benchmark read the same files again
    from hwaware.zoo.spaces import from_spec, is_spec

    out = []
    for n in load_network_samples(REPO_DATA / name):
        if n.batch != 1 and name != BATCH_FIT_NETWORKS:  # the other files are batch-1 sets: a stray row stays out
            continue
        if is_spec(n.model):
            space, arch = from_spec(n.model)
            out.append((n, space.graph(arch, batch_size=n.batch)))
        else:
            out.append((n, capture(n.model, input_size=n.input_size, batch_size=n.batch)))
    return tuple(out)


def space_test_networks(fit: Sequence[Net]) -> list[Net]:
    """The seed-1 NAS-space networks whose layer multiset is not in ``fit`` (nothing identical on both sides)."""
    seen = {graph_multiset(g) for _, g in fit}
    return [(n, g) for n, g in space_networks(SPACE_TEST_NETWORKS) if graph_multiset(g) not in seen]


def fit_set_multisets() -> set[str]:
    """The layer multisets of the calibration's whole fit set: the timm training families' networks and the seed-0
    NAS-space networks (what a test network on another CPU must not share), at batch 1: a multiset names the layers'
    shapes, batch included, so a test network is compared at batch 1 too; the fit set's rows above batch 1 are of these
    networks (tests/test_resperfnet.py)."""
    timm = [g for n, g in batch1_networks() if is_fit_network(n)]
    return {graph_multiset(g) for g in timm} | {graph_multiset(g) for _, g in space_networks(SPACE_NETWORKS)}


def is_fit_network(n: NetworkSample) -> bool:
    """Whether the calibration may fit on ``n``: a timm training family or a seed-0 NAS-space network (the caller
    passes only those two files)."""
    return not is_held_out(n.model)


def network_group(n: NetworkSample) -> str:
    """A measured network's group in the CPU benchmarks' tables: its NAS space, or "timm"."""
    return n.model.split(":", 1)[0] if ":" in n.model else "timm"


def calibration_group(n: NetworkSample) -> str:
    """The cross-validation group: the timm family, or the whole NAS space (so a fold predicts a space it never saw)."""
    group = network_group(n)
    return timm_family(n.model) if group == "timm" else group


def totals(est: Any, platform: Platform, nets: Sequence[Net], calibration: NetworkCalibration) -> np.ndarray:
    """Predicted whole-network ms of ``est`` (a :class:`ResPerfNetEstimator`) with ``calibration`` in place of the one
    stored in its meta.json: the estimator's own ``predict`` path."""
    with est.using_calibration(platform, calibration):
        return np.array([est.predict(g, platform).total_ms for _, g in nets])


class Terms:
    """Per network, from the uncalibrated estimator: sum exe, kernels, MB moved, each kernel's MB (for the power
    term); ``y`` the measured time minus pre and post (what the calibrated kernels must add up to); ``total``."""

    def __init__(self, est: Any, platform: Platform, nets: Sequence[Net]) -> None:
        rows, y, self.kernel_mb = [], [], []
        with est.using_calibration(platform, UNCALIBRATED):
            for n, g in nets:
                e = est.predict(g, platform)
                mb = np.array([(l.bytes_read + l.bytes_written) / 1e6 for l in g.kernels()])
                self.kernel_mb.append(mb)
                rows.append((e.exe_ms, len(mb), mb.sum()))
                y.append(n.total_ms - e.pre_ms - e.post_ms)
        self.x, self.y = np.array(rows).reshape(-1, 3), np.array(y)
        self.total = np.array([n.total_ms for n, _ in nets])

    def pow_sums(self, exponent: float, idx: np.ndarray) -> np.ndarray:
        """Sum over each network's kernels of MB ** exponent."""
        return np.array([(self.kernel_mb[i] ** exponent).sum() for i in idx])

    def cap_sums(self, cap: float, idx: np.ndarray) -> np.ndarray:
        """Sum over each network's kernels of min(MB, cap)."""
        return np.array([np.minimum(self.kernel_mb[i], cap).sum() for i in idx])

    def columns(self, terms: Sequence[str], param: float, idx: np.ndarray) -> np.ndarray:
        """The least-squares columns: sum exe, then each term's sum (``param``: the power term's exponent or the
        capped term's cap)."""
        named = {"kernels": lambda: self.x[idx, 1], "mb": lambda: self.x[idx, 2],
                 "mb_pow": lambda: self.pow_sums(param, idx), "mb_cap": lambda: self.cap_sums(param, idx)}
        return np.column_stack([self.x[idx, 0], *(named[t]() for t in terms)])

    def solve(self, form: str, idx: np.ndarray) -> NetworkCalibration:
        """Least squares of ``form`` over the networks ``idx``; a power term's exponent (of :data:`EXPONENTS`) or a
        capped term's cap (of :data:`CAPS`) is the one with the smallest (weighted) residual sum of squares."""
        terms, relative = CALIBRATION_FORMS[form]
        if {"mb_pow", "mb_cap"} <= set(terms):
            raise ValueError(f"{form!r}: one least-squares parameter serves the power or the cap, not both")
        w = 1.0 / self.total[idx] if relative else np.ones(len(idx))
        params = EXPONENTS if "mb_pow" in terms else CAPS if "mb_cap" in terms else (0.0,)
        best = None
        for param in params:
            cols = self.columns(terms, param, idx) * w[:, None]
            coef, *_ = np.linalg.lstsq(cols, self.y[idx] * w, rcond=None)
            sse = float(np.sum((cols @ coef - self.y[idx] * w) ** 2))
            if best is None or sse < best[0]:
                best = (sse, param, dict(zip(("exe", *terms), coef)))
        _, param, c = best  # type: ignore[misc]
        return NetworkCalibration(float(c["exe"]), float(c.get("kernels", 0.0)),
                                  float(c.get("mb", c.get("mb_cap", 0.0))), float(c.get("mb_pow", 0.0)),
                                  param if "mb_pow" in terms else 0.0, param if "mb_cap" in terms else 0.0)

    def group_cv(self, form: str, groups: np.ndarray, fit_rows: np.ndarray | None = None) -> np.ndarray:
        """Each group's rows predicted by ``form`` fitted on the other groups' rows (of the mask ``fit_rows``: all)."""
        rows = np.arange(len(self.total))
        fit_rows = np.ones(len(rows), dtype=bool) if fit_rows is None else fit_rows
        cv = np.zeros(len(rows))
        for group in sorted(set(groups)):
            held = groups == group
            cv[held] = self.predicted(self.solve(form, rows[fit_rows & ~held]), rows[held])
        return cv

    def predicted(self, cal: NetworkCalibration, idx: np.ndarray) -> np.ndarray:
        """Calibrated totals of the networks ``idx`` from the sums (equal to the estimator's, see the tests)."""
        x = self.x[idx]
        power = cal.per_mb_pow_ms * self.pow_sums(cal.exponent, idx) if cal.per_mb_pow_ms else 0.0
        mb = self.cap_sums(cal.mb_cap, idx) if cal.mb_cap else x[:, 2]
        return (self.total[idx] - self.y[idx] + cal.scale * x[:, 0] + cal.per_kernel_ms * x[:, 1]
                + cal.per_mb_ms * mb + power)


def fit_calibrations(est: Any, platform: Platform, nets: Sequence[Net], forms: Sequence[str],
                     terms: Terms | None = None) -> dict[str, dict[str, Any]]:
    """Least squares of each of :data:`CALIBRATION_FORMS` [form] over the fit-set networks of ``nets``
    (:func:`is_fit_network`; the others are not read), with its leave-one-group-out CV MAPE
    (:func:`calibration_group`: each timm family and each NAS space predicted by a fit on the others). ``terms``: the
    fit-set networks' :class:`Terms`, when the caller has them already."""
    fit = [(n, g) for n, g in nets if is_fit_network(n)]
    terms = terms or Terms(est, platform, fit)  # the estimator runs once; every form and fold reuses its sums
    if len(terms.total) != len(fit):
        raise ValueError("terms were computed on other networks than the fit set of nets")
    groups = np.array([calibration_group(n) for n, _ in fit])  # a network's batches fall in one fold
    batches = np.array([n.batch for n, _ in fit])
    everything = np.arange(len(fit))

    def by_batch(predicted: np.ndarray) -> dict[int, float]:
        return {int(b): accuracy(predicted[batches == b], terms.total[batches == b])["mape"] * 100
                for b in sorted(set(batches))}
    out = {}
    for form in forms:
        cv = terms.group_cv(form, groups)
        cal = terms.solve(form, everything)
        fitted = terms.predicted(cal, everything)
        out[form] = {"form": form, **cal.to_doc(), "networks": [n.model for n, _ in fit],
                     "batches": [int(b) for b in batches],
                     "in_sample_mape": accuracy(fitted, terms.total)["mape"] * 100,
                     "in_sample_mape_by_batch": by_batch(fitted),
                     "leave_one_group_out_mape": accuracy(cv, terms.total)["mape"] * 100,
                     "leave_one_group_out_mape_by_batch": by_batch(cv),
                     "data": "the timm training families (data/cpu/networks.csv.gz, batch 1), the seed-0 NAS-space "
                             f"networks (data/{SPACE_NETWORKS}.gz, batch 1) and, where given, 100 of them at batches 4 "
                             f"and 16 (data/{BATCH_FIT_NETWORKS})"}
    return out


def fit_calibration(est: Any, platform: Platform, nets: Sequence[Net], form: str = "kernels") -> dict[str, Any]:
    """:func:`fit_calibrations` of one form."""
    return fit_calibrations(est, platform, nets, [form])[form]


def held_out_accuracy(est: Any, platform: Platform, nets: Sequence[Net],
                      calibration: NetworkCalibration) -> dict[str, dict[str, float]]:
    """:func:`~hwaware.evaluation.metrics.accuracy` on the held-out timm families, calibrated and uncalibrated."""
    held = [(n, g) for n, g in nets if is_held_out(n.model)]
    true = [n.total_ms for n, _ in held]
    return {name: accuracy(totals(est, platform, held, cal), true)
            for name, cal in (("calibrated", calibration), ("uncalibrated", UNCALIBRATED))}
