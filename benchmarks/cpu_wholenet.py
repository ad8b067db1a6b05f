"""Whole-network accuracy on this machine's CPU: predicted vs measured batch-1 latency.

Networks: ``data/cpu/networks.csv.gz`` (``hwaware collect networks``). The figures that count are
on the held-out families (``hwaware.datasets.splits``: no layer of theirs trained anything); the
training families are shown for contrast. Baselines on the same networks:

* roofline: per layer max(FLOPs/peak, bytes/bandwidth) + a per-op overhead, with peak, bandwidth and
  overhead derived from the *training* layer samples (99th percentile conv GFLOPS, 99th percentile
  copy/elementwise GB/s, median time of the smallest elementwise ops);
* FLOPs-linear: T = a * FLOPs + b, least squares on the training-family networks.

Run: ``python benchmarks/cpu_wholenet.py``
"""
from __future__ import annotations

import numpy as np
from scipy import stats

import hwaware
from hwaware.datasets.measured import load_layer_samples, load_network_samples
from hwaware.datasets.splits import is_held_out, layer_split
from hwaware.estimators import RooflineEstimator
from hwaware.graph import LayerKind, capture
from hwaware.hardware import Platform


def summary(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    err = (pred - true) / true
    return {"mape": float(np.mean(np.abs(err)) * 100), "within10": float(np.mean(np.abs(err) <= 0.10) * 100),
            "tau": float(stats.kendalltau(pred, true)[0]), "rho": float(stats.spearmanr(pred, true)[0]), "n": len(true)}


def cpu_roofline() -> RooflineEstimator:
    train, _ = layer_split(load_layer_samples())  # the shipped models' training split
    conv = [s.layer.flops / (s.exe_ms * 1e-3) for s in train if s.layer.kind in (LayerKind.CONV,) and s.exe_ms > 0]
    mem = [(s.layer.bytes_read + s.layer.bytes_written) / (s.exe_ms * 1e-3) for s in train
           if s.layer.kind in (LayerKind.COPY, LayerKind.ELEMENTWISE) and s.exe_ms > 0]
    tiny = [s.exe_ms for s in train if s.layer.kind is LayerKind.ELEMENTWISE and s.layer.output_elements < 1000]
    peak, bw, overhead_us = np.percentile(conv, 99) / 1e12, np.percentile(mem, 99) / 1e9, float(np.median(tiny)) * 1e3
    print(f"CPU roofline from training layers: peak {peak * 1e3:.1f} GFLOPS, bandwidth {bw:.1f} GB/s, "
          f"overhead {overhead_us:.1f} us/op")
    return RooflineEstimator(launch_overhead_us={"pytorch": overhead_us}, peak_tflops=peak, bandwidth_gbs=bw)


def main() -> None:
    nets = [n for n in load_network_samples() if n.batch == 1]
    platform = Platform.resolve("cpu")
    roofline = cpu_roofline()
    rows = []
    for n in nets:
        g = capture(n.model, input_size=(3, n.img_size, n.img_size))
        rows.append((n, hwaware.estimate(g, gpu="cpu", estimator="resperfnet").total_ms,
                     roofline.predict(g, platform).total_ms, g.flops))
    held = [r for r in rows if is_held_out(r[0].model)]
    train = [r for r in rows if not is_held_out(r[0].model)]
    a, b = np.polyfit([r[3] for r in train], [r[0].total_ms for r in train], 1)
    print(f"\n{'network':<26}{'family':<14}{'measured ms':>12}{'ResPerfNet':>12}{'roofline':>10}{'FLOPs-lin':>10}")
    for n, p, rf, fl in sorted(held, key=lambda r: r[0].total_ms):
        print(f"{n.model:<26}{n.family:<14}{n.total_ms:>12.2f}{p:>12.2f}{rf:>10.2f}{a * fl + b:>10.2f}")
    for label, group in (("held-out families", held), ("training families", train)):
        true = np.array([r[0].total_ms for r in group])
        print(f"\n{label} ({len(group)} networks, batch 1, {nets[0].env.threads} thread, {nets[0].env.device_name}):")
        for name, pred in (("ResPerfNet", np.array([r[1] for r in group])), ("roofline", np.array([r[2] for r in group])),
                           ("FLOPs-linear", a * np.array([r[3] for r in group]) + b)):
            s = summary(pred, true)
            print(f"  {name:<13} MAPE {s['mape']:6.2f} %  within ±10 % {s['within10']:5.1f} %  "
                  f"Kendall tau {s['tau']:.3f}  Spearman rho {s['rho']:.3f}")


if __name__ == "__main__":
    main()
