"""``hwaware calibrate --here``: the host suite timed in one pass against timed in rounds, on test networks timed
between the profiles' measurements.

``benchmarks/cpu_host_profile.py`` found three ``--here`` profiles, measured one after another within a minute, 5-26 %
apart on the same test networks: this shared machine's speed moves by more than the model's error (the suite's
networks took up to x1.40 their fastest time across the three runs). In one pass a busy spell of a few seconds falls
on a few networks, and the profile's form (fitted across networks) bends to it. Timed in rounds (every network once
per round, each network's median round kept, ``collect_networks(rounds=)``), a spell falls on a round of every
network instead.

Protocol (written 2026-12-07 and committed before any network below was measured; nothing was chosen from figures):

* Candidates (:data:`CANDIDATES`): ``A``, the suite in one pass (``hwaware.calibrate_here(rounds=1)``, what ships
  today), and ``B``, in three rounds (``rounds=3``; three times the timed calls, about a minute).
* Test networks (:func:`test_networks`): 40 random architectures of each NAS space drawn with seed 5 (no shipped
  measurement drew from it) and the 38 timm networks of the held-out families, timed at batch 1, one torch thread.
  The truth is each network's median total time over the five test rounds; a network whose layer multiset is a suite
  network's or in the CPU calibration's fit set is left out (nothing identical on both sides).
* Schedule (:data:`SCHEDULE`), run by ``python benchmarks/cpu_here_rounds.py --measure`` on one machine with nothing
  else of ours running: test rounds T1-T5 between four profiles of each candidate, in the order T1 A1 B1 T2 B2 A2 T3
  A3 B3 T4 B4 A4 T5 (each candidate as often first as second). Every step's start and end are recorded
  (``schedule.json``); its files are committed under ``data/cpu/here_rounds/``.
* Figures: per profile, MAPE, share within +-10 % and Spearman rho per test group (NB201, FBNet, OFA-MBv3, held-out
  timm), against the zero-shot model's; per candidate the median and range over its four profiles of the worst
  NAS-space MAPE; the suite's per-network slowest / fastest time across each candidate's four runs; each test round's
  median time / the truth.
* Rule (:data:`RULE`), fixed here before any figure: ``B`` becomes ``calibrate_here``'s default if the median over its
  four profiles of the worst NAS-space MAPE is lower than ``A``'s; otherwise ``rounds`` is not shipped (one pass
  stays, and this file reports why).

Since (after the results; the protocol above is as declared): the rule chose B, 12.5 % against 13.6 % (11.6 % against
13.2 % since the CPU calibration of 2026-12-07), and three rounds are ``calibrate_here``'s default
(:data:`hwaware.measure.suite.SUITE_ROUNDS`); B's runs took 39-42 s, A's 13-15 s.

Run: ``python benchmarks/cpu_here_rounds.py`` (writes ``benchmarks/results/cpu_here_rounds.{json,md}`` from the
committed measurements).
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

import hwaware
from hwaware.datasets.measured import REPO_DATA, resolve
from hwaware.errors import OtherCPUWarning
from hwaware.evaluation.cpu_networks import HERE_ROUNDS, fit_set_multisets, network_group, space_networks
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.provenance import provenance, write_results
from hwaware.evaluation.splits import HELD_OUT_NETWORKS, graph_multiset
from hwaware.measure.collect import collect_networks
from hwaware.zoo.spaces import get_space

RESULTS = Path(__file__).resolve().parent / "results"
CANDIDATES = {"A": 1, "B": 3}  # the suite's rounds
SCHEDULE = ("T1", "A1", "B1", "T2", "B2", "A2", "T3", "A3", "B3", "T4", "B4", "A4", "T5")
TEST_SEED, TEST_COUNT = 5, 40  # per NAS space
SPACES = ("nb201", "fbnet", "ofa_mbv3")
RULE = "B if median over its profiles of the worst NAS-space MAPE < A's, else A"
HERE = REPO_DATA / HERE_ROUNDS


def test_networks() -> list[str]:
    """The test networks, in the order each test round times them."""
    return [s for space in SPACES for s in get_space(space).random_specs(TEST_COUNT, TEST_SEED)] + list(
        HELD_OUT_NETWORKS)


def measure() -> None:
    """Run :data:`SCHEDULE` into ``data/cpu/here_rounds/`` (resumable: a finished step is skipped, a test round picks
    up its missing rows; a profile's measurements are written whole)."""
    HERE.mkdir(parents=True, exist_ok=True)
    log_path = HERE / "schedule.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    for step in SCHEDULE:
        path = HERE / f"{step}.csv"
        if step in log and "end" in log[step]:
            continue
        start = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        if step.startswith("T"):
            collect_networks(path, test_networks(), threads=1)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OtherCPUWarning)
                hwaware.calibrate_here(f"here-{step}", rounds=CANDIDATES[step[0]], save=False, measurements_out=path)
        log[step] = {"start": log.get(step, {}).get("start", start), "end": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        log_path.write_text(json.dumps(log, indent=1))
        print(step, log[step], flush=True)


def run() -> dict:
    steps = {s: f"{HERE_ROUNDS}/{s}.csv" for s in SCHEDULE}
    tests = {s: space_networks(f) for s, f in steps.items() if s.startswith("T")}
    suites = {s: space_networks(f) for s, f in steps.items() if not s.startswith("T")}
    left_out = {graph_multiset(g) for suite in suites.values() for _, g in suite} | fit_set_multisets()
    rounds = np.array([[n.total_ms for n, _ in nets] for nets in tests.values()])  # test round x network
    first = tests["T1"]
    assert all([n.model for n, _ in nets] == [n.model for n, _ in first] for nets in tests.values()), \
        "test rounds list other networks"
    truth = np.median(rounds, axis=0)
    graphs = [g for _, g in first]
    groups: dict[str, list[int]] = {}
    for i, (n, g) in enumerate(first):
        if graph_multiset(g) not in left_out:
            groups.setdefault(network_group(n), []).append(i)
    with warnings.catch_warnings():  # the model's answers on another CPU than its own: what this measures
        warnings.simplefilter("ignore", OtherCPUWarning)
        zero = np.array(hwaware.latency_many(graphs, gpu="cpu"))
    profiles = {s: hwaware.calibrate(resolve(REPO_DATA / f), gpu="cpu", name=f"here-{s}", save=False)
                for s, f in steps.items() if s in suites}
    out: dict = {"command": "python benchmarks/cpu_here_rounds.py", "provenance": provenance(), "rule": RULE,
                 "candidates": CANDIDATES, "schedule": json.loads((HERE / "schedule.json").read_text()),
                 "machines": sorted({n.env.device_name for nets in [*tests.values(), *suites.values()]
                                     for n, _ in nets}),
                 "groups": {k: len(v) for k, v in groups.items()},
                 "test_rounds": {s: float(np.median(r / truth)) for s, r in zip(tests, rounds)},
                 "zero_shot": {k: accuracy(zero[v], truth[v]) for k, v in groups.items()}, "profiles": {}}
    for step, p in profiles.items():
        answers = np.array(hwaware.latency_many(graphs, gpu=p))
        out["profiles"][step] = {"form": p.terms, "profile": p.describe(),
                                 "groups": {k: accuracy(answers[v], truth[v]) for k, v in groups.items()}}
    out["candidates_figures"] = {}
    for c in CANDIDATES:
        worst = [max(out["profiles"][s]["groups"][k]["mape"] for k in SPACES) for s in profiles if s[0] == c]
        times = np.array([[n.total_ms for n, _ in suites[s]] for s in suites if s[0] == c])
        spread = times.max(axis=0) / times.min(axis=0)
        out["candidates_figures"][c] = {"worst_mape": worst, "score": float(np.median(worst)),
                                        "suite_spread_median": float(np.median(spread)),
                                        "suite_spread_max": float(spread.max())}
    figures = out["candidates_figures"]
    out["chosen"] = "B" if figures["B"]["score"] < figures["A"]["score"] else "A"
    return out


def rounds_text(n: int) -> str:
    return f"{n} round{'s' if n > 1 else ''}"


def cell(a: dict) -> str:
    return f"{a['mape']:.1%} / {a['within10']:.0%} / {a['spearman']:.3f}"


def markdown(r: dict) -> str:
    keys = list(r["groups"])
    lines = ["# The host suite in one pass against in rounds (`python benchmarks/cpu_here_rounds.py`)", "",
             f"Measured on: {', '.join(r['machines'])}; schedule "
             + ", ".join(f"{s} {t['start'][11:19]}-{t['end'][11:19]}" for s, t in r["schedule"].items())
             + f". Rule (declared before the measurements): {r['rule']}. Candidates: "
             + ", ".join(f"{c}: {rounds_text(n)}" for c, n in r["candidates"].items()) + ".", "",
             "| profile | " + " | ".join(f"{k} ({r['groups'][k]}) MAPE / within ±10 % / ρ" for k in keys) + " |",
             "|---|" + "---|" * len(keys)]
    lines.append("| zero-shot | " + " | ".join(cell(r["zero_shot"][k]) for k in keys) + " |")
    lines += [f"| {s} (`{p['form']}`) | " + " | ".join(cell(p["groups"][k]) for k in keys) + " |"
              for s, p in r["profiles"].items()]
    lines += ["", "| candidate | worst NAS-space MAPE per profile | median (the rule's score) | suite's slowest / "
              "fastest time across its runs, median / max |", "|---|---|---|---|"]
    lines += [f"| {c} ({rounds_text(r['candidates'][c])}) | "
              + ", ".join(f"{w:.1%}" for w in f["worst_mape"]) + f" | {f['score']:.1%} | "
              f"x{f['suite_spread_median']:.2f} / x{f['suite_spread_max']:.2f} |"
              for c, f in r["candidates_figures"].items()]
    chosen = r["chosen"]
    lines += ["", f"Chosen by the rule: {chosen} ({rounds_text(r['candidates'][chosen])}). Each test round's median "
              "time / the truth (the "
              "median of the five): " + ", ".join(f"{s} x{v:.2f}" for s, v in r["test_rounds"].items()) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--measure", action="store_true", help="run the schedule on this machine "
                    "(16 minutes on an Intel Xeon)")
    if ap.parse_args().measure:
        measure()
        return
    r = run()
    write_results(RESULTS, "cpu_here_rounds", r, markdown(r))


if __name__ == "__main__":
    main()
