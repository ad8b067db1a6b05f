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
from hwaware.estimators.resperfnet_gpu import ENGINE_WARNINGS
from hwaware.hardware import get_gpu, gpus

NETWORKS = ("resnet18", "resnet50", "mobilenetv3_large_100")
BATCHES = (1, 64)
SLACK = 1.05  # tests/test_sanity.py's RUNTIME_SLACK
OUT = Path(__file__).resolve().parent / "results" / "tensorrt_vs_eager.md"


def _ms(graphs: dict, network: str, gpu: str, runtime: str, precision: str, batch: int) -> tuple[float, bool]:
    key = (network, precision, batch)
    if key not in graphs:
        graphs[key] = hwaware.capture(network, batch_size=batch, precision=precision)
    est = hwaware.estimate(graphs[key], gpu=gpu, runtime=runtime, precision=precision, batch_size=batch)
    # warned of the engine relation (another warning, a pooling's, says nothing of it)
    return est.total_ms, any(w.startswith(ENGINE_WARNINGS) for w in est.warnings)


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
                    if precision == "int8" and not gpu.runs_int8:
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
    lines += ["", *route_lines(), "", f"({time.time() - start:.0f} s)"]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {OUT}")


def route_lines() -> list[str]:
    """What :func:`hwaware.estimators.resperfnet_gpu.runtime_via` changes (resnet50, fp16, TensorRT's fused graph):
    per GPU, the median host time per conv launch and the kernels' sum, with the heads reading TensorRT's flag as
    version 7 did and (desktops) through the Jetsons; eager PyTorch's on its own graph beside them."""
    import numpy as np
    import torch

    from hwaware.estimators.resperfnet_gpu import DesignBuilder, ResPerfNetGPUEstimator, _eager, host_rows
    from hwaware.runtime import runtime_kernels

    est = ResPerfNetGPUEstimator(cache=False)
    net, _ = est._loaded()
    out = ["Host time per conv launch (median, us) and kernels (sum, ms) of resnet50 in fp16, as the heads answer them: "
           "eager PyTorch's graph; TensorRT's fused graph with the runtime flag read (version 7), its same rows read as "
           "eager PyTorch's, and through the Jetsons (version 7.1, desktops only: `runtime_via`).", "",
           "| GPU | batch | eager launch | TensorRT launch, flag read | through the Jetsons | eager kernels | TensorRT "
           "kernels, flag read | same rows as eager (desktops in 7.1) | flag read / as eager |",
           "|---|---|---|---|---|---|---|---|---|"]
    for name in ("GeForce RTX 4090", "H100 SXM5 80GB", "Jetson AGX Xavier", "Jetson Nano"):
        gpu = get_gpu(name)
        choice, through = est.host_choice(gpu), est.runtime_via(gpu, "tensorrt")
        for batch in BATCHES:
            graph = hwaware.capture("resnet50", batch_size=batch, precision="fp16")
            parts = {}
            for runtime in ("pytorch", "tensorrt"):
                layers = runtime_kernels(graph, runtime).kernels()
                b = DesignBuilder()
                for i, layer in enumerate(layers):
                    b.row(i, layer, gpu, runtime, "fp16", batch, "fp16", from_batch=batch)
                x = torch.from_numpy(np.asarray(b.x, dtype=np.float32))
                base, bare = torch.tensor(b.log_base), torch.tensor(b.bare)
                conv = np.array([layer.kind.value == "conv" for layer in layers])
                with torch.no_grad():
                    _, k, o = net.layer_times(x, base, bare, choice.generic, hosts=choice.rows())
                    k_eager = net.layer_times(_eager(x), base, bare, choice.generic, hosts=choice.rows())[1]
                    o_via = (net.layer_times(x, base, bare, choice.generic, hosts=choice.rows(),
                                             via=host_rows(through))[2] if through else None)
                parts[runtime] = (np.median(o.numpy()[conv]) * 1e3, float(k.sum()), float(k_eager.sum()),
                                  None if o_via is None else np.median(o_via.numpy()[conv]) * 1e3)
            (o_pt, k_pt, _, _), (o_trt, k_trt, k_as_eager, o_via) = parts["pytorch"], parts["tensorrt"]
            out.append(f"| {name} | {batch} | {o_pt:.1f} | {o_trt:.1f} | {'–' if o_via is None else f'{o_via:.1f}'} | "
                       f"{k_pt:.3f} | {k_trt:.3f} | {k_as_eager:.3f} | {k_trt / k_as_eager:.2f}x |")
    return out


if __name__ == "__main__":
    main()
