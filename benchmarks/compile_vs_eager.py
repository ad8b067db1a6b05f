"""What timm's tables say about torch.compile and channels-last against eager PyTorch (no model, data only).

``hwaware`` answers eager PyTorch and TensorRT; ``runtime="torch.compile"`` is refused (hwaware.hardware.catalog's
``check_runtime``). timm's ``results/`` do time torch.compile (files ending ``-dynamo``) and channels-last inputs
(``-nhwc-``), on desktop GPUs at large batch with AMP only. This prints, per GPU and torch version that timed both
forms of a table, the per-image time of one over the other for each (model, image size) timed at the same batch
(10th, 50th and 90th percentiles, the rows where the first form was slower): how far an eager answer is from
those runs. Inductor's default lowering runs the pointwise ops between two library kernels as one generated kernel and
picks channels-last layouts for convolutions (``torch._inductor.config.layout_optimization``); the model reads
neither, so the figures are the gap a torch.compile runtime would have to learn, not an error of the shipped model.

Run: ``python benchmarks/compile_vs_eager.py`` (prints; reads ``wholenet/timm`` under ``HWAWARE_DATA``).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from hwaware.datasets.timm_results import load_timm_benchmark, timm_benchmark_files


def per_image(rows) -> dict[tuple[str, int], tuple[int, float]]:
    """(model, image size) -> (batch, ms per image) of one table's rows that have both."""
    return {(r.model, r.img_size): (r.batch_size, r.step_time_ms / r.batch_size) for r in rows
            if r.batch_size and r.step_time_ms}


NAMED = ("resnet50", "vgg16", "mobilenetv3_large_100", "efficientnet_b0", "convnext_tiny")  # printed one by one
FORMS = ((("nchw", True), ("nchw", False), "torch.compile / eager"),
         (("nhwc", False), ("nchw", False), "eager channels-last / NCHW"),
         (("nchw", True), ("nhwc", False), "torch.compile / eager chan.-last"))


def ratios() -> list[dict]:
    """Per GPU table and pair of forms timed: rows, 10th / 50th / 90th percentile of the per-image time ratio, the
    rows where the first form was slower, and the ratio of each of :data:`NAMED` timed at 224 pixels."""
    tables = defaultdict(dict)  # (device, precision, torch) -> {(layout, compiled): rows}
    for path in timm_benchmark_files():
        rows = list(load_timm_benchmark(path))  # (the CPU tables time torch.compile alone: no pair)
        if rows:
            r = rows[0]
            tables[(r.device, r.precision, r.torch_version)][(r.layout, r.compiled)] = per_image(rows)
    out = []
    for (device, precision, torch_version), forms in sorted(tables.items()):
        for first, second, label in FORMS:
            a, b = forms.get(first, {}), forms.get(second, {})
            ratio = np.array([a[k][1] / b[k][1] for k in a if k in b and a[k][0] == b[k][0]])
            if len(ratio):
                p10, p50, p90 = np.percentile(ratio, [10, 50, 90])
                named = {m: a[k][1] / b[k][1] for m in NAMED for k in [(m, 224)] if k in a and k in b
                         and a[k][0] == b[k][0]}
                out.append({"gpu": device, "precision": precision, "torch": torch_version, "forms": label,
                            "rows": len(ratio), "p10": p10, "median": p50, "p90": p90,
                            "first_slower": int(np.sum(ratio > 1)), "named": named})
    return out


def main() -> None:
    print("per-image time of the first form / the second's, rows timed at the same batch in both (timm's tables)")
    print(f"{'GPU':<14}{'precision':<10}{'torch':<7}{'forms':<34}{'rows':>6}{'p10':>7}{'median':>8}{'p90':>7}"
          f"{'  first slower'}  at 224 pixels, where timed at one batch in both")
    for r in ratios():
        print(f"{r['gpu']:<14}{r['precision']:<10}{r['torch']:<7}{r['forms']:<34}{r['rows']:>6}{r['p10']:>7.2f}"
              f"{r['median']:>8.2f}{r['p90']:>7.2f}{r['first_slower']:>14}  "
              + ", ".join(f"{m} {v:.2f}" for m, v in r["named"].items()))


if __name__ == "__main__":
    main()
