"""How long a prediction takes, cold and warm, versus measuring the network on this CPU.

cold: a fresh process-level state (empty in-memory cache, empty on-disk cache) — graph capture +
per-layer ResPerfNet inference; warm: the same candidate again (layers come from the cache; the
graph is captured again, as a NAS loop does for every new module). ``estimate from graph`` is the
estimator alone on an already captured graph. Measured time: ``data/cpu/networks.csv.gz``.

Run: ``python benchmarks/prediction_speed.py [--models resnet50,mobilenetv3_large_100,...]``
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import hwaware
from hwaware.datasets.measured import load_network_samples
from hwaware.estimators.cache import PredictionCache
from hwaware.estimators.resperfnet import ResPerfNetEstimator
from hwaware.graph import capture
from hwaware.hardware import Platform


def timed(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet50,mobilenetv3_large_100,efficientnet_b0,densenet121,regnety_016,convnext_atto")
    args = ap.parse_args()
    measured = {n.model: n for n in load_network_samples()}
    platform = Platform.resolve("cpu")
    hwaware.latency("resnet18", gpu="cpu")  # import and model-loading costs are paid once per process, not per candidate
    print(f"{'network':<24}{'layers':>7}{'cold ms':>9}{'warm ms':>9}{'from graph':>11}{'capture':>9}{'measure ms':>12}")
    for name in args.models.split(","):
        with tempfile.TemporaryDirectory() as d:
            est = ResPerfNetEstimator(cache=PredictionCache(f"{d}/p.sqlite"))
            t = time.perf_counter()
            g = capture(name)
            est.predict(g, platform)
            cold = (time.perf_counter() - t) * 1e3
            warm = timed(lambda: est.predict(capture(name), platform))
            from_graph = timed(lambda: est.predict(g, platform), 20)
            cap = timed(lambda: capture(name))
        m = measured.get(name)
        cost = f"{m.total_ms * (3 + m.repeats):>12.0f}" if m else f"{'-':>12}"
        print(f"{name:<24}{len(g.layers):>7}{cold:>9.1f}{warm:>9.1f}{from_graph:>11.2f}{cap:>9.1f}{cost}")
    print("measure ms: one measured forward pass x (3 warm-up + repeats) as `hwaware collect networks` ran it")


if __name__ == "__main__":
    main()
