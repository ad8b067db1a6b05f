"""What the floors of resperfnet-gpu (the GEMM peak's since version 7.4, ``gpu_features.peak_floor_ms``; DRAM's
since 8.1, ``gpu_features.dram_floor_ms``) change, with and without them, and the physical relations of the answers
no bound covers yet.

1. DeepBench's largest GEMMs (the three largest dense shapes and convolutions that the floor covers, ``is_gemm``: 1x1,
   and since 9.1 strided or dilated, of ``../shared/data``'s DeepBench tables, by FLOPs) as bare kernels on every
   catalog GPU in fp32, fp16 and int8: each kernel's predicted rate against
   the fastest datasheet rate any library setting can take (:meth:`hwaware.hardware.GPUSpec.fastest_tflops`: TF32
   from Ampere on, FP16 accumulate), the largest ratio per GPU and precision. Above 1.0 is a kernel faster than the
   GPU can run; the floor allows up to :func:`~hwaware.estimators.gpu_features.peak_headroom` (``BOOST_HEADROOM``
   where a part boosts beyond its rated clock, from 9.2 no more on Jetsons and data-centre parts).
2. Network answers that move: six CNNs (timm and torchvision) at batch 1, 8, 64 and 256 on every catalog GPU, eager
   PyTorch in fp32 / fp16 / AMP and TensorRT in fp32 / fp16 / int8, through ``hwaware.estimate``.
3. The DRAM floor: in the same answers, without the floors and with them, layers whose predicted time moves their
   bytes beyond twice the L2 (what can sit in L2 before and after the kernel) faster than ``BOOST_HEADROOM`` x the
   datasheet DRAM bandwidth. Not bounded until 8.1 (version 8's weights without either floor: 6,071 of
   407,308 such layers; 6,072 by the declaration's count, every kind, GEMM floor on): the training fits whole networks,
   and a prediction rule raising one layer's time is not met by lowering the others', as a training with the bound would
   (a diagnostic, not a claim on any measured figure: no table times single memory-bound kernels on a GPU).
4. Batch relations beyond ``tests/test_sanity.py`` (which checks batches 1 -> 8 -> 64): in the same answers, for
   each step to the next batch, unwarned answers that cost an image more than ``BATCH_RISE`` x the smaller
   batch's per-image time, or the batch less than ``BATCH_DIP`` x the smaller batch's time; beside them, how often
   HELP's measured tables do so (above batch 1). Since resperfnet-gpu 7.5 its answers at a batch no training row timed
   the platform around warn where an image is dearer than at a smaller power of two (a warned answer is not counted
   here); the section counts what is left, per network.

No accuracy figure is read or computed here. "Without" patches the floors to 0 in-process (section 1: the GEMM
floor), nothing else changed (same weights); the disk cache is off and each pass gets fresh estimator instances (their
in-memory caches' keys do not say whether the floors were on), so that no pass reads another's answers.

Run: ``python benchmarks/peak_floor.py`` (three passes, neither floor, the GEMM floor alone and both: 4,377 s on the
shared 2-core AMD EPYC with the catalog's 76 GPUs, 2026-12-07, beside a test run); writes
``benchmarks/results/peak_floor.md``.
"""
from __future__ import annotations

import functools
import os
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from unittest import mock

os.environ["HWAWARE_CACHE"] = "0"  # before hwaware is imported: both passes compute every answer

import hwaware  # noqa: E402
from hwaware.datasets.gpu_tables import load_deepbench, load_help  # noqa: E402
from hwaware.estimators import resperfnet_gpu  # noqa: E402
from hwaware.estimators.base import _INSTANCES  # noqa: E402
from hwaware.estimators.resperfnet_gpu import BATCH_DIP, BATCH_RISE  # noqa: E402
from hwaware.estimators.gpu_features import (BOOST_HEADROOM, dram_floor_ms, is_gemm, peak_floor_ms,  # noqa: E402
                                             peak_headroom)
from hwaware.evaluation.gpu_data import kernel_layer  # noqa: E402
from hwaware.graph.layer import Graph  # noqa: E402
from hwaware.graph.transform import reshape_layer  # noqa: E402
from hwaware.runtime import runtime_graph  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "peak_floor.md"
NETWORKS = ("resnet50", "torchvision:densenet121", "mobilenetv2_100", "efficientnet_b0", "vgg16", "convnext_tiny")
PLATFORMS = (("pytorch", ("fp32", "fp16", "amp")), ("tensorrt", ("fp32", "fp16", "int8")))
BATCHES = (1, 8, 64, 256)


def _largest_gemms() -> list:
    shapes = {}
    for k in load_deepbench():
        layer = kernel_layer(k)
        if is_gemm(layer):
            shapes[(k.kind, tuple(sorted(k.dims.items())))] = layer
    by_kind = defaultdict(list)
    for (kind, _), layer in shapes.items():
        by_kind[kind].append(layer)
    return [l for kind in sorted(by_kind) for l in sorted(by_kind[kind], key=lambda l: -l.flops)[:3]]


def _peak_ratio(net, gpu, precision: str, layers: list) -> float | None:
    """The largest of the bare kernels' predicted rate / their fastest datasheet rate; None where no kernel has one."""
    builder = resperfnet_gpu.DesignBuilder()
    shaped = [reshape_layer(l, l.output_shapes[0][0], precision, from_precision="fp32") for l in layers]
    for i, layer in enumerate(shaped):
        builder.add([(i, layer, 1)], gpu, "kernel", precision, layer.output_shapes[0][0], 1.0, from_batch=None)
    ms = resperfnet_gpu.predict_design(net, builder.build())
    # peak_floor_ms is the time at peak_headroom x the fastest rate (the unpatched function: the bound, not the rule)
    ratios = [peak_headroom(gpu) * peak_floor_ms(l, gpu, precision) / t for l, t in zip(shaped, ms)]
    return max(ratios) if any(ratios) else None


def _kernels(lines: list[str]) -> None:
    est = resperfnet_gpu.ResPerfNetGPUEstimator(cache=False)
    net, _ = est._loaded()
    layers = _largest_gemms()
    lines += ["## DeepBench's largest GEMMs as bare kernels: fastest predicted rate / fastest datasheet rate", "",
              f"Shapes: {len(layers)} (the three largest dense layers and convolutions the floor covers, by FLOPs: "
              "1x1, strided or dilated). Above 1.00: faster than "
              f"the GPU runs; the floor allows {BOOST_HEADROOM:.2f} on parts that boost beyond their rated clock, "
              "1.00 on Jetsons and data-centre parts (from 9.2). GPUs and precisions where no kernel went above "
              "1.00 without the floor are left out, and those without a sourced rate for the precision.", "",
              "| GPU | precision | without the floor | with it |", "|---|---|---|---|"]
    above = 0
    for gpu in hwaware.gpus():
        for precision in ("fp32", "fp16", "int8"):
            if precision == "int8" and not gpu.runs_int8:
                continue
            with mock.patch.object(resperfnet_gpu, "peak_floor_ms", lambda *a: 0.0):
                off = _peak_ratio(net, gpu, precision, layers)
            on = _peak_ratio(net, gpu, precision, layers)
            if off is not None and off > 1.0:
                above += 1
                lines.append(f"| {gpu.name} | {precision} | {off:.2f} | {on:.2f} |")
    lines += ["", f"{above} GPU and precision pairs above their datasheet peak without the floor.", ""]


def _networks(lines: list[str]) -> None:
    @functools.cache
    def graph(name: str, batch: int, precision: str) -> Graph:  # captured at each (a view may fix the batch)
        return hwaware.capture(name, batch_size=batch, precision=precision)

    def sweep(memory: list, noted: Counter, capped: set) -> dict[tuple, tuple[float, bool]]:
        """Every answer's total and whether it warns; ``memory`` gathers :func:`_under_dram` of each answer, ``noted``
        counts the answers noting each floor, ``capped`` collects the answers the batch cap scaled."""
        out = {}
        for gpu in hwaware.gpus():
            for runtime, precisions in PLATFORMS:
                for precision in precisions:
                    for b in BATCHES:
                        for name in NETWORKS:
                            key = gpu.name, runtime, precision, b, name
                            g = graph(name, b, precision)
                            try:
                                est = hwaware.estimate(g, gpu=gpu.name, precision=precision, runtime=runtime,
                                                       batch_size=b)
                            except hwaware.HwawareError:  # a precision the GPU lacks (int8 without dp4a, bf16)
                                continue
                            # warned of the batch relation (another warning, a pooling's, says nothing of it)
                            out[key] = est.total_ms, any(w.startswith(resperfnet_gpu.BATCH_WARNINGS)
                                                         for w in est.warnings)
                            memory += _under_dram(gpu, runtime, g, est, key)
                            if any(w.startswith("capped:") for w in est.warnings):
                                capped.add(key)
                            noted.update(n for n in (resperfnet_gpu.FLOOR_NOTE, resperfnet_gpu.DRAM_NOTE)
                                         if any(x.startswith(n) for x in est.notes))
        return out

    memory_off: list = []
    with mock.patch.multiple(resperfnet_gpu, peak_floor_ms=lambda *a: 0.0, dram_floor_ms=lambda *a: 0.0):
        _INSTANCES.clear()
        off = sweep(memory_off, Counter(), set())
    memory_gemm: list = []  # version 8 as it shipped: the GEMM floor only, so the DRAM floor's own effect shows
    with mock.patch.object(resperfnet_gpu, "dram_floor_ms", lambda *a: 0.0):
        _INSTANCES.clear()
        gemm = sweep(memory_gemm, Counter(), set())
    _INSTANCES.clear()
    memory: list = []
    noted: Counter = Counter()
    capped: set = set()
    on = sweep(memory, noted, capped)
    moved = {k: on[k][0] / off[k][0] for k in off if abs(on[k][0] / off[k][0] - 1) > 1e-6}
    by_dram = {k: on[k][0] / gemm[k][0] for k in gemm if abs(on[k][0] / gemm[k][0] - 1) > 1e-6}
    assert min((*moved.values(), *by_dram.values()), default=1.0) > 1.0, "an answer fell with a floor (they only raise)"
    groups = defaultdict(list)
    for (gpu, runtime, precision, _, _), r in moved.items():
        groups[gpu, runtime, precision].append(r)
    lines += ["## Network answers that move", "",
              f"{', '.join(NETWORKS)} at batches {', '.join(map(str, BATCHES))}, every catalog GPU, eager PyTorch "
              f"fp32 / fp16 / AMP and TensorRT fp32 / fp16 / int8 (the default estimator): {len(moved)} of {len(off)} "
              f"answers move with the floors, up to x{max(moved.values(), default=1):.3f} (none can fall: a floor only "
              f"raises a kernel); {noted[resperfnet_gpu.FLOOR_NOTE]} answers note the GEMM peak floor, "
              f"{noted[resperfnet_gpu.DRAM_NOTE]} the DRAM floor (since 8.1). The DRAM floor alone (against the GEMM "
              f"floor alone, as version 8 shipped) moves {len(by_dram)}, up to "
              f"x{max(by_dram.values(), default=1):.3f}. The platforms with an answer moved by more than 1 % (both floors against neither):", "",
              "| GPU | runtime | precision | answers moved | largest ratio |", "|---|---|---|---|---|"]
    for (gpu, runtime, precision), rs in sorted(groups.items(), key=lambda kv: -max(kv[1])):
        if max(rs) > 1.01:
            lines.append(f"| {gpu} | {runtime} | {precision} | {len(rs)} | x{max(rs):.3f} |")
    # one threshold for every pass: above the float32 rounding of a kernel raised exactly to its floor
    under_off, under_gemm, under = ([m for m in ms if m[0] > 1.0 + 1e-4] for ms in (memory_off, memory_gemm, memory))
    under_answers = {m[1] for m in under}
    by_op = defaultdict(list)
    for ratio, _, op in under_off:
        by_op[op].append(ratio)
    lines += ["", "## The DRAM floor (since 8.1): layers under their DRAM time", "",
              f"Without the floors, {len(under_off)} of {len(memory_off)} layers with a DRAM floor (bytes beyond twice "
              "the L2, of a kind whose byte count bounds its traffic: `dram_floor_ms`) are predicted to move them "
              f"faster than {BOOST_HEADROOM:.2f}x the datasheet DRAM bandwidth, in "
              f"{len({m[1] for m in under_off})} of {len(off)} answers (a breakdown the training's whole-network sums "
              f"do not constrain); with the GEMM floor alone (version 8 as shipped), {len(under_gemm)}; with both, "
              f"{len(under)}, in {len(under_answers)} answers, {len(under_answers & capped)} of them capped (since 8.2 "
              "the batch cap takes no kernel below its floor). By op, without the floors (the ratio is the "
              "floor's time over the predicted one):", "",
              "| op | layers | median ratio | largest |", "|---|---|---|---|"]
    for op, rs in sorted(by_op.items(), key=lambda kv: -len(kv[1])):
        rs.sort()
        lines.append(f"| {op} | {len(rs)} | x{rs[len(rs) // 2]:.2f} | x{rs[-1]:.2f} |")
    lines.append("")
    _batch_relations(on, lines)


def _batch_relations(answers: dict[tuple, tuple[float, bool]], lines: list[str]) -> None:
    """Section 4 of the docstring, from :func:`_networks`' answers with the floors."""
    broken, steps = [], 0
    for (gpu, runtime, precision, b, name), (total, warned) in answers.items():
        if b == BATCHES[0]:
            continue
        a = BATCHES[BATCHES.index(b) - 1]
        small = answers.get((gpu, runtime, precision, a, name))
        if small is None:  # a precision the GPU lacks
            continue
        steps += 1
        if warned or small[1]:
            continue
        per_image = (total / b) / (small[0] / a)
        if per_image > BATCH_RISE:
            broken.append(("per image", gpu, runtime, precision, name, a, b, per_image))
        if total < BATCH_DIP * small[0]:
            broken.append(("dip", gpu, runtime, precision, name, a, b, total / small[0]))
    by = Counter((kind, runtime, precision, f"{a} -> {b}") for kind, _, runtime, precision, _, a, b, _ in broken)
    lines += ["## Not bounded: batch relations beyond the sanity tests", "",
              f"In the answers above (with the floors): {steps} steps to the next batch, {len(broken)} unwarned "
              "answers "
              f"an image dearer than {BATCH_RISE}x the smaller batch's (or a batch below {BATCH_DIP}x).", "",
              "| relation | runtime | precision | step | answers |", "|---|---|---|---|---|"]
    lines += [f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | {n} |" for k, n in sorted(by.items(), key=lambda kv: -kv[1])]
    per_net = Counter(x[4] for x in broken)
    lines += ["", "By network (left unwarned: answers on a platform the training timed around the batch, which "
              "resperfnet-gpu checks against batch 1 only, and networks it cannot move to smaller batches exactly, "
              "whose estimates say so):", "",
              "| network | answers |", "|---|---|", *(f"| {n} | {per_net[n]} |" for n in NETWORKS)]
    lines += ["", "Largest:", "", "| relation | GPU | runtime | precision | network | step | ratio |",
              "|---|---|---|---|---|---|---|"]
    for kind, gpu, runtime, precision, name, a, b, r in sorted(broken, key=lambda x: -x[-1])[:15]:
        lines.append(f"| {kind} | {gpu} | {runtime} | {precision} | {name} | {a} -> {b} | {r:.2f} |")
    lines += ["", "Measured (HELP's tables, every architecture, above batch 1):", "",
              "| HELP table | GPU | batches | per-image ratio, median | max | share above 1.1 |",
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
                    above = sum(r > BATCH_RISE for r in ratios) / len(ratios)
                    lines.append(f"| {space} | {gpu} | {a} -> {b} | {ratios[len(ratios) // 2]:.3f} | "
                                 f"{ratios[-1]:.3f} | {above:.1%} |")
    lines.append("")


def _under_dram(gpu, runtime: str, graph, est, key: tuple) -> list[tuple[float, tuple, str]]:
    """(:func:`dram_floor_ms` / predicted time, ``key``, op) of the estimate's layers with a DRAM floor (bytes beyond
    twice the GPU's L2); the estimate's rows are the runtime's kernels (checked)."""
    kernels = runtime_graph(graph, runtime).layers
    if [l.op for l in kernels] != [r.op for r in est.layers]:
        raise AssertionError(f"{key}: the estimate's rows are not the runtime's kernels")
    return [(floor / row.ms, key, layer.op) for layer, row in zip(kernels, est.layers)
            if (floor := dram_floor_ms(layer, gpu)) > 0 and row.ms > 0]


def main() -> None:
    warnings.simplefilter("ignore")  # capped and extrapolated answers warn; their values are what is compared
    t = time.time()
    lines = ["# The GEMM peak floor, and what no bound covers yet (`python benchmarks/peak_floor.py`)", ""]
    _kernels(lines)
    _networks(lines)
    lines.append(f"({time.time() - t:.0f} s; resperfnet-gpu {resperfnet_gpu.ResPerfNetGPUEstimator.version})")
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
