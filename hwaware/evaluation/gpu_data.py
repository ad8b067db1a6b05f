"""The GPU training and evaluation data, assembled one way for the training script, benchmarks and tests.

It joins the measured tables (:mod:`hwaware.datasets.gpu_tables`) with the captured graphs
(:mod:`hwaware.datasets.graph_store`; torchvision models are captured live, TensorRT rows through the
:mod:`hwaware.runtime.tensorrt` rewrite) and turns them into :class:`~hwaware.estimators.resperfnet_gpu.Design`
matrices. Which rows train and which test is decided by :mod:`hwaware.evaluation.splits` in the callers.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from hwaware.calibration import FORMS, Breakdown, Profile, fit_profile
from hwaware.datasets.gpu_tables import (KernelLatency, NetworkLatency, load_deepbench, load_help, load_timm_gpu,
                                         load_torch2trt)
from hwaware.datasets.graph_store import load_store, store_key
from hwaware.estimators.resperfnet_gpu import (TENSORRT_FALLBACKS, BatchPairs, Design, DesignBuilder, DesignParts,
                                               HostChoice, LayerTimeNet, TwinPairs, batch_pairs, design_parts,
                                               engine_bound, graph_layers, host_choice, interval_ends, interval_key,
                                               measurement_setup, predict_design_call, runtime_via, twin_pairs)
from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.graph.ops import layer_cost
from hwaware.hardware.catalog import get_gpu, gpus
from hwaware.runtime import runtime_graph
from hwaware.runtime.eager import kernels as eager_kernels


@dataclass(frozen=True)
class Sample:
    """A network measurement or a bare kernel, with the group keys the splits use."""

    net: NetworkLatency | None
    kernel: KernelLatency | None

    @property
    def column(self) -> str:
        r = self.net
        if r is not None:  # a timm table's batch shrinks per row on OOM: one column per table
            return f"{r.table}:{r.gpu}|{r.runtime}|{r.precision}" if r.space == "timm" else f"{r.table}:{r.space}:{r.column}"
        k = self.kernel
        assert k is not None
        return f"deepbench:{k.kind}:{k.gpu}|kernel|{k.precision}"

    @property
    def gpu(self) -> str:
        return self.net.gpu if self.net is not None else self.kernel.gpu  # type: ignore[union-attr]

    @property
    def runtime(self) -> str:
        return self.net.runtime if self.net is not None else "kernel"  # DeepBench: a bare kernel

    @property
    def ms(self) -> float:
        return self.net.ms if self.net is not None else self.kernel.ms  # type: ignore[union-attr]


def column_indices(samples: Sequence[Sample], networks_only: bool = False) -> dict[str, list[int]]:
    """Row indices of each measured column (sorted by column); ``networks_only`` leaves DeepBench kernels out."""
    cols: dict[str, list[int]] = {}
    for i, s in enumerate(samples):
        if s.net is not None or not networks_only:
            cols.setdefault(s.column, []).append(i)
    return dict(sorted(cols.items()))


def help_samples(spaces: Iterable[str] = ("nb201", "fbnet", "ofa_mbv3")) -> list[Sample]:
    """HELP measurements of the architectures whose graphs are in the committed store."""
    out = []
    for space in spaces:
        nets = load_store(space).nets
        out += [Sample(r, None) for r in load_help(space) if r.arch_id in nets]
    return out


def timm_samples() -> list[Sample]:
    """timm GPU rows of CNNs whose graphs are in the store (non-CNNs were not captured), each read as the form it
    timed (:func:`~hwaware.datasets.graph_store.store_key`)."""
    return [Sample(r, None) for r in load_timm_gpu() if store_key(r) is not None]


def timm_other_rows() -> list[NetworkLatency]:
    """timm GPU rows of the networks that are not CNNs (transformers: matmul or attention layers; MLP-Mixer, ResMLP and
    gMLP are kept as CNN rows), which ``scripts/capture_tables.py`` set aside: no model trains on them;
    ``benchmarks/timm_other.py`` measures the shipped model on them."""
    other = {k for k, why in load_store("timm").failed.items() if why.startswith("not a CNN")}
    return [r for r in load_timm_gpu() if r.arch_id in other]


def torch2trt_samples() -> list[Sample]:
    return [Sample(r, None) for r in load_torch2trt()]


def deepbench_samples() -> list[Sample]:
    return [Sample(None, k) for k in load_deepbench()]


@functools.cache
def _live_graph(model: str, input_size: tuple[int, ...], runtime: str) -> Graph:
    from hwaware.graph.sources import capture

    return runtime_graph(capture(model, input_size=input_size), runtime)


@functools.cache
def _store_kernels(space: str) -> list[tuple[tuple[object, Layer], ...]]:
    """Per layer of ``space``'s store, (row key, kernel) of the kernels eager PyTorch launches for it."""
    return [tuple(((space, i, j) if j else (space, i), k) for j, k in enumerate(eager_kernels(l)))
            for i, l in enumerate(load_store(space).layers)]


@functools.cache
def _stored_net_layers(space: str, arch_id: str) -> tuple[tuple[object, Layer, int], ...]:
    # once per network: every column that timed it reads the same kernels (1.28 M entries for the 21,608 networks
    # HELP and timm timed, about 15.8 M over their 304,539 rows). They hold 90.5 MiB (tracemalloc, 2026-12-03) for
    # the process's life: training, benchmarks and tests only, no user-facing path reads these tables.
    kernels = _store_kernels(space)
    return tuple((key, k, c) for i, c in load_store(space).nets[arch_id].counts.items() for key, k in kernels[i])


def sample_layers(s: Sample) -> Sequence[tuple[object, Layer, int]]:
    """(row key, fp32 layer, count) of a sample's kernels: a network's at batch 1, a DeepBench kernel's at its own (a
    stored network's are shared between calls: read them, do not change them)."""
    if s.kernel is not None:
        return [(("deepbench", s.kernel.kind, tuple(sorted(s.kernel.dims.items()))), kernel_layer(s.kernel), 1)]
    r = s.net
    assert r is not None
    if r.table == "help" or r.space == "timm":
        assert r.runtime == "pytorch", r  # the stores hold eager captures of eager-timed tables
        return _stored_net_layers(r.space, store_key(r))
    return [((r.space, r.runtime, key), l, c)
            for key, l, c in graph_layers(_live_graph(r.arch["model"], tuple(r.arch["input_size"]), r.runtime))]


def prior_pairs(samples: Sequence[Sample], seed: int = 0) -> BatchPairs:
    """The batch prior's pairs (:func:`~hwaware.estimators.resperfnet_gpu.batch_pairs`) over the distinct layers of
    ``samples``' networks (the rows a model trains on: no other layer enters) on every catalog GPU."""
    layers = {key: l for s in samples if s.net is not None for key, l, _ in sample_layers(s)}
    return batch_pairs(list(layers.values()), gpus(), seed=seed)


def twin_pairs_of(samples: Sequence[Sample]) -> TwinPairs | None:
    """The pooling prior's pairs (:func:`~hwaware.estimators.resperfnet_gpu.twin_pairs`): each distinct pooling layer
    of ``samples``' networks that has a twin, on each platform a sample timed it on (where the data can push a
    network's costs into its poolings)."""
    rows = {}
    for s in samples:
        if s.net is not None:
            r, gpu = s.net, get_gpu(s.gpu)
            for key, l, _ in sample_layers(s):
                rows.setdefault((key, s.gpu, r.runtime, r.precision, r.batch), (key, l, gpu, r.runtime, r.precision,
                                                                                r.batch))
    return twin_pairs(rows.values())


def kernel_layer(k: KernelLatency) -> Layer:
    """A DeepBench conv or GEMM as a batch-``N`` layer record (costs by :func:`hwaware.graph.ops.layer_cost`)."""
    d = k.dims
    if k.kind == "conv":
        n, c, h, w, out_c, r, s_ = d["N"], d["C"], d["H"], d["W"], d["K"], d["R"], d["S"]
        p = (h + 2 * d["pad_h"] - r) // d["stride_h"] + 1
        q = (w + 2 * d["pad_w"] - s_) // d["stride_w"] + 1
        attrs = {"kernel": (r, s_), "stride": (d["stride_h"], d["stride_w"]), "padding": (d["pad_h"], d["pad_w"]),
                 "dilation": (1, 1), "groups": 1, "in_channels": c, "out_channels": out_c, "transposed": False,
                 "bias": False}
        ins, outs, kind, params = ((n, c, h, w),), ((n, out_c, p, q),), LayerKind.CONV, out_c * c * r * s_
        op = "convolution"
    else:  # C(M x N) = A(M x K) B(K x N): N columns of K-vectors through an M x K weight
        ins, outs, kind, params = ((d["N"], d["K"]),), ((d["N"], d["M"]),), LayerKind.DENSE, d["M"] * d["K"]
        attrs, op = {"k": d["K"], "bias": False}, "mm"
    macs, flops, rd, wr = layer_cost(kind, op, ins, outs, attrs, params, 4)
    return Layer(0, kind, f"aten.{op}", "", ins, outs, attrs, params, macs, flops, rd, wr)


def column_weights(samples: Sequence[Sample], flagged_weight: float = 0.5) -> np.ndarray:
    """Every measured column carries the same total weight (so NB201's 15,625 rows do not drown torch2trt's 47);
    a column the data README flags as suspect carries ``flagged_weight``."""
    cols = [s.column for s in samples]
    sizes: dict[str, int] = {}
    for c in cols:
        sizes[c] = sizes.get(c, 0) + 1
    flag = np.array([flagged_weight if (s.net is not None and s.net.flag) else 1.0 for s in samples])
    return flag / np.array([sizes[c] for c in cols])


def build_design(samples: Sequence[Sample], weights: np.ndarray | None = None,
                 builder: DesignBuilder | None = None, prediction_rules: bool = True, floors: bool | None = None
                 ) -> Design:
    """The :class:`Design` of ``samples`` (weights default to :func:`column_weights`); ``prediction_rules`` and
    ``floors`` as in :class:`DesignBuilder` (``prediction_rules=False`` for a design that trains)."""
    asked = DesignBuilder(prediction_rules, floors)
    builder = builder or asked
    if (builder.prediction_rules, builder.floors) != (asked.prediction_rules, asked.floors):
        raise ValueError("the builder's prediction_rules or floors and the ones asked for differ")
    weights = column_weights(samples) if weights is None else weights
    for s, w in zip(samples, weights):
        gpu = get_gpu(s.gpu)
        if s.net is not None:
            r = s.net
            builder.add(sample_layers(s), gpu, r.runtime, r.precision, r.batch, r.ms, float(w),
                        setup=measurement_setup(s.column), from_batch=1)
        else:
            k = s.kernel
            assert k is not None
            layers = sample_layers(s)
            batch = layers[0][1].input_shapes[0][0]
            builder.add(layers, gpu, "kernel", k.precision, batch, k.ms, float(w), from_batch=None)
    return builder.build()


def design_breakdowns(parts: DesignParts, design: Design, idx: Sequence[int]) -> list[Breakdown]:
    """The zero-shot breakdowns of samples ``idx`` of ``design`` (``parts``: :func:`design_parts` of a model and the
    design), what :meth:`Breakdown.of` gives for a user's estimate, to fit a profile on as a user does."""
    out = []
    for i in idx:
        rows = design.indices[design.indptr[i]:design.indptr[i + 1]]
        out.append(Breakdown(float(parts.call_ms[i]), parts.row_ms[rows], parts.host_share[rows], design.macs[rows],
                             design.counts[design.indptr[i]:design.indptr[i + 1]], design.floor_ms[rows]))
    return out


def calibrated_totals(profile: Profile, parts: DesignParts, design: Design, idx: Sequence[int]) -> tuple[np.ndarray, int]:
    """The ms of samples ``idx`` of ``design`` once ``profile`` corrects a model's estimates (``parts``: its
    :func:`design_parts` of the design), layer by layer as :meth:`~hwaware.calibration.Profile.apply_estimate` does
    for a user (a layer that a negative per-kernel term would take below 0 or its floor stays there), not as a
    correction of the totals; and how many layer instances were clamped."""
    layer_ms, below = profile.layer_ms(parts.row_ms, parts.host_share, design.macs, design.floor_ms)
    idx = np.asarray(idx, dtype=np.int64)
    sub = design.subset(idx)
    clamped = int(sub.per_sample(below).sum())
    return np.maximum(profile.call_phases_ms(parts.call_ms[idx]) + sub.per_sample(layer_ms), 1e-6), clamped


def host_choices(samples: Sequence[Sample], train_columns: Sequence[str]) -> list[HostChoice]:
    """Per sample, whose host-side costs a user's estimate for its GPU takes from a model trained on ``train_columns``
    (:func:`~hwaware.estimators.resperfnet_gpu.host_choice`: its own, or an average, as for timm's GPUs)."""
    by_gpu = {gpu: host_choice(get_gpu(gpu), train_columns) for gpu in {s.gpu for s in samples}}
    return [by_gpu[s.gpu] for s in samples]


def user_predictions(net: LayerTimeNet, design: Design, samples: Sequence[Sample], train_columns: Sequence[str]
                     ) -> np.ndarray:
    """Each sample's ms as :class:`~hwaware.estimators.resperfnet_gpu.ResPerfNetGPUEstimator` answers a user: at the
    GPU's average measurement setup, with the host :func:`host_choices` gives it. A platform whose runtime its device
    class never ran (:func:`~hwaware.estimators.resperfnet_gpu.runtime_via`) is answered through other machines, which
    designs do not model: such a sample is an error (no table has one). The estimator's batch cap
    (:func:`~hwaware.estimators.resperfnet_gpu.batch_capped`) and TensorRT engine bound (:func:`engine_bounded`) are
    not applied."""
    return user_predictions_call(net, design, samples, train_columns)[0]


def user_predictions_call(net: LayerTimeNet, design: Design, samples: Sequence[Sample], train_columns: Sequence[str]
                          ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`user_predictions` and, beside them, each sample's per-call ms (in the totals)."""
    through = [p for p in {(s.gpu, s.runtime) for s in samples} if runtime_via(get_gpu(p[0]), p[1], train_columns)]
    if through:
        raise ValueError(f"user_predictions: {sorted(through)} would go through runtime_via, which designs do not model")
    choices = host_choices(samples, train_columns)
    pred, call = np.zeros(len(samples)), np.zeros(len(samples))
    for key in dict.fromkeys(c.key() for c in choices):
        idx = np.flatnonzero([c.key() == key for c in choices])
        pred[idx], call[idx] = predict_design_call(net, design.subset(idx), choices[idx[0]])
    return pred, call


def measured_bounds(net: LayerTimeNet, design: Design, samples: Sequence[Sample], train_columns: Sequence[str],
                    intervals: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per network sample of a measured platform, the ends (ms) of the interval the estimator gives its answer
    (:func:`user_predictions`): ``intervals``' measured one for its GPU
    (:func:`~hwaware.estimators.resperfnet_gpu.interval_key`), for a GPU timed on several machines around the answers
    at each of its measurement setups (:func:`~hwaware.estimators.resperfnet_gpu.setup_factors`); NaN for a bare
    kernel, which no estimate is."""
    choices = host_choices(samples, train_columns)
    lo, hi = np.full(len(samples), np.nan), np.full(len(samples), np.nan)
    nets = [(s.gpu, c.key()) if s.net is not None else None for s, c in zip(samples, choices)]
    for gpu, host in dict.fromkeys(n for n in nets if n is not None):
        idx = np.flatnonzero([n == (gpu, host) for n in nets])
        sub = design.subset(idx)
        parts = design_parts(net, sub, choices[idx[0]])
        spread = net.setup_spread(gpu)
        key = interval_key(intervals, "measured", choices[idx[0]].generic, get_gpu(gpu).is_integrated_soc,
                           setups=len(spread.offsets))
        total = sub.per_sample(parts.row_ms) + parts.call_ms
        lo[idx], hi[idx] = interval_ends(intervals, key, spread, total, parts.row_ms, parts.host_share, parts.call_ms,
                                         sub.per_sample)
    return lo, hi


def engine_bounded(net: LayerTimeNet, samples: Sequence[Sample], pred: np.ndarray, train_columns: Sequence[str]
                   ) -> np.ndarray:
    """``pred`` (:func:`user_predictions` of ``samples``) with the estimator's TensorRT precision bound
    (:func:`~hwaware.estimators.resperfnet_gpu.engine_bound`) on the TensorRT networks whose column did not train
    (the estimator's ``measured``, by column): their fallback engines' answers, each bounded as it would be, from the
    same model. Unlike the estimator, a fallback platform that trained is bounded too (no such row exists: the only
    TensorRT rows are the Jetsons' fp16 ones); a calibration profile is not mirrored."""
    out = np.asarray(pred, dtype=np.float64).copy()
    trained = set(train_columns)
    todo = [i for i, s in enumerate(samples)
            if s.net is not None and s.net.runtime == "tensorrt" and s.column not in trained]
    if not todo:
        return out

    @functools.cache
    def answers(precision: str) -> tuple[float, ...]:
        alt = [replace(samples[i], net=replace(samples[i].net, precision=precision)) for i in todo]
        raw = user_predictions(net, build_design(alt), alt, train_columns)
        higher = [answers(p) for p in TENSORRT_FALLBACKS.get(precision, ())]
        return tuple(engine_bound(float(t), [h[k] for h in higher])[0] for k, t in enumerate(raw))

    for k, i in enumerate(todo):  # the samples' own precision may differ from one to the next
        higher = [answers(p)[k] for p in TENSORRT_FALLBACKS.get(samples[i].net.precision, ())]
        out[i] = engine_bound(out[i], higher)[0]
    return out


def ten_shot_profile(gpu: str, col: str, parts: DesignParts, y: np.ndarray, design: Design, shots: list[int],
                     rest: list[int], forms: Sequence[str] = FORMS, held: tuple[float, float] | None = None
                     ) -> tuple[Profile, np.ndarray, int]:
    """The profile :func:`hwaware.calibration.fit_profile` fits on the ``shots`` of one measured column (``design`` its
    networks, ``parts`` a model's estimates of them as a user gets them,
    :func:`~hwaware.estimators.resperfnet_gpu.design_parts`; ``y`` the measured) choosing among ``forms`` (``held``: the
    model's held-out 10-shot interval, which its interval contains), its predictions of the ``rest`` layer by layer, as
    a user's estimate is corrected (:func:`calibrated_totals`), and how many layer instances were clamped (to 0 or
    their floor)."""
    prof = fit_profile(gpu, design_breakdowns(parts, design, shots), y[shots], name=col, forms=forms,
                       held_out_interval=held)
    return (prof, *calibrated_totals(prof, parts, design, rest))
