"""The measurement harness: op rebuild, timing, micro-benchmarks, resumable collection."""
from __future__ import annotations

import csv
import math
import re

import warnings

import pytest
import torch

from hwaware.graph import LayerKind, capture
from hwaware.measure import collect as collect_mod
from hwaware.measure.collect import LAYER_COLUMNS, collect_layers, layer_plan
from hwaware.measure.microbench import MAX_MACS, random_layers
from hwaware.graph.rebuild import REBUILT_KINDS, build_op
from hwaware.measure.store import SampleStore
from hwaware.measure.timing import time_phases


@pytest.mark.parametrize("model", ["densenet121", "mobilenetv3_large_100", "convnext_atto", "inception_v3"])
def test_every_real_layer_rebuilds_with_its_output_shape(model):
    layers = [l for l in capture(model).layers if l.kind in REBUILT_KINDS]
    assert layers
    for layer in layers:
        op = build_op(layer)
        with torch.inference_mode():
            y = op.fn(*op.inputs())
        assert tuple(y.shape) == layer.output_shapes[0], (layer.op, layer.attrs)


def test_random_layers_are_deterministic_valid_and_bounded():
    a = list(random_layers(60, seed=5))
    b = list(random_layers(60, seed=5))
    assert [l.signature() for l in a] == [l.signature() for l in b]
    assert len({l.kind for l in a}) >= 6
    assert all(l.macs <= MAX_MACS and l.kind in REBUILT_KINDS for l in a)
    for layer in a:
        op = build_op(layer)
        with torch.inference_mode():
            assert tuple(op.fn(*op.inputs()).shape) == layer.output_shapes[0]


def test_cpu_timing_is_real():
    big = next(l for l in capture("resnet18").layers if l.kind is LayerKind.CONV)
    small = next(l for l in capture("resnet18").layers if l.kind is LayerKind.ACTIVATION)
    tb = time_phases(*_fn_inputs(big), torch.device("cpu"), min_repeats=5)
    ts = time_phases(*_fn_inputs(small), torch.device("cpu"), min_repeats=5)
    assert tb.repeats >= 5 and ts.repeats >= 5
    assert tb.exe_ms > 5 * ts.exe_ms > 0  # a 118 MMAC conv vs a relu
    assert tb.pre_ms > 0 and tb.post_ms > 0 and tb.exe_iqr_ms >= 0


def _fn_inputs(layer):
    op = build_op(layer)
    return op.fn, op.inputs()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_timing():  # pragma: no cover - no GPU on CI
    layer = next(l for l in capture("resnet18").layers if l.kind is LayerKind.CONV)
    op = build_op(layer, "cuda")
    t = time_phases(op.fn, op.inputs(), torch.device("cuda"))  # built on the GPU, as collect_layers passes them
    assert t.exe_ms > 0 and t.pre_ms > 0 and t.post_ms > 0


def test_store_resumes_and_rejects_other_columns(tmp_path):
    path = tmp_path / "s.csv"
    store = SampleStore(path, ["sample_id", "x"])
    store.append({"sample_id": "a", "x": 1})
    store.append({"sample_id": "b", "x": 2})
    again = SampleStore(path, ["sample_id", "x"])
    assert "a" in again and "b" in again and len(again) == 2
    with pytest.raises(ValueError, match="new file"):
        SampleStore(path, ["sample_id", "y"])


def _interrupt_at(monkeypatch, call: int) -> None:
    """collect's ``time_phases`` made the real one with Ctrl-C pressed at its ``call``-th call, each row measured once
    (NOISY off: under load a noisy row was measured again and took the call counted for the next one)."""
    real, calls = collect_mod.time_phases, {"n": 0}
    monkeypatch.setattr(collect_mod, "NOISY", math.inf)

    def timed(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(collect_mod, "time_phases", timed)


def test_collection_survives_an_interrupt_and_resumes(tmp_path, monkeypatch):
    plan = layer_plan(6, [], seed=11)
    out = tmp_path / "layers.csv"
    real = collect_mod.time_phases
    _interrupt_at(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        collect_layers(out, plan)
    with open(out) as f:
        assert len(list(csv.DictReader(f))) == 3  # nothing measured is lost
    monkeypatch.setattr(collect_mod, "time_phases", real)
    assert collect_layers(out, plan) == 3  # only the rest is measured
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and len({r["sample_id"] for r in rows}) == 6
    assert list(rows[0]) == LAYER_COLUMNS
    assert rows[0]["device"] == "cpu" and int(rows[0]["threads"]) >= 1 and rows[0]["torch_version"] == torch.__version__


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_collect_refuses_a_missing_gpu_and_unknown_models_before_measuring(tmp_path):
    from hwaware.errors import InvalidArgumentError, ModelNotFoundError
    from hwaware.measure.collect import collect_networks, measurement_device

    with pytest.raises(InvalidArgumentError, match="no CUDA GPU is visible"):
        measurement_device("cuda")
    with pytest.raises(InvalidArgumentError, match="malformed device"):
        measurement_device("gpu0")
    assert measurement_device("cpu") == torch.device("cpu")
    with pytest.raises(ModelNotFoundError, match="'nosuch' is neither a timm model"):
        collect_networks(tmp_path / "n.csv", ["resnet18", "nosuch"])
    assert not (tmp_path / "n.csv").exists()  # nothing measured before the typo was found


def test_space_networks_are_measured_at_the_space_input_and_resume(tmp_path):
    """`hwaware collect networks --space nb201`: a spec builds the space's network at its input size."""
    import random

    from hwaware.measure.collect import collect_networks
    from hwaware.zoo.spaces import get_space

    space = get_space("nb201")
    specs = [space.spec(space.random_arch(random.Random(i))) for i in range(2)]
    out = tmp_path / "spaces.csv"
    assert collect_networks(out, specs, min_time_s=0.05) == 2
    assert collect_networks(out, specs, min_time_s=0.05) == 0  # resumed: nothing measured twice
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == specs and {r["family"] for r in rows} == {"nb201"}
    assert {r["img_size"] for r in rows} == {"32"} and all(float(r["exe_ms"]) > 0 for r in rows)


def test_a_repeat_is_measured_once_and_a_file_of_other_settings_is_not_resumed(tmp_path):
    """A model or batch listed twice was measured twice (and calibrate then refused the file); a file measured at
    other threads or another dtype was resumed as done, its ids naming the sample, not the setting (review
    helper-111)."""
    import random

    from hwaware.errors import InvalidArgumentError
    from hwaware.measure.collect import collect_networks
    from hwaware.threads import torch_threads
    from hwaware.zoo.spaces import get_space

    space = get_space("nb201")
    spec = space.spec(space.random_arch(random.Random(0)))
    out = tmp_path / "n.csv"
    with torch_threads(2):  # the caller's count is not what measures (review helper-126): threads=, default 1
        assert collect_networks(out, [spec, spec], batch_sizes=(1, 1), min_time_s=0.02) == 1
        assert torch.get_num_threads() == 2
    with pytest.raises(InvalidArgumentError, match=r"holds measurements at dtype=float32, this run is at "
                                                   r"dtype=float64; collect into a new file"):
        collect_networks(out, [spec], dtype=torch.float64, min_time_s=0.02)
    with pytest.raises(InvalidArgumentError, match="holds measurements at threads=1, this run is at threads=2"):
        collect_networks(out, [spec], min_time_s=0.02, threads=2)


def test_a_malformed_space_spec_fails_before_measuring(tmp_path):
    from hwaware.errors import InvalidArgumentError
    from hwaware.measure.collect import collect_networks

    with pytest.raises(InvalidArgumentError, match="malformed architecture JSON"):
        collect_networks(tmp_path / "n.csv", ["nb201:{oops"])
    bad_op = '{"arch": "|nor_conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|", "dataset": "cifar10"}'
    for arch in (bad_op, '{"arch": "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"}'):  # no such op; no dataset
        with pytest.raises(InvalidArgumentError, match="not an architecture of the nb201 space"):
            collect_networks(tmp_path / "n.csv", [f"nb201:{arch}"])
    assert not (tmp_path / "n.csv").exists()


def test_a_torchvision_network_is_collected(tmp_path):
    """collect networks refused 'torchvision:' names, saying to prefix them with 'torchvision:' (review helper-111)."""
    from hwaware.measure.collect import collect_networks

    out = tmp_path / "tv.csv"
    assert collect_networks(out, ["torchvision:mobilenet_v3_small"], min_time_s=0.02) == 1
    with open(out) as f:
        row = next(csv.DictReader(f))
    assert (row["family"], row["img_size"], row["model"]) == ("torchvision", "224", "torchvision:mobilenet_v3_small")


def test_a_row_cut_short_is_dropped_and_one_collection_writes_a_file(tmp_path):
    """Review helper-126: a last row without its newline (a crash while writing it) merged with the next appended row,
    after which the file could be neither resumed nor calibrated; two collections on one file both measured the same
    samples; an upgraded torch appended to an old file unsaid."""
    import random

    from hwaware.errors import InvalidArgumentError
    from hwaware.measure.collect import collect_networks
    from hwaware.measure.store import exclusive
    from hwaware.zoo.spaces import get_space

    path, columns, same = tmp_path / "s.csv", ["sample_id", "dtype", "layer_json"], {"dtype": "float32"}
    store = SampleStore(path, columns, same)
    for sid in "ab":
        store.append({"sample_id": sid, "layer_json": '{"kind": "conv", "macs": 1}', "dtype": "float32"})
    whole = path.read_bytes()
    b = whole.rindex(b"b,")
    # cut inside the quoted JSON (every column there), inside dtype (float3), before the last columns: dropped
    for cut in (whole[:-6], whole[:b + 8], whole[:b + 1]):
        path.write_bytes(cut)
        with pytest.warns(UserWarning, match="dropped its last row, cut short"):
            again = SampleStore(path, columns, same)
        assert "a" in again and "b" not in again
        again.append({"sample_id": "b", "layer_json": '{"kind": "conv", "macs": 1}', "dtype": "float32"})
        assert path.read_bytes() == whole
    path.write_bytes(whole[:-2])  # a whole row that lost only its line end keeps it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "b" in SampleStore(path, columns, same)
    assert path.read_bytes() == whole
    path.write_bytes(b"name,value\nfoo,1\nbar,2")  # not this store's file: refused, unchanged
    with pytest.raises(InvalidArgumentError, match="has columns"):
        SampleStore(path, columns, same)
    assert path.read_bytes() == b"name,value\nfoo,1\nbar,2"
    space = get_space("nb201")
    spec = space.spec(space.random_arch(random.Random(1)))
    out = tmp_path / "n.csv"
    with exclusive(out), pytest.raises(InvalidArgumentError, match="another collection is writing"):
        collect_networks(out, [spec], min_time_s=0.02)
    assert collect_networks(out, [spec], min_time_s=0.02) == 1  # the lock goes with the collection
    (tmp_path / "old.csv").write_text(out.read_text().replace(torch.__version__, "1.0.0"))
    with pytest.raises(InvalidArgumentError, match=r"holds measurements at torch_version=1\.0\.0"):
        collect_networks(tmp_path / "old.csv", [spec, space.spec(space.default())], min_time_s=0.02)


def test_a_network_that_takes_no_image_fails_before_measuring(tmp_path):
    """Review helper-126: torchvision's video models passed the check (their weights name a crop size) and failed with
    a traceback once the networks listed before them were measured."""
    from hwaware.errors import HwawareError
    from hwaware.measure.collect import collect_networks

    with pytest.raises(HwawareError, match=r"torchvision:r3d_18 cannot be measured at its default input \(.*first "
                                           r"convolution expects N x 3 x F x H x W\); leave it out"):
        collect_networks(tmp_path / "v.csv", ["torchvision:r3d_18"])
    assert not (tmp_path / "v.csv").exists()


def test_a_measurement_that_fails_is_one_line_and_bad_threads_leave_no_file(tmp_path, monkeypatch):
    """Review helper-127: the failing-forward path had no test, threads=0 was torch's RuntimeError, and the lock's file
    stayed behind, empty, when nothing was measured."""
    import random

    from hwaware.errors import InvalidArgumentError
    from hwaware.measure.collect import collect_networks
    from hwaware.zoo.spaces import get_space

    space = get_space("nb201")
    specs = [space.spec(space.random_arch(random.Random(s))) for s in (2, 3)]
    out = tmp_path / "n.csv"
    for bad in (0, True, 1.5):
        with pytest.raises(InvalidArgumentError, match="threads is a number of torch threads, 1 or more"):
            collect_networks(out, specs, threads=bad)
    assert not out.exists()
    real = collect_mod.time_phases
    # the second call fails: the first network's, measured once (under load a noisy row took the second call)
    monkeypatch.setattr(collect_mod, "NOISY", math.inf)
    calls = iter((real, lambda *a, **k: (_ for _ in ()).throw(RuntimeError("CUDA out of memory\nmore"))))
    monkeypatch.setattr(collect_mod, "time_phases", lambda *a, **k: next(calls)(*a, **k))
    with pytest.raises(InvalidArgumentError, match=rf"measuring {re.escape(specs[1])} at batch 1 failed "
                                                   r"\(RuntimeError: CUDA out of memory\); the rows measured before"):
        collect_networks(out, specs, min_time_s=0.02)
    assert SampleStore(out, collect_mod.NETWORK_COLUMNS).__contains__(f"{specs[0]}-b1")


def test_ctrl_c_is_one_line_keeps_the_rows_and_space_alone_measures_the_space(tmp_path, monkeypatch, capsys):
    """Ctrl-C printed a traceback; `--space nb201` without `--models none` measured timm's training set as well."""
    from hwaware.cli import main

    real = collect_mod.time_phases
    _interrupt_at(monkeypatch, 2)
    out = tmp_path / "n.csv"
    argv = ["collect", "networks", "--out", str(out), "--space", "nb201", "--count", "2"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    last = err.split("\n")[-2]  # the progress bar's line, then this one
    assert err.endswith("\n") and last.startswith(f"hwaware: interrupted; the rows measured so far are kept in {out}")
    with open(out) as f:
        assert [r["family"] for r in csv.DictReader(f)] == ["nb201"]  # the space only, one row kept
    monkeypatch.setattr(collect_mod, "time_phases", real)
    assert main(argv) == 0 and "measured 1 new networks" in capsys.readouterr().out


def test_a_non_square_input_is_recorded_whole_and_calibrated_at_it(tmp_path, monkeypatch):
    """img_size held the width alone: a 1024 x 768 network (timm's sapiens ViTs) was calibrated at 768 x 768."""
    from hwaware.calibration.measurements import read_measurements
    from hwaware.datasets.measured import load_network_samples
    from hwaware.measure.collect import collect_networks, img_size_text

    assert [img_size_text(s) for s in ((3, 224, 224), (3, 1024, 768), (1, 28, 28))] == ["224", "3x1024x768", "1x28x28"]
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1))
    monkeypatch.setattr(collect_mod, "_network", lambda name, dev, dtype: (net, (3, 40, 24), "tiny"))
    out = tmp_path / "n.csv"
    collect_networks(out, ["resnet18"], min_time_s=0.02)  # a real name passes the checks; the module is the tiny one
    with open(out) as f:
        assert next(csv.DictReader(f))["img_size"] == "3x40x24"
    assert [m.input_size for m in read_measurements(out)] == ["3x40x24"]
    assert [n.input_size for n in load_network_samples(out)] == [(3, 40, 24)]  # the evaluation's loader too


def test_networks_timed_in_rounds_keep_each_ones_median_round(tmp_path, monkeypatch):
    """rounds=3: every network once per round, round after round (not one network three times), and each row the
    network's median round by total time, that round whole (its phases, spread and repeats); a network is warned of
    only where the round kept is noisy."""
    from hwaware.errors import HwawareWarning, InvalidArgumentError
    from hwaware.measure.collect import collect_networks
    from hwaware.measure.timing import PhaseTimes

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))
    built = []
    monkeypatch.setattr(collect_mod, "_network", lambda name, dev, dtype: (built.append(name) or net, (3, 8, 8), "x"))
    # (pre, exe, post, exe IQR, repeats) per round, a then b. a's totals 4.75, 6.25, 5.6: the median by total is its
    # last round (by exe its first; per phase another); b's 2.75, 9.75, 1.75: its first, quiet where the others are not
    rounds = iter([(0.5, 4.0, 0.25, 0.0, 11), (0.5, 2.0, 0.25, 0.1, 21), (3.0, 3.0, 0.25, 0.0, 12),
                   (0.5, 9.0, 0.25, 8.0, 22), (0.5, 5.0, 0.1, 3.0, 13), (0.5, 1.0, 0.25, 0.9, 23)])
    monkeypatch.setattr(collect_mod, "TRIES", 1)
    monkeypatch.setattr(collect_mod, "time_phases", lambda *a, **k: PhaseTimes(*(r := next(rounds))[:3], 0.0, r[3],
                                                                               0.0, r[4]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert collect_networks(tmp_path / "n.csv", ["resnet18", "resnet34"], rounds=3) == 2
    assert built == ["resnet18", "resnet34"] * 3
    rows = list(csv.DictReader(open(tmp_path / "n.csv")))
    assert [[r[c] for c in ("model", "pre_ms", "exe_ms", "post_ms", "exe_iqr_ms", "repeats")] for r in rows] == [
        ["resnet18", "0.500000", "5.000000", "0.100000", "3.000000", "13"],
        ["resnet34", "0.500000", "2.000000", "0.250000", "0.100000", "21"]]
    said = [str(w.message) for w in caught if issubclass(w.category, HwawareWarning)]
    assert len(said) == 1 and said[0].startswith(f"1 of 2 rows measured now in {tmp_path / 'n.csv'} stayed noisy")
    assert "first: resnet18 at" in said[0]
    # a stop in the second round keeps no row (a network's row is its median round, written after its last)
    rounds = iter([(0.5, 4.0, 0.25, 0.0, 11)] * 2 + [KeyboardInterrupt()])
    monkeypatch.setattr(collect_mod, "time_phases",
                        lambda *a, **k: (_ for _ in ()).throw(r) if isinstance(r := next(rounds), BaseException)
                        else PhaseTimes(*r[:3], 0.0, r[3], 0.0, r[4]))
    with pytest.raises(KeyboardInterrupt):
        collect_networks(tmp_path / "stopped.csv", ["resnet18", "resnet34"], rounds=3)
    assert not (tmp_path / "stopped.csv").exists()  # the store writes its header with its first row
    for bad in (0, 1.5, True, "3"):
        with pytest.raises(InvalidArgumentError, match="rounds is how many times each network is timed"):
            collect_networks(tmp_path / "m.csv", ["resnet18"], rounds=bad)
    assert not (tmp_path / "m.csv").exists()


def test_a_noisy_row_is_measured_again_and_one_that_stays_noisy_is_warned(tmp_path, monkeypatch):
    """A row whose IQR passed its median was kept as it was and never measured again (helper-126's review)."""
    import warnings

    from hwaware.errors import HwawareWarning
    from hwaware.measure.collect import NOISY, TRIES
    from hwaware.measure.timing import PhaseTimes

    def times(exe_ms, iqr_ms):
        return PhaseTimes(0.01, exe_ms, 0.01, 0.0, iqr_ms, 0.0, 10)

    plan = layer_plan(2, [], seed=5)
    runs = iter([times(1.0, 0.9), times(2.0, 0.1), times(1.0, 0.9), times(1.1, 0.8), times(1.2, 0.7)])
    monkeypatch.setattr(collect_mod, "time_phases", lambda *a, **k: next(runs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert collect_layers(tmp_path / "l.csv", plan) == 2
    assert next(runs, None) is None  # 2 runs for the first row (quiet at the second), TRIES = 3 for the other
    with open(tmp_path / "l.csv") as f:
        assert [r["exe_ms"] for r in csv.DictReader(f)] == ["2.000000", "1.200000"]  # the quietest of each row's runs
    said = [str(w.message) for w in caught if issubclass(w.category, HwawareWarning)]
    assert TRIES == 3 and NOISY == 0.5 and len(said) == 1
    assert said[0].startswith(f"1 of 2 rows measured now in {tmp_path / 'l.csv'} stayed noisy after 3 runs")
    # a stop after a noisy row still says it (the warning came after the loop: helper-129)
    runs = iter([times(1.0, 0.9)] * 3 + [KeyboardInterrupt()])
    monkeypatch.setattr(collect_mod, "time_phases",
                        lambda *a, **k: (_ for _ in ()).throw(r) if isinstance(r := next(runs), BaseException) else r)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(KeyboardInterrupt):
        warnings.simplefilter("always")
        collect_layers(tmp_path / "l2.csv", plan)
    assert [str(w.message)[:22] for w in caught if issubclass(w.category, HwawareWarning)] == ["1 of 1 rows measured n"]
