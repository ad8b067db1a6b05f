"""The shipped GPU model against timings no file of the project holds: NVIDIA's own ResNet-50 inference tables.

NVIDIA's DeepLearningExamples publish ResNet-50 v1.5 inference latency for PyTorch (torchvision's ``resnet50``
architecture: the stride on the 3x3 convolution) on a V100 16GB (DGX-1, SXM2) and a T4, in fp32 and in mixed
precision (native AMP from February 2021), batches 1 to 256: ``PyTorch/Classification/ConvNets/resnet50v1.5/README.md``
at commit 291f0d02e815b148fa5c2b81bf07aa3552142895 (pytorch-21.03 NGC container, "Latency Avg", data loading excluded).
The rows are copied below as published. No row of them is in ``../shared/data``: no model, rule, interval or
threshold of the project was trained, chosen or tuned on them; this script only reports (first run 2026-12-02 with
resperfnet-gpu 7.2, whose answers on these pre-Ampere GPUs are version 7.1's; a look at timm's resnet50 there came
first; nothing was changed after either). What the harness times beyond the forward (its Python
loop, casts, synchronisation) is its own: a machine's host costs are what ``hwaware calibrate`` learns, and
batch 1 shows them most.

Printed per (GPU, precision): every batch's published and predicted ms, the ratio, whether the 90 % interval holds
the published figure; then MAPE, median ratio and interval coverage over all rows, and over batch 1 and batches >= 8
apart (declared here before the first run). Writes ``benchmarks/results/external_nvidia.md``.
Run: ``python benchmarks/external_nvidia.py`` (seconds).
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

import hwaware

OUT = Path(__file__).resolve().parent / "results" / "external_nvidia.md"
SOURCE = ("NVIDIA/DeepLearningExamples, PyTorch/Classification/ConvNets/resnet50v1.5/README.md at "
          "291f0d02e815b148fa5c2b81bf07aa3552142895 (pytorch-21.03 NGC container)")
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
# (catalog GPU, hwaware precision) -> published "Latency Avg" in ms per batch of BATCHES
PUBLISHED: dict[tuple[str, str], tuple[float, ...]] = {
    ("Tesla V100 SXM2 16/32GB", "fp32"): (10.37, 10.24, 10.46, 11.5, 16.07, 29.37, 55.4, 109.26, 214.48),
    ("Tesla V100 SXM2 16/32GB", "amp"): (12.78, 13.01, 13.41, 13.65, 14.0, 15.84, 23.18, 43.55, 84.14),
    ("Tesla T4", "fp32"): (10.7, 11.26, 12.73, 22.41, 39.77, 77.62, 152.73, 309.26, 635.98),
    ("Tesla T4", "amp"): (12.96, 13.18, 12.99, 12.82, 15.8, 29.54, 57.41, 114.24, 225.95),
}


class Row(NamedTuple):
    gpu: str
    precision: str
    batch: int
    predicted: float
    published: float
    inside: bool  # the 90 % interval holds the published figure


def predictions() -> tuple[list[Row], str]:
    """Every published row with the default estimator's answer (no calibration profile), and that estimator's name."""
    graph = hwaware.capture("torchvision:resnet50")
    rows, version = [], ""
    for (gpu, precision), published in PUBLISHED.items():
        for batch, true in zip(BATCHES, published):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                e = hwaware.estimate(graph, gpu=gpu, precision=precision, batch_size=batch)
            version = f"{e.estimator} {e.estimator_version}"
            lo, hi = e.interval_ms or (float("nan"), float("nan"))
            rows.append(Row(gpu, precision, batch, e.total_ms, true, bool(lo <= true <= hi)))
    return rows, version


def summary(rows: list[Row]) -> dict[str, float]:
    """n, MAPE, median predicted / published and interval coverage of ``rows``."""
    ratio = np.array([r.predicted / r.published for r in rows])
    return {"n": len(rows), "mape": float(np.mean(np.abs(ratio - 1))), "median_ratio": float(np.median(ratio)),
            "coverage": float(np.mean([r.inside for r in rows]))}


def main() -> None:
    start = time.time()
    rows, version = predictions()
    lines = ["# ResNet-50 against NVIDIA's published inference latency (`python benchmarks/external_nvidia.py`)", "",
             f"Source: {SOURCE}. Never trained, chosen or tuned on (see the script's docstring).", "",
             "| GPU | precision | batch | published ms | predicted ms | predicted / published | in 90 % interval |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.gpu} | {r.precision} | {r.batch} | {r.published:g} | {r.predicted:.2f} | "
              f"{r.predicted / r.published:.2f} | {'yes' if r.inside else 'no'} |" for r in rows]
    groups = {f"{gpu} {precision}": [r for r in rows if (r.gpu, r.precision) == (gpu, precision)]
              for gpu, precision in PUBLISHED}
    groups.update({"all": rows, "batch 1": [r for r in rows if r.batch == 1],
                   "batch >= 8": [r for r in rows if r.batch >= 8]})
    lines += ["", f"Default estimator ({version}), no calibration profile.", "",
              "| rows | n | MAPE | median predicted / published | interval coverage |", "|---|---|---|---|---|"]
    for name, group in groups.items():
        f = summary(group)
        lines.append(f"| {name} | {f['n']} | {100 * f['mape']:.1f}% | x{f['median_ratio']:.2f} | "
                     f"{100 * f['coverage']:.0f}% |")
    lines += ["", f"({time.time() - start:.0f} s)"]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
