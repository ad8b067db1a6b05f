"""Whole-network IPC model of papers 000/001 (Metz et al.): IPC from instructions, parameters and GPU features.

A network's IPC on a GPU is its executed PTX warp instructions per cycle: ``IPC = instructions / (latency x clock)``.
The regressor learns it from the network's executed PTX instructions and trainable parameters and the GPU's
architectural features (:data:`FEATURES`; the paper found memory bandwidth the most important), across every GPU we
have whole-network measurements for, and predicts ``latency = instructions / (IPC x clock)`` on any catalog GPU.
Its target is ``log CPI = -log IPC`` (cycles per instruction): the same model up to a sign, chosen so that a residual
of the target is a residual of log latency (MAPE, grid search and intervals are then latency figures).

Where we differ from the paper, and why:

* **Measured latency, derived IPC.** The paper measured IPC with nvprof; we have latencies (HELP's tables: eager
  PyTorch, fp32, batch 1, five desktop GPUs), so IPC is derived with the GPU's boost clock. Instructions come from
  :mod:`hwaware.ptx.layers` (each distinct layer compiled by TVM and counted by the analyzer: TVM's kernels, not
  cuDNN's), so the model maps *our* count to the measured latency; it is a complexity measure, as in the paper.
* **Features in logs** (instructions and parameters span four decades); the five families of the paper's Table II
  (linear, KNN, random forest, decision tree, XGBoost) are candidates, tuned by grouped K-fold CV and chosen by the
  rule declared in ``scripts/train_ipc_tree.py`` (lowest validation latency MAPE); every candidate's figures are in
  ``meta.json`` and ``benchmarks/results/ipc_tree.md``.
* **Scope**: eager PyTorch, fp32, batch 1 (what the training rows are). Any catalog GPU answers, but GPUs unlike the
  five trained ones are extrapolation; the estimate says so.

>>> import hwaware
>>> from hwaware.zoo.nb201 import nb201_graph
>>> est = hwaware.estimate(nb201_graph("|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"),
...                        gpu="2080ti", estimator="ipc-tree")
>>> est.estimator, est.total_ms > 0
('ipc-tree', True)
"""
from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hwaware.errors import UnsupportedPlatformError
from hwaware.estimators.base import Estimate, Estimator, files_digest, register_estimator, require_cnns
from hwaware.estimators.netregress import outside_domain, predict_log_ms
from hwaware.graph.layer import Graph
from hwaware.hardware.catalog import GPUSpec, Platform

FEATURES: tuple[str, ...] = ("log_warp_instructions", "log_params", "log_memory_bandwidth", "log_fp32_tflops",
                             "log_sm_count", "log_l2_cache", "log_boost_clock")
WEIGHTS = "ipc_tree"
# :data:`FEATURES` as users read them in the out-of-domain warning, and the inverse of each one's log
READ_NAMES = ("warp instructions", "parameters", "memory bandwidth (GB/s)", "FP32 TFLOPS", "SMs", "L2 (MB)",
              "boost clock (MHz)")
READ = (math.exp, math.expm1, math.exp, math.exp, math.exp, math.expm1, math.exp)


def gpu_row(gpu: GPUSpec) -> list[float]:
    """The GPU's features (:data:`FEATURES` after the first two); an unknown L2 size enters as 0 (log1p)."""
    if not gpu.boost_clock_mhz:
        raise UnsupportedPlatformError(f"ipc-tree needs the boost clock of {gpu.name}, which the catalog lacks; "
                                       "use estimator='resperfnet-gpu'")
    return [math.log(gpu.memory_bandwidth_gbs), math.log(gpu.fp32_tflops), math.log(gpu.sm_count),
            math.log1p(gpu.l2_cache_mb or 0.0), math.log(gpu.boost_clock_mhz)]


def feature_rows(warp_instructions: Sequence[int], params: Sequence[int], gpu: GPUSpec) -> np.ndarray:
    g = gpu_row(gpu)
    return np.asarray([[math.log(max(w, 1)), math.log1p(p), *g] for w, p in zip(warp_instructions, params)])


def latency_ms(warp_instructions: np.ndarray, log_cpi: np.ndarray, gpu: GPUSpec) -> np.ndarray:
    """``instructions x CPI / clock`` in ms."""
    assert gpu.boost_clock_mhz
    return warp_instructions * np.exp(log_cpi) / (gpu.boost_clock_mhz * 1e6) * 1e3


def log_cpi(warp_instructions: np.ndarray, ms: np.ndarray, gpu: GPUSpec) -> np.ndarray:
    """The measured cycles per warp instruction (log) of networks with these counts and latencies."""
    assert gpu.boost_clock_mhz
    return np.log(ms * 1e-3 * gpu.boost_clock_mhz * 1e6 / warp_instructions)


@register_estimator
class IPCTreeEstimator(Estimator):
    """Latency = PTX instructions / (learned IPC x clock) on any catalog GPU (eager PyTorch, fp32, batch 1)."""

    name = "ipc-tree"
    version = "1"
    intervals = True

    def __init__(self, weights_dir: str | Path | None = None) -> None:
        self.weights_dir = weights_dir

    @property
    def folder(self) -> Path:
        if self.weights_dir is not None:
            return Path(self.weights_dir)
        return Path(str(resources.files("hwaware.estimators.weights").joinpath(WEIGHTS)))

    def model_id(self, platform: Platform) -> str:
        return f"{super().model_id(platform)} weights {self.weights_id_}"

    @functools.cached_property
    def weights_id_(self) -> str:
        return files_digest(self.folder)

    @functools.cached_property
    def meta_(self) -> dict[str, Any]:
        path = self.folder / "meta.json"
        if not path.is_file():
            raise UnsupportedPlatformError(f"no trained ipc-tree model at {self.folder}; run scripts/train_ipc_tree.py")
        meta = json.loads(path.read_text())
        if tuple(meta["features"]) != FEATURES:
            raise UnsupportedPlatformError(f"{path} was trained on other features; run scripts/train_ipc_tree.py")
        return meta

    def supports(self, platform: Platform) -> bool:
        return (isinstance(platform.device, GPUSpec) and (platform.runtime, platform.precision, platform.batch_size)
                == ("pytorch", "fp32", 1) and (self.folder / "meta.json").is_file())

    def _check(self, platform: Platform) -> GPUSpec:
        gpu = platform.device
        if not isinstance(gpu, GPUSpec):
            raise UnsupportedPlatformError(f"ipc-tree predicts catalog GPUs, not {gpu.name}; for the CPU leave "
                                           "estimator out (its default is resperfnet; CLI: no --estimator)")
        if (platform.runtime, platform.precision, platform.batch_size) != ("pytorch", "fp32", 1):
            raise UnsupportedPlatformError(
                f"ipc-tree was trained on eager PyTorch, fp32, batch 1 only (HELP's batch-1 columns), not "
                f"{platform.runtime}/{platform.precision}/batch {platform.batch_size}; use estimator='resperfnet-gpu'")
        return gpu

    def predict(self, graph: Graph, platform: Platform) -> Estimate:
        return self.predict_many([graph], platform)[0]

    def predict_many(self, graphs: Sequence[Graph], platform: Platform) -> list[Estimate]:
        from hwaware.ptx.layers import InstructionCounter

        gpu = self._check(platform)
        require_cnns(graphs, self.name)  # trained on HELP's CNN cells (NB201, FBNet, OFA)
        meta = self.meta_
        counter = InstructionCounter()
        warp = np.asarray([counter.warp_instructions(g) for g in graphs], dtype=float)
        x = feature_rows(warp.astype(int), [g.total_params for g in graphs], gpu)
        ms = latency_ms(warp, predict_log_ms(meta["family"], meta["model"], x, self.folder), gpu)
        lo, hi = meta["residual_q05"], meta["residual_q95"]  # of log latency, out-of-fold
        trained = gpu.name in meta["train_gpus"]
        notes = [f"whole-network IPC model ({meta['family']}, papers 000/001): {'measured' if trained else 'zero-shot'}"
                 f" GPU; IPC learned on {', '.join(meta['train_gpus'])}; no per-layer breakdown",
                 "instructions: TVM-generated kernels' PTX per layer (not cuDNN's), counted by hwaware.ptx",
                 f"interval: 5-95 % of grouped CV residuals (CV MAPE {100 * meta['cv_mape']:.1f} %) of HELP's NB201, "
                 "FBNet and OFA networks, the only ones it was trained on: another network (a timm or torchvision "
                 "model) is an extrapolation the interval does not cover; resperfnet-gpu was trained on those too"]
        if not trained:
            notes.append(f"{gpu.name} is not among the training GPUs (all desktop Pascal/Turing): the IPC is "
                         "extrapolated from its catalog features; expect large errors (see benchmarks/results/ipc_tree.md)")
        ranges = meta.get("feature_ranges")  # recorded since 2026-12-07; netregress's rule (a margin of 2x)
        span = [[ranges[f][k] for f in FEATURES] for k in (0, 1)] if ranges else None
        outside = [outside_domain(row, span, READ_NAMES, READ) if span else None for row in x]
        return [Estimate(total_ms=float(m), pre_ms=0.0, exe_ms=float(m), post_ms=0.0, layers=(), unknown_ops=g.unknown_ops,
                         estimator=self.name, estimator_version=self.version, platform=platform, model=g.name,
                         notes=tuple(notes), interval_ms=(float(m * math.exp(lo)), float(m * math.exp(hi))),
                         warnings=(f"outside the training domain: {why}; ipc-tree's answer there is an "
                                   "extrapolation its interval does not cover (resperfnet-gpu was trained on more "
                                   "networks and GPUs)",) if why else ())
                for g, m, why in zip(graphs, ms, outside)]
