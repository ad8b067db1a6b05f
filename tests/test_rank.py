"""hwaware.rank and `hwaware rank`: a (model, GPU) table equal to latency_many per GPU, ordered both ways."""
from __future__ import annotations

import json
import warnings

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
    # the roofline gives no interval: none is shown or made up
    assert table.intervals == ((None,) * len(GPUS),) * len(MODELS) and "[" not in table.table()


def test_intervals_are_each_estimates_and_the_cli_prints_them(capsys):
    """Every GPU estimate carries an interval, and the CLI prints it (issue 8): the table's are estimate_many's per
    GPU, printed beside each cell and in the JSON."""
    t = hwaware.rank(["resnet18", "mobilenetv2_100"], gpus=["agx", "4090"])
    for j, gpu in enumerate(t.gpus):
        many = hwaware.estimate_many(list(t.models), gpu)
        assert [row[j] for row in t.intervals] == [e.interval_ms for e in many]
        assert [row[j] for row in t.ms] == [e.total_ms for e in many]
    lo, hi = t.intervals[0][1]
    assert lo < t.ms[0][1] < hi and f"{t.ms[0][1]:.3f} [{lo:.3f}..{hi:.3f}] (" in t.table()
    assert main(["rank", "resnet18", "mobilenetv2_100", "--gpu", "agx", "--gpu", "4090", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["intervals"] == [[list(iv) for iv in row] for row in t.intervals]


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


def _order_expected(t) -> set:
    """Every (model, GPU, GPU below) the table answers against the datasheets' order, from its public parts."""
    from hwaware.estimators.base import ORDER_SLACK
    from hwaware.hardware import get_gpu

    return {(m, a, b) for a in t.gpus for b in t.gpus if get_gpu(a).dominates(get_gpu(b))
            for m in t.models if t.latency(m, a) > ORDER_SLACK * t.latency(m, b)}


def test_gpu_order_inversions_are_listed_warned_and_complete(capsys):
    """The default estimator answers ShuffleNet under TensorRT fp16 at batch 2 faster on the measured TITAN RTX than
    on an RTX 4090 (its machine's host against the desktop average), and faster on the TX2 than on the Xavier NX
    (helper-114's sweep): the table lists every such pair, marking those the weaker GPU's own answer already warns of
    (resperfnet-gpu's Jetson check; until helper-139 they were left out, the model unnamed), warns once of the others,
    prints them per GPU pair and puts them in its JSON."""
    from hwaware.errors import ImplausibleEstimateWarning
    from hwaware.estimators.base import ORDER_SLACK, order_warning_prefix
    from hwaware.hardware import get_gpu

    gpus = ["titan_rtx", "4090", "2080ti", "xavier_nx", "tx2", "agx"]
    with pytest.warns(ImplausibleEstimateWarning, match="GPU order: .* RankTable.inversions"):
        t = hwaware.rank(["resnet50", "torchvision:shufflenet_v2_x1_0"], gpus=gpus, runtime="tensorrt",
                         precision="fp16", batch_size=2)
    found = {(v.model, v.gpu, v.below) for v in t.inversions}
    assert {("torchvision:shufflenet_v2_x1_0", "4090", "titan_rtx"), ("torchvision:shufflenet_v2_x1_0", "xavier_nx",
                                                                     "tx2")} <= found == _order_expected(t)
    for v in t.inversions:  # marked: the weaker GPU's answer warns of the stronger one, and only then
        below = hwaware.estimate(v.model, gpu=v.below, runtime="tensorrt", precision="fp16", batch_size=2)
        assert v.warned == any(w.startswith(order_warning_prefix(get_gpu(v.gpu).name)) for w in below.warnings), v
    for v in t.inversions:
        assert get_gpu(v.gpu).dominates(get_gpu(v.below)) and v.ms == t.latency(v.model, v.gpu)
        assert v.below_ms == t.latency(v.model, v.below) and v.ms > ORDER_SLACK * v.below_ms
    assert [(v.warned, -v.ratio) for v in t.inversions] == sorted((v.warned, -v.ratio) for v in t.inversions)
    text = t.table()
    pairs = {(v.gpu, v.below) for v in t.inversions}
    assert f"GPU order against the datasheets, {len(found)} answers over {len(pairs)} GPU pairs" in text
    worst = t.inversions[0]
    assert (f"  {worst.gpu} slower than {worst.below}: {worst.model} {worst.ms:.3f} against {worst.below_ms:.3f} ms "
            f"({worst.ratio:.2f}x)") in text
    assert main(["rank", "resnet50", "torchvision:shufflenet_v2_x1_0", "--gpu", "titan_rtx", "--gpu", "4090",
                 "--runtime", "tensorrt", "--precision", "fp16", "--batch", "2", "--json"]) == 0
    captured = capsys.readouterr()
    d = json.loads(captured.out)
    assert [(v["model"], v["gpu"], v["below"]) for v in d["inversions"]] == [
        ("torchvision:shufflenet_v2_x1_0", "4090", "titan_rtx")]
    assert d["inversions"][0]["ratio"] == d["inversions"][0]["ms"] / d["inversions"][0]["below_ms"]
    assert "warning: GPU order: 1 answer over 1 GPU pair" in captured.err


def test_no_inversion_where_the_answers_follow_the_datasheets():
    """The roofline is monotone in every rate the order compares: over the whole catalog, nothing is listed and
    nothing warns. On the same estimates, an answer made slower on a GPU that outclasses others is listed against
    those of its class only, once per pair; other estimators, the CPU and zero answers are never compared."""
    import dataclasses
    import warnings

    from hwaware.api import UNSOURCED_RATE, resolve
    from hwaware.hardware import gpus
    from hwaware.ranking import _inversions

    names = [g.name for g in gpus()]
    with warnings.catch_warnings():
        warnings.simplefilter("error", hwaware.ImplausibleEstimateWarning)
        # an answer on a rate the catalog lacks (the RTX A4000-A6000's fp16) warns of itself, not of the order
        warnings.filterwarnings("ignore", f".*: {UNSOURCED_RATE} ", hwaware.ImplausibleEstimateWarning)
        t = hwaware.rank(["resnet18", "mobilenetv2_100"], gpus=names, estimator="roofline", precision="fp16")
    assert t.inversions == () and _order_expected(t) == set()
    assert "GPU order" not in t.table() and t.as_dict()["inversions"] == []

    models = ["resnet18"]
    # the AGX Orin has every rate of the Quadro P1000 (compute capability, fp32, fp16, tensor cores, bandwidth, L2)
    # and no PCIe link to cross, but is an SoC: another class, never compared
    pick = ["Jetson AGX Orin 64GB", "Jetson Nano", "GeForce RTX 4090", "GeForce GTX 1080 Ti", "Quadro P1000"]
    columns = [hwaware.estimate_many(models, g, estimator="roofline", precision="fp16") for g in pick]
    platforms = [resolve(g, precision="fp16")[0] for g in pick]

    def slower(j: int, factor: float) -> list:
        return [[dataclasses.replace(e, total_ms=e.total_ms * (factor if i == j else 1)) for e in c]
                for i, c in enumerate(columns)]

    one = ["roofline"] * len(pick)
    # the AGX Orin 100x slower: listed above the Nano (its class), not the Quadro P1000 (slower on paper too)
    assert [(v.gpu, v.below) for v in _inversions(models, pick, slower(0, 100), platforms, one)] == [
        ("Jetson AGX Orin 64GB", "Jetson Nano")]
    assert [(v.gpu, v.below) for v in _inversions(models, pick, slower(2, 100), platforms, one)] == [
        ("GeForce RTX 4090", "GeForce GTX 1080 Ti"), ("GeForce RTX 4090", "Quadro P1000")]
    assert _inversions(models, pick, slower(0, 100), platforms, ["roofline", "x", *one[2:]]) == ()
    cpu = resolve("cpu")[0]
    assert _inversions(models, pick, slower(0, 100), [platforms[0], cpu, *platforms[2:]], one) == ()
    assert _inversions(models, pick, slower(1, 0), platforms, one) == ()  # the Nano at 0 ms
    # an inversion the weaker GPU's own answer already warns of (resperfnet-gpu's Jetson check, which names the
    # stronger GPU) is listed as warned; a warning naming another GPU does not count
    from hwaware.estimators.base import order_warning_prefix

    def nano_warns(text: str) -> list:
        cols = slower(0, 100)
        cols[1] = [dataclasses.replace(e, warnings=(text,)) for e in cols[1]]
        return cols

    orin = "Jetson AGX Orin 64GB"
    warned = _inversions(models, pick, nano_warns(f"{order_warning_prefix(orin)}1.000 ms; ...)"), platforms, one)
    assert [(v.gpu, v.below, v.warned) for v in warned] == [(orin, "Jetson Nano", True)]
    # another GPU's warning, even one whose name holds the Orin's, or that names the Orin further on, is no such
    for other in (f"{order_warning_prefix('Jetson AGX Orin 32GB')}1.000 ms)",
                  f"{order_warning_prefix(orin + ' Industrial')}1.000 ms)",
                  f"{order_warning_prefix('Jetson Xavier NX')}1.000 ms), which is at least the {orin}"):
        assert [v.warned for v in _inversions(models, pick, nano_warns(other), platforms, one)] == [False], other


def test_an_inversion_the_faster_answered_gpus_estimate_warns_of_is_listed_marked_and_not_warned_again():
    """helper-139: such an inversion was left out of the table, which then named no model for it (its estimate's warning
    reached the user as one line naming no network); it is listed after the others, marked, counted apart, in the JSON,
    and not in the table's one warning (helper-140: a test whose inversions were all unwarned)."""
    from hwaware.errors import ImplausibleEstimateWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = hwaware.rank(["densenet121", "mobilenetv3_small_100", "resnet50"], gpus=["agx", "nano", "tx2", "titan_rtx",
                                                                                    "4090"],
                         runtime="tensorrt", precision="fp16")
    warned = [v for v in t.inversions if v.warned]
    unwarned = [v for v in t.inversions if not v.warned]
    assert warned and unwarned and t.inversions == (*unwarned, *warned)
    order = [str(w.message) for w in caught if issubclass(w.category, ImplausibleEstimateWarning)
             and str(w.message).startswith("GPU order")]
    assert len(order) == 1 and order[0].startswith(f"GPU order: {len(unwarned)} answer")
    text = t.table()
    assert f"({len(warned)} of them warned of by the faster-answered GPU's own estimate)" in " ".join(text.split())
    v = warned[0]
    assert f"{v.model} {v.ms:.3f} against {v.below_ms:.3f} ms ({v.ratio:.2f}x, {v.below} warns of it)" in text
    assert sum(d["warned"] for d in t.as_dict()["inversions"]) == len(warned)


def test_a_calibration_profile_is_left_out_of_the_order(tmp_path, monkeypatch):
    """A profile's device is the user's own, named by its closest catalog GPU: its column is not compared."""
    monkeypatch.setenv("HWAWARE_PROFILES", str(tmp_path))
    setting = dict(runtime="tensorrt", precision="fp16", batch_size=2)
    models = ["resnet18", "resnet34", "resnet50", "mobilenetv2_100", "densenet121"]
    rows = [Measurement(m, hwaware.latency(m, "titan_rtx", **setting), batch=2) for m in models]
    hwaware.calibrate(rows, "titan_rtx", name="my-titan", runtime="tensorrt", precision="fp16")
    shufflenet = ["torchvision:shufflenet_v2_x1_0"]
    with pytest.warns(hwaware.ImplausibleEstimateWarning, match="GPU order"):
        assert hwaware.rank(shufflenet, gpus=["titan_rtx", "4090"], **setting).inversions
    assert hwaware.rank(shufflenet, gpus=["my-titan", "4090"], **setting).inversions == ()


def test_a_discrete_gpu_slower_than_an_soc_it_outclasses_is_listed_on_the_kernels_time():
    """The A2 outclasses the Orin Nano 8GB on every datasheet rate, its bandwidth and its L2, yet TensorRT int8 at batch
    256 answered it 1.4x slower, unlisted: the check paired GPUs of one class only (helper-128's audit). Across the
    classes the kernels' time (exe) is compared: hosts and link copies differ by class."""
    from hwaware.hardware import get_gpu

    a2, nano = get_gpu("a2"), get_gpu("orin_nano")
    assert not a2.dominates(nano) and a2.dominates(nano, kernels=True) and not nano.dominates(a2, kernels=True)
    with pytest.warns(hwaware.ImplausibleEstimateWarning, match="GPU order"):
        t = hwaware.rank(["mobilenetv3_large_100"], gpus=["a2", "orin_nano"], runtime="tensorrt", precision="int8",
                         batch_size=256)
    est = {g: hwaware.estimate("mobilenetv3_large_100", gpu=g, runtime="tensorrt", precision="int8", batch_size=256)
           for g in ("a2", "orin_nano")}
    [v] = t.inversions  # resperfnet-gpu 9's answers: a retraining that orders the pair re-chooses the case
    assert (v.gpu, v.below, v.kernels, v.ms, v.below_ms) == ("a2", "orin_nano", True, est["a2"].exe_ms,
                                                             est["orin_nano"].exe_ms)
    assert f"mobilenetv3_large_100 {v.ms:.3f} against {v.below_ms:.3f} ms exe ({v.ratio:.2f}x)" in t.table()


def test_a_gpu_that_cannot_run_the_setting_is_named_with_leaving_it_out(capsys):
    """int8 on the Jetson Nano stopped `rank --gpu nano --gpu agx` with the Nano's own advice only (helper-128)."""
    assert main(["rank", "resnet18", "--gpu", "nano", "--gpu", "agx", "--runtime", "tensorrt", "--precision",
                 "int8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwaware: error: Jetson Nano") and err.endswith("; or leave nano out of the GPUs\n")


def test_a_table_of_mixed_platforms_says_its_order_is_of_platforms(tmp_path, monkeypatch):
    """A TensorRT fp16 profile beside eager fp32 GPUs was ordered 'fastest first' with the mix named only in the footer
    (helper-128)."""
    from hwaware.calibration.measurements import Measurement

    monkeypatch.setenv("HWAWARE_PROFILES", str(tmp_path))
    models = ("resnet18", "resnet34", "mobilenetv2_100")
    hwaware.calibrate([Measurement(m, 1.2 * hwaware.latency(m, "agx", runtime="tensorrt", precision="fp16"))
                       for m in models], "agx", name="agx-trt", runtime="tensorrt", precision="fp16")
    said = "'GPUs fastest first' orders platforms, not devices alone"
    assert said in hwaware.rank(["resnet18"], gpus=["agx-trt", "agx"]).table()
    assert said not in hwaware.rank(["resnet18"], gpus=["orin", "agx"]).table()
