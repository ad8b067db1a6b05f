"""Loaders for the GPU whole-network tables (HELP, torch2trt) and DeepBench's per-kernel timings.

Every measurement becomes one :class:`NetworkLatency` (or :class:`KernelLatency`) with the platform it
was measured on spelled out. What each table states, and what hwaware assumes where it does not
(``shared/data/README.md`` and ``archspecs.md``):

| table | gpu | runtime | precision | batch | known / assumed |
|---|---|---|---|---|---|
| HELP NB201 | 1080 Ti, 2080 Ti, TITAN RTX, TITAN X, TITAN Xp | eager PyTorch (assumed) | fp32 (assumed) | 1/32/256 (column suffix) | input 32x32 cifar10 (inferred); HELP's ``titanx`` is taken to be the TITAN X (Pascal): an assumption |
| HELP FBNet | the same five | eager PyTorch (assumed) | fp32 (assumed) | 1/32/64 | CIFAR-100, 32x32 (inferred) |
| HELP OFA | 2080 Ti, TITAN RTX, TITAN Xp | eager PyTorch (assumed) | fp32 (assumed) | 1/32/64 | input r x r (inferred, strong); static subnet (weakly inferred) |
| torch2trt | Jetson Nano, Jetson AGX Xavier | eager PyTorch / TensorRT (stated) | fp16 (stated) | 1 (stated) | 224x224 torchvision classifiers; power mode not stated |
| timm results | RTX 3090, RTX 4090, RTX PRO 6000 Max-Q | eager PyTorch (files without ``-dynamo``) | AMP (stated) | per row, mostly 1024 (stated) | NCHW files only; inputs on the device; one table per GPU (the newest torch) |
| DeepBench | 8 GPUs | cuDNN / cuBLAS kernel only | per sheet: fp32, fp16, int8 | per row | kernel time of the best algorithm, no framework overhead |

Suspect columns (README caveats) are kept and flagged, never dropped silently: on 1080 Ti and TITAN Xp
batch 32 is faster than batch 1 for ~95 % of NB201 archs (``flag="bs1-overhead"``), and the 1080 Ti /
TITAN X / TITAN Xp batch-256 NB201 columns track MACs only weakly (``flag="weak-macs"``). Who trains on
what is decided in :mod:`hwaware.evaluation.splits`, not here.
"""
from __future__ import annotations

import ast
import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwaware.datasets.paths import DataNotFoundError, data_root

HELP_GPUS: dict[str, str] = {  # HELP column prefix -> catalog name
    "1080ti": "GeForce GTX 1080 Ti", "2080ti": "GeForce RTX 2080 Ti", "titan_rtx": "TITAN RTX",
    "titanx": "TITAN X (Pascal)", "titanxp": "TITAN Xp", "titan_xp": "TITAN Xp",
}
HELP_FILES: dict[str, str] = {"nb201": "nasbench201_latency_ms.csv", "fbnet": "fbnet_latency_ms.csv",
                              "ofa_mbv3": "ofa_mbv3_latency_ms.csv"}
# README caveats: (space, column) -> flag
SUSPECT: dict[tuple[str, str], str] = {
    ("nb201", "1080ti_1"): "bs1-overhead", ("nb201", "titanxp_1"): "bs1-overhead",
    ("nb201", "1080ti_256"): "weak-macs", ("nb201", "titanx_256"): "weak-macs", ("nb201", "titanxp_256"): "weak-macs",
}
JETSONS: dict[str, str] = {"jetson_nano": "Jetson Nano", "jetson_xavier": "Jetson AGX Xavier",
                           "jetson_agx_xavier": "Jetson AGX Xavier"}
DEEPBENCH_GPUS: dict[str, str] = {  # DeepBench device spellings -> catalog name
    "NVIDIA T4": "Tesla T4", "GTX 1080Ti": "GeForce GTX 1080 Ti", "NVIDIA GTX 1080 Ti": "GeForce GTX 1080 Ti",
    "Nvidia 1080Ti": "GeForce GTX 1080 Ti", "Tesla M40": "Tesla M40 12GB", "Nvidia Tesla M40": "Tesla M40 12GB",
    "Tesla P100": "Tesla P100 SXM2 16GB", "NVIDIA Tesla P100": "Tesla P100 SXM2 16GB",
    "TitanX Maxwell": "GeForce GTX TITAN X (Maxwell)", "Nvidia TitanX": "GeForce GTX TITAN X (Maxwell)",
    "TitanX Pascal": "TITAN X (Pascal)", "Nvidia TitanX Pascal": "TITAN X (Pascal)", "Titan Xp": "TITAN Xp",
    "NVIDIA GTX TitanXp": "TITAN Xp", "Nvidia TitanXp": "TITAN Xp", "V100": "Tesla V100 SXM2 16/32GB",
    "NVIDIA V100": "Tesla V100 SXM2 16/32GB", "Tesla V100": "Tesla V100 SXM2 16/32GB",
}


@dataclass(frozen=True)
class NetworkLatency:
    """One measured whole-network latency (ms per batch) and the platform it was measured on."""

    table: str  # "help", "torch2trt", "timm"
    space: str  # "nb201", "fbnet", "ofa_mbv3", "torchvision", "timm"
    arch_id: str  # unique within the space: HELP index, torchvision/timm model name (+ image size)
    gpu: str  # catalog name
    runtime: str
    precision: str
    batch: int
    ms: float
    arch: dict[str, Any] = field(default_factory=dict, compare=False)  # what builds the network
    flag: str = ""  # a README caveat, "" when none

    @property
    def column(self) -> str:
        return f"{self.gpu}|{self.runtime}|{self.precision}|{self.batch}"


@dataclass(frozen=True)
class KernelLatency:
    """One DeepBench forward-kernel timing: a conv (``kind="conv"``) or a GEMM (``kind="dense"``)."""

    gpu: str
    precision: str
    kind: str
    dims: dict[str, int]
    ms: float


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataNotFoundError(f"missing shared data table {path}; see shared/data/README.md")
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _help_arch(space: str, row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    if space == "nb201":
        return row["nb201_index"], {"arch": row["arch_str"], "dataset": "cifar10"}
    if space == "fbnet":
        return row["idx"], {"ops": ast.literal_eval(row["op_idx_list"])}
    return row["idx"], {"ks": ast.literal_eval(row["ks"]), "e": ast.literal_eval(row["e"]),
                        "d": ast.literal_eval(row["d"]), "resolution": int(row["r"])}


@functools.cache
def load_help(space: str, root: Path | None = None) -> tuple[NetworkLatency, ...]:
    """Every desktop-GPU measurement of one HELP table (``space`` in :data:`HELP_FILES`)."""
    if space not in HELP_FILES:
        raise ValueError(f"space must be one of {', '.join(HELP_FILES)}, got {space!r}")
    out = []
    for row in _read((root or data_root()) / "wholenet" / "help" / HELP_FILES[space]):
        arch_id, arch = _help_arch(space, row)
        for col, text in row.items():
            prefix, _, batch = col.rpartition("_")
            if prefix not in HELP_GPUS or not batch.isdigit() or not text:
                continue
            out.append(NetworkLatency("help", space, arch_id, HELP_GPUS[prefix], "pytorch", "fp32", int(batch),
                                      float(text), arch, SUSPECT.get((space, col), "")))
    return tuple(out)


@functools.cache
def load_torch2trt(root: Path | None = None) -> tuple[NetworkLatency, ...]:
    """torch2trt's Jetson table: each model twice, eager PyTorch fp16 and TensorRT fp16, batch 1."""
    out = []
    for row in _read((root or data_root()) / "wholenet" / "jetson" / "torch2trt_jetson_benchmarks.csv"):
        name = row["name"].rsplit(".", 1)[-1]
        shape = ast.literal_eval(row["input_shapes"])[0]
        arch = {"model": f"torchvision:{name}", "input_size": tuple(shape[1:])}
        for runtime, col in (("pytorch", "latency_pytorch_ms"), ("tensorrt", "latency_tensorrt_ms")):
            out.append(NetworkLatency("torch2trt", "torchvision", name, JETSONS[row["device"]], runtime, "fp16",
                                      int(shape[0]), float(row[col]), arch))
    return tuple(out)


TIMM_FILES: dict[str, str] = {  # the eager AMP NCHW table hwaware trains on, per GPU (newest torch)
    "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv": "GeForce RTX 3090",
    "benchmark-infer-amp-nchw-pt291-cu128-4090.csv": "GeForce RTX 4090",
    "benchmark-infer-amp-nchw-pt291-cu130-pro6000maxq.csv": "RTX PRO 6000 Blackwell Max-Q",
}


@functools.cache
def load_timm_gpu(root: Path | None = None) -> tuple[NetworkLatency, ...]:
    """Rows of :data:`TIMM_FILES`: ms per batch (``infer_step_time``) at the row's batch size, AMP, eager. Each row
    keeps its published ``param_count`` (millions): which form of a reparameterizable model it timed
    (:func:`hwaware.datasets.graph_store.store_key`; the pt240 run timed them unfused, the pt291 runs fused)."""
    from hwaware.datasets.timm_results import load_timm_benchmark

    out = []
    for name, gpu in TIMM_FILES.items():
        for r in load_timm_benchmark((root or data_root()) / "wholenet" / "timm" / name):
            if r.step_time_ms and r.batch_size:
                arch_id = f"{r.model.split('.')[0]}@{r.img_size}"
                out.append(NetworkLatency(f"timm-pt{r.torch_version}", "timm", arch_id, gpu, "pytorch", "amp",
                                          r.batch_size, r.step_time_ms,
                                          {"model": r.model.split(".")[0], "input_size": (3, r.img_size, r.img_size),
                                           "param_count_m": r.param_count_m}))
    return tuple(out)


@functools.cache
def load_deepbench(root: Path | None = None) -> tuple[KernelLatency, ...]:
    """DeepBench forward conv and GEMM timings on catalog GPUs (rows of unknown devices are skipped)."""
    base = (root or data_root()) / "layers"
    out = []
    for kind, name, time_col in (("conv", "deepbench_conv.csv", "fwd_ms"), ("dense", "deepbench_gemm.csv", "time_ms")):
        for row in _read(base / name):
            gpu = DEEPBENCH_GPUS.get(row["device"].strip())
            if gpu is None or not row.get(time_col):
                continue
            dims = ("W", "H", "C", "N", "K", "S", "R", "pad_w", "pad_h", "stride_w", "stride_h") if kind == "conv" \
                else ("M", "N", "K")
            try:
                values = {d: int(float(row[d])) for d in dims}
            except (KeyError, ValueError):
                continue
            if kind == "dense":
                values["transA"] = int(row["transA"].strip().upper() == "T")
                values["transB"] = int(row["transB"].strip().upper() == "T")
            out.append(KernelLatency(gpu, _deepbench_precision(row["precision"]), kind, values, float(row[time_col])))
    return tuple(out)


def _deepbench_precision(text: str) -> str:
    t = text.lower()
    if "int8" in t:
        return "int8"
    if "half" in t or "fp16" in t or "16 bit" in t or "mixed" in t:
        return "fp16"
    return "fp32"
