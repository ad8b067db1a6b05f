"""How fast predictions are: the rows of issue 11's table, cold and warm, and ``latency_many`` throughput.

cold: the first call in a fresh process-level state (empty graph cache, empty prediction cache);
warm: the same structure again, built afresh (a NAS loop's repeated candidate: the graph comes from
the structural-key cache). Medians of ``--repeats`` runs. Everything goes through the public API, so
the figures are for whatever estimator is the default on the GPU (named in the output).
Throughput: ``latency_many`` over ``--candidates`` random architectures of each space (all distinct
structures: each is traced once), with 1 and 2 torch threads.

Run: ``python benchmarks/prediction_speed.py [--repeats 5] [--candidates 40]``
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--candidates", type=int, default=40)
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

    space = get_space("nb201")
    archs = list(space.archs())
    rng = random.Random(0)
    picks = rng.sample(archs, args.repeats + 1)
    est = hwaware.estimate(space.shell(picks[0]), gpu="2080ti", input_size=space.input_size(picks[0]))
    nb_cold = median_ms(lambda: hwaware.latency(space.shell(picks.pop()), gpu="2080ti", input_size=(3, 32, 32)),
                        args.repeats)
    arch = archs[0]
    nb_warm = median_ms(lambda: hwaware.latency(space.shell(arch), gpu="2080ti", input_size=(3, 32, 32)), args.repeats)
    print(f"estimator on 2080ti: {est.estimator} {est.estimator_version}")
    print(f"{'nb201 build + predict, new structure':<48}{nb_cold:>10.1f} ms -> {nb_cold * len(archs) / 60e3:.1f} min "
          f"for all {len(archs)} one by one")
    print(f"{'nb201 build + predict, structure seen before':<48}{nb_warm:>10.1f} ms")

    from hwaware.search.table import space_table

    for workers in (1, 2):
        t = time.perf_counter()
        n = len(space_table("nb201", "2080ti", limit=200, workers=workers, progress=False))
        dt = time.perf_counter() - t
        print(f"{f'space_table nb201, {workers} worker(s), {n} archs':<48}{n / dt:>10.1f} archs/s -> "
              f"{len(archs) / (n / dt):.0f} s for all {len(archs)}")

    print(f"latency_many over {args.candidates} random new candidates (candidates/s):")
    print(f"{'space':<14}{'gpu':<10}{'estimator':<14}{'1 thread':>10}{'2 threads':>11}")
    for name in ("nb201", "fbnet", "ofa_mbv3", "mobilenetv3"):
        sp = get_space(name)
        rates = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            cands = [sp.random_arch(random.Random(1000 * threads + i)) for i in range(args.candidates)]
            models = [sp.shell(a) for a in cands]
            t = time.perf_counter()
            graphs = [hwaware.capture(m, input_size=sp.input_size(a)) for m, a in zip(models, cands)]
            hwaware.latency_many(graphs, gpu="2080ti", progress=False)
            rates.append(len(cands) / (time.perf_counter() - t))
        name_est = hwaware.estimate(graphs[0], gpu="2080ti").estimator
        print(f"{name:<14}{'2080ti':<10}{name_est:<14}{rates[0]:>10.1f}{rates[1]:>11.1f}")
    print("(the rates include the graph capture of each new structure; module building is excluded)")
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
