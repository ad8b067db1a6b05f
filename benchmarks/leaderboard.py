"""The leaderboard: every registered estimator and the peer methods, on every shipped dataset and split it can run.

Sections (each row: MAPE, share within +-10 %, Kendall tau, Spearman rho, prediction time per network, training time):

1. **Held-out architectures** of NB201 / FBNet / OFA (``GPU_TEST`` of :mod:`hwaware.evaluation.splits`, never trained
   or chosen on), per HELP column (GPU, batch); the table shows the mean over columns, the JSON every column.
   Estimators through ``predict_many`` on the stored graphs at the column's batch (``resperfnet-gpu (own setup)``: the
   same model with the offsets of the machine that timed the column, learned from its training rows, as a per-column
   regressor knows it; no user path returns it); baselines fitted on the column's
   training rows (the same capped, stable-hash sample ``scripts/train_netregress.py`` trains on):
   ``macs-linear`` (``ms = a * MACs + b``) and ``nnmeter-rf`` (nn-Meter's method, our code: per-kernel random forests
   summed over a network's kernels. Conv and dense kernels: one forest each, trained on DeepBench's fp32 forward
   timings of all eight of its GPUs, with the GPU's catalog peak FP32 rate, bandwidth and SM count as features so it
   reaches GPUs DeepBench did not time; every other kernel kind (pooling, norm, activation, elementwise, depthwise conv
   ... which DeepBench lacks): a per-kind cost per kernel plus a constant, fitted by non-negative least squares on the
   column's training networks, on top of the forests' conv/dense sum).
2. **Paper 003's NIS / NCV / NCA** on each timm GPU table: ``netregress-*`` from ``benchmarks/results/netregress.json``
   (the training script's grid search on each split's training side), ``roofline`` and ``macs-linear`` computed here on
   the same test rows.
3. **HELP's protocol** on NB201, every column (flagged ones labelled): the learned GPU model's 10 shots
   (``splits.ten_shots``), tested on every other stored architecture sharing no layer multiset with a shot;
   ``macs-linear`` fitted on the same 10 shots, ``flops`` (rank by FLOPs alone: HELP's FLOPs row), ``roofline``
   zero-shot (on a stable-hash sample of those rows), and the learned GPU model's own figures on those rows from
   ``benchmarks/results/gpu/help_protocol.json`` when present.
4. **Leave-one-GPU-out**: from ``benchmarks/results/gpu/logo.json`` when present (``scripts/train_gpu.py`` writes it);
   beside it, each held-out GPU predicted from a same-architecture GPU's measurements (:func:`sibling_scaling`, the
   idea behind Habitat's scaling), on HELP's networks and DeepBench's kernels (not in ``--quick``).
5. **CPU** (this machine, ``data/cpu/networks.csv.gz``): ``resperfnet`` as shipped, calibrated (the calibration's
   form was chosen after its held-out figures were seen: ``docs/accuracy.md``; ``python benchmarks/cpu_wholenet.py``
   prints it uncalibrated and a CPU roofline fitted on the training layers, which the catalog roofline cannot give:
   it has no CPU peak or bandwidth); ``macs-linear`` fitted on the training families, all tested on the held-out
   families.

Published reference rows are marked ``published`` with how their protocol differs.

Writes ``benchmarks/results/leaderboard/{leaderboard.md, leaderboard.json, *.png}`` (``--quick``: into ``quick/``).
Run: ``OMP_NUM_THREADS=1 python benchmarks/leaderboard.py`` (``--quick``: two NB201 columns, fewer rows, < 5 min).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hwaware.api import Progress
from hwaware.datasets.gpu_tables import NetworkLatency, load_deepbench
from hwaware.datasets.graph_store import load_store, store_key
from hwaware.datasets.measured import load_network_samples
from hwaware.estimators import get_estimator, list_estimators
from hwaware.estimators.netregress import platform_key
from hwaware.estimators.resperfnet_gpu import predict_design
from hwaware.evaluation.gpu_data import Sample, build_design, deepbench_samples, help_samples, kernel_layer
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.netregress_fit import cap_rows, measured_rows, row_graph
from hwaware.evaluation.splits import (HELD_OUT_FAMILIES, PAPER003_SPLITS, gpu_sample_group, split_gpu_samples,
                                       ten_shots, timm_family)
from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.graph.transform import with_batch
from hwaware.hardware.catalog import GPUSpec, Platform, get_gpu

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
OUT = RESULTS / "leaderboard"
TRAIN_CAP = 400  # = scripts/train_netregress.py's default --cap: the baselines see the rows netregress trained on
QUICK_COLUMNS = ("TITAN RTX|pytorch|fp32|256", "GeForce RTX 2080 Ti|pytorch|fp32|1")

PUBLISHED = [  # (method, dataset, figures, how the protocol differs from ours)
    ("HELP (published)", "HELP protocol: NB201 titan_rtx_256, 10 samples", {"spearman": 0.987},
     "meta-trained on other devices' columns, 10 target samples; tested on all 15,625 archs (ours: the stored subset)"),
    ("BRP-NAS (published, in HELP)", "HELP protocol: NB201 titan_rtx_256", {"spearman": 0.814},
     "900 target samples, GCN predictor"),
    ("FLOPs (published, in HELP)", "HELP protocol: NB201 titan_rtx_256", {"spearman": 0.950}, "FLOPs rank, no samples"),
    ("Bouzidi XGBoost (published, paper 003)", "NIS / NCV / NCA, Jetson AGX Xavier", {"mape": (0.0875, 0.0812, 0.1229)},
     "Keras/TF fp32 batch 1 on a Jetson, own CNN zoo, NCA = random synthetic CNNs (ours: timm AMP tables, desktop GPUs)"),
    ("Metz et al. decision tree (published, paper 000 Table II)", "IPC of CNNs, GTX 1080 Ti + other GPUs",
     {"mape": {"linear": 0.0807, "xgboost": 0.0759, "random forest": 0.0712, "knn": 0.0594, "decision tree": 0.0573}},
     "target is IPC measured with nvprof, 32 CNNs, six held-out standard CNNs (ours: IPC derived from HELP's batch-1 "
     "latencies, grouped held-out architectures; our Table II: benchmarks/results/ipc_tree.md)"),
    ("ResPerfNet (published, paper 004)", "LeNet / AlexNet / VGG16, GTX 1080 Ti", {"mape": {"tensorflow": 0.084,
                                                                                          "tensorrt": 0.17}},
     "three whole networks over batch sizes, TensorFlow / TensorRT; per-layer Table 1/2 figures in "
     "benchmarks/results/resperfnet_layers.md"),
]


# -- rows, graphs, baselines ------------------------------------------------------------------------------------------

def group(r: NetworkLatency) -> str:
    return gpu_sample_group(Sample(r, None))


def key_of(r: NetworkLatency) -> str:
    return platform_key(r.gpu, r.runtime, r.precision, r.batch)


def batched(r: NetworkLatency) -> Graph:
    g = row_graph(r)
    return with_batch(g, r.batch, "fp32" if r.precision == "fp32" else r.precision)


def fit_macs_linear(rows: Sequence[NetworkLatency]) -> tuple[Callable[[Sequence[NetworkLatency]], np.ndarray], float]:
    """``ms = a * MACs + b`` by least squares (per batch MACs from the store); returns (predict, training seconds)."""
    t0 = time.perf_counter()
    macs = lambda rs: np.array([load_store(r.space).nets[store_key(r)].macs * r.batch for r in rs], float)  # noqa: E731
    a, b = np.polyfit(macs(rows), [r.ms for r in rows], 1) if len(rows) > 1 else (0.0, rows[0].ms)
    return (lambda rs: np.maximum(a * macs(rs) + b, 1e-6)), time.perf_counter() - t0


def gpu_vector(gpu: GPUSpec) -> list[float]:
    return [np.log(gpu.fp32_tflops), np.log(gpu.memory_bandwidth_gbs), float(gpu.sm_count)]


def kernel_vector(layer: Layer) -> list[float]:
    """nn-Meter's conv/dense features (input size, channels, kernel, stride) plus FLOPs and parameters, log-scaled."""
    n = layer.input_shapes[0][0]
    if layer.kind is LayerKind.DENSE:
        cin, hw, cout, k, s = layer.input_shapes[0][-1], 1, layer.output_shapes[0][-1], 1, 1
    else:
        a = layer.attrs
        cin, hw, cout, k, s = a["in_channels"], layer.input_shapes[0][2] * layer.input_shapes[0][3], \
            a["out_channels"], a["kernel"][0], a["stride"][0]
    return list(np.log1p([n, hw, cin, cout, k, s, layer.macs, layer.params]))


class NnMeterRF:
    """nn-Meter-style per-kernel predictor (see the module doc): forests for conv / dense kernels from DeepBench, NNLS
    per-kind costs for the rest from the column's training networks."""

    KINDS = tuple(k for k in LayerKind if k.launches_kernel and k not in (LayerKind.CONV, LayerKind.DENSE))

    def __init__(self) -> None:
        from sklearn.ensemble import RandomForestRegressor

        t0 = time.perf_counter()
        self.forests = {}
        for kind, lk in (("conv", LayerKind.CONV), ("dense", LayerKind.DENSE)):
            ks = [k for k in load_deepbench() if k.kind == kind and k.precision == "fp32"]
            x = np.array([kernel_vector(kernel_layer(k)) + gpu_vector(get_gpu(k.gpu)) for k in ks])
            self.forests[lk] = RandomForestRegressor(200, min_samples_leaf=2, random_state=0, n_jobs=1).fit(
                x, np.log([k.ms for k in ks]))
        self.forest_seconds = time.perf_counter() - t0

    def _parts(self, graphs: Sequence[Graph], gpu: GPUSpec) -> tuple[np.ndarray, np.ndarray]:
        """(forest ms of each graph's dense convs and GEMMs, per-kind counts of its other kernels + a constant 1)."""
        vecs: dict[LayerKind, list[list[float]]] = {LayerKind.CONV: [], LayerKind.DENSE: []}
        owner: dict[LayerKind, list[int]] = {LayerKind.CONV: [], LayerKind.DENSE: []}
        counts = np.zeros((len(graphs), len(self.KINDS) + 1))
        counts[:, -1] = 1.0
        for n, g in enumerate(graphs):
            for l in g.kernels():
                if l.kind in vecs and l.attrs.get("groups", 1) == 1:
                    vecs[l.kind].append(kernel_vector(l) + gpu_vector(gpu))
                    owner[l.kind].append(n)
                else:  # grouped convs count as depthwise: DeepBench has no grouped conv
                    counts[n, self.KINDS.index(l.kind if l.kind in self.KINDS else LayerKind.DEPTHWISE_CONV)] += 1
        ms = np.zeros(len(graphs))
        for kind, v in vecs.items():
            if v:  # one forest call per kind for all graphs
                np.add.at(ms, owner[kind], np.exp(self.forests[kind].predict(np.array(v))))
        return ms, counts

    def fit_column(self, graphs: Sequence[Graph], ms: Sequence[float], gpu: GPUSpec) -> float:
        from scipy.optimize import nnls

        t0 = time.perf_counter()
        big, counts = self._parts(graphs, gpu)
        self.costs, _ = nnls(counts, np.maximum(np.array(ms) - big, 0.0))
        return time.perf_counter() - t0

    def predict(self, graphs: Sequence[Graph], gpu: GPUSpec) -> np.ndarray:
        big, counts = self._parts(graphs, gpu)
        return big + counts @ self.costs


# -- evaluation ---------------------------------------------------------------------------------------------------------

def learned_estimators() -> list[str]:
    """Every registered estimator the GPU sections can ask (the CPU-only ``resperfnet`` runs in the CPU section)."""
    return [n for n in list_estimators() if n != "resperfnet"]


def timed_predict(name: str, graphs: Sequence[Graph], platform: Platform) -> tuple[np.ndarray, float] | None:
    est = get_estimator(name)
    if not est.supports(platform):
        return None
    t0 = time.perf_counter()
    pred = np.array([e.total_ms for e in est.predict_many(graphs, platform)])
    return pred, (time.perf_counter() - t0) / len(graphs)


def read_results(name: str) -> dict:
    """A committed results file under benchmarks/results/ (empty when its script has not written it yet)."""
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else {}


def netregress_train_seconds() -> dict[str, dict[str, float]]:
    return {k: {f: v["grid_seconds"] + v["fit_seconds"] for f, v in rec["families"].items()}
            for k, rec in read_results("netregress.json").get("platforms", {}).items()}


def row(method: str, acc: dict[str, float], predict_s: float | None, train_s: float | None, **extra: Any) -> dict:
    return {"method": method, **{k: acc[k] for k in ("n", "mape", "within10", "kendall", "spearman")},
            "predict_ms_per_network": None if predict_s is None else 1e3 * predict_s,
            "train_seconds": train_s, **extra}


def heldout_split() -> tuple[list[NetworkLatency], list[NetworkLatency]]:
    """(train + val, test) of the HELP rows by ``split_gpu_samples``: what netregress trained on, and GPU_TEST."""
    rows = [r for r in measured_rows() if r.table == "help"]
    train_s, val_s, test_s = split_gpu_samples([Sample(r, None) for r in rows])
    return [s.net for s in train_s + val_s], [s.net for s in test_s]


def column_rows(key: str, train: Sequence[NetworkLatency], test: Sequence[NetworkLatency],
                quick: bool) -> tuple[list[NetworkLatency], list[NetworkLatency]]:
    """A column's baseline training rows and its scored test rows (stable-hash samples)."""
    return (cap_rows([r for r in train if key_of(r) == key], TRAIN_CAP),
            cap_rows([r for r in test if key_of(r) == key], 60 if quick else 300))


def heldout_architectures(quick: bool, bar: Progress, plots: dict) -> list[dict]:
    train, test = heldout_split()
    columns = sorted({key_of(r) for r in test})
    columns = [c for c in columns if c in QUICK_COLUMNS] if quick else columns
    nreg_train = netregress_train_seconds()
    ipc = read_results("ipc_tree.json")
    ipc_train = ipc["candidates"][ipc["chosen"]]["train_seconds"] if ipc else None
    nnm = NnMeterRF()
    out = []
    for key in columns:
        tr, te = column_rows(key, train, test, quick)
        gpu = get_gpu(tr[0].gpu)
        platform = Platform(gpu, precision="fp32", runtime="pytorch", batch_size=tr[0].batch)
        graphs, truth = [batched(r) for r in te], np.array([r.ms for r in te])
        size = np.array([load_store(r.space).nets[r.arch_id].macs for r in te], float)
        preds: dict[str, tuple[np.ndarray, float | None, float | None]] = {}
        for name in learned_estimators():
            got = timed_predict(name, graphs, platform)
            if got is not None:
                train_t = nreg_train.get(key, {}).get(name.removeprefix("netregress-")) if name.startswith("netregress") \
                    else ipc_train if name == "ipc-tree" else None
                preds[name] = (got[0], got[1], 0.0 if name == "roofline" else train_t)
        if "resperfnet-gpu" in preds:
            net, _ = get_estimator("resperfnet-gpu")._loaded()
            own = predict_design(net, build_design([Sample(r, None) for r in te]), use_setup=True)
            preds["resperfnet-gpu (own setup)"] = (own, None, None)
        lin, lin_t = fit_macs_linear(tr)
        t0 = time.perf_counter()
        preds["macs-linear"] = (lin(te), (time.perf_counter() - t0) / len(te), lin_t)
        fit_t = nnm.fit_column([batched(r) for r in tr], [r.ms for r in tr], gpu)
        t0 = time.perf_counter()
        preds["nnmeter-rf"] = (nnm.predict(graphs, gpu), (time.perf_counter() - t0) / len(te), nnm.forest_seconds + fit_t)
        spaces = np.array([r.space for r in te])
        for name, (p, pt, tt) in preds.items():
            for space in sorted(set(spaces)):  # a column pools spaces measured on one platform: report each apart
                m = spaces == space
                if m.sum() >= 3:
                    out.append(row(name, accuracy(p[m], truth[m]), pt, tt, column=key, space=space, n_train=len(tr)))
            plots.setdefault(("heldout", name), []).append((truth, p, size))
        bar.step()
    return out


def paper003(quick: bool, bar: Progress, plots: dict) -> list[dict]:
    doc = read_results("netregress.json") or {"paper003": {}}
    timm = [r for r in measured_rows() if r.space == "timm"]
    out = []
    for gpu_name in sorted({r.gpu for r in timm}):
        g_rows = [r for r in timm if r.gpu == gpu_name]
        for split, splitter in PAPER003_SPLITS.items():
            tr_i, te_i = splitter.split(g_rows)
            tr, te = [g_rows[i] for i in tr_i], [g_rows[i] for i in te_i]
            if quick:  # the netregress rows below stay the full test side's: labelled so in --quick
                te = cap_rows(te, 40)
            truth = np.array([r.ms for r in te])
            for f, rec in doc["paper003"].get(gpu_name, {}).get(split, {}).get("families", {}).items():
                t = rec["test"]
                out.append(row(f"netregress-{f}", t, t["predict_us_per_network"] * 1e-6,
                               rec["grid_seconds"] + rec["fit_seconds"], split=split, gpu=gpu_name,
                               note="from benchmarks/results/netregress.json (model only, features excluded)"
                               + ("; all test rows, the others' 40 (--quick)" if quick else "")))
            graphs = [batched(r) for r in te]
            platform = Platform(get_gpu(gpu_name), precision="amp", runtime="pytorch", batch_size=te[0].batch)
            roof = timed_predict("roofline", graphs, platform)
            if roof is not None:
                out.append(row("roofline", accuracy(roof[0], truth), roof[1], 0.0, split=split, gpu=gpu_name))
                plots.setdefault((f"timm-{split}", "roofline"), []).append((truth, roof[0], None))
            lin, lin_t = fit_macs_linear(tr)
            out.append(row("macs-linear", accuracy(lin(te), truth), None, lin_t, split=split, gpu=gpu_name))
            bar.step()
    return out


def help_protocol(quick: bool, bar: Progress) -> list[dict]:
    """HELP's few-shot protocol on NB201, on the rows resperfnet-gpu is scored on (``scripts/train_gpu.py help``): the
    10 shots of :func:`~hwaware.evaluation.splits.ten_shots`, evaluated on every other stored architecture that shares
    no layer multiset with a shot. Columns the data README flags are kept, labelled with their flag."""
    samples = help_samples(("nb201",))
    store = load_store("nb201")
    columns = sorted({s.column for s in samples})
    targets = [c for c in columns if c.endswith("TITAN RTX|pytorch|fp32|256")] if quick else columns
    recorded = {c: v["shots"] for c, v in read_results("gpu/help_protocol.json").get("columns", {}).items()}
    out = []
    for column in targets:
        col = [s for s in samples if s.column == column]
        shot_i, rest_i = ten_shots(col)
        shots, rest = [col[i].net for i in shot_i], [col[i].net for i in rest_i]
        label = key_of(rest[0]) + (f" (flagged: {rest[0].flag})" if rest[0].flag else "")
        extra = {"column": label, "n_shots": len(shots),
                 # None: no resperfnet-gpu figures for this column; False: its shots differ (a store grew since)
                 "same_shots_as_resperfnet_gpu": recorded[column] == [r.arch_id for r in shots]
                 if column in recorded else None}
        truth = np.array([r.ms for r in rest])
        lin, lin_t = fit_macs_linear(shots)
        out.append(row("macs-linear (10-shot)", accuracy(lin(rest), truth), None, lin_t, **extra))
        acc = accuracy(np.array([store.nets[r.arch_id].macs for r in rest], float), truth)
        out.append(row("flops (rank only)", {**acc, "mape": float("nan"), "within10": float("nan")}, None, 0.0, **extra))
        some = cap_rows(rest, 100 if quick else 500)  # a stable-hash sample of the same rows: graphs cost time
        roof = timed_predict("roofline", [batched(r) for r in some], Platform(get_gpu(some[0].gpu), batch_size=some[0].batch))
        out.append(row("roofline (zero-shot)", accuracy(roof[0], [r.ms for r in some]), roof[1], 0.0, **extra))
        bar.step()
    return out


def read_gpu_results(name: str) -> list[dict]:
    """Rows of a results file of ``scripts/train_gpu.py``: every object that carries both 'mape' and 'spearman'."""
    found: list[dict] = []

    def walk(node: Any, where: list[str]) -> None:
        if isinstance(node, dict):
            if "mape" in node and "spearman" in node:
                found.append({"method": "resperfnet-gpu", "where": "/".join(where),
                              **{k: node.get(k) for k in ("n", "mape", "within10", "kendall", "spearman")}})
            for k, v in node.items():
                walk(v, [*where, str(k)])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*where, str(i)])

    walk(read_results(f"gpu/{name}.json"), [])
    return found


def same_architecture(gpus: Sequence[str]) -> list[tuple[str, str]]:
    """(held out, sibling) pairs of distinct GPUs of one catalog architecture (named) and device class."""
    spec = {g: get_gpu(g) for g in gpus}
    return [(x, y) for x in sorted(gpus) for y in sorted(gpus) if x != y and spec[x].architecture
            and (spec[x].architecture, spec[x].is_integrated_soc) == (spec[y].architecture, spec[y].is_integrated_soc)]


SIBLING_METHODS = ("sibling as measured", "sibling x roofline")
FIGURES = ("n", "mape", "within10", "kendall", "spearman")


def sibling_scaling(samples: Sequence[Sample], zero_shot: dict[str, dict], match: Callable[[Sample], Any]) -> list[dict]:
    """Leave-one-GPU-out by a same-architecture GPU's measurements, the idea behind Habitat's wave scaling (Habitat scales
    each kernel it measured on one GPU to another by their rates, with MLPs for GEMMs and convolutions; here a whole
    row's time, network or kernel, as the tables give no per-kernel times): each held-out column's rows ``match``-ed to
    a sibling's (:func:`same_architecture`; a key a column repeats, DeepBench's duplicate shapes, paired in order),
    predicted as the sibling's time (``sibling as measured``) and as that time times the ratio of the two GPUs'
    roofline times of the row (``sibling x roofline``, the sum of its kernels' rooflines for a network). One row per
    column and method, its figures the mean over the column's siblings (each sibling's in ``per_sibling``), beside
    ``zero_shot``'s figures of resperfnet-gpu on that column (``scripts/train_gpu.py``'s folds, on all of the column's
    rows; ``n``, the rows a sibling timed too, says when that is fewer)."""
    design = build_design(samples)
    roof = design.per_sample(np.exp(design.log_base))
    rows: dict[str, dict] = {}
    seen: Counter = Counter()
    for i, s in enumerate(samples):
        key = match(s)
        rows.setdefault(s.column, {})[key, seen[s.column, key]] = i  # the how-manieth time the column has this key
        seen[s.column, key] += 1
    out = []
    pairs = same_architecture(sorted({s.gpu for s in samples}))
    for x in sorted({s.gpu for s in samples}):
        siblings = [y for g, y in pairs if g == x]
        for col, mine in rows.items():
            if not siblings or samples[next(iter(mine.values()))].gpu != x:
                continue
            per: dict[str, dict[str, dict]] = {m: {} for m in SIBLING_METHODS}
            for y in siblings:
                theirs = rows.get(col.replace(f":{x}|", f":{y}|"), {})
                both = [(i, theirs[k]) for k, i in mine.items() if k in theirs]
                if not both:
                    continue
                i, j = (np.array(v) for v in zip(*both))
                truth, ms = np.array([samples[k].ms for k in i]), np.array([samples[k].ms for k in j])
                for method, pred in zip(SIBLING_METHODS, (ms, ms * roof[i] / roof[j])):
                    per[method][y] = accuracy(pred, truth)
            if not per[SIBLING_METHODS[0]]:
                continue
            for method, by_sibling in per.items():
                mean = {k: float(np.mean([a[k] for a in by_sibling.values()])) for k in FIGURES}
                out.append(row(method, mean, None, 0.0, held_out_gpu=x, column=col, per_sibling=by_sibling))
            if col in zero_shot:
                out.append(row("resperfnet-gpu (leave-one-GPU-out)", zero_shot[col], None, None, held_out_gpu=x,
                               column=col))
    return out


def sibling_section(bar: Progress) -> list[dict]:
    """:func:`sibling_scaling` on HELP's networks (matched by space, architecture and batch: the column) against
    ``logo.json`` and on DeepBench's kernels (matched by kind, precision and shape) against ``kernel_logo.json``."""
    logo = read_results("gpu/logo.json").get("per_gpu", {})
    networks = sibling_scaling(help_samples(), {c: a for r in logo.values() for c, a in r["zero_shot"].items()},
                               lambda s: s.net.arch_id)
    bar.step()
    kernels = sibling_scaling(deepbench_samples(), {c: r["zero_shot"] for c, r in
                                                    read_results("gpu/kernel_logo.json").get("columns", {}).items()},
                              lambda s: json.dumps(s.kernel.dims, sort_keys=True))
    bar.step()
    return [{**r, "table": "HELP networks"} for r in networks] + [{**r, "table": "DeepBench kernels"} for r in kernels]


def sibling_batches(rows: list[dict]) -> str:
    """Mean MAPE of each method of :func:`sibling_section`'s HELP rows per batch (each column once), and the same
    without the columns the data README flags."""
    help_rows = [r for r in rows if r["table"] == "HELP networks"]
    flagged = {s.column for s in help_samples() if s.net.flag}
    batches = sorted({int(r["column"].rsplit("|", 1)[1]) for r in help_rows})
    methods = list(dict.fromkeys(r["method"] for r in help_rows))

    def means(keep: Callable[[dict], bool]) -> str:
        return "; ".join(f"batch {b}: " + ", ".join(
            f"{m} {100 * np.mean(v):.1f} %" for m in methods if (v := [
                r["mape"] for r in help_rows if r["method"] == m and r["column"].endswith(f"|{b}") and keep(r)]))
            for b in batches)
    return (f"\nMean MAPE per batch over those columns: {means(lambda r: True)}. Without the flagged columns: "
            f"{means(lambda r: r['column'] not in flagged)}.\n")


def cpu_section(quick: bool, bar: Progress, plots: dict) -> list[dict]:
    from hwaware.graph.sources import capture

    truth_of = {n.model: n.pre_ms + n.exe_ms + n.post_ms for n in load_network_samples()}
    train = [m for m in truth_of if timm_family(m) not in HELD_OUT_FAMILIES]
    test = [m for m in truth_of if timm_family(m) in HELD_OUT_FAMILIES]
    if quick:
        train, test = train[:10], test[:10]
    graphs = {m: capture(m) for m in train + test}
    platform = Platform.resolve("cpu")
    truth = np.array([truth_of[m] for m in test])
    out = []
    got = timed_predict("resperfnet", [graphs[m] for m in test], platform)
    if got is not None:
        out.append(row("resperfnet (calibrated; form chosen after these figures: docs/accuracy.md)",
                       accuracy(got[0], truth), got[1], None, split="held-out families"))
        plots.setdefault(("cpu", "resperfnet"), []).append((truth, got[0], None))
    t0 = time.perf_counter()
    a, b = np.polyfit([graphs[m].macs for m in train], [truth_of[m] for m in train], 1)
    lin_t = time.perf_counter() - t0
    out.append(row("macs-linear", accuracy(np.maximum(a * np.array([graphs[m].macs for m in test]) + b, 1e-6), truth),
                   None, lin_t, split="held-out families"))
    bar.step()
    return out


# -- output -------------------------------------------------------------------------------------------------------------

def fmt(v: Any, pct: bool = False, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    return f"{100 * v:.1f} %" if pct else f"{v:.{digits}f}"


def summarise(rows: list[dict], by: str) -> list[dict]:
    """Mean of each figure over the rows of one method (per ``by`` value when given)."""
    keys = sorted({(r["method"], r.get(by, "")) for r in rows}, key=str)
    out = []
    for method, b in keys:
        rs = [r for r in rows if r["method"] == method and r.get(by, "") == b]
        mean = lambda k: float(np.nanmean([r[k] for r in rs if r.get(k) is not None])) if any(  # noqa: E731
            r.get(k) is not None for r in rs) else None
        out.append({"method": method, by: b, "columns": len(rs), **{k: mean(k) for k in (
            "mape", "within10", "kendall", "spearman", "predict_ms_per_network", "train_seconds")}})
    return sorted(out, key=lambda r: (str(r[by]), r["mape"] if r["mape"] is not None and not np.isnan(r["mape"]) else 9e9))


def table(rows: list[dict], by: str, title: str) -> str:
    lines = [f"### {title}", "", f"| method | {by} | columns | MAPE | ±10 % | Kendall τ | Spearman ρ | predict ms/net | train s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in summarise(rows, by):
        lines.append(f"| {r['method']} | {r[by]} | {r['columns']} | {fmt(r['mape'], True)} | {fmt(r['within10'], True)} | "
                     f"{fmt(r['kendall'])} | {fmt(r['spearman'])} | {fmt(r['predict_ms_per_network'], digits=3)} | "
                     f"{fmt(r['train_seconds'], digits=1)} |")
    return "\n".join(lines) + "\n"


def save_plots(plots: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for dataset in sorted({d for d, _ in plots}):
        methods = sorted(m for d, m in plots if d == dataset)
        fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 3.2), squeeze=False)
        for ax, m in zip(axes[0], methods):
            t = np.concatenate([a for a, _, _ in plots[(dataset, m)]])
            p = np.concatenate([b for _, b, _ in plots[(dataset, m)]])
            ax.loglog(t, p, ".", ms=2, alpha=0.5)
            lo, hi = min(t.min(), p.min()), max(t.max(), p.max())
            ax.plot([lo, hi], [lo, hi], "k-", lw=0.5)
            ax.set_title(m, fontsize=8)
            ax.set_xlabel("measured ms", fontsize=7)
        axes[0][0].set_ylabel("predicted ms", fontsize=7)
        fig.tight_layout()
        path = out / f"pred_vs_measured_{dataset}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path.name)
    sized = [(m, v) for (d, m), v in plots.items() if d == "heldout"]
    if sized:
        fig, ax = plt.subplots(figsize=(6, 4))
        for m, parts in sorted(sized):
            t = np.concatenate([a for a, _, _ in parts])
            p = np.concatenate([b for _, b, _ in parts])
            s = np.concatenate([c for _, _, c in parts])
            ax.semilogx(s, 100 * np.abs(p - t) / t, ".", ms=2, alpha=0.4, label=m)
        ax.set_xlabel("MACs per image")
        ax.set_ylabel("|error| %")
        ax.set_ylim(0, 100)
        ax.legend(fontsize=6, markerscale=4)
        fig.tight_layout()
        fig.savefig(out / "error_vs_size_heldout.png", dpi=110)
        plt.close(fig)
        written.append("error_vs_size_heldout.png")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="two NB201 columns, fewer rows (CI, < 5 minutes)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = OUT / "quick" if args.quick else OUT  # a quick run never overwrites the full figures
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    help_cols = 1 if args.quick else 15  # NB201 HELP columns
    heldout_cols = len(QUICK_COLUMNS) if args.quick else 20
    bar = Progress(heldout_cols + 9 + help_cols + 1 + (0 if args.quick else 2), "leaderboard", enabled=True)
    plots: dict = {}
    results = {"heldout": heldout_architectures(args.quick, bar, plots), "paper003": paper003(args.quick, bar, plots),
               "help_protocol": help_protocol(args.quick, bar), "cpu": cpu_section(args.quick, bar, plots),
               "logo": read_gpu_results("logo"), "help_protocol_resperfnet_gpu": read_gpu_results("help_protocol"),
               "logo_ipc_tree": [{"method": "ipc-tree", "held_out_gpu": g, **v}
                                 for g, v in sorted(read_results("ipc_tree.json").get("logo", {}).items())],
               "siblings": [] if args.quick else sibling_section(bar)}
    bar.close()
    figures = save_plots(plots, out)
    md = ["# hwaware leaderboard", "",
          f"`python benchmarks/leaderboard.py{' --quick' if args.quick else ''}` ({time.perf_counter() - t0:.0f} s). "
          "Means over the listed columns; every column in leaderboard.json. predict ms/net: the estimator's "
          "`predict_many` wall time per network on a captured graph (capture excluded); train s: grid search + fit "
          "for one platform ('–' where not recorded, 0 for analytic models).", "",
          table(results["heldout"], "space", "Held-out architectures (GPU_TEST), HELP NB201 / FBNet / OFA columns"),
          table(results["paper003"], "split", "Paper 003 exploration spaces on the timm GPU tables (mean over GPUs)"),
          table(results["help_protocol"], "column", "HELP protocol, NB201, 10 samples of the target column"),
          table(results["cpu"], "split", "CPU (this machine), held-out timm families"),
          "### Leave-one-GPU-out and the learned model's HELP protocol", "",
          (f"{len(results['logo'])} leave-one-GPU-out and {len(results['help_protocol_resperfnet_gpu'])} HELP-protocol "
           "rows of resperfnet-gpu read from benchmarks/results/gpu/ (in leaderboard.json).")
          if results["logo"] or results["help_protocol_resperfnet_gpu"] else
          "benchmarks/results/gpu/logo.json and help_protocol.json are not written yet (scripts/train_gpu.py); "
          "netregress-* cannot run leave-one-GPU-out (one model per measured platform).", "",
          *(["ipc-tree, leave-one-GPU-out zero-shot (HELP batch-1 test rows of the held-out GPU; "
             "scripts/train_ipc_tree.py): " + ", ".join(f"{r['held_out_gpu']} {100 * r['mape']:.1f} %"
                                                         for r in results["logo_ipc_tree"]), ""]
            if results["logo_ipc_tree"] else []),
          *([table([r for r in results["siblings"] if r["table"] == t], "held_out_gpu",
                   f"Leave-one-GPU-out by a same-architecture GPU's measurements, {t} (Habitat's idea)")
             + "\nEach held-out GPU's columns predicted from the other GPUs of its architecture that timed the same rows "
               "(each column's figures the mean over them): its time as measured, and times the ratio "
               "of the two GPUs' roofline times (Habitat scales each measured kernel by the GPUs' rates, with MLPs for "
               "GEMMs and convolutions: not reimplemented here, and these tables give whole rows, not kernels), beside "
               "resperfnet-gpu's zero-shot figures of `python scripts/train_gpu.py logo` / `kernels` (its fold never "
               "saw the held-out GPU; on all of the column's rows, the siblings' where both timed them).\n"
               + (sibling_batches(results["siblings"]) if t == "HELP networks" else "")
               for t in ("HELP networks", "DeepBench kernels") if results["siblings"]]),
          "### Published reference rows (not run here)", "", "| method | dataset | figures | protocol difference |",
          "|---|---|---|---|", *[f"| {m} | {d} | {json.dumps(f)} | {why} |" for m, d, f, why in PUBLISHED], "",
          "Plots: " + ", ".join(figures), ""]
    (out / "leaderboard.md").write_text("\n".join(md))
    (out / "leaderboard.json").write_text(json.dumps({"quick": args.quick, **results,
                                                      "published": [dict(zip(("method", "dataset", "figures", "protocol"), p))
                                                                    for p in PUBLISHED]}, indent=1, default=float))
    print("\n".join(md))


if __name__ == "__main__":
    main()
