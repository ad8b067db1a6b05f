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
  :func:`hwaware.calibrate` (what ``--here`` did after measuring). Each timed the suite in one pass (three rounds
  became ``--here``'s default later, ``benchmarks/cpu_here_rounds.py``).
* Figures per test group (NB201, FBNet and OFA-MBv3 of seed 3 and of seed 2; the held-out timm networks): MAPE,
  share within +-10 %, Spearman rho (:func:`hwaware.evaluation.metrics.accuracy`) zero-shot (``gpu="cpu"``) and with
  each run's profile, and the median answer / measured. Target: the issue's CPU target, MAPE <= 15 % on NB201, FBNet
  and OFA, for each run.

Added after the first results were seen (2026-12-06 23:41), which no figure above depends on: the profiles' figures
moved together by a factor between the two test sets (seed 2 answered x1.27 zero-shot, seed 3 x0.90), so the same
networks were measured again on the same machine (``hwaware collect networks`` as above into
``data/cpu/remeasured/``: the seed-3 test networks at 23:41-23:44, six minutes after their first measurement; the
seed-2 networks at 23:44-23:47, seven hours after theirs). Reported beside: their figures as the test sets' above
(rows "again"), and per group the median and 10th-90th percentile of (second time / first time) of each network, and
of (this machine's time / the AMD EPYC's) for the timm networks both measured (``data/cpu/networks.csv.gz``).

Also after the results, on a review (helper-153), none of it moving a figure above: the left-out multisets take in
the fit set's timm networks too (the calibration's whole fit set,
:func:`~hwaware.evaluation.cpu_networks.fit_set_multisets`; none was shared); each test set's verdict against the
target; the suite's spread across the three runs and each run's timed seconds. While the "again" rows were added,
their timm networks were first pooled with the seed-3 ones under one key (never committed). The EPYC's timm rows
were measured under torch 2.15.0 and the Xeon's under 2.14.1: the last ratio is the two CPUs and the two versions
together.

Run: ``python benchmarks/cpu_host_profile.py`` (writes ``benchmarks/results/cpu_host_profile.{json,md}``).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

import hwaware
from hwaware.datasets.measured import REPO_DATA, load_network_samples
from hwaware.errors import OtherCPUWarning
from hwaware.evaluation.cpu_networks import (HOST_SUITE_RUNS, HOST_TEST_AGAIN, HOST_TEST_NETWORKS, OTHER_CPU_AGAIN,
                                             OTHER_CPU_NETWORKS, fit_set_multisets, network_group,
                                             space_networks)
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.provenance import provenance, write_results
from hwaware.evaluation.splits import graph_multiset
from hwaware.measure.collect import NETWORK_WARMUP

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MAPE = 0.15  # the CPU target, per NAS space
GROUPS = {HOST_TEST_NETWORKS: "seed 3", OTHER_CPU_NETWORKS: "seed 2",  # the declared test sets
          # added after the results (below): the same networks measured again
          HOST_TEST_AGAIN: "seed 3, again", OTHER_CPU_AGAIN: "seed 2, again"}
SPACES = ("nb201", "fbnet", "ofa_mbv3")


def runs() -> list[Path]:
    """The committed ``hwaware calibrate --here`` measurements, in run order."""
    return sorted((REPO_DATA / HOST_SUITE_RUNS).glob("run*.csv.gz"))


def run() -> dict:
    paths = runs()
    profiles = [hwaware.calibrate(path, gpu="cpu", name=path.name.split(".")[0], save=False) for path in paths]
    suites = [space_networks(f"{HOST_SUITE_RUNS}/{path.name}") for path in paths]
    # nothing identical on both sides: the suite's networks (the same in every run) and the calibration's fit set
    left_out = {graph_multiset(g) for suite in suites for _, g in suite} | fit_set_multisets()
    out: dict = {"command": "python benchmarks/cpu_host_profile.py", "provenance": provenance(),
                 "target_mape": TARGET_MAPE, "runs": [], "test_machines": {}, "groups": {}}
    for p, path, suite in zip(profiles, paths, suites):
        out["runs"].append({"file": f"data/{HOST_SUITE_RUNS}/{path.name}",
                            "machines": sorted({n.env.device_name for n, _ in suite}), "form": p.terms,
                            "profile": p.describe(), "loo_mape": p.loo_mape, "fit_mape": p.fit_mape,
                            # the timed calls alone (the warm-up's and the repeats'); building each network is more
                            "timed_s": sum((n.repeats + NETWORK_WARMUP) * n.total_ms for n, _ in suite) / 1e3})
    models = [n.model for n, _ in suites[0]]
    per_run = [{n.model: n.total_ms for n, _ in suite} for suite in suites]
    times = np.array([[ms[m] for m in models] for ms in per_run])  # run x network
    spread = times.max(axis=0) / times.min(axis=0)
    out["suite_spread"] = {"median": float(np.median(spread)), "max": float(spread.max()),
                           "max_network": models[int(spread.argmax())]}
    for name, seed in GROUPS.items():
        nets = [(n, g) for n, g in space_networks(name) if graph_multiset(g) not in left_out]
        out["test_machines"][seed] = sorted({n.env.device_name for n, _ in nets})
        by_group: dict[str, list] = {}
        for n, g in nets:
            kind = network_group(n)
            key = f"{kind if kind != 'timm' else 'held-out timm families'} ({seed})"
            by_group.setdefault(key, []).append((n, g))
        for key, members in by_group.items():
            true = np.array([n.total_ms for n, _ in members])
            with warnings.catch_warnings():  # the model's answers on another CPU than its own: what this measures
                warnings.simplefilter("ignore", OtherCPUWarning)
                zero = np.array(hwaware.latency_many([g for _, g in members], gpu="cpu"))
                calibrated = [np.array(hwaware.latency_many([g for _, g in members], gpu=p)) for p in profiles]
            out["groups"][key] = {
                "n": len(members), "multisets": len({graph_multiset(g) for _, g in members}),
                "zero_shot": accuracy(zero, true), "median_ratio_zero_shot": float(np.median(zero / true)),
                "profiles": [accuracy(c, true) for c in calibrated],
                "median_ratio_profiles": [float(np.median(c / true)) for c in calibrated]}
    out["target_met"] = {seed: {"zero-shot": met(out["groups"], seed, None), **{
        f"run {k + 1}": met(out["groups"], seed, k) for k in range(len(profiles))}} for seed in GROUPS.values()}
    out["same_networks"] = same_networks()
    return out


def met(groups: dict, seed: str, run: int | None) -> bool:
    """Whether zero-shot (``run`` None) or run ``run``'s profile meets :data:`TARGET_MAPE` on every NAS space of the
    test set ``seed``."""
    return all((g["zero_shot"] if run is None else g["profiles"][run])["mape"] <= TARGET_MAPE
               for g in (groups[f"{s} ({seed})"] for s in SPACES))


# (first measurement, second, what the pair is): the ratio second / first of each network both files have
PAIRS = ((HOST_TEST_NETWORKS, HOST_TEST_AGAIN, "this machine, 6 minutes later"),
         (OTHER_CPU_NETWORKS, OTHER_CPU_AGAIN, "this machine, 7 hours later"),
         ("cpu/networks.csv", HOST_TEST_NETWORKS, "this machine against the AMD EPYC"))


def same_networks() -> list[dict]:
    """The same networks measured twice (:data:`PAIRS`): per group, the ratio of the second time to the first."""
    rows = []
    for first, second, what in PAIRS:
        old = {n.model: n.total_ms for n in load_network_samples(REPO_DATA / first) if n.batch == 1}
        by_group: dict[str, list[float]] = {}
        for n in load_network_samples(REPO_DATA / second):
            if n.batch == 1 and n.model in old:
                by_group.setdefault(network_group(n), []).append(n.total_ms / old[n.model])
        for key, ratios in by_group.items():
            p10, p50, p90 = np.quantile(ratios, [0.1, 0.5, 0.9])
            rows.append({"pair": what, "first": f"data/{first}.gz", "second": f"data/{second}.gz", "group": key,
                         "n": len(ratios), "median": float(p50), "p10": float(p10), "p90": float(p90)})
    return rows


# the short table's header, which docs/accuracy.md copies (tests/test_readme_figures.py compares them)
COMPACT = "| test networks | n | zero-shot MAPE (median answer / measured) | run 1 | run 2 | run 3 |"


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
    lines += ["", "In short (docs/accuracy.md): MAPE per run", "", COMPACT, "|---|---|---|" + "---|" * len(r["runs"])]
    for key, f in r["groups"].items():
        lines.append(f"| {key} | {f['n']} | {f['zero_shot']['mape']:.1%} (x{f['median_ratio_zero_shot']:.2f}) | "
                     + " | ".join(f"{a['mape']:.1%}" for a in f["profiles"]) + " |")
    verdict = "; ".join(f"{seed}: " + ", ".join(f"{who} {'met' if ok else 'not met'}" for who, ok in runs_.items())
                        for seed, runs_ in r["target_met"].items())
    spread = r["suite_spread"]
    lines += ["", f"Target (MAPE <= {r['target_mape']:.0%} on NB201, FBNet and OFA-MBv3): {verdict}.", "",
              f"The suite across the {len(r['runs'])} runs: each network's slowest / fastest time, median "
              f"x{spread['median']:.2f}, at most x{spread['max']:.2f} ({spread['max_network'][:40]}...); timed "
              "seconds per run (warm-up and repeats, without building the networks): "
              + ", ".join(f"{x['timed_s']:.1f}" for x in r["runs"]) + "."]
    lines += ["", "The same networks measured twice (added after the results above were seen): second time / first",
              "", "| pair | networks | n | median | 10th-90th percentile |", "|---|---|---|---|---|"]
    lines += [f"| {x['pair']} | {x['group']} | {x['n']} | x{x['median']:.2f} | x{x['p10']:.2f} .. x{x['p90']:.2f} |"
              for x in r["same_networks"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    r = run()
    write_results(RESULTS, "cpu_host_profile", r, markdown(r))


if __name__ == "__main__":
    main()
