"""Whole-network accuracy on this machine's CPU: predicted vs measured batch-1 latency.

Networks: ``data/cpu/networks.csv.gz`` (``hwaware collect networks``). The figures that count are on the
held-out families (:data:`hwaware.evaluation.splits.HELD_OUT_FAMILIES`); the training families are shown for
contrast. ResPerfNet (the shipped weights) is reported with its whole-network calibration and without it.
Baselines on the same networks:

* roofline: per layer max(FLOPs/peak, bytes/bandwidth) + a per-op overhead, with peak, bandwidth and
  overhead derived from the *training* layer samples of :func:`~hwaware.evaluation.splits.split_cpu_layers`
  (99th percentile conv GFLOPS, 99th percentile copy/elementwise GB/s, median time of the smallest elementwise
  ops);
* FLOPs-linear: T = a * FLOPs + b, least squares on the calibration's batch-1 fit set (below).

NAS-space networks (NB201, FBNet, OFA-MBv3 drawn at random and measured here, see
:mod:`hwaware.evaluation.cpu_networks`): the seed-0 networks (``data/cpu/space_networks.csv.gz``) are in the
calibration's fit set, so their figures are in-sample and labelled so; the figures that count are on the seed-1
networks (``data/cpu/space_networks_test.csv.gz``) whose layer multiset is not in the fit set. Their layers were not
kept out of the layer training set: the share of their kernels whose layer group
(:func:`~hwaware.evaluation.splits.layer_group`) is in the training split is reported beside.

It also records the shipped weights' layer-level exe MAPE on the clean test split and the hash of the weights,
which ``tests/test_resperfnet.py`` pins against and ``tests/test_readme_figures.py`` checks the README against.

Run: ``python benchmarks/cpu_wholenet.py`` (writes ``benchmarks/results/cpu_wholenet.json``)
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from hwaware.datasets.measured import load_layer_samples
from hwaware.datasets.paths import DataNotFoundError
from hwaware.estimators import ResPerfNetEstimator, RooflineEstimator
from hwaware.estimators.resperfnet import NetworkCalibration
from hwaware.evaluation.cpu_networks import (UNCALIBRATED, batch1_networks, is_fit_network, space_networks,
                                             space_test_networks, totals)
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.splits import HELD_OUT_FAMILIES, is_held_out, layer_group, split_cpu_layers, timm_family
from hwaware.graph import LayerKind
from hwaware.hardware import Platform

RESULTS = Path(__file__).resolve().parent / "results" / "cpu_wholenet.json"


def cpu_roofline(train: list) -> RooflineEstimator:
    conv = [s.layer.flops / (s.exe_ms * 1e-3) for s in train if s.layer.kind is LayerKind.CONV and s.exe_ms > 0]
    mem = [(s.layer.bytes_read + s.layer.bytes_written) / (s.exe_ms * 1e-3) for s in train
           if s.layer.kind in (LayerKind.COPY, LayerKind.ELEMENTWISE) and s.exe_ms > 0]
    tiny = [s.exe_ms for s in train if s.layer.kind is LayerKind.ELEMENTWISE and s.layer.output_elements < 1000]
    peak, bw, overhead_us = np.percentile(conv, 99) / 1e12, np.percentile(mem, 99) / 1e9, float(np.median(tiny)) * 1e3
    print(f"CPU roofline from training layers: peak {peak * 1e3:.1f} GFLOPS, bandwidth {bw:.1f} GB/s, "
          f"overhead {overhead_us:.1f} us/op")
    return RooflineEstimator(launch_overhead_us={"pytorch": overhead_us}, peak_tflops=peak, bandwidth_gbs=bw)


def shipped_test_exe_mape(est: ResPerfNetEstimator, test: list, platform: Platform) -> float:
    """Layer-level exe MAPE (%) of ``est`` on the clean test split (all kinds)."""
    exe = np.array([t[1] for t in est.layer_phases([s.layer for s in test], platform)])
    true = np.array([s.exe_ms for s in test])
    return float(np.mean(np.abs(exe - true) / true) * 100)


def predictions(est: ResPerfNetEstimator, platform: Platform, nets: list, calibration: NetworkCalibration,
                roofline: RooflineEstimator, flops_fit: tuple[float, float]) -> dict[str, np.ndarray]:
    """Every reported estimator's whole-network ms for ``nets`` (the timm networks and the NAS-space ones alike)."""
    a, b = flops_fit
    return {"resperfnet": totals(est, platform, nets, calibration),
            "resperfnet_uncalibrated": totals(est, platform, nets, UNCALIBRATED),
            "roofline": np.array([roofline.predict(g, platform).total_ms for _, g in nets]),
            "flops_linear": np.array([a * g.flops + b for _, g in nets])}


def summary(name: str, acc: dict[str, float]) -> str:
    return (f"  {name:<24} MAPE {acc['mape']:6.1%}  within ±10 % {acc['within10']:6.1%}  "
            f"Kendall tau {acc['kendall']:.3f}  Spearman rho {acc['spearman']:.3f}")


def space_section(est: ResPerfNetEstimator, platform: Platform, calibration: NetworkCalibration,
                  roofline: RooflineEstimator, flops_fit: tuple[float, float], train_layers: list, nets: list,
                  label: str) -> dict:
    """NAS-space networks measured here (issue 8's CPU-live proof), per space; their kernels' overlap with the
    training layer groups is reported."""
    preds = predictions(est, platform, nets, calibration, roofline, flops_fit)
    true = np.array([n.total_ms for n, _ in nets])
    spaces = np.array([n.family for n, _ in nets])
    trained = {layer_group(s.layer) for s in train_layers}
    out = {}
    for space in sorted(set(spaces)):
        m = spaces == space
        kernels = [l for (n, g), keep in zip(nets, m) if keep for l in g.kernels()]
        out[space] = {k: accuracy(p[m], true[m]) for k, p in preds.items()}
        out[space]["kernels_with_a_trained_layer_group"] = float(np.mean([layer_group(l) in trained for l in kernels]))
        out[space]["median_measured_ms"] = float(np.median(true[m]))
        out[space]["median_ratio"] = {k: float(np.median(p[m] / true[m])) for k, p in preds.items()}
        print(f"\n{space}, {label} ({m.sum()} networks measured here, batch 1, median {np.median(true[m]):.2f} ms):")
        print(f"  kernels whose layer group is in the training split: {out[space]['kernels_with_a_trained_layer_group']:.0%}")
        for k in preds:
            print(f"{summary(k, out[space][k])}  median ratio {out[space]['median_ratio'][k]:.2f}")
    return out


def main() -> None:
    torch.set_num_threads(1)
    platform = Platform.resolve("cpu")
    train_layers, _, test_layers = split_cpu_layers(load_layer_samples())
    nets = batch1_networks()
    est = ResPerfNetEstimator(cache=False)
    folder = est._root() / platform.key
    meta = json.loads((folder / "meta.json").read_text())
    calibration = est.calibration(platform)
    roofline = cpu_roofline(train_layers)
    try:
        fit_spaces = space_networks()
    except DataNotFoundError:
        print("no NAS-space networks measured (data/cpu/space_networks.csv): the NAS sections are skipped")
        fit_spaces = []
    fit = [(n, g) for n, g in nets + fit_spaces if is_fit_network(n)]
    a, b = np.polyfit([g.flops for _, g in fit], [n.total_ms for n, _ in fit], 1)
    preds = predictions(est, platform, nets, calibration, roofline, (a, b))
    held = np.array([is_held_out(n.model) for n, _ in nets])
    true = np.array([n.total_ms for n, _ in nets])
    print(f"\n{'network':<26}{'family':<14}{'measured ms':>12}" + "".join(f"{k[:12]:>13}" for k in preds))
    for i in sorted(np.flatnonzero(held), key=lambda i: true[i]):
        print(f"{nets[i][0].model:<26}{nets[i][0].family:<14}{true[i]:>12.2f}" +
              "".join(f"{p[i]:>13.2f}" for p in preds.values()))
    env = nets[0][0].env
    out = {"command": "python benchmarks/cpu_wholenet.py",
           "weights": {"platform": platform.key, "sha256": hashlib.sha256(
               (folder / "weights.safetensors").read_bytes()).hexdigest(), "trained_on_split": meta["split"]},
           "calibration": {**calibration.to_doc(), "form": meta["network_calibration"].get("form", "kernels")},
           "environment": {"threads": env.threads, "device_name": env.device_name},
           "held_out_families": sorted({timm_family(n.model) for n, _ in nets if is_held_out(n.model)}),
           "declared_held_out_families": list(HELD_OUT_FAMILIES),
           "layer_test_exe_mape_shipped": shipped_test_exe_mape(est, test_layers, platform), "networks": {}}
    for label, mask in (("held_out", held), ("training", ~held)):
        out["networks"][label] = {k: accuracy(p[mask], true[mask]) for k, p in preds.items()}
        print(f"\n{label} families ({mask.sum()} networks, batch 1, {env.threads} thread, {env.device_name}):")
        for k, acc in out["networks"][label].items():
            print(summary(k, acc))
    if fit_spaces:
        test_spaces = space_test_networks(fit)
        out["spaces"] = space_section(est, platform, calibration, roofline, (a, b), train_layers, test_spaces,
                                      "seed 1, held out")
        out["spaces_fit_set"] = space_section(est, platform, calibration, roofline, (a, b), train_layers, fit_spaces,
                                              "seed 0, in the calibration's fit set: in-sample")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
