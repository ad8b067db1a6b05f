import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hwaware.cli import main
from hwaware.errors import InvalidArgumentError

ROOT = Path(__file__).resolve().parents[1]


def test_latency_table_and_json(capsys):
    # the CLI's table and JSON, on the analytic estimator (whose per-layer ranking is known: convs dominate)
    assert main(["latency", "resnet18", "--gpu", "agx", "--by-layer", "--top", "3", "--estimator", "roofline"]) == 0
    out = capsys.readouterr().out
    assert "resnet18 on Jetson AGX Xavier" in out and out.count("conv") >= 3
    assert main(["latency", "resnet18", "--gpu", "v100", "--batch", "2", "--input", "3x160x160", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["platform"] == {"device": "Tesla V100 SXM2 16/32GB", "runtime": "pytorch", "precision": "fp32",
                             "batch_size": 2, "profile": None}
    assert d["layers"][0]["input_shapes"] == [[2, 3, 160, 160]]


def test_gpus_and_features_and_estimators(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HWAWARE_PROFILES", str(tmp_path))
    assert main(["gpus"]) == 0
    out = capsys.readouterr()
    assert "Jetson AGX Xavier" in out.out and "none (hwaware calibrate)" in out.err
    # which platforms the training rows timed (helper-130: nothing but an estimate's note said it), from meta.json
    lines = {l[:30].rstrip(): l for l in out.out.splitlines()}  # the name column is 30 wide
    assert lines["GeForce RTX 2080 Ti"].endswith("pytorch fp32 batch 1-256")
    assert lines["Jetson Nano"].endswith("pytorch fp16 batch 1; tensorrt fp16 batch 1")
    assert lines["Tesla T4"].endswith("  -")  # DeepBench's kernels only: no network timed on it
    assert main(["gpus", "--json"]) == 0
    listed = {g["name"]: g["networks_measured"] for g in json.loads(capsys.readouterr().out)}
    assert listed["GeForce RTX 3090"] == [{"runtime": "pytorch", "precision": "amp", "batch_span": [384, 1024]}]
    assert sum(map(bool, listed.values())) == 10 and listed["Jetson Orin Nano 8GB"] == []
    import hwaware.trained

    def no_weights(folder=hwaware.trained.WEIGHTS):
        raise FileNotFoundError(folder)

    monkeypatch.setattr(hwaware.trained, "shipped_meta", no_weights)
    assert main(["gpus"]) == 0  # the catalog still lists, the column says it does not know
    assert all(l.endswith("  ?") for l in capsys.readouterr().out.splitlines()[1:])
    from hwaware.calibration import Profile, list_profiles, save_profile

    save_profile(Profile(name="mine", gpu="Jetson AGX Xavier", runtime="pytorch", precision="fp32", scale=1.0,
                         overhead_ms_per_kernel=0.0, n_samples=2, log_residual_interval=(0.0, 0.0)))
    (tmp_path / "folder.json").mkdir()  # not a profile: not listed (it was offered as "did you mean 'folder'?")
    assert list_profiles() == ["mine"] and main(["gpus"]) == 0 and ": mine" in capsys.readouterr().err
    assert main(["features", "resnet18", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == 11689512
    assert main(["estimators"]) == 0
    rows = {line.split()[0]: line.split()[2:5] for line in capsys.readouterr().out.splitlines()[1:]}
    # what each answers, counted over the catalog (it listed names only, review helper-111)
    from hwaware.hardware.catalog import Platform
    from hwaware.estimators import get_estimator

    total = int(rows["roofline"][2])
    assert rows["resperfnet"][0] == "1" and rows["resperfnet-gpu"][0] == str(total - 1)  # the CPU; every GPU's
    assert get_estimator("resperfnet").supports(Platform.resolve("cpu"))
    assert 0 < int(rows["netregress-ols"][0]) < int(rows["ipc-tree"][0]) < total


@pytest.mark.parametrize("argv,message", [
    (["latency", "resnet18", "--gpu", "agxx"], "did you mean 'agx'"),
    (["latency", "resnet18", "--input", "3x22a"], "malformed input size"),
    (["latency", "resnet18", "--input", "3xx224"], "malformed input size"),  # was read as 3x224
    (["ptx", "count", str(ROOT / "README.md"), "--gpu", "agx"], "not a file"),  # said no .onnx file exists
    (["latency", "resnet18", "--batch", "0"], "positive integer"),
    (["latency", "missing.onnx"], "does not exist"),
    (["features", "not_a_model_name"], "neither a timm model name"),
    # checked before the predictions, which take minutes for a whole space
    (["space-latency", "nb201", "--out", "/nonexistent-hwaware-dir/s.csv"], "not a file in an existing folder"),
    (["space-latency", "nb201", "--out", "."], "not a file in an existing folder"),
    # a review's fuzzing (helper-90): each was a traceback
    (["latency", "resnet18", "--batch", "9223372036854775807"], "more elements than any device holds"),
    (["latency", "resnet18", "--input", "3x10000000000x10000000000"], "more elements than any device holds"),
    (["search", "--budget", "5", "--trials", "1", "--out", str(ROOT / "README.md")], "is a file; pass a folder"),
    (["search", "--budget", "5", "--trials", "1", "--estimator", "resperfnet", "--gpu", "t4"],
     "does not predict Tesla T4"),
    (["collect", "networks", "--out", ".", "--models", "resnet18"], "not a file in an existing folder"),
])
def test_errors_are_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwaware: error:") and message in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["--help"], ["latency", "--help"], ["gpus", "--help"], ["features", "--help"]])
def test_help_everywhere(args):
    r = subprocess.run([sys.executable, "-m", "hwaware.cli", *args], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: hwaware" in r.stdout


def _cli(*argv: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed command in a fresh process: stderr holds everything it prints (Optuna's logging too); ``cwd``
    for a command given a relative path that it must not write in the checkout."""
    return subprocess.run([sys.executable, "-m", "hwaware.cli", *argv], capture_output=True, text=True, timeout=600,
                          env=env, cwd=cwd)


@pytest.mark.parametrize("argv,message", [
    (["search", "--budget", "2", "--workers", "2"], "several workers need a shared storage"),
    (["search", "--budget", "-1"], "argument --budget: must be a positive number"),
    (["search", "--budget", "2", "--trials", "0"], "argument --trials: must be a positive integer"),
    (["search", "--budget", "2", "--gpu", "agxx"], "did you mean 'agx'"),
    (["search", "--budget", "2", "--trials", "1", "--storage", "postgresql+psycopg2://me:s3cret@127.0.0.1:1/db"],
     "cannot open the study storage"),
    (["search"], "no budget: pass --budget MS, or --budget-quantile 0.5"),
    (["search", "--budget-quantile", "1.5"], "quantile must be in (0, 1]"),
    (["collect", "networks", "--out", "unused.csv", "--models", "nosuch"], "'nosuch' is neither a timm model"),
    (["latency", "resnet18", "--top", "-3"], "argument --top: must be a positive integer"),
    (["collect", "networks", "--out", "unused.csv", "--models", "none", "--space", "nosuch"], "no model space 'nosuch'"),
    (["collect", "networks", "--out", "unused.csv", "--models", "none", "--space", "nb201", "--count", "0"],
     "argument --count: must be a positive integer"),
    (["latency", "resnet18", "--input", "3x224"], "the first convolution expects N x 3 x H x W"),
    (["latency", "resnet18", "--input", "3x224", "--trace-device", "cpu"], "pass an input size of 3 channels"),
    (["collect", "networks", "--out", "unused.csv", "--models", "resnet18", "--batch", "1,x"],
     "argument --batch: must be a positive integer"),
    (["collect", "networks", "--out", "unused.csv", "--models", "resnet18", "--threads", "0"],
     "argument --threads: must be a positive integer"),
    (["cache", "drop"], "invalid choice: 'drop'"),
    # the API's line for a runtime or precision not modelled; argparse's choices said only what there is
    (["latency", "resnet18", "--runtime", "torch.compile"], "--runtime: runtime must be one of pytorch, tensorrt, "
                                                            "got 'torch.compile'; torch.compile is not modelled"),
    (["rank", "resnet18", "--gpu", "agx", "--precision", "tf32"], "use precision='fp32'"),
    (["calibrate", "m.csv", "--gpu", "agx", "--name", "a", "--precision", "fp8"], "fp8 is not modelled"),
    # a repeated --gpu kept the last GPU, unsaid (review helper-93)
    (["latency", "resnet18", "--gpu", "agx", "--gpu", "orin"], "--gpu given twice: this command answers for one GPU"),
    (["space-latency", "nb201", "--gpu", "agx", "--gpu", "orin"], "`hwaware rank MODEL --gpu A --gpu B`"),
    # any other single-valued option too: --batch 1 --batch 2 ran batch 2 (helper-115)
    (["latency", "resnet18", "--batch", "1", "--batch", "2"], "--batch given twice: the last would silently win"),
    (["latency", "resnet18", "--precision", "fp16", "--precision", "fp32"], "--precision given twice"),
    (["calibrate", "m.csv", "--gpu", "agx", "--name", "a", "--name", "b"], "--name given twice"),
    (["collect", "layers", "--out", "l.csv", "--random", "-5", "--models", "none"], "--random is a number of random"),
    (["ptx", "count", "resnet18", "--gpu", "cpu"], "--gpu cpu is the CPU target; PTX runs on a GPU"),
    (["space-latency", "nb201", "--out", "."], "pass a path like nb201.csv"),
    # --measure timed the front on this CPU against a GPU's budget (review helper-93)
    (["search", "--budget", "5", "--gpu", "agx", "--measure"], "pass --gpu cpu (or a profile of it), not agx"),
    # an --out no file can be written in was a traceback after the whole run (review helper-106; /proc: Linux)
    pytest.param(["space-latency", "nb201", "--out", "/proc/unused.csv"], "no file can be written in /proc",
                 marks=pytest.mark.skipif(sys.platform != "linux", reason="/proc")),
    pytest.param(["search", "--budget", "5", "--out", "/proc/unused/search"], "no file can be written in /proc",
                 marks=pytest.mark.skipif(sys.platform != "linux", reason="/proc")),
    # collect options the other collection reads were taken and ignored (review helper-111)
    (["collect", "layers", "--out", "l.csv", "--space", "nb201"], "--space applies to `hwaware collect networks`"),
    (["collect", "networks", "--out", "n.csv", "--count", "3"], "--count goes with --space"),
    (["collect", "networks", "--out", "n.csv", "--random", "5"], "--random applies to `hwaware collect layers`"),
    (["collect", "networks", "--out", "n.csv", "--models", "none"], "names no network to measure"),
    (["collect", "networks", "--out", "n.csv", "--models", "resnet18, nosuchnet"], "'nosuchnet' is neither"),
    (["collect", "networks", "--out", "n.csv", "--models", "m.onnx"], "times PyTorch modules, not ONNX files"),
    # a name longer than a file name may be was an OSError traceback (review helper-109)
    (["latency", "x" * 300], "is neither a timm model name nor an existing .onnx file"),
    # helper-122: a pretrained tag timm does not have was a 76-line traceback (timm.is_model ignores tags)
    (["latency", "resnet18.badtag"], "timm has no tag 'badtag' for 'resnet18'; pass one of its tags (a1_in1k"),
    (["latency", 'foo:{"arch": 1}'], "a search space's architecture is '<space>:{json}'"),
    (["search", "--budget", "2", "--trials", "1", "--storage", "sqlite:///nodir/x.db"],
     "check that the database file's folder exists"),
    (["ptx", "analyze", str(ROOT / "README.md"), "--block", "32"], "does not read as PTX; ptx analyze takes PTX"),
    (["latency", "resnet18", "--gpu", "x" * 300], "no catalog GPU and no calibration profile"),
    (["space-latency", "nb201", "--gpu", "agx", "--limit", "1", "--out", "y" * 300 + ".csv"],
     "File name too long; check the paths given and the disk"),
    pytest.param(["space-latency", "nb201", "--gpu", "agx", "--limit", "1", "--out", "/proc/version"],
                 "Input/output error; check the paths given and the disk",
                 marks=pytest.mark.skipif(sys.platform != "linux", reason="/proc")),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(argv, message, tmp_path):
    r = _cli(*argv, env={**os.environ, "HWAWARE_CACHE_DIR": str(tmp_path)}, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.splitlines()) == 1 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert "s3cret" not in r.stderr and "trace_device='cpu'" not in r.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_collect_on_cuda_without_a_gpu_is_one_line(tmp_path):
    r = _cli("collect", "layers", "--out", "unused.csv", "--device", "cuda", "--models", "none", "--random", "1",
             cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "no CUDA GPU is visible" in r.stderr


def test_version_list_spaces_and_help():
    from hwaware.search import list_spaces

    r = _cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == "hwaware 0.1.0"
    r = _cli("search", "--list-spaces")
    assert r.returncode == 0 and [line.split()[0] for line in r.stdout.splitlines()] == list_spaces()
    r = _cli("search", "--help")
    assert "--list-spaces" in r.stdout and "--budget-quantile" in r.stdout


def test_an_existing_out_file_is_checked_by_its_own_permission(tmp_path, monkeypatch):
    """An existing --out (collect's CSV to append to, /dev/null) is refused only if it cannot be written; its folder
    is not probed for a new file (review helper-107). As root every file is writable, so the check is faked here."""
    from hwaware import cli

    existing = tmp_path / "t.csv"
    existing.write_text("")
    assert cli._out_file(str(existing), "t.csv") == existing
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)
    with pytest.raises(InvalidArgumentError, match="t.csv: the file is not writable"):
        cli._out_file(str(existing), "t.csv")


def test_python_m_hwaware_is_the_command(tmp_path):
    """``python -m hwaware`` runs the same command as the ``hwaware`` script: its answers and its exit codes."""
    env = {**os.environ, "HWAWARE_CACHE_DIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "hwaware", "--version"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.strip() == _cli("--version").stdout.strip()
    r = subprocess.run([sys.executable, "-m", "hwaware", "latency", "resnet18", "--gpu", "no-such-gpu"],
                       capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "no-such-gpu" in r.stderr, r.stderr


def test_top_applies_to_json(capsys):
    assert main(["latency", "resnet18", "--json", "--top", "3"]) == 0
    layers = json.loads(capsys.readouterr().out)["layers"]
    assert main(["latency", "resnet18", "--json"]) == 0
    every = json.loads(capsys.readouterr().out)["layers"]
    assert len(layers) == 3 and layers == sorted(every, key=lambda r: -r["ms"])[:3]


def test_cache_info_and_clear(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HWAWARE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("HWAWARE_CACHE", raising=False)  # a shell that turned the cache off would report it off
    from hwaware.estimators.cache import PredictionCache
    from hwaware.graph.cache import GraphCache
    from hwaware.graph.layer import Graph

    PredictionCache(tmp_path / "predictions.sqlite").put_many({"a": (1.0, 2.0, 3.0), "b": (1.0, 2.0, 3.0)})
    GraphCache(tmp_path / "graphs.sqlite").put("g", Graph("net", [], (1, 3, 8, 8), "fp32", 0, "torch"))
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'predictions.sqlite'}: 2 cached layer predictions" in out
    assert f"{tmp_path / 'graphs.sqlite'}: 1 captured graphs" in out
    assert main(["cache", "clear"]) == 0
    out = capsys.readouterr().out
    assert "removed 2 cached layer predictions" in out and "removed 1 captured graphs" in out
    assert len(PredictionCache(tmp_path / "predictions.sqlite")) == len(GraphCache(tmp_path / "graphs.sqlite")) == 0
    monkeypatch.setenv("HWAWARE_CACHE", "0")
    assert main(["cache", "clear"]) == 0
    assert "the disk cache is off" in capsys.readouterr().out


def test_search_with_a_quantile_budget(tmp_path):
    from hwaware.search import LatencyConstraint

    r = _cli("search", "--space", "nb201", "--budget-quantile", "0.5", "--trials", "6", "--proxy", "params",
             "--out", str(tmp_path), env={**os.environ, "HWAWARE_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    budget = LatencyConstraint.at_quantile("nb201", 0.5, gpu="agx").budget_ms
    assert summary["config"]["budget_ms"] == pytest.approx(budget) and f"budget {budget:.3f} ms" in r.stdout
    assert summary["violation_rate_predicted"] == summary["infeasible"] / summary["predicted"]
    # each front member's spec is printed whole, to copy from the terminal (it was cut at 80 characters)
    lines = r.stdout.splitlines()
    assert summary["pareto"] and all(any(line.endswith(f"  {p['arch']}") for line in lines) for p in summary["pareto"])
    # each front member's prediction interval, in the summary and on its line (the CLI prints every GPU interval)
    for p in summary["pareto"]:
        lo, hi = p["interval_ms"]
        assert lo < p["predicted_ms"] < hi
        assert any(f"{lo:.2f}..{hi:.2f}" in line and line.endswith(p["arch"]) for line in lines)


def test_search_bound_on_the_interval(tmp_path):
    """--bound high: the quantile budget is of the intervals' high ends, the summary records the bound and says what
    its count is of, and the CPU target (no interval) is refused in one line."""
    from hwaware.search import LatencyConstraint

    r = _cli("search", "--space", "nb201", "--budget-quantile", "0.5", "--trials", "4", "--proxy", "params",
             "--bound", "high", "--out", str(tmp_path), env={**os.environ, "HWAWARE_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    budget = LatencyConstraint.at_quantile("nb201", 0.5, gpu="agx", bound="high").budget_ms
    assert summary["config"]["bound"] == "high" and summary["config"]["budget_ms"] == pytest.approx(budget)
    assert "quantile of the prediction intervals' high ends" in r.stdout and "(their interval's high end)" in r.stdout
    r = _cli("search", "--space", "nb201", "--gpu", "cpu", "--budget", "5", "--bound", "high", "--out",
             str(tmp_path))
    assert r.returncode == 2 and "bound='high' (CLI: --bound high) needs a prediction interval" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_files_that_are_not_text_are_one_line(tmp_path, capsys, monkeypatch):
    """A binary .ptx, a binary CSV to collect into, a cache folder that is a file: one line each, exit 2 (tracebacks
    until a review's fuzzing, helper-90)."""
    junk = tmp_path / "r.ptx"
    junk.write_bytes(bytes(range(256)) * 4)
    assert main(["ptx", "analyze", str(junk), "--grid", "1", "--block", "32"]) == 2
    assert "is not a PTX text file" in capsys.readouterr().err
    csv_junk = tmp_path / "c.csv"
    csv_junk.write_bytes(bytes(range(256)) * 4)
    assert main(["collect", "networks", "--out", str(csv_junk), "--models", "resnet18"]) == 2
    assert "is not a CSV text file" in capsys.readouterr().err
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    assert main(["latency", str(empty)]) == 2
    assert "export it again" in capsys.readouterr().err
    monkeypatch.setenv("HWAWARE_CACHE_DIR", str(junk))
    assert main(["cache", "info"]) == 2
    err = capsys.readouterr().err
    assert "HWAWARE_CACHE_DIR" in err and "is a file" in err
    # a cache folder that cannot be made (helper-169: "check the paths given", naming no variable)
    monkeypatch.setenv("HWAWARE_CACHE_DIR", str(junk / "under-a-file"))
    assert main(["latency", "resnet18", "--gpu", "agx"]) == 2
    err = capsys.readouterr().err
    assert "cannot create the cache folder" in err and "HWAWARE_CACHE_DIR" in err and len(err.splitlines()) == 1


def test_space_latency_writes_plain_numbers(tmp_path, monkeypatch):
    """The ms and interval columns hold numbers (ms held numpy reprs, 'np.float64(2.75...)', from a fresh
    prediction), or nothing where the estimator gives no interval."""
    import csv

    monkeypatch.setenv("HWAWARE_CACHE", "0")
    out = tmp_path / "s.csv"
    for gpu in ("cpu", "2080ti"):
        assert main(["space-latency", "nb201", "--gpu", gpu, "--limit", "2", "--out", str(out)]) == 0
        rows = list(csv.DictReader(out.open()))
        assert len(rows) == 2 and all(float(r["ms"]) > 0 for r in rows), gpu
        ends = [(r["low_ms"], r["high_ms"]) for r in rows]
        if gpu == "cpu":  # the CPU model gives no interval: the cells stay empty
            assert ends == [("", "")] * 2
        else:  # a GPU estimate carries its interval
            assert all(0 < float(lo) < float(r["ms"]) < float(hi) for r, (lo, hi) in zip(rows, ends)), ends


def test_space_latency_names_each_warned_architecture(tmp_path, capsys):
    """helper-139: on the Nano in fp16 every NB201 row's estimate warns, yet the CSV had no warnings column and stderr
    one line per kind naming no architecture: each row carries its estimate's warnings, and the summary counts them."""
    import csv

    import hwaware

    out = tmp_path / "s.csv"
    assert main(["space-latency", "nb201", "--gpu", "nano", "--precision", "fp16", "--limit", "3", "--out",
                 str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    said = [r["warnings"] for r in rows]
    expected = [" | ".join(hwaware.estimate("nb201:" + r["arch"], gpu="nano", precision="fp16").warnings) for r in rows]
    assert said == expected and any(said)
    assert f"({sum(map(bool, said))} with warnings: the warnings column)" in capsys.readouterr().out


@pytest.mark.parametrize("gpu, precision", [("nano", "fp16"), ("rtx3090", "fp32")])
def test_search_keeps_and_counts_each_front_member_s_warnings(tmp_path, capsys, gpu, precision):
    """helper-139: a warned Pareto architecture was named only by `hwaware latency` on its spec; summary.json carries
    each front member's warnings (the Nano in fp16 warns on every NB201 estimate, the RTX 3090 in fp32 on none) and
    the CLI counts the warned ones."""
    import hwaware

    assert main(["search", "--space", "nb201", "--gpu", gpu, "--precision", precision, "--budget", "1000", "--trials",
                 "3", "--proxy", "params", "--out", str(tmp_path)]) == 0
    front = json.loads((tmp_path / "summary.json").read_text())["pareto"]
    said = [p["warnings"]["latency"] for p in front]  # the constraint's default key
    assert front and said == [list(hwaware.estimate(p["arch"], gpu=gpu, precision=precision).warnings) for p in front]
    out = capsys.readouterr().out
    assert "proxy = log parameter count, higher is better" in out  # what its column holds (helper-169: "params")
    warned = sum(map(bool, said))
    assert (f"{warned} of the front's predictions carry warnings" in out) == (warned > 0) == (gpu == "nano")


def test_a_search_whose_budget_nothing_meets_says_so(tmp_path):
    """It printed an empty Pareto front, then that the chosen models were feasible as predicted (helper-90)."""
    r = _cli("search", "--space", "nb201", "--budget", "1e-9", "--trials", "2", "--gpu", "t4", "--estimator",
             "roofline", "--out", str(tmp_path / "s"), cwd=tmp_path)
    assert r.returncode == 0 and "no candidate fits the 1e-09 ms budget" in r.stdout
    assert "feasible as predicted" not in r.stdout


def test_ptx_count_takes_a_calibration_profile_for_its_gpu(tmp_path):
    """helper-122: `ptx count --gpu <profile>` said "unknown GPU" where every other command takes a profile; it
    compiles for the profile's base GPU (the model check after it fails here, so nothing is compiled)."""
    from hwaware.calibration import Profile, save_profile

    save_profile(Profile(name="mine", gpu="Jetson AGX Xavier", runtime="pytorch", precision="fp32", scale=1.1,
                         overhead_ms_per_kernel=0.0, n_samples=3, log_residual_interval=(-0.1, 0.1)),
                 tmp_path / "mine.json")
    r = _cli("ptx", "count", str(ROOT / "README.md"), "--gpu", str(tmp_path / "mine.json"), cwd=tmp_path)
    assert r.returncode == 2 and "not a file" in r.stderr and "unknown GPU" not in r.stderr, r.stderr


def test_ptx_analyze_says_not_ptx_only_of_text_without_a_version_directive(tmp_path, capsys):
    """helper-122: a file that is no PTX got only the parser's complaint; review helper-123: PTX under another name
    with a wrong --kernel must keep the parser's own message (a missing kernel), not be called "not PTX"."""
    ptx = tmp_path / "k.txt"
    ptx.write_text(".version 7.0\n.target sm_70\n.address_size 64\n.visible .entry ka()\n{\n\tret;\n}\n")
    assert main(["ptx", "analyze", str(ptx), "--kernel", "kc", "--block", "32"]) == 2
    err = capsys.readouterr().err
    assert "no kernel 'kc'" in err and "does not read as PTX" not in err, err
    (tmp_path / "k.onnx").write_text("not ptx at all\n")
    assert main(["ptx", "analyze", str(tmp_path / "k.onnx"), "--block", "32"]) == 2
    assert "does not read as PTX; ptx analyze takes PTX text" in capsys.readouterr().err


def test_messages_a_new_user_met_say_the_fix_in_their_own_terms(capsys):
    """helper-128's audit: a spec with --input was told to capture it again (a spec cannot be), 'nb201:garbage' had no
    hint of the spec syntax, --gpu cpu --estimator resperfnet-gpu was told to use gpu='cpu', int8 under eager PyTorch
    was told in Python's terms only."""
    import random

    from hwaware.zoo.spaces import get_space

    space = get_space("nb201")
    spec = space.spec(space.random_arch(random.Random(0)))
    for argv, said in (([spec, "--gpu", "agx", "--input", "3x64x64"], "an architecture of the nb201 space takes its "
                        "input, 3x32x32, not 3x64x64; drop input_size (CLI: --input)"),
                       (["nb201:garbage", "--gpu", "agx"], "a search space's architecture is '<space>:{json}'"),
                       (["resnet18", "--gpu", "cpu", "--estimator", "resperfnet-gpu"],
                        "for the CPU leave estimator out"),
                       (["resnet18", "--gpu", "agx", "--precision", "int8"], "(CLI: --runtime tensorrt, --precision "
                        "fp16)"),
                       (["resnet18", "--gpu", "cpu", "--precision", "fp16"], "(CLI: --precision fp32 --runtime "
                        "pytorch)"),
                       (["resnet18", "--gpu", "nano", "--precision", "int8", "--runtime", "tensorrt"],
                        "neither int8 tensor cores nor dp4a (compute capability 6.1 or 7.0 and later); use "
                        "precision='fp16' or 'fp32' (CLI: --precision fp16)")):
        assert main(["latency", *argv]) == 2
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1, argv
    assert main(["latency", spec, "--gpu", "agx", "--input", "3x32x32"]) == 0  # its own input is no error


def test_precision_and_runtime_options_read_as_the_api_and_list_the_catalogs_values():
    """Every command's --precision and --runtime take any case, as the API does (argparse's choices refused 'FP16'),
    and show the catalog's values."""
    import argparse

    from hwaware.cli import _parser
    from hwaware.hardware.catalog import PRECISIONS, RUNTIMES

    parser = _parser()
    args = parser.parse_args(["latency", "resnet18", "--runtime", "TensorRT", "--precision", "FP16"])
    assert (args.runtime, args.precision) == ("tensorrt", "fp16")
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices.values()
    shown = {(a.dest, a.metavar) for c in commands for a in c._actions if a.dest in ("precision", "runtime")}
    assert shown == {("precision", "{" + ",".join(PRECISIONS) + "}"), ("runtime", "{" + ",".join(RUNTIMES) + "}")}
