"""What timm's tables say about torch.compile and channels-last against eager PyTorch, and about bf16 against fp16
(no model, data only).

``hwaware`` answers eager PyTorch and TensorRT; ``runtime="torch.compile"`` is refused (hwaware.hardware.catalog's
``check_runtime``). timm's ``results/`` do time torch.compile (files ending ``-dynamo``) and channels-last inputs
(``-nhwc-``), on desktop GPUs at large batch with AMP (the RTX PRO 6000 Max-Q's compiled tables also in bf16, as
autocast and as whole-network casts: timm's only bf16 GPU rows). This prints, per GPU and torch version that timed both
forms of a table, the per-image time of one over the other for each (model, image size) timed at the same batch
(10th, 50th and 90th percentiles, the rows where the first form was slower): how far an eager answer is from
those runs. Inductor's default lowering runs the pointwise ops between two library kernels as one generated kernel and
picks channels-last layouts for convolutions (``torch._inductor.config.layout_optimization``); the model reads
neither, so the figures are the gap a torch.compile runtime would have to learn, not an error of the shipped model.
The precision pairs (within one form, :data:`PRECISION_PAIRS`) check the premise of resperfnet-gpu's bf16 answers,
read as fp16's (its bf16 note quotes them).

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
# (layout, compiled) pairs compared within each precision's tables
FORMS = ((("nchw", True), ("nchw", False), "torch.compile / eager"),
         (("nhwc", False), ("nchw", False), "eager channels-last / NCHW"),
         (("nchw", True), ("nhwc", False), "torch.compile / eager chan.-last"))
# precision pairs compared within one form: timm's only bf16 GPU tables (the RTX PRO 6000's, torch.compile), autocast
# in bf16 and the whole network in bf16 against autocast in fp16
PRECISION_PAIRS = (("amp_bf16", "amp"), ("bf16", "amp"))


def ratios() -> list[dict]:
    """Per GPU and torch version, each pair of forms (within a precision) and of precisions (within a form) timed: rows,
    10th / 50th / 90th percentile of the per-image time ratio, the rows where the first was slower, and the ratio of
    each of :data:`NAMED` timed at 224 pixels."""
    tables = defaultdict(dict)  # (device, torch) -> {(precision, layout, compiled): rows}
    for path in timm_benchmark_files():
        rows = list(load_timm_benchmark(path))  # (the CPU tables time torch.compile alone: no pair)
        if rows:
            r = rows[0]
            tables[(r.device, r.torch_version)][(r.precision, r.layout, r.compiled)] = per_image(rows)
    out = []
    for (device, torch_version), forms in sorted(tables.items()):
        pairs = [((p, *first), (p, *second), p, label) for p in sorted({k[0] for k in forms})
                 for first, second, label in FORMS]
        pairs += [((p, *form), (q, *form), "", f"{p} / {q}" + (" (torch.compile)" if form[1] else ""))
                  for p, q in PRECISION_PAIRS for form in sorted({k[1:] for k in forms})]
        for first, second, precision, label in pairs:
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
