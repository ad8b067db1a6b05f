"""``hwaware calibrate --here`` on a CPU the CPU model was not trained on: what its profile gives on networks it did
not measure, against the model as users get it.

The CPU model (``gpu="cpu"``) was trained on an AMD EPYC; on an Intel Xeon it answers NB201 x1.27 and FBNet x1.22
of the measured times (``benchmarks/cpu_other_machine.py``). ``hwaware.calibrate_here`` (CLI ``hwaware calibrate
--here``) measures the host suite (:mod:`hwaware.measure.suite`, 15 networks) on the user's CPU and fits a profile on
them. This benchmark measures that profile on networks of the same machine outside the suite.

Protocol (written 2026-12-06, committed with the suite and ``calibrate_here`` before any of their networks or of the
test networks below was measured; nothing here is chosen, there are no candidates):

* Test networks, measured at batch 1 with one torch thread on the same machine after this was committed:
  ``data/cpu/host_test_networks.csv.gz``: ``hwaware collect networks --models heldout --space nb201 --count 40
  --seed 3 --threads 1 --out data/cpu/host_test_networks.csv``, then ``--space fbnet`` and ``--space ofa_mbv3`` the
  same way without ``--models`` (40 random architectures of each NAS space, seed 3, and the 38 timm networks of the
  held-out families, :data:`hwaware.evaluation.splits.HELD_OUT_NETWORKS`), gzipped; and the seed-2 networks
  ``data/cpu/other_cpu_networks.csv.gz`` measured there before (their zero-shot figures were reported; no profile of
  this kind has seen them). A network whose layer multiset (:func:`~hwaware.evaluation.splits.graph_multiset`) is a
  suite network's or in the CPU calibration's fit set (seed-0 NAS networks) is left out: nothing identical on both
  sides.
* Profiles: ``hwaware calibrate --here --name host-runK`` run three times (K = 1, 2, 3), one after another, after the
  test networks; each measures the suite afresh (the spread of the three is the measurement's noise). Their
  measurements are committed as ``data/cpu/host_suite_runs/runK.csv.gz``; this benchmark refits each with
  :func:`hwaware.calibrate` (what ``--here`` did after measuring).
* Figures per test group (NB201, FBNet and OFA-MBv3 of seed 3 and of seed 2; the held-out timm networks): MAPE,
  share within +-10 %, Spearman rho (:func:`hwaware.evaluation.metrics.accuracy`) zero-shot (``gpu="cpu"``) and with
  each run's profile, and the median answer / measured. Target: the issue's CPU target, MAPE <= 15 % on NB201, FBNet
  and OFA, for each run.

Run: ``python benchmarks/cpu_host_profile.py`` (writes ``benchmarks/results/cpu_host_profile.{json,md}``).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

import hwaware
from hwaware.datasets.measured import REPO_DATA
from hwaware.errors import HwawareWarning
from hwaware.evaluation.cpu_networks import (HOST_SUITE_RUNS, HOST_TEST_NETWORKS, OTHER_CPU_NETWORKS,
                                             SPACE_NETWORKS, space_networks)
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.provenance import provenance
from hwaware.evaluation.splits import graph_multiset

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MAPE = 0.15  # the CPU target, per NAS space
GROUPS = {HOST_TEST_NETWORKS: "seed 3", OTHER_CPU_NETWORKS: "seed 2"}


def runs() -> list[Path]:
    """The committed ``hwaware calibrate --here`` measurements, in run order."""
    return sorted((REPO_DATA / HOST_SUITE_RUNS).glob("run*.csv.gz"))


def run() -> dict:
    profiles = []
    for path in runs():
        with warnings.catch_warnings():  # a profile of another CPU than the model's: what this measures
            warnings.simplefilter("ignore", HwawareWarning)
            profiles.append(hwaware.calibrate(path, gpu="cpu", name=path.name.split(".")[0], save=False))
    suite = space_networks(f"{HOST_SUITE_RUNS}/{runs()[0].name}")
    left_out = {graph_multiset(g) for _, g in suite} | {graph_multiset(g) for _, g in space_networks(SPACE_NETWORKS)}
    out: dict = {"command": "python benchmarks/cpu_host_profile.py", "provenance": provenance(),
                 "target_mape": TARGET_MAPE, "runs": [], "test_machines": {}, "groups": {}}
    for p, path in zip(profiles, runs()):
        machines = sorted({n.env.device_name for n, _ in space_networks(f"{HOST_SUITE_RUNS}/{path.name}")})
        out["runs"].append({"file": f"data/{HOST_SUITE_RUNS}/{path.name}", "machines": machines, "form": p.terms,
                            "profile": p.describe(), "loo_mape": p.loo_mape})
    for name, seed in GROUPS.items():
        nets = [(n, g) for n, g in space_networks(name) if graph_multiset(g) not in left_out]
        out["test_machines"][seed] = sorted({n.env.device_name for n, _ in nets})
        by_group: dict[str, list] = {}
        for n, g in nets:
            key = f"{n.model.split(':', 1)[0]} ({seed})" if ":" in n.model else "held-out timm families"
            by_group.setdefault(key, []).append((n, g))
        for key, members in by_group.items():
            true = np.array([n.total_ms for n, _ in members])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", HwawareWarning)
                zero = np.array(hwaware.latency_many([g for _, g in members], gpu="cpu"))
                calibrated = [np.array(hwaware.latency_many([g for _, g in members], gpu=p)) for p in profiles]
            out["groups"][key] = {
                "n": len(members), "multisets": len({graph_multiset(g) for _, g in members}),
                "zero_shot": accuracy(zero, true), "median_ratio_zero_shot": float(np.median(zero / true)),
                "profiles": [accuracy(c, true) for c in calibrated],
                "median_ratio_profiles": [float(np.median(c / true)) for c in calibrated]}
    return out


def markdown(r: dict) -> str:
    machines = sorted({m for ms in r["test_machines"].values() for m in ms})
    lines = ["# `hwaware calibrate --here` on another CPU (`python benchmarks/cpu_host_profile.py`)", "",
             f"Test networks measured on: {', '.join(machines)}; the CPU model was trained on an AMD EPYC. "
             f"Profiles (each measured the host suite afresh): "
             + "; ".join(f"{x['file']}: `{x['form']}`, {x['profile']}" for x in r["runs"]) + ".", "",
             "| test networks | n (layer multisets) | zero-shot MAPE / within ±10 % / ρ (median answer / measured) | "
             + " | ".join(f"run {i + 1} MAPE / within ±10 % / ρ (median ratio)" for i in range(len(r["runs"])))
             + " |", "|---|---|---|" + "---|" * len(r["runs"])]
    for key, f in r["groups"].items():
        cells = [f"{a['mape']:.1%} / {a['within10']:.0%} / {a['spearman']:.3f} (x{m:.2f})" for a, m in
                 zip([f["zero_shot"], *f["profiles"]], [f["median_ratio_zero_shot"], *f["median_ratio_profiles"]])]
        lines.append(f"| {key} | {f['n']} ({f['multisets']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    r = run()
    (RESULTS / "cpu_host_profile.json").write_text(json.dumps(r, indent=1))
    (RESULTS / "cpu_host_profile.md").write_text(markdown(r))
    print(markdown(r))


if __name__ == "__main__":
    main()
