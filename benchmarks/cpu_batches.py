"""The CPU model above batch 1, measured live: when this was written every CPU network row that trained or calibrated
it was at batch 1 (``data/cpu/*networks*``; the calibration has rows at batches 4 and 16 since, ``data/cpu/
fit_batches.csv``); its per-layer micro-benchmarks time few layers above batch 16.

Protocol (written 2026-12-07 and committed before any network below was measured; nothing is chosen from figures):

* Networks (:func:`networks`): 10 random architectures of each NAS space drawn with seed 7 (no shipped measurement
  drew from it) and the 38 timm networks of the held-out families (:data:`hwaware.evaluation.splits.HELD_OUT_NETWORKS`),
  at their default input sizes. A network whose layer multiset is in the CPU calibration's fit set is left out of the
  figures (nothing identical on both sides).
* Measured by ``python benchmarks/cpu_batches.py --measure`` with :func:`hwaware.measure.collect.collect_networks` at
  batches :data:`BATCHES`, one torch thread, one round, into ``data/cpu/batches.csv`` (committed; resumable).
* Predicted: the shipped CPU model (``gpu="cpu"``, no calibration profile) at each network's batch.
* Figures, per batch and group (the NAS spaces together, the held-out timm networks): MAPE, share within ±10 %,
  Spearman ρ, median predicted / measured; and the batch-scaling error, per network (predicted / measured at batch b)
  over (predicted / measured at batch 1): its 10th, 50th and 90th percentiles, in which the network's own batch-1
  error and the machine's speed cancel where they hold across batches.

Run: ``python benchmarks/cpu_batches.py`` (writes ``benchmarks/results/cpu_batches.{json,md}`` from the committed
measurements); ``--measure`` first, alone on the machine (2026-12-07, an AMD EPYC: 32 minutes, 17:16-17:48
UTC; the estimate of about 20 written with the protocol was a guess).
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

import hwaware
from hwaware.datasets.measured import REPO_DATA, load_network_samples
from hwaware.errors import OtherCPUWarning
from hwaware.evaluation.cpu_networks import fit_set_multisets, network_group
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.provenance import provenance, write_results
from hwaware.evaluation.splits import HELD_OUT_NETWORKS, graph_multiset
from hwaware.hardware import Platform
from hwaware.measure.collect import collect_networks
from hwaware.zoo.spaces import get_space

RESULTS = Path(__file__).resolve().parent / "results"
MEASURED = REPO_DATA / "cpu" / "batches.csv"
BATCHES = (1, 8, 32)
SEED, COUNT = 7, 10  # per NAS space
SPACES = ("nb201", "fbnet", "ofa_mbv3")


def networks() -> list[str]:
    return [s for space in SPACES for s in get_space(space).random_specs(COUNT, SEED)] + list(HELD_OUT_NETWORKS)


def report() -> dict:
    rows = load_network_samples(MEASURED)
    fit = fit_set_multisets()
    shared = {m for m in {r.model for r in rows} if graph_multiset(hwaware.capture(m)) in fit}  # each network once
    kept = [r for r in rows if r.model not in shared]
    with warnings.catch_warnings():  # the model's answers on the CPU it was measured on, or another: what this measures
        warnings.simplefilter("ignore", OtherCPUWarning)
        pred = {(r.model, r.batch): hwaware.latency(r.model, gpu="cpu", batch_size=r.batch) for r in kept}
    ratio = {(r.model, r.batch): pred[(r.model, r.batch)] / r.total_ms for r in kept}
    model = hwaware.get_estimator("resperfnet").model_id(Platform.resolve("cpu"))  # what the figures are of
    out: dict = {"command": "python benchmarks/cpu_batches.py", "provenance": provenance(), "model": model,
                 "batches": BATCHES,
                 "measured": len(rows), "left_out": len(rows) - len(kept),
                 "machines": sorted({r.env.device_name for r in rows}), "groups": {}}
    for group in ("NAS spaces", "timm held out"):
        for b in BATCHES:
            at = [r for r in kept if r.batch == b and (network_group(r) == "timm") == (group == "timm held out")]
            if len(at) < 3:
                continue
            fig = accuracy(np.array([pred[(r.model, b)] for r in at]), np.array([r.total_ms for r in at]))
            scaling = [ratio[(r.model, b)] / ratio[(r.model, 1)] for r in at if (r.model, 1) in ratio]
            out["groups"][f"{group}, batch {b}"] = {
                "n": len(at), **{k: fig[k] for k in ("mape", "within10", "spearman")},
                "median_ratio": float(np.median([ratio[(r.model, b)] for r in at])),
                "scaling": [float(v) for v in np.percentile(scaling, [10, 50, 90])] if b != 1 else None}
    return out


def markdown(out: dict) -> str:
    lines = ["# The CPU model above batch 1, measured live (`python benchmarks/cpu_batches.py`)", "",
             f"{out['measured']} rows measured on {', '.join(out['machines'])} (one torch thread), "
             f"{out['left_out']} left out (their layer multiset is in the calibration's fit set). The shipped CPU "
             "model, no calibration profile. Scaling: (predicted / measured at the batch) over (the same at batch 1), "
             "per network: 10th / 50th / 90th percentile.", "",
             "| networks | n | MAPE | within ±10 % | Spearman ρ | median predicted / measured | scaling |",
             "|---|---|---|---|---|---|---|"]
    for name, g in out["groups"].items():
        scaling = " / ".join(f"{v:.2f}" for v in g["scaling"]) if g["scaling"] else "–"
        lines.append(f"| {name} | {g['n']} | {g['mape']:.1%} | {g['within10']:.0%} | {g['spearman']:.3f} "
                     f"| {g['median_ratio']:.2f} | {scaling} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measure", action="store_true", help="time the networks first (resumable)")
    args = ap.parse_args()
    if args.measure:
        collect_networks(MEASURED, networks(), batch_sizes=BATCHES, threads=1)
    out = report()
    write_results(RESULTS, "cpu_batches", out, markdown(out))


if __name__ == "__main__":
    main()
