"""Batch relations the sanity tests do not cover yet: does a larger batch ever cost an image more, or a batch less?

``tests/test_sanity.py`` checks batch 1 against 8 and 64 (relations 3 and 4). Here: six CNNs, every catalog GPU,
eager PyTorch fp32 / fp16 / AMP and TensorRT fp32 / fp16 / int8, batches 1, 8, 64 and 256 in turn (the default
estimator, each network captured at each batch). Counted, for each step to the next batch, answers that carry no
warning yet either cost an image more than ``PER_IMAGE_SLACK`` x the smaller batch's per-image time, or the batch less
than ``BATCH_DIP`` x the smaller batch's time. HELP's tables, for comparison, time a larger batch (above batch 1) at
more than 1.1x the smaller one's per-image time for 1.1 % of OFA's architectures on the RTX 2080 Ti, 0.3 % on the
TITAN Xp and none in the other eleven columns (printed from ``../shared/data`` below).

A report, not a rule: resperfnet-gpu caps a batch only at b x its batch-1 answer. Run: ``python
benchmarks/batch_relations.py`` (about 4 minutes on 2 cores); writes ``benchmarks/results/batch_relations.md``.
"""
from __future__ import annotations

import functools
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import hwaware
from hwaware.datasets.gpu_tables import load_help
from hwaware.estimators import resperfnet_gpu
from hwaware.graph.layer import Graph

OUT = Path(__file__).resolve().parent / "results" / "batch_relations.md"
NETWORKS = ("resnet50", "torchvision:densenet121", "mobilenetv2_100", "efficientnet_b0", "vgg16", "convnext_tiny")
PLATFORMS = (("pytorch", ("fp32", "fp16", "amp")), ("tensorrt", ("fp32", "fp16", "int8")))
BATCHES = (1, 8, 64, 256)
PER_IMAGE_SLACK = 1.1  # as tests/test_sanity.py
BATCH_DIP = resperfnet_gpu.BATCH_DIP


@functools.cache
def _graph(name: str, batch: int, precision: str) -> Graph:
    return hwaware.capture(name, batch_size=batch, precision=precision)


def _help_lines() -> list[str]:
    lines = ["| HELP table | GPU | batches | per-image ratio, median | max | share above 1.1 |",
             "|---|---|---|---|---|---|"]
    for space in ("nb201", "fbnet", "ofa_mbv3"):
        rows = load_help(space)
        ms: dict[tuple, dict[int, float]] = defaultdict(dict)
        for r in rows:
            ms[r.gpu, r.arch_id][r.batch] = r.ms
        batches = sorted({r.batch for r in rows})
        for gpu in sorted({r.gpu for r in rows}):
            for a, b in zip(batches[1:], batches[2:]):  # above batch 1, where the host no longer decides
                ratios = sorted((v[b] / b) / (v[a] / a) for (g, _), v in ms.items() if g == gpu and a in v and b in v)
                if ratios:
                    above = sum(r > PER_IMAGE_SLACK for r in ratios) / len(ratios)
                    lines.append(f"| {space} | {gpu} | {a} -> {b} | {ratios[len(ratios) // 2]:.3f} | "
                                 f"{ratios[-1]:.3f} | {above:.1%} |")
    return lines


def main() -> None:
    warnings.simplefilter("ignore")  # warned answers are what the counts leave out; their warnings are read below
    t = time.time()
    broken: list[tuple] = []
    steps = 0
    for gpu in hwaware.gpus():
        for runtime, precisions in PLATFORMS:
            for precision in precisions:
                for name in NETWORKS:
                    prev = None
                    for b in BATCHES:
                        try:
                            est = hwaware.estimate(_graph(name, b, precision), gpu=gpu.name, precision=precision,
                                                   runtime=runtime, batch_size=b)
                        except hwaware.HwawareError:  # a precision the GPU lacks
                            break
                        if prev is not None:
                            a, small = prev
                            steps += 1
                            if not (est.warnings or small.warnings):
                                per_image = (est.total_ms / b) / (small.total_ms / a)
                                if per_image > PER_IMAGE_SLACK:
                                    broken.append(("per image", gpu.name, runtime, precision, name, a, b, per_image))
                                if est.total_ms < BATCH_DIP * small.total_ms:
                                    broken.append(("dip", gpu.name, runtime, precision, name, a, b,
                                                   est.total_ms / small.total_ms))
                        prev = (b, est)
    by = Counter((kind, runtime, precision, f"{a} -> {b}") for kind, _, runtime, precision, _, a, b, _ in broken)
    lines = ["# Batch relations beyond the sanity tests (`python benchmarks/batch_relations.py`)", "",
             f"{', '.join(NETWORKS)}; every catalog GPU; eager fp32 / fp16 / AMP, TensorRT fp32 / fp16 / int8; "
             f"batches {' -> '.join(map(str, BATCHES))}: {steps} steps to a larger batch, {len(broken)} unwarned "
             f"answers an image dearer than {PER_IMAGE_SLACK}x the smaller batch's (or a batch below {BATCH_DIP}x).",
             "",
             "| relation | runtime | precision | step | answers |", "|---|---|---|---|---|"]
    lines += [f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | {n} |" for k, n in sorted(by.items(), key=lambda kv: -kv[1])]
    lines += ["", "Largest:", "", "| relation | GPU | runtime | precision | network | step | ratio |",
              "|---|---|---|---|---|---|---|"]
    for kind, gpu, runtime, precision, name, a, b, r in sorted(broken, key=lambda x: -x[-1])[:15]:
        lines.append(f"| {kind} | {gpu} | {runtime} | {precision} | {name} | {a} -> {b} | {r:.2f} |")
    lines += ["", "Measured (HELP's tables, every architecture):", "", *_help_lines(), "",
              f"({time.time() - t:.0f} s; resperfnet-gpu {resperfnet_gpu.ResPerfNetGPUEstimator.version})"]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
