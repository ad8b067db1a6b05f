"""Paper 003's whole-network regressors: JSON forms reload exactly, features agree between stored and captured
graphs, paper-003 splits never share a group, the estimators answer through the public API, bad platforms fail."""
from __future__ import annotations

import gzip
import random
from pathlib import Path

import numpy as np
import pytest

import hwaware
from hwaware.errors import UnsupportedPlatformError
from hwaware.estimators import get_estimator
from hwaware.estimators.netregress import FAMILIES, feature_matrix, predict_log_ms
from hwaware.datasets.graph_store import load_store
from hwaware.evaluation.netregress_fit import GRIDS, fit_family, stored_graph
from hwaware.evaluation.splits import check_disjoint, timm_model, timm_row_family


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = np.log1p(rng.uniform(0, 1e6, size=(80, 5)))
    y = 0.3 * x[:, 0] - 0.1 * x[:, 1] + 0.05 * x[:, 2] ** 1.5 + rng.normal(0, 0.05, 80)
    return x, y


@pytest.mark.parametrize("family", ["ols", "mlp", "svr"])
def test_json_forward_pass_equals_scikit_learn(family, data):
    from sklearn.linear_model import LinearRegression
    from sklearn.neural_network import MLPRegressor
    from sklearn.svm import SVR

    x, y = data
    params = GRIDS[family][-1]
    fitted = fit_family(family, params, x, y)
    mean, scale = x.mean(0), x.std(0)
    z = (x - mean) / scale
    ref = {"ols": lambda: LinearRegression(), "mlp": lambda: MLPRegressor(max_iter=500, random_state=0, **params),
           "svr": lambda: SVR(gamma="scale", max_iter=200_000, **params)}[family]().fit(z, y)
    np.testing.assert_allclose(fitted.predict(x), ref.predict(z), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("family", ["rf", "xgb"])
def test_xgboost_json_reloads_exactly(family, data, tmp_path):
    x, y = data
    fitted = fit_family(family, GRIDS[family][0], x, y)
    (tmp_path / "m.json.gz").write_bytes(gzip.compress(fitted.booster_json))
    np.testing.assert_array_equal(predict_log_ms(family, {"file": "m.json.gz"}, x, tmp_path), fitted.predict(x))


def test_stored_graph_features_equal_a_fresh_capture():
    """Training reads features from the graph store; prediction from a captured graph: they must agree."""
    from hwaware.graph import capture
    from hwaware.zoo.spaces import get_space

    store = load_store("nb201")
    arch_id = sorted(store.nets)[0]
    sp = get_space("nb201")
    arch = store.nets[arch_id].arch
    fresh = capture(sp.build(arch), input_size=sp.input_size(arch))
    np.testing.assert_allclose(feature_matrix([stored_graph(store, arch_id)]), feature_matrix([fresh]), rtol=1e-12)


def _timm_rows(gpu: str = "GeForce RTX 4090") -> list:
    from hwaware.datasets.gpu_tables import load_timm_gpu
    from hwaware.datasets.graph_store import store_key

    return [r for r in load_timm_gpu() if r.gpu == gpu and store_key(r) is not None]


def check_paper003_splits(rows: list) -> None:
    """No layer multiset (computed from the layers, not the splitters' groups) on both sides of NIS / NCV / NCA, and
    each space's defining property. The splitters are looked up through their module so that a test can replace them."""
    from hwaware.evaluation import splits
    from hwaware.evaluation.gpu_data import Sample
    from test_splits import layer_multisets

    keys = layer_multisets([Sample(r, None) for r in rows])
    for name in ("NIS", "NCV", "NCA"):
        tr, te = getattr(splits, name).split(rows)
        assert len(te) > 0.05 * len(rows) and len(tr) > 0.5 * len(rows), name
        try:
            check_disjoint([keys[i] for i in tr], [keys[i] for i in te])
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None
    tr, te = splits.NIS.split(rows)  # NIS: every test model is trained on at other sizes
    assert {timm_model(rows[i]) for i in te} <= {timm_model(rows[i]) for i in tr}
    tr, te = splits.NCV.split(rows)  # NCV: every test family has other variants in training
    assert {timm_row_family(rows[i]) for i in te} <= {timm_row_family(rows[i]) for i in tr}
    tr, te = splits.NCA.split(rows)  # NCA: no test family trains
    assert not {timm_row_family(rows[i]) for i in te} & {timm_row_family(rows[i]) for i in tr}
    # ... by timm's own module of each row's own name, not the splitter's key: merged aliases once took a deprecated
    # name's one-model "family", so resnext50_32x4d tested while resnext50d_32x4d trained (review helper-125)
    import timm

    module = {m: mod for mod in timm.list_modules() for m in timm.list_models(module=mod)}
    own = [module[r.arch["model"]] for r in rows]
    assert not {own[i] for i in te} & {own[i] for i in tr}, sorted({own[i] for i in te} & {own[i] for i in tr})


@pytest.mark.parametrize("gpu", ["GeForce RTX 4090", "GeForce RTX 3090"])  # the 3090's: 15 rows timed unfused
def test_paper003_splits_hold_out_whole_networks(gpu):
    check_paper003_splits(_timm_rows(gpu))


def test_aliases_with_one_layer_multiset_are_one_group():
    """timm registers some networks twice (``efficientnet_el_pruned`` is ``efficientnet_el`` with other weights):
    the paper-003 splits see one model, so the pair can never straddle NIS or NCV."""
    rows = {r.arch["model"]: r for r in _timm_rows()}
    assert timm_model(rows["efficientnet_el_pruned"]) == timm_model(rows["efficientnet_el"]) == "efficientnet_el"
    assert timm_model(rows["efficientnet_b0"]) == "efficientnet_b0"


def test_check_disjoint_can_fail():
    with pytest.raises(AssertionError):
        check_disjoint(["a", "b"], ["b"])


@pytest.mark.parametrize("family", FAMILIES)
def test_answers_through_the_public_api(family):
    ms = hwaware.latency("resnet18", gpu="titan_rtx", batch_size=32, input_size=32, estimator=f"netregress-{family}")
    est = hwaware.estimate("resnet18", gpu="titan_rtx", batch_size=32, input_size=32,
                           estimator=f"netregress-{family}")
    assert ms == est.total_ms > 0
    doc = get_estimator(f"netregress-{family}").models_["TITAN RTX|pytorch|fp32|32"]
    lo, hi = est.interval_ms  # the prediction scaled by the stored 5 % / 95 % CV log-residual quantiles
    assert lo == pytest.approx(ms * np.exp(doc["residual_q05"]), rel=1e-6)  # XGBoost predicts in float32
    assert hi == pytest.approx(ms * np.exp(doc["residual_q95"]), rel=1e-6)
    assert doc["residual_q05"] < 0 < doc["residual_q95"]


def test_untrained_platform_names_the_trained_ones_and_the_fix():
    with pytest.raises(UnsupportedPlatformError) as err:
        hwaware.latency("resnet18", gpu="orin", estimator="netregress-xgb")
    msg = str(err.value)
    assert "Jetson AGX Orin" in msg and "TITAN RTX|pytorch|fp32|256" in msg and "train_netregress.py" in msg
    assert "\n" not in msg


def test_advice_fits_the_platform_and_a_useless_platform_warns():
    """On the CPU the error advised resperfnet-gpu or roofline, which refuse it; netregress-mlp on the Jetsons, its own
    CV error 41,058 %, answered without a warning (review helper-111)."""
    from hwaware.errors import ImplausibleEstimateWarning

    with pytest.raises(UnsupportedPlatformError, match=r"Use estimator='resperfnet' \(the CPU's\)"):
        hwaware.latency("resnet18", gpu="cpu", estimator="netregress-ols")
    doc = get_estimator("netregress-mlp").models_["Jetson AGX Xavier|pytorch|fp16|1"]
    assert doc["cv_mape"] > 1.0
    with pytest.warns(ImplausibleEstimateWarning, match=r"netregress-mlp's own cross-validated error on this platform "
                                                        r"is \d+ % \(29 networks\)"):
        hwaware.estimate("resnet18", gpu="agx", precision="fp16", estimator="netregress-mlp")
    assert get_estimator("netregress-mlp").models_[KEY]["cv_mape"] < 1.0
    said = hwaware.estimate("resnet18", gpu="titan_rtx", batch_size=256, input_size=32, estimator="netregress-mlp")
    assert not [w for w in said.warnings if "own cross-validated error" in w]


def test_cli_error_is_one_line(capsys):
    from hwaware.cli import main

    assert main(["latency", "resnet18", "--gpu", "orin", "--estimator", "netregress-ols"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwaware: error:") and "train_netregress.py" in err and "\n" not in err


RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "netregress.json"
KEY = "TITAN RTX|pytorch|fp32|256"


@pytest.mark.parametrize("family", ["ols", "xgb"])
def test_held_out_accuracy_nb201_titan_rtx_256(family):
    """The shipped weights, through the estimator on stored graphs, re-score the GPU_TEST networks that
    ``python scripts/train_netregress.py`` scored for this platform (``test_networks`` in benchmarks/results/
    netregress.json: a pinned list, whatever the stores hold now) and give its recorded figures. The weights must be
    the ones those figures came from (same data hash). Margin: 1e-6 relative (the same model on the same networks)."""
    import json

    from hwaware.datasets.gpu_tables import load_help
    from hwaware.evaluation.metrics import accuracy
    from hwaware.graph.transform import with_batch
    from hwaware.hardware import Platform
    from hwaware.estimators.netregress import weights_folder

    doc = json.loads(RESULTS.read_text())
    meta = json.loads((weights_folder() / "meta.json").read_text())
    assert meta["data_hash"] == doc["meta"]["data_hash"], "weights and benchmarks/results/netregress.json differ"
    rec = doc["platforms"][KEY]
    assert "test_networks" in rec, "netregress.json predates pinned test networks: re-run scripts/train_netregress.py"
    ms = {r.arch_id: r.ms for r in load_help("nb201") if r.gpu == "TITAN RTX" and r.batch == 256}
    store = load_store("nb201")
    graphs = [with_batch(stored_graph(store, a), 256) for a in rec["test_networks"]]
    pred = [e.total_ms for e in get_estimator(f"netregress-{family}").predict_many(
        graphs, Platform.resolve("titan_rtx", batch_size=256))]
    acc = accuracy(pred, [ms[a] for a in rec["test_networks"]])
    recorded = rec["families"][family]["test"]
    assert acc["n"] == recorded["n"]
    assert acc["mape"] == pytest.approx(recorded["mape"], rel=1e-6)
    assert acc["spearman"] == pytest.approx(recorded["spearman"], rel=1e-6)


def test_divergent_prediction_is_bounded_and_noted(tmp_path):
    """A model that explodes outside its training networks answers a decade beyond its trained range, warned (it was a
    note: helper-128's audit)."""
    import json

    from hwaware.estimators.netregress import ESTIMATORS, FEATURES, LOG10
    from hwaware.graph import capture
    from hwaware.hardware import Platform

    n = len(FEATURES)
    doc = {"mean": [0.0] * n, "scale": [1.0] * n, "coef": [100.0] * n, "intercept": 0.0, "residual_q05": -0.1,
           "residual_q95": 0.1, "cv_folds": 3, "cv_mape": 0.05, "n_train": 10, "log_ms_range": [0.0, 1.0]}
    (tmp_path / "ols.json").write_text(json.dumps({"features": list(FEATURES),
                                                   "platforms": {"TITAN RTX|pytorch|fp32|1": doc}}))
    est = ESTIMATORS["ols"](weights_dir=tmp_path).predict(capture("resnet18"), Platform.resolve("titan_rtx"))
    assert est.total_ms == pytest.approx(np.exp(1.0 + LOG10))
    assert [w.split(":")[0] for w in est.warnings] == ["outside the training domain"] and "clipped" in est.warnings[0]


@pytest.mark.parametrize("family", FAMILIES)
def test_a_network_beyond_the_training_features_warns_whatever_the_family(family):
    """helper-161: the random forest answered a lone ReLU at 8x8 on the GTX 1080 Ti 4.5 ms, unwarned (a tree gives a
    leaf's constant beyond its data, which no clip shows); networks the column trained on stay inside."""
    from hwaware.search import get_space
    from torch import nn

    from hwaware.estimators.netregress import outside_domain
    from hwaware.graph import capture

    name, relu = f"netregress-{family}", nn.Sequential(nn.ReLU())
    lone = hwaware.estimate(relu, gpu="1080ti", input_size=(3, 8, 8), estimator=name)
    assert [w.split(":")[0] for w in lone.warnings] == ["outside the training domain"], lone.warnings
    # the regressors clip their answer there (one warning says so), the trees answer a leaf's constant (helper-162)
    assert ("clipped" in lone.warnings[0]) == (family in ("ols", "mlp", "svr"))
    doc = get_estimator(name).models_["GeForce GTX 1080 Ti|pytorch|fp32|1"]
    assert "weighted_neurons 0, where" in outside_domain(feature_matrix([capture(relu, input_size=(3, 8, 8))])[0],
                                                          doc["feature_range"])
    space, rng = get_space("nb201"), random.Random(0)
    for arch in [space.default()] + [space.random_arch(rng) for _ in range(5)]:
        cell = hwaware.estimate(space.spec(arch), gpu="1080ti", estimator=name)
        assert not [w for w in cell.warnings if w.startswith("outside the training domain")], (arch, cell.warnings)


def test_an_answer_below_the_network_floor_is_warned_and_its_interval_reaches_the_floor():
    """netregress-ols answered VGG16 at batch 256 on the 2080 Ti in 0.71 ms (interval 0.69-0.73), no warning, where its
    convolutions' bytes alone take 128 ms at the DRAM bandwidth (helper-128's audit)."""
    import warnings

    import hwaware
    from hwaware.estimators.gpu_features import network_floor_ms
    from hwaware.graph import capture
    from hwaware.hardware import Platform

    graph = capture("torchvision:vgg16", batch_size=256)
    floor = network_floor_ms(graph, Platform.resolve("2080ti").device, "fp32", "pytorch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = hwaware.estimate(graph, gpu="2080ti", batch_size=256, estimator="netregress-ols")
        good = [hwaware.estimate(graph, gpu="2080ti", batch_size=256, estimator=e)
                for e in ("resperfnet-gpu", "roofline")]
    assert bad.total_ms < floor and bad.interval_ms[1] == floor
    assert [w for w in bad.warnings if w.startswith("physically implausible") and f"({floor:.4g} ms" in w]
    assert all(e.total_ms >= floor and not any("below the least time" in w for w in e.warnings) for e in good)


def test_the_warm_resperfnet_gpu_path_never_computes_the_network_floor(monkeypatch):
    """Its layers stop at their floors already; the check skipped it by looking for a positive floor_ms, which int8 on
    Pascal (no sourced rate) has none of, so ~50 platforms paid for the floor on every warm call (helper-129)."""
    import hwaware.api

    hwaware.latency("resnet18", gpu="1080ti", runtime="tensorrt", precision="int8")
    monkeypatch.setattr(hwaware.api, "network_floor_ms", lambda *a: pytest.fail("the floor was computed"))
    hwaware.latency("resnet18", gpu="1080ti", runtime="tensorrt", precision="int8")
    hwaware.latency("resnet18", gpu="2080ti")


def test_a_transformer_is_outside_the_netregress_domain():
    """The whole-network regressors learned on the GPU tables' CNNs; a ViT's features are nothing they saw, and its
    answer was silent: it is an error naming the estimator that warns instead."""
    from hwaware.errors import UnsupportedModelError

    with pytest.raises(UnsupportedModelError, match=r"netregress-xgb is trained on CNNs only.*aten\.bmm"):
        hwaware.estimate("vit_tiny_patch16_224", gpu="2080ti", estimator="netregress-xgb")
    assert hwaware.estimate("resnet18", gpu="2080ti", estimator="netregress-xgb").total_ms > 0
