"""`hwaware calibrate --here` (hwaware.calibrate_here): the host suite measured on this CPU, a profile fitted on it;
and the note a CPU estimate carries on another CPU than the model's."""
from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
import warnings

import pytest

import hwaware
from hwaware import api
from hwaware.errors import HwawareWarning, ImplausibleEstimateWarning
from hwaware.evaluation.splits import TRAIN_NETWORKS, is_held_out
from hwaware.measure import suite
from hwaware.zoo.spaces import from_spec, get_space, is_spec


def test_the_host_suite_is_four_networks_per_nas_space_and_three_of_the_training_families():
    """4 of each NAS space drawn with SUITE_SEED, a seed no shipped CPU measurement drew from (0: the calibration's fit
    set, 1 and 2 and 3: test sets), and timm networks of the CPU model's training families (the held-out families are
    test networks); benchmarks/cpu_host_profile.py checks their layer multisets against the test sets'."""
    nets = suite.host_suite()
    assert len(nets) == len(set(nets)) == 15 and suite.SUITE_SEED not in (0, 1, 2, 3)
    specs = [n for n in nets if is_spec(n)]
    assert [from_spec(s)[0].name for s in specs] == ["nb201"] * 4 + ["fbnet"] * 4 + ["ofa_mbv3"] * 4
    timm = [n for n in nets if not is_spec(n)]
    assert len(timm) == 3 and all(t in TRAIN_NETWORKS and not is_held_out(t) for t in timm)


@pytest.fixture
def small_suite(monkeypatch):
    """Three NB201 networks in place of the 15 (the mechanics, in seconds)."""
    nets = get_space("nb201").random_specs(3, suite.SUITE_SEED)
    monkeypatch.setattr(suite, "host_suite", lambda: nets)
    return nets


def test_calibrate_here_measures_the_suite_and_keeps_it_beside_the_profile(small_suite, tmp_path):
    target = tmp_path / "mine.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HwawareWarning)  # three networks: fewer than 10, and maybe another thread
        p = hwaware.calibrate_here("mine", save=target, min_time_s=0.01)
    assert p.gpu == "cpu-epyc-1t" and p.n_networks == 3 and target.is_file()
    rows = list(csv.DictReader(open(tmp_path / "mine.csv")))
    assert [r["model"] for r in rows] == small_suite and {r["threads"] for r in rows} == {"1"}
    assert sorted(f.name for f in tmp_path.iterdir()) == ["mine.csv", "mine.json"]  # no temporary file left
    est = hwaware.estimate(small_suite[0], gpu=str(target))
    assert not any("this machine's" in n for n in est.notes)  # the profile is this CPU's
    # measured again: the file is replaced, not resumed (collect skips a network its file has: the rows would be old)
    with open(tmp_path / "mine.csv", newline="") as f:
        header = f.readline()
    (tmp_path / "mine.csv").write_text(header + ",".join("old" if c == "exe_ms" else r[c] for r, c in (
        (rows[0], c) for c in header.strip().split(","))) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HwawareWarning)
        hwaware.calibrate_here("mine", save=target, min_time_s=0.01)
    again = list(csv.DictReader(open(tmp_path / "mine.csv")))
    assert [r["model"] for r in again] == small_suite and all(r["exe_ms"] != "old" for r in again)


def test_calibrate_here_refuses_where_it_cannot_keep_them_before_measuring(small_suite, tmp_path, monkeypatch):
    monkeypatch.setattr("hwaware.measure.collect.collect_networks", lambda *a, **k: pytest.fail("measured"))
    monkeypatch.setenv("HWAWARE_PROFILES", str(tmp_path / "profiles"))  # not made yet
    with pytest.raises(hwaware.HwawareError, match="no folder"):
        hwaware.calibrate_here("mine", save=False, measurements_out=tmp_path / "nowhere" / "m.csv")
    for where in (tmp_path, tmp_path / "mine.json"):  # a folder; a profile's path (it would overwrite the profile)
        with pytest.raises(hwaware.HwawareError, match="is a folder, a profile's path"):
            hwaware.calibrate_here("mine", measurements_out=where)
    with pytest.raises(hwaware.HwawareError, match="names a GPU of the catalog \\(or the CPU\\)"):
        hwaware.calibrate_here("cpu", save=False)  # a name that would shadow the CPU target
    for bad in (0, -1.0, float("nan"), "1", True):
        with pytest.raises(hwaware.HwawareError, match="min_time_s is the least seconds"):
            hwaware.calibrate_here("mine", save=False, min_time_s=bad)
    with pytest.raises(hwaware.HwawareError, match="measurements_out: a .csv file's path, got int"):
        hwaware.calibrate_here("mine", save=False, measurements_out=5)
    with pytest.raises(hwaware.HwawareError, match="a gzip file's"):
        hwaware.calibrate_here("mine", save=False, measurements_out=tmp_path / "m.csv.gz")
    with pytest.raises(hwaware.HwawareError, match="rounds is how many times each network is timed"):
        hwaware.calibrate_here("mine", rounds=0)
    with pytest.raises(hwaware.HwawareError, match="threads is a number of torch threads"):
        hwaware.calibrate_here("mine", threads=0)
    assert not (tmp_path / "profiles").exists()  # refused before the profiles' folder was made


def test_calibrate_here_times_the_suite_in_rounds_by_default(small_suite, tmp_path, monkeypatch):
    """Three rounds (suite.SUITE_ROUNDS, chosen by benchmarks/cpu_here_rounds.py's rule) unless told otherwise, from
    the API and from the CLI's --rounds."""
    from hwaware.cli import main

    asked = []

    def stop(*args, **kwargs):
        asked.append(kwargs["rounds"])
        raise hwaware.HwawareError("stopped before measuring")

    monkeypatch.setattr("hwaware.measure.collect.collect_networks", stop)
    for kwargs in ({}, {"rounds": 1}):
        with pytest.raises(hwaware.HwawareError, match="stopped before measuring"):
            hwaware.calibrate_here("mine", save=False, **kwargs)
    assert main(["calibrate", "--here", "--rounds", "5", "--name", "mine", "--out", str(tmp_path / "m.json")]) == 2
    assert asked == [suite.SUITE_ROUNDS, 1, 5] and suite.SUITE_ROUNDS == 3
    r = subprocess.run([sys.executable, "-m", "hwaware", "calibrate", "--help"], capture_output=True, text=True)
    assert f"(default {suite.SUITE_ROUNDS};" in " ".join(r.stdout.split())  # the help says the default that runs


def test_calibrate_here_keeps_the_measurements_when_the_fit_fails(small_suite, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise hwaware.HwawareError("the fit failed")

    monkeypatch.setattr(api, "calibrate", refuse)
    with pytest.raises(hwaware.HwawareError, match="the fit failed"):
        hwaware.calibrate_here("mine", save=tmp_path / "mine.json", min_time_s=0.01)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["mine.csv"]  # to calibrate from; no temporary folder left
    assert [r["model"] for r in csv.DictReader(open(tmp_path / "mine.csv"))] == small_suite


def test_calibrate_does_not_warn_of_another_cpu_on_the_answers_it_corrects(small_suite, monkeypatch):
    monkeypatch.setattr(api, "_this_cpu", lambda: "Some Other CPU 9000")
    with warnings.catch_warnings():
        warnings.simplefilter("error", hwaware.OtherCPUWarning)
        warnings.simplefilter("ignore", ImplausibleEstimateWarning)  # three networks' profile: fewer than 10
        hwaware.calibrate([(n, 5.0 + i) for i, n in enumerate(small_suite)], gpu="cpu", name="mine", save=False)


@pytest.mark.parametrize("args, says", [
    (["--name", "x"], "give a CSV of measurements or --here"),
    (["m.csv", "--here", "--name", "x"], "give a CSV of measurements or --here"),
    (["--here", "--gpu", "agx", "--name", "x"], "--here measures this machine's CPU"),
    (["--here", "--precision", "fp16", "--name", "x"], "--here measures this machine's CPU"),
    (["m.csv", "--gpu", "cpu", "--threads", "2", "--name", "x"], "--threads goes with --here"),
    (["m.csv", "--gpu", "cpu", "--rounds", "2", "--name", "x"], "--rounds goes with --here"),
    (["--here", "--rounds", "0", "--name", "x"], "must be a positive integer"),
    (["m.csv", "--name", "x"], "--gpu is needed"),
])
def test_calibrate_cli_here_misuse_is_one_line(args, says):
    r = subprocess.run([sys.executable, "-m", "hwaware", "calibrate", *args], capture_output=True, text=True)
    assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_cpu_estimate_on_another_cpu_says_so_and_how_to_calibrate(monkeypatch):
    monkeypatch.setattr(api, "_this_cpu", lambda: "Some Other CPU 9000")
    with pytest.warns(hwaware.OtherCPUWarning, match="not this machine's Some Other CPU 9000.*calibrate --here"):
        est = hwaware.estimate("resnet18", gpu="cpu")
    assert any("not this machine's Some Other CPU 9000" in n and "calibrate_here" in n for n in est.notes)
    monkeypatch.setattr(api, "_this_cpu", lambda: "AMD EPYC")  # the model's CPU as its rows name it: nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error", HwawareWarning)
        est = hwaware.estimate("resnet18", gpu="cpu")
    assert not any("this machine's" in n for n in est.notes)
    with warnings.catch_warnings():  # a GPU's answer never mentions the host CPU
        warnings.simplefilter("ignore")
        monkeypatch.setattr(api, "_this_cpu", lambda: "Some Other CPU 9000")
        assert not any("this machine's" in n for n in hwaware.estimate("resnet18", gpu="agx").notes)


# rank statistics: answers that tie up to float noise swap with the prediction cache's fill order. NB201's 26 seed-2
# networks are 20 layer multisets: 8 pairs of equal answers, each swap moving Kendall's tau by 2/325 (0.049 in all);
# a fresh clone moved one by 0.025
RANKS, RANK_MARGIN = ("spearman", "kendall"), 0.05


def _same(got, recorded, where="results"):
    """``got`` equals ``recorded`` (a results file read back): the same keys and strings, numbers within a relative
    1e-6 (an empty prediction cache moved MAPEs at their 8th digit), rank statistics within :data:`RANK_MARGIN`."""
    if isinstance(recorded, dict):
        assert got.keys() == recorded.keys(), where
        for k in recorded:
            _same(got[k], recorded[k], f"{where}.{k}")
    elif isinstance(recorded, list):
        assert len(got) == len(recorded), where
        for i, (a, b) in enumerate(zip(got, recorded)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(recorded, float) and where.rsplit(".", 1)[-1] in RANKS:
        assert got == pytest.approx(recorded, abs=RANK_MARGIN), where
    elif isinstance(recorded, float):
        assert got == pytest.approx(recorded, rel=1e-6, abs=1e-9), where
    else:
        assert got == recorded, where


def test_the_host_profile_benchmark_reproduces_its_figures_and_what_they_say(repo_script):
    """benchmarks/cpu_host_profile.py from its committed measurements (an Intel Xeon; the model's is an AMD EPYC):
    every figure as recorded; the test sets leave out every network whose layer multiset is the suite's or in the
    calibration's fit set (some are); and what the docs say of them: on the declared seed-3 sets of the three --here
    profiles only run 2 meets issue 8's CPU target (run 1 is above 20 % on every NAS space), the model as users get it
    not (NB201), and the same NAS networks measured 7 hours apart on the one machine moved by more than a fifth (the
    seed-2 sets' x1.22 zero-shot was that)."""
    from hwaware.evaluation.cpu_networks import HOST_TEST_NETWORKS, fit_set_multisets, space_networks
    from hwaware.evaluation.splits import graph_multiset

    bench = repo_script("benchmarks/cpu_host_profile.py")
    recorded = json.loads((bench.RESULTS / "cpu_host_profile.json").read_text())
    got = bench.run()
    _same({k: v for k, v in got.items() if k != "provenance"}, {k: v for k, v in recorded.items() if k != "provenance"})
    assert len(got["runs"]) == 3 and all(not any("EPYC" in m for m in ms) for ms in got["test_machines"].values())
    spaces = bench.SPACES
    left_out = {graph_multiset(g) for _, g in space_networks("cpu/host_suite_runs/run1.csv")} | fit_set_multisets()
    test = [graph_multiset(g) for n, g in space_networks(HOST_TEST_NETWORKS) if ":" in n.model]
    assert sum(got["groups"][f"{s} (seed 3)"]["n"] for s in spaces) == sum(m not in left_out for m in test) < len(test)
    # the model as users get it met it with the batch-1 calibration (13.0 % NB201), not since (15.8 %): docs/accuracy.md
    assert got["target_met"]["seed 3"] == {"zero-shot": False, "run 1": False, "run 2": True, "run 3": False}
    assert min(got["groups"][f"{s} (seed 3)"]["profiles"][0]["mape"] for s in spaces) > 0.2
    later = {x["group"]: x["median"] for x in got["same_networks"] if x["pair"] == "this machine, 7 hours later"}
    assert later.keys() == set(spaces) and min(later.values()) > 1.2


def test_the_rounds_benchmark_reproduces_its_figures_and_its_choice_is_the_default(repo_script):
    """benchmarks/cpu_here_rounds.py from its committed measurements: every figure as recorded; the schedule ran as
    declared, in order; each test round timed the same networks and the multisets the suite or the fit set holds are
    left out; the rule's choice (three rounds, by 11.6 % against 13.2 %; 12.5 % against 13.6 % with the calibration
    before 2026-12-07) is what calibrate_here does by default; and what the docs say of it: the machine's test rounds
    spread by more than a fifth, three of B's four profiles meet the CPU target on every NAS space against two of A's,
    and the model as users get it meets it too (not with the calibration before)."""
    from hwaware.evaluation.cpu_networks import fit_set_multisets, space_networks
    from hwaware.evaluation.splits import graph_multiset

    bench = repo_script("benchmarks/cpu_here_rounds.py")
    recorded = json.loads((bench.RESULTS / "cpu_here_rounds.json").read_text())
    got = bench.run()
    _same({k: v for k, v in got.items() if k != "provenance"}, {k: v for k, v in recorded.items() if k != "provenance"})
    steps = got["schedule"]
    assert list(steps) == list(bench.SCHEDULE)
    assert all(a["end"] <= b["start"] for a, b in zip(steps.values(), list(steps.values())[1:]))
    assert got["chosen"] == "B" and got["candidates"]["B"] == suite.SUITE_ROUNDS
    assert got["candidates_figures"]["B"]["score"] < got["candidates_figures"]["A"]["score"]
    left_out = {graph_multiset(g) for _, g in space_networks("cpu/here_rounds/A1.csv")} | fit_set_multisets()
    test = [graph_multiset(g) for n, g in space_networks("cpu/here_rounds/T1.csv")]
    assert sum(got["groups"].values()) == sum(m not in left_out for m in test) < len(test) == 158
    assert max(got["test_rounds"].values()) / min(got["test_rounds"].values()) > 1.2
    met = {c: sum(max(p["groups"][k]["mape"] for k in bench.SPACES) <= 0.15 for s, p in got["profiles"].items()
                  if s[0] == c) for c in got["candidates"]}
    # the model as users get it within the target on every space since the batch-4/16 calibration (NB201 15.9 % before)
    assert met == {"A": 2, "B": 3} and max(got["zero_shot"][k]["mape"] for k in bench.SPACES) <= 0.15


def test_latency_on_another_cpu_says_it_once_as_a_note(monkeypatch, capsys):
    """`hwaware latency --gpu cpu` prints the other-CPU note with the answer, not the same text again as a warning."""
    from hwaware.cli import main

    monkeypatch.setattr(api, "_this_cpu", lambda: "Some Other CPU 9000")
    main(["latency", "resnet18", "--gpu", "cpu"])
    out, err = capsys.readouterr()
    assert out.count("not this machine's Some Other CPU 9000") == 1 and "Some Other CPU" not in err


def test_a_broken_gzip_of_measurements_is_one_line(tmp_path):
    bad = tmp_path / "m.csv.gz"
    bad.write_bytes(gzip.compress(b"model,ms\nresnet18,20\n")[:-12] + b"\x00" * 12)  # a damaged end
    with pytest.raises(hwaware.HwawareError, match="is not a whole gzip file"):
        hwaware.calibrate(bad, gpu="cpu", name="mine", save=False)
