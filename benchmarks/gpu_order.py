"""Where the default GPU estimator answers a GPU that is faster on paper slower than the one it outruns.

GPU ``A`` dominates ``B`` (:meth:`~hwaware.hardware.GPUSpec.dominates`) when both are integrated SoCs or both discrete
cards, ``A``'s compute capability is at least ``B``'s, its host link is at least as fast (or it has none to cross), and
every datasheet rate a latency depends on is at least ``B``'s: fp32, fp16 (native and on tensor cores), TF32, DRAM
bandwidth and L2. Across architectures, unlike ``tests/test_sanity.py``'s relation 5 (same architecture,
batch 64, eager fp32), because a user comparing modules (a TX2 against a Xavier) compares across them.

An inversion at batch 1 is not necessarily wrong: there the host's cost per launch dominates, under TensorRT too (a
launch costs the machine's eager one scaled by the Jetsons' TensorRT-to-eager ratio,
:func:`~hwaware.estimators.resperfnet_gpu.runtime_via`), and a measured GPU's answer carries the machines that timed
it (HELP's TITAN RTX machines are faster hosts than the class average an unmeasured RTX 4090 gets; a Jetson without a
measured sibling chip, the TX2, takes the average of the AGX Xavier's and the Nano's). At batch 64 the GPU's own rates
decide. A diagnostic that chooses nothing; the Jetson inversion it found (the TX2 below the AGX Xavier) led to
resperfnet-gpu's warning on such answers (``ResPerfNetGPUEstimator._order_warnings``), which changes no answer here;
``hwaware.rank`` lists every inversion among the GPUs it compares (:attr:`hwaware.RankTable.inversions`).

Run: ``python benchmarks/gpu_order.py`` (three to five minutes on one core); writes ``benchmarks/results/gpu_order.md``.
"""
from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path

os.environ["HWAWARE_CACHE"] = "0"  # before hwaware is imported: every answer computed by this code

import torch  # noqa: E402

import hwaware  # noqa: E402
from hwaware.estimators.base import ORDER_SLACK as SLACK  # noqa: E402  the order checks' slack
from hwaware.hardware import gpus  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "gpu_order.md"
MODELS = ("resnet50", "mobilenetv2_100", "densenet121")
REGIMES = (("tensorrt", "fp16", 1), ("tensorrt", "int8", 1), ("pytorch", "fp16", 1), ("pytorch", "fp32", 1),
           ("pytorch", "fp32", 64), ("pytorch", "amp", 64), ("tensorrt", "fp16", 64))


def main() -> None:
    start = time.time()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    catalog = gpus()
    pairs = [(a, b) for a in catalog for b in catalog if a.dominates(b)]
    graphs = {(m, p, b): hwaware.capture(m, batch_size=b, precision=p) for m in MODELS for _, p, b in REGIMES}
    answers: dict[tuple, float] = {}

    def ms(model: str, gpu: str, runtime: str, precision: str, batch: int) -> float:
        key = (model, gpu, runtime, precision, batch)
        if key not in answers:
            try:
                answers[key] = hwaware.latency(graphs[(model, precision, batch)], gpu=gpu, runtime=runtime,
                                               precision=precision, batch_size=batch)
            except hwaware.HwawareError:  # a precision the GPU cannot run (int8 without dp4a or tensor cores)
                answers[key] = math.nan
        return answers[key]

    lines = ["# GPUs faster on paper answered slower (`python benchmarks/gpu_order.py`)", "",
             f"{len(pairs)} ordered pairs of the catalog's {len(catalog)} GPUs, where the first dominates the second "
             f"({sum(a.architecture != b.architecture for a, b in pairs)} across architectures; see the script's "
             f"docstring); an inversion: the first answered more than {SLACK}x the second's time. Estimator: the "
             "default (`hwaware.latency`).", "",
             "| regime | model | pairs compared | inversions | worst |", "|---|---|---|---|---|"]
    worst_all = []
    for runtime, precision, batch in REGIMES:
        for model in MODELS:
            found, compared = [], 0
            for a, b in pairs:
                fa, fb = ms(model, a.name, runtime, precision, batch), ms(model, b.name, runtime, precision, batch)
                if math.isnan(fa) or math.isnan(fb):
                    continue
                compared += 1
                if fa > SLACK * fb:
                    found.append((fa / fb, a.name, b.name, fa, fb))
            found.sort(reverse=True)
            worst_all += [(r, runtime, precision, batch, model, *rest) for r, *rest in found]
            worst = f"{found[0][1]} {found[0][3]:.2f} ms vs {found[0][2]} {found[0][4]:.2f} ms (x{found[0][0]:.2f})" \
                if found else "–"
            lines.append(f"| {runtime} {precision} batch {batch} | {model} | {compared} | {len(found)} | {worst} |")
    lines += ["", "Every inversion under TensorRT or at batch 64:", ""]
    lines += [f"- {rt} {p} batch {b}, {m}: {a} {fa:.2f} ms vs {bn} {fb:.2f} ms (x{r:.2f})"
              for r, rt, p, b, m, a, bn, fa, fb in sorted(worst_all, reverse=True) if rt == "tensorrt" or b > 1]
    b1 = [f for f in worst_all if f[3] == 1]
    lines += ["", f"Inversions at batch 1: {len(b1)}; at batch 64: {len(worst_all) - len(b1)}. "
              f"({time.time() - start:.0f} s)"]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
