"""Batch prediction and the space-wide table equal one-by-one predictions exactly; the CLI's help,
catalog and argument errors, and ``import hwaware``, do not import torch."""
from __future__ import annotations

import csv
import itertools
import random
import subprocess
import sys

import pytest

import hwaware
from hwaware.cli import main
from hwaware.estimators import default_estimator, get_estimator
from hwaware.graph.sources import capture
from hwaware.hardware import Platform
from hwaware.search import get_space
from hwaware.search.table import _Job, _predict_chunk, space_table


def _no_torch(code: str) -> bool:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip().splitlines()[-1] == "False"


def test_import_and_cli_without_model_work_do_not_import_torch():
    assert _no_torch("import hwaware; hwaware.__version__; hwaware.gpus()")
    assert _no_torch("from hwaware.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert _no_torch("from hwaware.cli import main; main(['gpus'])")
    assert _no_torch("from hwaware.cli import main\ntry:\n    main(['latency'])\nexcept SystemExit:\n    pass")
    assert not _no_torch("import hwaware; hwaware.latency")  # the check can fail: the API does need torch


def test_latency_many_equals_latency_one_by_one():
    space = get_space("fbnet")
    models = ["resnet18", space.shell(space.default()), capture("mobilenetv3_small_100")]
    expected = [hwaware.latency("resnet18", gpu="2080ti"), hwaware.latency(space.shell(space.default()), gpu="2080ti"),
                hwaware.latency(capture("mobilenetv3_small_100"), gpu="2080ti")]
    assert hwaware.latency_many(models, gpu="2080ti", progress=False) == expected


@pytest.mark.parametrize("estimator", ["roofline", "resperfnet"])
def test_predict_many_equals_predict(estimator):
    est = get_estimator(estimator)
    platform = Platform.resolve("2080ti" if estimator == "roofline" else "cpu")
    graphs = [capture("resnet18"), capture("mobilenetv3_small_100"), capture("resnet18")]
    assert [e.total_ms for e in est.predict_many(graphs, platform)] == [est.predict(g, platform).total_ms for g in graphs]


def test_space_table_equals_latency_one_by_one(tmp_path):
    space = get_space("nb201")
    archs = list(space.archs())
    assert len(archs) == 15625 and len({a["arch"] for a in archs}) == 15625
    rows = space_table("nb201", "2080ti", limit=12, progress=False)
    assert [r.spec for r in rows] == [space.spec(a) for a in archs[:12]]
    one_by_one = [hwaware.estimate(space.shell(a), gpu="2080ti", input_size=space.input_size(a)) for a in archs[:12]]
    assert [(r.ms, r.interval_ms, r.warnings) for r in rows] == [(e.total_ms, e.interval_ms, e.warnings)
                                                                  for e in one_by_one]
    assert space_table("nb201", "2080ti", limit=12, workers=2, progress=False) == rows
    out = tmp_path / "t.csv"
    assert main(["space-latency", "nb201", "--gpu", "2080ti", "--out", str(out), "--limit", "12"]) == 0
    table = list(csv.DictReader(out.open()))
    assert [(float(r["ms"]), (float(r["low_ms"]), float(r["high_ms"]))) for r in table] == [
        (r.ms, r.interval_ms) for r in rows] and table[3]["index"] == "3"
    # an estimator without an interval leaves both cells empty, never a made-up number
    assert main(["space-latency", "nb201", "--gpu", "2080ti", "--out", str(out), "--limit", "2", "--estimator",
                 "roofline"]) == 0
    assert [(r["low_ms"], r["high_ms"]) for r in csv.DictReader(out.open())] == [("", "")] * 2


def test_space_table_takes_the_platform_as_latency_does(tmp_path):
    """Batch, precision and runtime (the table had batch 1, fp32, PyTorch only); the CLI's options reach it."""
    space = get_space("nb201")
    archs = list(itertools.islice(space.archs(), 100, 104))
    kw = dict(batch_size=8, precision="fp16", runtime="tensorrt")
    rows = space_table("nb201", "agx", limit=104, progress=False, **kw)[100:]
    assert [r.ms for r in rows] == [hwaware.latency(space.shell(a), gpu="agx", input_size=space.input_size(a), **kw)
                                    for a in archs]
    assert [r.ms for r in rows] != [r.ms for r in space_table("nb201", "agx", limit=104, progress=False)[100:]]
    out = tmp_path / "t.csv"
    assert main(["space-latency", "nb201", "--gpu", "agx", "--out", str(out), "--limit", "104", "--batch", "8",
                 "--precision", "fp16", "--runtime", "tensorrt"]) == 0
    assert [float(r["ms"]) for r in csv.DictReader(out.open())][100:] == [r.ms for r in rows]


def test_nb201_table_graphs_and_values_equal_built_modules_one_by_one():
    # NB201Space.graph assembles graphs without modules: 200 random archs, each graph and table value against a
    # module built and captured on its own
    space = get_space("nb201")
    archs = random.Random(0).sample(list(space.archs()), 200)
    expected = []
    for a in archs:
        model, size = space.build(a), space.input_size(a)
        g, c = space.graph(a), capture(model, input_size=size)
        assert g.layers == c.layers, a
        assert (g.name, g.input_shape, g.precision, g.total_params, g.skipped) == \
               (c.name, c.input_shape, c.precision, c.total_params, c.skipped), a
        e = hwaware.estimate(model, gpu="2080ti", input_size=size)
        expected.append((e.total_ms, e.interval_ms, e.warnings))
    platform = Platform.resolve("2080ti")
    assert _predict_chunk(_Job("nb201", platform, None, default_estimator(platform), archs)) == (expected, [])


def test_space_latency_rejects_a_space_it_cannot_enumerate(tmp_path, capsys):
    assert main(["space-latency", "fbnet", "--gpu", "2080ti", "--out", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nb201" in err
