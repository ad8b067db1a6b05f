"""The whole-network IPC model (papers 000/001): per-layer PTX instruction counts, the two families it adds to the
paper-003 fitters (KNN, decision tree), and the shipped ``ipc-tree`` estimator through the public API."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import hwaware
from hwaware.errors import UnsupportedPlatformError
from hwaware.estimators import get_estimator
from hwaware.evaluation.netregress_fit import fit_family
from hwaware.graph.layer import Layer, LayerKind
from hwaware.hardware import Platform

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "ipc_tree.json"
NB201_ARCH = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(8)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(8, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.c1(x))))
        return self.fc(x.mean((2, 3)))


@pytest.fixture(scope="module")
def small_layers():
    return [l for l in hwaware.capture(Small(), input_size=(3, 16, 16)).layers if l.kind.launches_kernel]


# -- per-layer counts --------------------------------------------------------------------------------------------

def test_a_layer_counts_the_same_alone_and_in_a_chunk(small_layers):
    """Chunking shares one TVM build among layers; attributing launches to layers must not move instructions."""
    pytest.importorskip("tvm", reason="optional extra hwaware[ptx] not installed")
    from hwaware.ptx.layers import count_layers

    together = count_layers(small_layers)
    kinds = {l.kind for l in small_layers}
    assert {LayerKind.CONV, LayerKind.NORM, LayerKind.DENSE, LayerKind.POOL} <= kinds
    for l in small_layers:
        assert count_layers([l])[l.signature()] == together[l.signature()], l.op
        assert together[l.signature()][1] > 0, l.op


def test_a_conv_layer_counts_what_the_network_path_counts(small_layers):
    pytest.importorskip("tvm", reason="optional extra hwaware[ptx] not installed")
    from hwaware.ptx.compile import network_instructions
    from hwaware.ptx.layers import count_layers

    conv = next(l for l in small_layers if l.kind is LayerKind.CONV)
    _, whole = network_instructions(torch.nn.Conv2d(3, 8, 3, padding=1, bias=False), (3, 16, 16))
    assert count_layers([conv])[conv.signature()] == (whole.total_thread_instructions, whole.total_warp_instructions)


def test_weight_only_launches_are_not_counted(small_layers):
    """TVM transposes a dense layer's weight in a kernel of its own: load-time work, not per inference."""
    pytest.importorskip("tvm", reason="optional extra hwaware[ptx] not installed")
    from hwaware.ptx.compile import network_instructions
    from hwaware.ptx.layers import count_layers

    dense = next(l for l in small_layers if l.kind is LayerKind.DENSE)
    net, whole = network_instructions(torch.nn.Linear(8, 10), (8,))
    transpose = [w for k, _, w in whole.per_kernel if k.startswith("transpose")]
    assert len(transpose) == 1 and transpose[0] > 0
    assert count_layers([dense])[dense.signature()][1] == whole.total_warp_instructions - transpose[0]


def test_a_weight_only_launch_is_not_run_and_a_launch_too_large_to_count_is_named(monkeypatch):
    """VGG16's 25088 x 4096 weight transpose (103 M threads, never counted) stopped `--estimator ipc-tree` with the
    interpreter's limit and its advice to count a smaller grid (helper-128's audit). Here with the limit lowered:
    Linear(300, 200)'s transpose runs 60,416 threads and its matmul 3,200."""
    pytest.importorskip("tvm", reason="optional extra hwaware[ptx] not installed")
    from hwaware.ptx import engine
    from hwaware.ptx.layers import UnsupportedLayerError, count_layers

    dense = next(l for l in hwaware.capture(torch.nn.Linear(300, 200), input_size=(300,)).layers
                 if l.kind is LayerKind.DENSE)
    monkeypatch.setattr(engine, "MAX_THREADS", 1000)
    with pytest.raises(UnsupportedLayerError, match=r"cannot be counted within the PTX interpreter's limits \(.*3,200 "
                                                    r"threads exceed .*resperfnet-gpu\), or a smaller input$"):
        count_layers([dense])
    monkeypatch.setattr(engine, "MAX_THREADS", 10_000)
    assert count_layers([dense])[dense.signature()][1] > 0


def test_an_op_without_a_module_is_named():
    from hwaware.errors import HwawareError
    from hwaware.ptx.layers import UnsupportedLayerError, layer_op

    odd = Layer(0, LayerKind.UNKNOWN, "aten.frobnicate", "m", ((1, 4),), ((1, 4),), {}, 0, 0, 0, 16, 16)
    with pytest.raises(UnsupportedLayerError, match="aten.frobnicate.*resperfnet-gpu"):
        layer_op(odd)
    assert issubclass(UnsupportedLayerError, HwawareError)  # the CLI's one-line error, not a traceback


def test_a_layer_whose_count_depends_on_the_data_is_named():
    """TVM's GELU kernel branches on its input's values: its executed instructions cannot be counted without them.
    The count said to pass the buffer's contents (`hwaware ptx count`'s advice, which a layer graph cannot follow);
    it now names the ops and the estimator that needs no count."""
    from hwaware.ptx.layers import UnsupportedLayerError, count_layers

    gelu = next(l for l in hwaware.capture("vit_tiny_patch16_224").layers if l.op == "aten.gelu")
    with pytest.raises(UnsupportedLayerError, match=r"aten\.gelu depend on the data.*resperfnet-gpu"):
        count_layers([gelu])


def test_shipped_counts_cover_every_training_network():
    """Training and CI must not compile: every layer of the three HELP stores has a committed count."""
    from hwaware.datasets.graph_store import load_store
    from hwaware.ptx.layers import load_counts, shipped_counts_path

    counts = load_counts(shipped_counts_path())
    for space in ("nb201", "fbnet", "ofa_mbv3"):
        missing = [l.op for l in load_store(space).layers if l.signature() not in counts]
        assert not missing, (space, len(missing))


# -- the two added families ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, size=(120, 4))
    y = np.sin(x[:, 0]) + 0.3 * x[:, 1] + rng.normal(0, 0.05, 120)
    return x, y


def test_knn_json_equals_scikit_learn(data):
    from sklearn.neighbors import KNeighborsRegressor

    x, y = data
    fitted = fit_family("knn", {"n_neighbors": 5}, x[:90], y[:90])
    mean, scale = x[:90].mean(0), x[:90].std(0)
    ref = KNeighborsRegressor(5, weights="distance").fit((x[:90] - mean) / scale, y[:90])
    np.testing.assert_allclose(fitted.predict(x[90:]), ref.predict((x[90:] - mean) / scale), rtol=1e-12)


def test_dt_is_one_cart_tree(data):
    """One XGBoost tree with no shrinkage and no leaf regularisation is the CART tree scikit-learn grows."""
    from sklearn.tree import DecisionTreeRegressor

    x, y = data
    fitted = fit_family("dt", {"max_depth": 4, "min_child_weight": 1}, x[:90], y[:90])
    ref = DecisionTreeRegressor(max_depth=4, random_state=0).fit(x[:90], y[:90])
    np.testing.assert_allclose(fitted.predict(x[:90]), ref.predict(x[:90]), rtol=1e-5, atol=1e-5)


# -- the estimator ---------------------------------------------------------------------------------------------------

def test_answers_through_the_api():
    from hwaware.zoo.nb201 import nb201_graph

    est = hwaware.estimate(nb201_graph(NB201_ARCH), gpu="2080ti", estimator="ipc-tree")
    assert est.estimator == "ipc-tree" and est.interval_ms[0] < est.total_ms < est.interval_ms[1]
    assert "measured GPU" in est.notes[0]
    zero = hwaware.estimate(nb201_graph(NB201_ARCH), gpu="a100", estimator="ipc-tree")
    assert any("not among the training GPUs" in n for n in zero.notes)


def test_an_answer_outside_the_training_domain_warns_and_names_the_feature():
    """ipc-tree's trees answer outside their training rows as at the edge (it said so in a note only): meta.json
    records each feature's training range (scripts/train_ipc_tree.py) and the estimate warns past netregress's margin
    (2x), naming the feature furthest out."""
    from hwaware.estimators.ipc_tree import FEATURES
    from hwaware.zoo.nb201 import nb201_graph

    assert set(get_estimator("ipc-tree").meta_["feature_ranges"]) == set(FEATURES)
    assert hwaware.estimate(nb201_graph(NB201_ARCH), gpu="2080ti", estimator="ipc-tree").warnings == ()
    # the RTX 2070: 7.5 FP32 TFLOPS and 448 GB/s, below the training GPUs' but within the margin
    assert hwaware.estimate(nb201_graph(NB201_ARCH), gpu="rtx2070", estimator="ipc-tree").warnings == ()
    for gpu, why in (("a100", "L2 (MB) 40, where the training data span 2.75-6;"),
                     ("3090", "FP32 TFLOPS 35.58, where the training data span 10.97-16.31;"),
                     ("agx", "FP32 TFLOPS 1.41, where the training data span 10.97-16.31;")):
        est = hwaware.estimate(nb201_graph(NB201_ARCH), gpu=gpu, estimator="ipc-tree")
        assert len(est.warnings) == 1 and est.warnings[0].startswith(f"outside the training domain: {why}"), gpu
    # the network's own features, each estimate of a batch its own: resnet50's 25.6 M parameters, beyond twice the
    # largest training network's 9.64 M (+1), warn; the cells around it do not
    cells = [nb201_graph(NB201_ARCH), hwaware.capture("resnet50"), nb201_graph(NB201_ARCH)]
    said = [e.warnings for e in get_estimator("ipc-tree").predict_many(cells, Platform(hwaware.get_gpu("2080ti")))]
    assert said[0] == said[2] == () and said[1][0].startswith(
        "outside the training domain: parameters 2.556e+07, where the training data span 7.331e+04-9.636e+06;")


def test_a_new_network_is_compiled_on_demand_through_the_cli(capsys, monkeypatch, tmp_path):
    """resnet18's layers are not in the shipped counts: they are compiled, counted and cached for the user."""
    pytest.importorskip("tvm", reason="optional extra hwaware[ptx] not installed")
    from hwaware.cli import main

    monkeypatch.setenv("HWAWARE_CACHE_DIR", str(tmp_path))
    main(["latency", "torchvision:resnet18", "--input", "3x32x32", "--gpu", "2080ti", "--estimator", "ipc-tree"])
    assert "ipc-tree" in capsys.readouterr().out
    assert list(tmp_path.rglob("layer_instructions.json.gz"))


def test_other_batches_and_precisions_are_a_clear_error():
    from hwaware.zoo.nb201 import nb201_graph

    est = get_estimator("ipc-tree")
    g = nb201_graph(NB201_ARCH, batch_size=32)
    assert not est.supports(Platform.resolve("2080ti", batch_size=32))
    with pytest.raises(UnsupportedPlatformError, match="batch 32.*resperfnet-gpu"):
        est.predict(g, Platform.resolve("2080ti", batch_size=32))
    with pytest.raises(UnsupportedPlatformError, match="fp16"):
        est.predict(nb201_graph(NB201_ARCH), Platform.resolve("2080ti", precision="fp16"))


def test_shipped_model_reproduces_its_recorded_test_figures():
    """The recorded run (OMP_NUM_THREADS=1 python scripts/train_ipc_tree.py) wrote each test column's MAPE; the
    shipped weights and counts must reproduce them on those rows (NB201 on the 2080 Ti: every test row)."""
    from hwaware.evaluation.gpu_data import help_samples
    from hwaware.evaluation.netregress_fit import mape_of_log
    from hwaware.evaluation.splits import split_gpu_samples
    from hwaware.zoo.nb201 import nb201_graph

    recorded = json.loads(RESULTS.read_text())
    column = "help:nb201:GeForce RTX 2080 Ti|pytorch|fp32|1"
    want = recorded["candidates"][recorded["chosen"]]["test"]["mape_by_column"][column]
    _, _, test = split_gpu_samples([s for s in help_samples(["nb201"]) if s.column == column])
    rows = [s.net for s in test]
    got = get_estimator("ipc-tree").predict_many(
        [nb201_graph(r.arch["arch"]) for r in rows], Platform.resolve("2080ti"))
    mape = mape_of_log(np.log([e.total_ms for e in got]), np.log([r.ms for r in rows]))
    assert mape == pytest.approx(want, rel=1e-6)
    assert want < 0.15  # the recorded figure itself (a regression past 15 % needs a new look, not a new number)


def test_a_gpu_without_a_needed_feature_is_a_clear_error():
    """Every catalog GPU has a boost clock today; a user's GPU spec (e.g. a calibration's base) may not."""
    import dataclasses

    from hwaware.hardware.catalog import get_gpu
    from hwaware.zoo.nb201 import nb201_graph

    gpu = dataclasses.replace(get_gpu("2080ti"), boost_clock_mhz=None)
    with pytest.raises(UnsupportedPlatformError, match="boost clock.*resperfnet-gpu"):
        get_estimator("ipc-tree").predict(nb201_graph(NB201_ARCH), Platform(gpu))


def test_ipc_tree_beats_the_constant_cpi_baseline_on_every_test_column():
    """What instructions and parameters add beyond each GPU's median CPI, per test column of the recorded run."""
    recorded = json.loads(RESULTS.read_text())
    model = recorded["candidates"][recorded["chosen"]]["test"]["mape_by_column"]
    baseline = recorded["constant_cpi_baseline"]["test"]["mape_by_column"]
    assert set(model) == set(baseline) and len(model) >= 11
    assert all(model[c] < baseline[c] for c in model), {c: (model[c], baseline[c]) for c in model}


def test_a_transformer_is_outside_ipc_trees_domain():
    """ipc-tree learned its IPC on HELP's CNN cells. Since the PTX count compiles graph/rebuild.build_op's rebuild,
    matmul layers could be counted too, and a ViT got an answer with nothing said: it is an error naming the
    estimator that warns instead."""
    from hwaware.errors import UnsupportedModelError

    with pytest.raises(UnsupportedModelError, match=r"aten\.\w*mm.*resperfnet-gpu"):
        hwaware.estimate("vit_tiny_patch16_224", gpu="2080ti", estimator="ipc-tree")
