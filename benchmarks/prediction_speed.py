"""How fast predictions are: the rows of issue 11's table, cold and warm, and ``latency_many`` throughput.

cold: the first call in a fresh process-level state (empty graph cache, empty prediction cache);
warm: the same structure again, built afresh (a NAS loop's repeated candidate: the graph comes from
the structural-key cache), or a captured graph asked again, at its own or another batch, precision or
runtime. Medians of ``--repeats`` runs. Everything goes through the public API, so
the figures are for whatever estimator is the default on the GPU (named in the output).
Throughput: ``latency_many`` over ``--candidates`` random architectures of each space (all distinct
structures: NB201's, FBNet's and OFA's assembled from captured pieces without a module, MobileNetV3's traced): a first
batch, which fills the caches (a search's first calls: the pieces too), then other candidates with 1 and 2 torch
threads.
``--full-space`` also times the whole ``hwaware space-latency nb201`` table in a fresh process.

Run: ``python benchmarks/prediction_speed.py [--repeats 5] [--candidates 40] [--full-space]``; what it prints is also
written to ``benchmarks/results/prediction_speed.txt`` (a shared 2-core machine: compare runs of one session only).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def process_ms(code: list[str], repeats: int) -> float:
    """Wall time of a fresh interpreter running ``code`` (median)."""
    return median_ms(lambda: subprocess.run(code, check=True, capture_output=True), repeats)


OUT = Path(__file__).resolve().parent / "results" / "prediction_speed.txt"


class _Tee:
    """stdout that also keeps what it writes."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.kept = out, io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def main() -> None:
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):  # type: ignore[type-var]
        _main()
    OUT.write_text(tee.kept.getvalue())
    print(f"wrote {OUT}")


def _main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--candidates", type=int, default=40)
    ap.add_argument("--full-space", action="store_true", help="also time `hwaware space-latency nb201` (all archs)")
    args = ap.parse_args()
    os.environ["HWAWARE_CACHE_DIR"] = tempfile.mkdtemp(prefix="hwaware-bench-")  # cold = empty caches
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
    py = sys.executable
    print(f"{'import hwaware (process)':<48}{process_ms([py, '-c', 'import hwaware'], args.repeats):>10.0f} ms")
    print(f"{'hwaware --help (process)':<48}{process_ms([py, '-m', 'hwaware.cli', '--help'], args.repeats):>10.0f} ms")
    print(f"{'hwaware latency (missing argument, process)':<48}"
          f"{median_ms(lambda: subprocess.run([py, '-m', 'hwaware.cli', 'latency'], capture_output=True), args.repeats):>10.0f} ms")

    import timm
    import torch

    import hwaware
    from hwaware.search import get_space

    def resnet50() -> torch.nn.Module:
        with torch.device("meta"):
            return timm.create_model("resnet50")

    t = time.perf_counter()
    est = hwaware.estimate(resnet50(), gpu="agx")
    cold = (time.perf_counter() - t) * 1e3
    model = resnet50()
    warm = median_ms(lambda: hwaware.latency(model, gpu="agx"), args.repeats * 4)
    build = median_ms(resnet50, args.repeats)
    print(f"estimator on agx: {est.estimator} {est.estimator_version}")
    print(f"{'resnet50 latency(), fresh module, cold':<48}{cold:>10.1f} ms (first call: imports, weights, trace)")
    print(f"{'resnet50 latency(), fresh module, warm':<48}{warm:>10.1f} ms (+ {build:.1f} ms to build the module)")
    # a captured graph asked again (a sweep over settings): the re-batched and TensorRT graphs are remembered
    # TensorRT where no row timed it (a desktop, an unmeasured Jetson) also asks its fallback and eager engines; above
    # batch 1 an answer no row timed asks every power of two below its batch too (the batch bounds, version 7.5)
    for name, gpu, kw in (("resnet50", "agx", {}), ("resnet50", "agx", {"precision": "fp16", "batch_size": 8}),
                          ("torchvision:densenet121", "agx", {"precision": "fp16", "runtime": "tensorrt"}),
                          ("resnet50", "4090", {"precision": "fp16", "runtime": "tensorrt"}),
                          ("resnet50", "4090", {"precision": "fp16", "runtime": "tensorrt", "batch_size": 64}),
                          ("resnet50", "orin", {"precision": "int8", "runtime": "tensorrt", "batch_size": 8})):
        graph = hwaware.capture(name)
        hwaware.latency(graph, gpu=gpu, **kw)
        label = f"{name.split(':')[-1]} captured, warm, {gpu}" + "".join(f", {v}" for v in kw.values())
        print(f"{label:<48}{median_ms(lambda: hwaware.latency(graph, gpu=gpu, **kw), args.repeats * 4):>10.1f} ms")

    space = get_space("nb201")
    archs = list(space.archs())
    rng = random.Random(0)
    picks = rng.sample(archs, args.repeats + 1)
    est = hwaware.estimate(space.graph(picks[0]), gpu="2080ti")
    nb_build = median_ms(lambda: hwaware.latency(space.shell(picks.pop()), gpu="2080ti", input_size=(3, 32, 32)),
                         args.repeats)
    picks = rng.sample(archs, args.repeats)
    nb_graph = median_ms(lambda: hwaware.latency(space.graph(picks.pop()), gpu="2080ti"), args.repeats)
    print(f"estimator on 2080ti: {est.estimator} {est.estimator_version}")
    print(f"{'nb201 build + trace + predict, new arch':<48}{nb_build:>10.1f} ms")
    print(f"{'nb201 space.graph (no module) + predict, new arch':<48}{nb_graph:>10.1f} ms")

    from hwaware.search.table import space_table

    for workers in (1, 2):
        t = time.perf_counter()
        n = len(space_table("nb201", "2080ti", limit=1000, workers=workers, progress=False))
        dt = time.perf_counter() - t
        print(f"{f'space_table nb201, {workers} worker(s), {n} archs':<48}{n / dt:>10.1f} archs/s -> "
              f"{len(archs) / (n / dt):.0f} s for all {len(archs)}")
    if args.full_space:
        out = os.path.join(os.environ["HWAWARE_CACHE_DIR"], "nb201.csv")
        cli = [py, "-m", "hwaware.cli", "space-latency", "nb201", "--gpu", "2080ti", "--out", out]
        print(f"{'hwaware space-latency nb201 (all, process)':<48}{process_ms(cli, args.repeats) / 1e3:>10.1f} s")

    print(f"latency_many over {args.candidates} random new candidates (candidates/s):")
    print(f"{'space':<14}{'gpu':<10}{'estimator':<14}{'first':>8}{'1 thread':>10}{'2 threads':>11}")
    for name in ("nb201", "fbnet", "ofa_mbv3", "mobilenetv3"):
        sp, rates = get_space(name), []
        # a first batch apart: a space's first graphs fill the caches, which the 1-thread column alone paid when it
        # came first (NB201 on an Intel Xeon: 115.2 against 318.1 at a97591f)
        for threads, seeds in ((1, 0), (1, 1000), (2, 2000)):
            torch.set_num_threads(threads)
            cands = [sp.random_arch(random.Random(seeds + i)) for i in range(args.candidates)]
            t = time.perf_counter()
            hwaware.latency_many([sp.graph(a) for a in cands], gpu="2080ti", progress=False)
            rates.append(len(cands) / (time.perf_counter() - t))
        name_est = hwaware.estimate(sp.graph(cands[0]), gpu="2080ti").estimator
        print(f"{name:<14}{'2080ti':<10}{name_est:<14}{rates[0]:>8.1f}{rates[1]:>10.1f}{rates[2]:>11.1f}")
    print("(first: the space's first batch in this process, 1 thread, filling the caches; then other candidates at 1 "
          "and 2 threads; the rates include each space's arch -> graph path: for nb201, fbnet and ofa_mbv3 an "
          "assembly from pieces, each piece captured once (an OFA block once per input size: its columns rise left "
          "to right as its pieces fill, whatever the threads), for mobilenetv3 a meta-device build and trace of "
          "each new structure)")
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")
    from hwaware.evaluation.provenance import provenance  # last: it imports torch, which the cold row must pay

    prov = provenance()
    print(f"code commit {prov['code_commit'][:7]}, uncommitted: {', '.join(prov['uncommitted_files']) or 'none'}; "
          f"{prov['cpu']['model']}; torch {prov['versions']['torch']}")


if __name__ == "__main__":
    main()
