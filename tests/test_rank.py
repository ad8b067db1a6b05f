"""hwaware.rank and `hwaware rank`: a (model, GPU) table equal to latency_many per GPU, ordered both ways."""
from __future__ import annotations

import json

import pytest

import hwaware
from hwaware.calibration.measurements import Measurement
from hwaware.cli import main
from hwaware.errors import InvalidArgumentError

MODELS = ["resnet18", "mobilenetv2_100", "resnet50"]
GPUS = ["2080ti", "agx", "orin"]


@pytest.fixture(scope="module")
def table():
    return hwaware.rank(MODELS, gpus=GPUS, estimator="roofline")


def test_values_equal_latency_many_per_gpu(table):
    for j, gpu in enumerate(GPUS):
        assert [row[j] for row in table.ms] == hwaware.latency_many(MODELS, gpu, estimator="roofline")


def test_orders_per_gpu_and_per_model(table):
    for gpu in GPUS:
        order = table.by_gpu(gpu)
        assert sorted(m for m, _ in order) == sorted(MODELS)
        assert [ms for _, ms in order] == sorted(ms for _, ms in order)
    for m in MODELS:
        order = table.by_model(m)
        assert [ms for _, ms in order] == sorted(table.latency(m, g) for g in GPUS)
        assert table.fastest_gpu(m) == order[0][0]
    # the roofline's AGX runs the mobile network faster than resnet18 (fewer MACs, launch-bound either way), a
    # desktop 2080 Ti the other way round: the per-GPU orders differ, which is the point of the table
    assert table.by_gpu("agx")[0][0] == "mobilenetv2_100" and table.by_gpu("2080ti")[0][0] == "resnet18"


def test_default_estimator_is_recorded_per_gpu(tmp_path, monkeypatch):
    t = hwaware.rank(["resnet18"], gpus=["agx"])
    assert t.estimators == (hwaware.estimate("resnet18", gpu="agx").estimator,)
    # a calibration profile records the estimator it corrects, which answered (it used to say "profile")
    monkeypatch.setenv("HWAWARE_PROFILES", str(tmp_path))
    rows = [Measurement(m, 1.2 * hwaware.latency(m, "agx", estimator="roofline")) for m in ("resnet18", "resnet34")]
    hwaware.calibrate(rows, "agx", name="agx-roof", estimator="roofline")
    assert hwaware.rank(["resnet18"], gpus=["agx-roof", "agx"]).estimators == ("roofline", "resperfnet-gpu")


@pytest.mark.parametrize("models,gpus", [([], ["agx"]), (["resnet18"], []), (["resnet18", "resnet18"], ["agx"]),
                                         (["resnet18"], ["t4", "T4"])])
def test_bad_arguments(models, gpus):
    with pytest.raises(InvalidArgumentError):
        hwaware.rank(models, gpus=gpus)


def test_gpus_by_any_name_or_spec_and_one_line_for_what_the_table_lacks(table, tmp_path):
    """A GPUSpec in ``gpus`` is labelled by its name (its table and JSON raised TypeErrors), a column is found by any
    name of its GPU, a missing model or GPU is one InvalidArgumentError (a bare ValueError of tuple.index), and one
    ONNX file under two spellings is a repeated model (review helper-93)."""
    t = hwaware.rank(["resnet18"], gpus=[hwaware.get_gpu("agx"), "orin"], estimator="roofline")
    assert t.gpus == ("Jetson AGX Xavier", "orin") and "Jetson AGX Xavier" in t.table()
    json.dumps(t.as_dict())
    agx = table.latency("resnet18", "agx")
    assert table.latency("resnet18", "xavier") == agx == dict(table.by_gpu("agx"))["resnet18"]
    assert table.by_gpu("Jetson AGX Xavier") == table.by_gpu("agx")
    with pytest.raises(InvalidArgumentError, match="'nano' is not a GPU of this table; its GPUs: 2080ti, agx, orin"):
        table.by_gpu("nano")
    with pytest.raises(InvalidArgumentError, match="'resnet19' is not a model of this table"):
        table.latency("resnet19", "agx")
    onnx = tmp_path / "cnn.onnx"
    onnx.write_bytes(b"")  # never read: the repeat is refused first
    with pytest.raises(InvalidArgumentError, match=rf"distinct models and distinct GPUs \({onnx} more than once\)"):
        hwaware.rank([str(onnx), f"{tmp_path}/./cnn.onnx"], gpus=["agx"])
    with pytest.raises(InvalidArgumentError, match=r"\(Jetson AGX Xavier more than once\)"):  # which one (helper-109)
        hwaware.rank(["resnet18"], gpus=["agx", "xavier"])
    with pytest.raises(hwaware.HwawareError) as exc:  # one absolute path is one model (it counted twice, helper-112)
        hwaware.rank([str(onnx), "resnet18"], gpus=["agx"])
    assert "distinct" not in str(exc.value)  # the empty file itself is refused


def test_the_text_table_keeps_its_columns_apart():
    """Every cell of the text table is right-aligned in a column at least two spaces wider than it: the default
    estimator's name ("resperfnet-gpu", 14 characters) once filled the 14-wide columns and the header read
    "resperfnet-gpuresperfnet-gpu"."""
    from hwaware.ranking import RankTable

    # made-up milliseconds: this checks the layout only, one cell wider than the old 14-character columns
    t = RankTable(models=("resnet18",), gpus=("agx", "xavier-nx"), ms=((12345.678, 7.0),),
                  estimators=("resperfnet-gpu", "resperfnet-gpu"), batch_size=1, precision="fp32", runtime="pytorch")
    header, estimators, row = t.table().splitlines()[:3]

    def ends(line: str, texts: list[str]) -> list[int]:  # where each text ends, each after two spaces at least
        out, pos = [], 0
        for text in texts:
            k = line.index(text, pos)
            assert line[k - 2:k] == "  ", line
            pos = k + len(text)
            out.append(pos)
        return out

    columns = ends(header, ["agx", "xavier-nx"])
    assert ends(estimators, ["resperfnet-gpu"] * 2) == columns == ends(row, ["12345.678 (1)", "7.000 (1)"])


def test_cli_table_and_json(capsys, table):
    assert main(["rank", *MODELS, "--gpu", "2080ti", "--gpu", "agx", "--gpu", "orin", "--estimator", "roofline"]) == 0
    out = capsys.readouterr().out
    assert "GPUs fastest first" in out and "mobilenetv2_100" in out
    assert main(["rank", *MODELS, "--gpu", "2080ti", "--gpu", "agx", "--gpu", "orin", "--estimator", "roofline",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ms"] == [list(r) for r in table.ms] and d["by_gpu"]["agx"][0] == "mobilenetv2_100"


def test_cli_unknown_gpu_is_one_line(capsys):
    assert main(["rank", "resnet18", "--gpu", "agx", "--gpu", "rtx9999"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwaware: error: unknown GPU") and "\n" not in err
