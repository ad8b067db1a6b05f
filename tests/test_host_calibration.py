"""`hwaware calibrate --here` (hwaware.calibrate_here): the host suite measured on this CPU, a profile fitted on it;
and the note a CPU estimate carries on another CPU than the model's."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import warnings

import pytest

import hwaware
from hwaware import api
from hwaware.errors import HwawareWarning
from hwaware.evaluation.splits import TRAIN_NETWORKS, is_held_out
from hwaware.measure import suite
from hwaware.zoo.spaces import from_spec, get_space, is_spec


def test_the_host_suite_is_fixed_and_outside_every_test_set():
    """15 networks, the same on every call: 4 of each NAS space drawn with SUITE_SEED (the draw `hwaware collect
    networks --space --seed` makes), and timm networks of the CPU model's training families (the held-out families
    are test networks)."""
    nets = suite.host_suite()
    assert nets == suite.host_suite() and len(nets) == len(set(nets)) == 15
    specs = [n for n in nets if is_spec(n)]
    assert [from_spec(s)[0].name for s in specs] == ["nb201"] * 4 + ["fbnet"] * 4 + ["ofa_mbv3"] * 4
    assert specs[:4] == get_space("nb201").random_specs(4, suite.SUITE_SEED)
    assert get_space("nb201").random_specs(4, 3) != specs[:4]  # seed 3: the test networks' draw
    timm = [n for n in nets if not is_spec(n)]
    assert timm == list(suite.SUITE_TIMM) and all(t in TRAIN_NETWORKS and not is_held_out(t) for t in timm)


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
    assert est.total_ms > 0 and not any("this machine's" in n for n in est.notes)  # the profile is this CPU's
    # measured again: the file is replaced, not appended to (its rows would be the first run's)
    first = [r["exe_ms"] for r in rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HwawareWarning)
        hwaware.calibrate_here("mine", save=target, min_time_s=0.01)
    again = list(csv.DictReader(open(tmp_path / "mine.csv")))
    assert len(again) == 3 and [r["exe_ms"] for r in again] != first


def test_calibrate_here_refuses_a_missing_folder_before_measuring(small_suite, tmp_path, monkeypatch):
    monkeypatch.setattr("hwaware.measure.collect.collect_networks", lambda *a, **k: pytest.fail("measured"))
    with pytest.raises(hwaware.HwawareError, match="no folder"):
        hwaware.calibrate_here("mine", save=False, measurements_out=tmp_path / "nowhere" / "m.csv")
    with pytest.raises(hwaware.HwawareError, match="profile"):
        hwaware.calibrate_here("cpu", save=False)  # a name that would shadow the CPU target


@pytest.mark.parametrize("args, says", [
    (["--name", "x"], "give a CSV of measurements or --here"),
    (["m.csv", "--here", "--name", "x"], "give a CSV of measurements or --here"),
    (["--here", "--gpu", "agx", "--name", "x"], "--here measures this machine's CPU"),
    (["--here", "--precision", "fp16", "--name", "x"], "--here measures this machine's CPU"),
    (["m.csv", "--gpu", "cpu", "--threads", "2", "--name", "x"], "--threads goes with --here"),
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
    monkeypatch.setattr(api, "_this_cpu", lambda: "AMD EPYC 7B13")  # the model's CPU: nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error", HwawareWarning)
        est = hwaware.estimate("resnet18", gpu="cpu")
    assert not any("this machine's" in n for n in est.notes)
    with warnings.catch_warnings():  # a GPU's answer never mentions the host CPU
        warnings.simplefilter("ignore")
        monkeypatch.setattr(api, "_this_cpu", lambda: "Some Other CPU 9000")
        assert not any("this machine's" in n for n in hwaware.estimate("resnet18", gpu="agx").notes)


def test_the_host_profile_benchmark_reproduces_its_figures_and_what_they_say(repo_script):
    """benchmarks/cpu_host_profile.py from its committed measurements (an Intel Xeon; the model's is an AMD EPYC):
    every figure as recorded; no test network shares a layer multiset with the suite; and what the docs say of them:
    the declared seed-3 test sets are within issue 8's CPU target zero-shot, the three --here profiles disagree with
    each other there (one above 20 % MAPE on every NAS space, one under 12 %), and the same NAS networks measured 7
    hours apart on the one machine moved by more than a fifth (the seed-2 sets' x1.27 zero-shot was that)."""
    from hwaware.evaluation.cpu_networks import HOST_TEST_NETWORKS, SPACE_NETWORKS, space_networks
    from hwaware.evaluation.splits import graph_multiset

    bench = repo_script("benchmarks/cpu_host_profile.py")
    recorded = json.loads((bench.RESULTS / "cpu_host_profile.json").read_text())
    got = bench.run()
    assert [r["form"] for r in got["runs"]] == [r["form"] for r in recorded["runs"]] and len(got["runs"]) == 3
    assert all(not any("EPYC" in m for m in ms) for ms in got["test_machines"].values())
    assert got["groups"].keys() == recorded["groups"].keys()
    for key, pinned in recorded["groups"].items():
        fig = got["groups"][key]
        assert fig["n"] == pinned["n"], key
        for a, b in zip([fig["zero_shot"], *fig["profiles"]], [pinned["zero_shot"], *pinned["profiles"]]):
            assert a["mape"] == pytest.approx(b["mape"], abs=1e-6) and a["spearman"] == pytest.approx(b["spearman"])
    for a, b in zip(got["same_networks"], recorded["same_networks"], strict=True):
        assert (a["pair"], a["group"], a["n"]) == (b["pair"], b["group"], b["n"])
        assert [a[q] for q in ("p10", "median", "p90")] == pytest.approx([b[q] for q in ("p10", "median", "p90")])
    spaces = ("nb201", "fbnet", "ofa_mbv3")
    left_out = {graph_multiset(g) for name in ("cpu/host_suite_runs/run1.csv", SPACE_NETWORKS)
                for _, g in space_networks(name)}  # the suite's networks and the CPU calibration's fit set
    test = [graph_multiset(g) for n, g in space_networks(HOST_TEST_NETWORKS) if ":" in n.model]
    assert sum(got["groups"][f"{s} (seed 3)"]["n"] for s in spaces) == sum(m not in left_out for m in test) < len(test)
    assert all(got["groups"][f"{s} (seed 3)"]["zero_shot"]["mape"] <= bench.TARGET_MAPE for s in spaces)
    per_run = [[got["groups"][f"{s} (seed 3)"]["profiles"][k]["mape"] for s in spaces] for k in range(3)]
    assert any(min(r) > 0.2 for r in per_run)
    assert any(max(r) < 0.12 for r in per_run)
    later = {x["group"]: x["median"] for x in got["same_networks"] if x["pair"] == "this machine, 7 hours later"}
    assert later.keys() == set(spaces) and min(later.values()) > 1.2
