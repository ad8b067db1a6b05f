"""TensorRT against eager PyTorch and TensorRT precisions against each other, over every catalog GPU.

Physical relations no measurement is needed for (``tests/test_sanity.py``, relations 6 and 7): an engine is never slower
than eager PyTorch at the same GPU, precision and batch (its builder times cuDNN's kernels among its tactics), and a
lower-precision engine is never slower (int8 <= fp16 <= fp32: a precision flag adds tactics). Per network, this prints
how many (GPU, precision, batch) cases of the default estimator break them, by how much, and how many of those answers
warn. Diagnostic only: it chooses nothing. Run before and after a change of the TensorRT rewrite or the model.

Writes ``benchmarks/results/tensorrt_vs_eager.md``. Run: ``python benchmarks/tensorrt_vs_eager.py`` (about a minute).
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import hwaware
from hwaware.hardware import gpus

NETWORKS = ("resnet18", "resnet50", "mobilenetv3_large_100")
BATCHES = (1, 64)
SLACK = 1.05  # tests/test_sanity.py's RUNTIME_SLACK
OUT = Path(__file__).resolve().parent / "results" / "tensorrt_vs_eager.md"


def _ms(graphs: dict, network: str, gpu: str, runtime: str, precision: str, batch: int) -> tuple[float, bool]:
    key = (network, precision, batch)
    if key not in graphs:
        graphs[key] = hwaware.capture(network, batch_size=batch, precision=precision)
    est = hwaware.estimate(graphs[key], gpu=gpu, runtime=runtime, precision=precision, batch_size=batch)
    return est.total_ms, bool(est.warnings)


def main() -> None:
    warnings.simplefilter("ignore")  # each estimate's warnings are counted, not printed
    start = time.time()
    graphs: dict = {}
    default = hwaware.estimate("resnet18", gpu="agx")
    lines = ["# TensorRT against eager PyTorch (`python benchmarks/tensorrt_vs_eager.py`)", "",
             f"Default estimator ({default.estimator} {default.estimator_version}), every catalog GPU, batches "
             f"{' and '.join(map(str, BATCHES))}. `broken`: cases above {SLACK}x (the sanity tests' slack); "
             "`warned`: of those, answers that warn.", "",
             "| network | relation | cases | above 1x | broken | warned | worst ratio | worst case |",
             "|---|---|---|---|---|---|---|---|"]
    for network in NETWORKS:
        relations: dict[str, list[tuple[float, bool, str]]] = {"TensorRT / eager PyTorch": [],
                                                                "TensorRT fp16 / fp32": [], "TensorRT int8 / fp16": []}
        for gpu in gpus():
            for batch in BATCHES:
                trt = {}
                for precision in ("fp32", "fp16", "int8"):
                    if precision == "int8" and gpu.compute_capability < 6.1:
                        continue
                    trt[precision] = _ms(graphs, network, gpu.name, "tensorrt", precision, batch)
                for precision in ("fp32", "fp16"):
                    eager = _ms(graphs, network, gpu.name, "pytorch", precision, batch)
                    relations["TensorRT / eager PyTorch"].append(
                        (trt[precision][0] / eager[0], trt[precision][1] or eager[1], f"{gpu.name} {precision} b{batch}"))
                pairs = [("fp16", "fp32", "TensorRT fp16 / fp32"), ("int8", "fp16", "TensorRT int8 / fp16")]
                for low, high, name in pairs:
                    if low in trt:
                        relations[name].append((trt[low][0] / trt[high][0], trt[low][1] or trt[high][1],
                                                f"{gpu.name} b{batch}"))
        for name, rows in relations.items():
            worst = max(rows)
            broken = [r for r in rows if r[0] > SLACK]
            lines.append(f"| {network} | {name} | {len(rows)} | {sum(r[0] > 1 for r in rows)} | {len(broken)} | "
                         f"{sum(r[1] for r in broken)} | {worst[0]:.2f} | {worst[2]} |")
    lines += ["", f"({time.time() - start:.0f} s)"]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
