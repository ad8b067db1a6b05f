"""GPU tables, exact re-batching, and the grouped splits every GPU figure is computed on."""
from __future__ import annotations

import math

import numpy as np
import pytest

import hwaware
from hwaware.datasets.gpu_tables import load_deepbench, load_help, load_timm_gpu, load_torch2trt
from hwaware.evaluation.splits import GroupKFold, GroupShuffleSplit, LeaveOneGroupOut, check_disjoint, layer_group, stable_unit
from hwaware.graph.transform import reshape_layer, with_batch
from hwaware.hardware.catalog import get_gpu


def test_help_tables_platforms_and_flags():
    nb = load_help("nb201")
    assert len({r.arch_id for r in nb}) == 15625
    assert {r.batch for r in nb} == {1, 32, 256}
    assert all(get_gpu(r.gpu).name == r.gpu for r in nb[:50])  # catalog names
    flagged = {(r.gpu, r.batch) for r in nb if r.flag}
    # the README's suspect columns, and no others
    assert flagged == {("GeForce GTX 1080 Ti", 1), ("TITAN Xp", 1), ("GeForce GTX 1080 Ti", 256),
                       ("TITAN X (Pascal)", 256), ("TITAN Xp", 256)}
    ofa = load_help("ofa_mbv3")
    assert {r.gpu for r in ofa} == {"GeForce RTX 2080 Ti", "TITAN RTX", "TITAN Xp"}
    assert ofa[0].arch["resolution"] == 204 and ofa[0].ms == pytest.approx(12.081937789916992)


def test_jetson_timm_and_deepbench_tables():
    t2t = load_torch2trt()
    assert len(t2t) == 2 * 47 and {r.runtime for r in t2t} == {"pytorch", "tensorrt"}
    assert {r.gpu for r in t2t} == {"Jetson Nano", "Jetson AGX Xavier"} and {r.precision for r in t2t} == {"fp16"}
    nano_r18 = [r for r in t2t if r.gpu == "Jetson Nano" and r.arch_id == "resnet18"]
    assert sorted(r.ms for r in nano_r18) == [11.4, 34.7]  # torch2trt's published row
    timm_rows = load_timm_gpu()
    assert {r.precision for r in timm_rows} == {"amp"} and min(r.batch for r in timm_rows) >= 1
    db = load_deepbench()
    assert {k.precision for k in db} == {"fp32", "fp16", "int8"}
    assert len({k.gpu for k in db}) == 8


def test_no_deepbench_gemm_beats_the_peak_floor():
    """The bound resperfnet-gpu puts under a GEMM's kernel time (:func:`peak_floor_ms`: datasheet peak, BOOST_HEADROOM
    above it where a part boosts beyond its rated clock, :func:`peak_headroom`) holds on every measured GEMM:
    DeepBench's dense layers and 1x1, strided (since 9.1: 171 rows) or dilated (none in DeepBench) convolutions on
    eight GPUs. The GTX 1080 Ti's fp32 GEMMs run 7 % above its datasheet peak (GPU Boost), inside the headroom; none on
    tensor cores above 0.90 of it (the shares an estimate's floor note quotes), none of the data-centre parts' above
    0.943."""
    from hwaware.estimators.gpu_features import (MEASURED_PEAK_SHARE, MEASURED_TENSOR_PEAK_SHARE, peak_floor_ms,
                                                 peak_headroom)
    from hwaware.evaluation.gpu_data import kernel_layer
    from hwaware.graph.transform import reshape_layer

    ratios = {}
    for k in load_deepbench():
        layer = kernel_layer(k)
        layer = reshape_layer(layer, layer.output_shapes[0][0], k.precision, from_precision="fp32")
        floor = peak_floor_ms(layer, get_gpu(k.gpu), k.precision)
        if floor > 0:
            ratios.setdefault((k.gpu, k.precision), []).append(k.ms / floor)
    # every GPU's fp32 GEMMs, fp16 where it has a native or tensor figure, int8 where the catalog has a tensor rate or,
    # from 9.5, by dp4a (the Pascal cards': 140 rows each)
    assert len(ratios) == 15 and sum(map(len, ratios.values())) == 2549 + 3 * 140
    assert {c for c in ratios if c[1] == "int8"} == {(g, "int8") for g in (
        "Tesla T4", "GeForce GTX 1080 Ti", "TITAN X (Pascal)", "TITAN Xp")}
    assert min(min(r) for r in ratios.values()) > 1.0
    closest = min(ratios, key=lambda c: min(ratios[c]))
    # since 9.2 the V100's fp32 GEMMs (no headroom: 1.06x the floor); with it, the 1080 Ti's (1.08x: 0.94 x 1.15)
    assert closest == ("Tesla V100 SXM2 16/32GB", "fp32") and min(ratios[closest]) == pytest.approx(1.06, abs=0.01)
    assert min(ratios[("GeForce GTX 1080 Ti", "fp32")]) == pytest.approx(1.076, abs=0.005)
    # the shares of the datasheet peak an estimate's floor note quotes: the fastest GEMM's, and on tensor cores
    share = {c: peak_headroom(get_gpu(c[0])) / min(r) for c, r in ratios.items()}
    # no headroom on the data-centre parts (9.2): their fastest GEMMs stay below their datasheet peak
    assert max(v for c, v in share.items() if not get_gpu(c[0]).boosts_beyond_rated) == pytest.approx(0.943, abs=0.001)
    # dp4a's rate (9.5): the fastest Pascal int8 GEMM at 0.96 of 4x the datasheet fp32 rate (TITAN Xp)
    dp4a = {c: v for c, v in share.items() if c[1] == "int8" and not get_gpu(c[0]).tensor_cores}
    assert max(dp4a, key=dp4a.get) == ("TITAN Xp", "int8") and max(dp4a.values()) == pytest.approx(0.961, abs=0.002)
    tensor = [c for c in share if c[1] != "fp32" and get_gpu(c[0]).tensor_cores]
    assert sorted(tensor) == [("Tesla T4", "fp16"), ("Tesla T4", "int8"), ("Tesla V100 SXM2 16/32GB", "fp16")]
    assert max(share.values()) == pytest.approx(MEASURED_PEAK_SHARE, abs=0.005)
    assert max(share[c] for c in tensor) == pytest.approx(MEASURED_TENSOR_PEAK_SHARE, abs=0.005)


def test_no_measured_network_beats_its_arithmetic():
    """Every measured network of the graph stores (HELP's, timm's CNN rows, torch2trt's) takes longer than its
    convolutions', dense layers' and matmuls' multiply-adds (as :func:`arithmetic_ms` counts them, here from the
    stores' layer counts) at its GPU's fastest datasheet rate (the closest, torch2trt's VGG16 on the
    Nano under TensorRT, at 1.29x): an answer below it warns ("faster than its arithmetic", helper-131), and this is
    what says such an answer is likely too fast, though Winograd could in principle allow it."""
    from hwaware.evaluation.gpu_data import load_store, store_key

    stores = {name: load_store(name) for name in ("nb201", "fbnet", "ofa_mbv3", "timm", "torchvision")}
    arithmetic = {"conv", "dense", "matmul"}
    ratios = []
    for rows in (load_help("nb201"), load_help("fbnet"), load_help("ofa_mbv3"), load_timm_gpu(), load_torch2trt()):
        for r in rows:
            key = store_key(r)
            store = next((st for st in stores.values() if key in st.nets), None)
            if store is None:
                continue
            rate = get_gpu(r.gpu).fastest_tflops(r.precision, tensor_cores=True)
            macs = sum(store.layers[j].macs * n for j, n in store.nets[key].counts.items()
                       if store.layers[j].kind.value in arithmetic)
            ratios.append((r.ms / (2 * macs * r.batch / (rate * 1e9)), r.gpu, r.arch_id))
    assert len(ratios) > 300_000
    closest = min(ratios)
    assert closest[0] == pytest.approx(1.286, abs=0.001) and closest[1:] == ("Jetson Nano", "vgg16_bn")
    with pytest.warns(hwaware.ImplausibleEstimateWarning):
        est = hwaware.estimate("torchvision:vgg16", gpu="a100", runtime="tensorrt", precision="fp32", batch_size=256)
    assert [w for w in est.warnings if w.startswith("faster than its arithmetic")]
    from hwaware.estimators.gpu_features import arithmetic_ms

    least = arithmetic_ms(hwaware.capture("torchvision:vgg16", batch_size=256), get_gpu("a100"), "fp32")
    assert est.total_ms < least <= est.interval_ms[1]  # widened to it (helper-132)
    assert not any(w.startswith("faster than its arithmetic")
                   for w in hwaware.estimate("torchvision:vgg16", gpu="a100", batch_size=256).warnings)


def test_no_measurement_beats_its_dram_floor():
    """The bound resperfnet-gpu puts under every kernel's time from version 8.1 (:func:`dram_floor_ms`: the bytes beyond
    twice the L2 at BOOST_HEADROOM x the datasheet DRAM bandwidth) holds on every measured kernel, DeepBench's on eight
    GPUs, and its sum on every network HELP, timm and torch2trt timed (their summed kernel floors, eager PyTorch's or
    TensorRT's kernels, against the measured whole). The closest kernels are the T4's fp16 GEMMs streaming a
    500,000-wide weight; the closest networks timm's AMP rows. A 1x1 convolution of stride 2 reads a quarter of its
    input: counted whole, DeepBench's on the T4 in fp16 would beat its floor (at 1/1.055 of it)."""
    from hwaware.estimators.gpu_features import BOOST_HEADROOM, dram_floor_ms
    from hwaware.estimators.resperfnet_gpu import DesignBuilder
    from hwaware.evaluation.gpu_data import build_design, help_samples, kernel_layer, timm_samples, torch2trt_samples

    ratios, strided = {}, []  # a list per kernel: DeepBench times some shapes more than once
    for k in load_deepbench():
        layer = kernel_layer(k)
        layer = reshape_layer(layer, layer.output_shapes[0][0], k.precision, from_precision="fp32")
        gpu = get_gpu(k.gpu)
        floor = dram_floor_ms(layer, gpu)
        if floor > 0:
            ratios.setdefault((k.gpu, k.precision, k.kind, str(k.dims)), []).append(k.ms / floor)
        if layer.attrs.get("stride", (1,))[0] > layer.attrs.get("kernel", (1,))[0]:  # the floor, input counted whole
            whole = layer.bytes_read + layer.bytes_written - 2 * gpu.l2_cache_mb * 2 ** 20
            strided.append(k.ms * gpu.memory_bandwidth_gbs * 1e6 * BOOST_HEADROOM / max(whole, 1.0))
    assert sum(map(len, ratios.values())) > len(ratios) > 2000 and min(map(min, ratios.values())) > 1.0
    closest = min(ratios, key=lambda key: min(ratios[key]))
    assert closest[:3] == ("Tesla T4", "fp16", "dense") and "500000" in closest[3]
    # the stride rule is what keeps that convolution above its floor
    assert sum(r < 1.0 for r in strided) == 1 and min(strided) == pytest.approx(1 / 1.055, abs=0.005)

    samples = timm_samples() + torch2trt_samples() + help_samples()
    builder = DesignBuilder()
    design = build_design(samples, builder=builder)
    dram = np.array([dram_floor_ms(l, get_gpu(key[1])) for key, l in zip(builder.rows, builder.layers)])
    share = design.per_sample(dram) / design.y
    assert len(share) == len(samples) and share.max() < 1.0
    assert samples[int(share.argmax())].column.startswith("timm") and share.max() > 0.5
    # both floors as predictions take them (the larger per kernel; exp(-inf) = 0 where neither binds)
    both = design.per_sample(np.exp(design.log_floor)) / design.y
    assert (both >= share * (1 - 1e-5)).all() and both.max() < 1.0  # log_floor is float32


@pytest.mark.parametrize("model", ["resnet18", "mobilenetv3_small_100", "torchvision:densenet121"])
def test_with_batch_equals_a_fresh_capture(model):
    one = hwaware.capture(model)
    for batch, precision in ((4, "fp32"), (3, "fp16")):
        fresh = hwaware.capture(model, batch_size=batch, precision=precision)
        moved = with_batch(one, batch, precision)
        assert [l.as_dict() for l in moved.layers] == [l.as_dict() for l in fresh.layers]


def test_a_graph_that_folds_the_batch_moves_from_a_larger_batch():
    """ConvNeXt runs its dense layers on ``(B*H*W, C)`` views: captured at batch 8, every fold is a multiple of 8 and
    moves exactly to batches 1, 2 and 32 (resperfnet-gpu checks a batch's answer with such moves); captured at batch 1
    a fold cannot be told from a batch and moving is refused, as is a graph whose folded dimension is not a multiple
    of its batch, or a computing layer whose operands lead with different multiples of it."""
    from dataclasses import replace

    eight = hwaware.capture("convnext_tiny", batch_size=8)
    assert any(l.output_shapes[0][0] == 8 * 56 * 56 for l in eight.layers)  # a folded view is there
    for batch in (1, 2, 32):
        fresh = hwaware.capture("convnext_tiny", batch_size=batch)
        assert [l.as_dict() for l in with_batch(eight, batch).layers] == [l.as_dict() for l in fresh.layers]
    with pytest.raises(ValueError, match="capture the model again at batch 2"):
        with_batch(hwaware.capture("convnext_tiny"), 2)
    i = next(i for i, l in enumerate(eight.layers) if l.output_shapes[0][0] == 8 * 56 * 56)
    odd = replace(eight.layers[i], output_shapes=((8 * 56 * 56 + 4, 96),))
    with pytest.raises(ValueError, match="does not carry the batch"):
        with_batch(replace(eight, layers=[*eight.layers[:i], odd, *eight.layers[i + 1:]]), 1)
    # a change of precision alone keeps a folded layer's shapes (7.4 moved it to one row, its own first dimension
    # taken for the batch): at batch 1, as the fallback TensorRT engines and eager bounds of a fp16 answer ask
    one, half = hwaware.capture("convnext_tiny"), hwaware.capture("convnext_tiny", precision="fp16")
    j = next(j for j, l in enumerate(one.layers) if l.op == "aten.addmm")
    assert one.layers[j].input_shapes == ((56 * 56, 96),)
    moved = reshape_layer(half.layers[j], 1, "fp32", from_precision="fp16", from_batch=1)
    assert moved.as_dict() == one.layers[j].as_dict()
    # a computing layer whose operands lead with different multiples of 8 (a second operand of 16 rows, as an
    # attention bias of 16 heads would be): one of them may not carry the batch, so it is refused, not guessed
    dense = eight.layers[i + 1]
    assert dense.op == "aten.addmm" and dense.input_shapes[0][0] == 8 * 56 * 56
    mixed = replace(dense, input_shapes=(*dense.input_shapes, (16, 96)))
    with pytest.raises(ValueError, match="does not carry the batch"):
        with_batch(replace(eight, layers=[*eight.layers[:i + 1], mixed, *eight.layers[i + 2:]]), 1)


def _store_folds() -> list[str]:
    """The timm store's networks with a kernel whose activations lead with ``d != 1`` at batch 1 (a fold)."""
    from hwaware.datasets.graph_store import load_store

    store = load_store("timm")
    return sorted(k for k, n in store.nets.items()
                  if any({s[0] for s in [*store.layers[i].input_shapes, *store.layers[i].output_shapes]} != {1}
                         for i in n.counts))


def test_the_timm_store_has_folded_kernels():
    """ConvNeXt/V2, MambaOut, MLP-Mixer, ResMLP, gMLP and SwiftFormer keep their dense layers on folded views: the
    parametrised check below must have them to check (42 networks at the store of resperfnet-gpu 8, 38 of them
    in timm's rows)."""
    folds = _store_folds()
    assert len(folds) == 42 and any(k.startswith("convnext_tiny@") for k in folds)
    # a new capture of such a network is stored too (views are not; before version 8 ``add`` refused it for them),
    # and a kernel whose operands lead with different dimensions is still refused
    from dataclasses import replace

    from hwaware.datasets.graph_store import GraphStore

    store, graph = GraphStore("timm"), hwaware.capture("convnext_tiny")
    store.add("convnext_tiny@224", graph, {})
    assert store.nets["convnext_tiny@224"].macs == graph.macs
    i = next(i for i, l in enumerate(graph.layers) if l.op == "aten.addmm")
    odd = replace(graph.layers[i], input_shapes=(*graph.layers[i].input_shapes, (16, 96)))
    with pytest.raises(ValueError, match="cannot be re-batched"):
        store.add("odd@224", replace(graph, layers=[*graph.layers[:i], odd, *graph.layers[i + 1:]]), {})


@pytest.mark.parametrize("arch_id", _store_folds())
def test_a_stored_network_moves_to_batch_2_at_a_captures_costs(arch_id):
    """The store keeps kernels only, at batch 1: a kernel leading with ``d != 1`` moves as a fold of ``d`` rows per
    image (``DesignBuilder.add`` moves a network's layers with ``from_batch=1``), which a capture at batch 2 confirms
    cost by cost. Costs, not shapes: some kernels are another op there (an MLP-Mixer's token ``mm`` on ``(1024, 49)``
    is a ``bmm`` on ``(2, 512, 49)`` in a capture at batch 2, the same multiply-adds and bytes), so the rows a model
    reads of them differ a little from a user's capture at that batch. Before
    resperfnet-gpu 8 the fold's ``d`` was taken for the batch: convnext_tiny's ``(3136, 96)`` dense layer became
    ``(2, 96)``, and every such network in timm's rows trained and was scored that way."""
    from collections import Counter

    from hwaware.datasets.graph_store import load_store

    store = load_store("timm")
    net = store.nets[arch_id]
    costs = lambda l: (l.kind, l.macs, l.flops, l.bytes_read, l.bytes_written)  # noqa: E731
    moved = Counter()
    for i, c in net.counts.items():
        moved[costs(reshape_layer(store.layers[i], 2, "fp32", from_precision="fp32", from_batch=1))] += c
    fresh = hwaware.capture(arch_id.split("@")[0], input_size=net.input_shape, batch_size=2)
    assert moved == Counter(costs(l) for l in fresh.kernels())


def test_a_timm_row_of_a_folding_network_trains_on_its_batchs_macs():
    """The design a timm row trains on (``build_design``, as ``scripts/train_gpu.py``) carries the batch's MACs for a
    network that folds the batch (resperfnet-gpu 7 trained convnext rows on about a thousandth of them)."""
    from hwaware.datasets.graph_store import load_store
    from hwaware.evaluation.gpu_data import build_design, timm_samples

    store = load_store("timm")
    rows = [s for s in timm_samples() if s.net.arch_id in ("convnext_tiny@384", "resnet18@224")]
    assert {s.net.arch_id for s in rows} == {"convnext_tiny@384", "resnet18@224"}
    design = build_design(rows, prediction_rules=False)
    for i, s in enumerate(rows):
        lo, hi = design.indptr[i], design.indptr[i + 1]
        total = float(np.sum(design.counts[lo:hi] * design.macs[design.indices[lo:hi]]))
        assert total == pytest.approx(s.net.batch * store.nets[s.net.arch_id].macs, rel=1e-6), s.net.arch_id


def test_derived_graphs_are_reused_only_for_the_same_graph_and_layers():
    import gc
    from dataclasses import replace

    from hwaware.graph import transform

    one = hwaware.capture("resnet18")
    built = []

    def build(g):
        built.append(g)
        return with_batch(g, 2)

    first = transform.derived(one, "b2", build)
    assert transform.derived(one, "b2", build) is first and len(built) == 1
    assert [l.as_dict() for l in first.layers] == [l.as_dict() for l in with_batch(one, 2).layers]
    transform.derived(one, "other", build)
    assert len(built) == 2  # another key is another graph
    twin = replace(one)  # equal, but another object: its own entry
    transform.derived(twin, "b2", build)
    assert len(built) == 3
    one.layers[3] = replace(one.layers[3])  # a graph whose layers changed in place is re-derived
    second = transform.derived(one, "b2", build)
    assert second is not first and len(built) == 4
    for n in (5, 6):  # replaced twice between calls: the second may sit at the freed address of the one seen
        one.layers[3] = replace(one.layers[3])
        one.layers[3] = replace(one.layers[3])
        second = transform.derived(one, "b2", build)
        assert len(built) == n
    one.name = "renamed"  # the graph's own fields count too
    assert transform.derived(one, "b2", build).name == "renamed" and len(built) == 7
    for i in range(transform.DERIVED_KEPT + 1):  # bounded: the oldest entries go
        transform.derived(twin, ("k", i), lambda g: replace(g, name=g.name + "'"))
    assert len(transform._derived) == transform.DERIVED_KEPT
    assert (id(one), "b2") not in transform._derived and (id(twin), ("k", 0)) not in transform._derived
    ref = transform._derived[(id(twin), ("k", 1))][0]
    del twin, built  # build() saw it
    gc.collect()
    assert ref() is None  # an entry never keeps its graph alive


def test_warm_predictions_equal_cold_ones_at_every_batch_precision_and_runtime():
    from hwaware.graph import transform

    graph = hwaware.capture("torchvision:squeezenet1_1")
    asks = [(b, p, r) for b in (1, 4) for p in ("fp32", "fp16") for r in ("pytorch", "tensorrt")]
    warm = [hwaware.latency(graph, gpu="agx", batch_size=b, precision=p, runtime=r) for b, p, r in asks * 2]
    assert warm[:len(asks)] == warm[len(asks):]
    transform._derived.clear()
    cold = [hwaware.latency(hwaware.capture("torchvision:squeezenet1_1", batch_size=b, precision=p), gpu="agx",
                            batch_size=b, precision=p, runtime=r) for b, p, r in asks]
    assert warm[:len(asks)] == pytest.approx(cold, rel=1e-9)
    assert len(set(cold)) == len(asks)  # every ask is a different answer: no entry answered another


def test_stable_unit_is_the_same_in_every_process():
    # Python's str hash is salted per process (PYTHONHASHSEED); a split must not depend on it
    import os
    import subprocess
    import sys

    code = "from hwaware.evaluation.splits import stable_unit; print(repr(stable_unit('nb201:0')))"
    values = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert values == {repr(stable_unit("nb201:0"))}
    assert stable_unit("nb201:0", seed=0) != stable_unit("nb201:0", seed=1)


def test_splits_are_grouped_and_disjoint():
    items = [(g, i) for g in range(200) for i in range(3)]  # 200 groups of 3 rows
    split = GroupShuffleSplit(lambda x: str(x[0]), test_share=0.25)
    tr, te = split.split(items)
    check_disjoint([str(items[i][0]) for i in tr], [str(items[i][0]) for i in te])
    assert 0.15 < len(te) / len(items) < 0.35
    seen = []
    for tr, te in GroupKFold(lambda x: str(x[0]), n_splits=4).split(items):
        check_disjoint([str(items[i][0]) for i in tr], [str(items[i][0]) for i in te])
        seen += list(te)
    assert sorted(seen) == list(range(len(items)))  # every row tested exactly once
    groups = [g for g, _, _ in LeaveOneGroupOut(lambda x: str(x[0] % 5)).split(items)]
    assert groups == ["0", "1", "2", "3", "4"]
    with pytest.raises(AssertionError):
        check_disjoint(["a", "b"], ["b"])


def test_layer_group_ignores_batch_only():
    g1, g4 = hwaware.capture("resnet18"), hwaware.capture("resnet18", batch_size=4)
    assert [layer_group(l) for l in g1.layers] == [layer_group(l) for l in g4.layers]
    other = hwaware.capture("resnet18", input_size=(3, 192, 192))
    assert layer_group(g1.layers[0]) != layer_group(other.layers[0])
    assert len({layer_group(l) for l in g1.layers}) < len(g1.layers)  # repeated blocks share a group
    assert isinstance(np.float64(stable_unit("x")), np.floating)


def test_api_re_batches_a_captured_graph_exactly():
    one = hwaware.capture("resnet18")
    fresh = hwaware.estimate("resnet18", gpu="2080ti", batch_size=4, precision="fp16", estimator="roofline")
    moved = hwaware.estimate(one, gpu="2080ti", batch_size=4, precision="fp16", estimator="roofline")
    assert moved.total_ms == fresh.total_ms


def test_gpu_split_shares_and_torch2trt_rule():
    """Every network group lands in exactly one of train / val / test, in about the declared shares; torch2trt rows
    always train (the data README: calibrate on them, never report accuracy on them) and no timm row of their
    families is tested; a torchvision model is in its timm twin's family."""
    from hwaware.evaluation.gpu_data import deepbench_samples, timm_samples, torch2trt_samples
    from hwaware.evaluation.splits import GPU_TEST, GPU_VAL, always_train_groups, gpu_sample_group, split_gpu_samples

    samples = deepbench_samples() + torch2trt_samples() + timm_samples()
    train, val, test = split_gpu_samples(samples)
    assert len(train) + len(val) + len(test) == len(samples)
    groups = [{gpu_sample_group(s) for s in part} for part in (train, val, test)]
    assert not (groups[0] & groups[1]) and not (groups[0] & groups[2]) and not (groups[1] & groups[2])
    kernels = [s for s in samples if s.kernel is not None]
    share = lambda part: sum(1 for s in part if s.kernel is not None) / len(kernels)  # noqa: E731
    assert 0.1 < share(test) < 0.3 and 0.06 < share(val) < 0.2  # 20 % and 15 % of the remaining 80 %
    assert all(s.net.table == "torch2trt" or s.net.space == "timm" for s in test if s.net is not None)
    assert not any(s.net.table == "torch2trt" for s in val + test if s.net is not None)
    assert not {gpu_sample_group(s) for s in test} & always_train_groups()
    assert len({gpu_sample_group(s) for s in test if s.net is not None}) >= 3  # timm families are still tested
    for s in samples:
        if s.net is not None and s.net.table != "torch2trt":
            group = gpu_sample_group(s)
            assert (s in test) == (GPU_TEST.is_test(group) and group not in always_train_groups())
    assert GPU_VAL.test_share == 0.15 and GPU_TEST.test_share == 0.2
    twins = {r.net.arch_id: gpu_sample_group(r) for r in samples if r.net is not None}
    timm = {r.net.arch["model"]: gpu_sample_group(r) for r in samples if r.net is not None and r.net.space == "timm"}
    assert twins["mnasnet1_0"] == timm["mnasnet_100"] and twins["mobilenet_v2"] == timm["mobilenetv2_075"]
    assert twins["resnet18"] == timm["resnet18"]
    assert len({twins[m] for m in ("shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5")}) == 1


def _layer(kind, op, ins, outs, attrs=None, read=0, written=0):
    from hwaware.graph.layer import Layer

    return Layer(0, kind, op, "m", ins, outs, attrs or {}, 0, 0, 0, read, written)


def test_the_dram_floor_by_hand():
    """:func:`dram_floor_ms` against figures worked out by hand on a toy GPU (1 MB of L2, 1,000 GB/s: a byte beyond
    2 MiB costs 1 / (1e9 x BOOST_HEADROOM) ms): a broadcast add reads its largest input only, a 1x1 stride-2 window a
    quarter of its input, so does a 3x3 one dilated by 2 (its taps fall on even positions only; since 8.2), a padded
    pooling window what its taps reach (since 8.2), a padded 3x3 stride-1 or dilated stride-1 window all of it, an
    ONNX import's add as a capture's, a copy, a reduction or a broadcast matmul no floor, and a GPU without an L2
    figure none."""
    import dataclasses

    from hwaware.estimators.gpu_features import BOOST_HEADROOM, dram_floor_ms
    from hwaware.graph.layer import LayerKind as K

    gpu = dataclasses.replace(get_gpu("t4"), l2_cache_mb=1.0, memory_bandwidth_gbs=1000.0)
    per_byte, l2 = 1 / (1e9 * BOOST_HEADROOM), 2 * 2 ** 20
    n = 4 * 2 ** 20  # elements of a (4, 1024, 1024) fp32 tensor: 16 MiB
    big, row = (4, 1024, 1024), (1, 1, 1024)
    add = _layer(K.ELEMENTWISE, "aten.add", (big, row), (big,), read=4 * (n + 1024), written=4 * n)
    assert dram_floor_ms(add, gpu) == pytest.approx((8 * n - l2) * per_byte)
    onnx_add = dataclasses.replace(add, op="onnx.Add", attrs={"aten_op": "add"})
    assert dram_floor_ms(onnx_add, gpu) == dram_floor_ms(add, gpu)
    image, half = (1, 64, 256, 256), (1, 64, 128, 128)  # 16 MiB in fp32, a quarter of it out
    conv = _layer(K.CONV, "aten.convolution", (image,), (half,), {"kernel": (1, 1), "stride": (2, 2)},
                  read=4 * 64 * 256 * 256 + 4 * 64 * 64, written=4 * 64 * 128 * 128)
    assert dram_floor_ms(conv, gpu) == pytest.approx((4 * (64 * 64 + 2 * 64 * 128 * 128) - l2) * per_byte)
    taps = {"kernel": (3, 3), "stride": (2, 2), "dilation": (2, 2), "padding": (2, 2)}
    dilated = dataclasses.replace(conv, attrs=taps, bytes_read=4 * 64 * 256 * 256 + 4 * 64 * 64 * 9)
    assert dram_floor_ms(dilated, gpu) == pytest.approx((4 * (9 * 64 * 64 + 2 * 64 * 128 * 128) - l2) * per_byte)
    grid, pooled = (16, 4096, 8, 8), (16, 4096, 2, 2)  # 16 MiB in, 1 MiB out; 3-wide windows 4 apart, 1 padded:
    window = {"kernel": (3, 3), "stride": (4, 4), "padding": (1, 1)}  # rows 0, 1, 3, 4, 5 of 8 read (6 unpadded)
    pool = _layer(K.POOL, "aten.max_pool2d", (grid,), (pooled,), window, read=4 * math.prod(grid),
                  written=4 * math.prod(pooled))
    want = 4 * (math.prod(grid) * 25 / 64 + math.prod(pooled)) - l2
    assert dram_floor_ms(pool, gpu) == pytest.approx(want * per_byte)
    for stride, dilation in ((1, 1), (1, 2)):  # padded so every output position has a window: the whole input
        same = _layer(K.CONV, "aten.convolution", (image,), (image,), {
            "kernel": (3, 3), "stride": (stride,) * 2, "dilation": (dilation,) * 2, "padding": (dilation,) * 2},
            read=4 * (64 * 256 * 256 + 9 * 64 * 64), written=4 * 64 * 256 * 256)
        assert dram_floor_ms(same, gpu) == pytest.approx((4 * (9 * 64 * 64 + 2 * 64 * 256 * 256) - l2) * per_byte)
    for kind, op in ((K.COPY, "aten.index_select"), (K.REDUCE, "aten.sum"), (K.DENSE, "aten.bmm"),
                     (K.ELEMENTWISE, "aten.eq")):
        assert dram_floor_ms(_layer(kind, op, (big,), (big,), read=8 * n, written=4 * n), gpu) == 0.0
    assert dram_floor_ms(add, dataclasses.replace(gpu, l2_cache_mb=None)) == 0.0
    small = _layer(K.ACTIVATION, "aten.relu", (row,), (row,), read=4096, written=4096)
    assert dram_floor_ms(small, gpu) == 0.0  # fits in L2


def test_every_timm_row_trains_on_the_form_its_run_timed():
    """A timm row's network is the stored form (fused or train-time) whose parameter count its table publishes: the
    RTX 3090's pt240 run timed reparameterizable models unfused (MobileOne-S1 4.83 M with its branches, 4.76 M fused;
    it was predicted 0.50x of its time on the fused graph), the pt291 runs fused. Before the unfused forms were
    stored, 15 pt240 rows trained or were scored on the fused graph; rows whose network matches no form within 1 % of
    its run's (another timm version's GhostNetV3, FastViT-T8) are left out."""
    from hwaware.datasets.graph_store import PARAMS_MATCH, UNFUSED, load_store, store_key, timm_unfused_runs
    from hwaware.evaluation.gpu_data import sample_layers, timm_samples

    nets = load_store("timm").nets
    assert timm_unfused_runs() == {("timm-pt240", "GeForce RTX 3090")}
    samples = timm_samples()
    for s in samples:
        published, stored = s.net.arch["param_count_m"], nets[store_key(s.net)].params / 1e6
        assert abs(stored - published) <= PARAMS_MATCH * published, (s.net.table, s.net.arch_id, published, stored)
    unfused = {(s.net.gpu, s.net.arch_id) for s in samples if store_key(s.net).endswith(UNFUSED)}
    assert len(unfused) == 15 and {g for g, _ in unfused} == {"GeForce RTX 3090"}
    # what the designs read: the unfused network's layers for the 3090's row, the fused one's for the 4090's
    for gpu, key in (("GeForce RTX 3090", "mobileone_s1@224" + UNFUSED), ("GeForce RTX 4090", "mobileone_s1@224")):
        row = next(s for s in samples if s.net.gpu == gpu and s.net.arch_id == "mobileone_s1@224")
        assert sum(layer.macs * c for _, layer, c in sample_layers(row)) == nets[key].macs
    assert nets["mobileone_s1@224" + UNFUSED].macs > nets["mobileone_s1@224"].macs
    left_out = {(r.gpu, r.arch_id) for r in load_timm_gpu() if r.arch_id in nets and store_key(r) is None}
    assert left_out == {(g, a) for g in ("GeForce RTX 4090", "RTX PRO 6000 Blackwell Max-Q")
                        for a in ("ghostnetv3_050@224", "ghostnetv3_160@224", "fastvit_t8@256")}


def test_a_reparameterizable_model_is_captured_in_either_form():
    """``build_timm`` fuses by default (as deployed, what ``hwaware.latency("mobileone_s1")`` answers); the train-time
    form keeps its branches: more parameters (BN and branch weights), multiply-adds and kernels. The store's
    train-time entry is that capture's."""
    from hwaware.datasets.graph_store import UNFUSED, load_store
    from hwaware.graph.sources import build_timm, reparameterizable

    unfused = build_timm("mobileone_s1", fused=False)
    assert reparameterizable(unfused) and not reparameterizable(build_timm("resnet18"))
    a, b = hwaware.capture("mobileone_s1"), hwaware.capture(unfused, input_size=(3, 224, 224))
    assert b.total_params > a.total_params and b.macs > a.macs and len(b.kernels()) > 2 * len(a.kernels())
    stored = load_store("timm").nets["mobileone_s1@224" + UNFUSED]
    assert (stored.params, stored.macs) == (b.total_params, b.macs)


def test_splitters_refuse_what_cannot_split_and_take_scikit_learns_arguments():
    """helper-115: n_splits 0, 1 or 2.5 yielded nothing, trained on nothing or raised a TypeError; a test share of 1.5
    held out everything; a group under two parents was split under both; sklearn's split(X, y, groups) and
    get_n_splits were missing."""
    from sklearn.model_selection import cross_val_score
    from sklearn.linear_model import LinearRegression

    from hwaware.errors import InvalidArgumentError
    from hwaware.evaluation.splits import GroupShuffleSplitWithin

    for n in (0, 1, -2, 2.5, True):
        with pytest.raises(InvalidArgumentError, match="n_splits must be an integer of at least 2"):
            GroupKFold(str, n)
    for share in (0, 1, 1.5, -1, "0.2"):
        with pytest.raises(InvalidArgumentError, match="test_share"):
            GroupShuffleSplit(str, share)
    within = GroupShuffleSplitWithin(lambda x: x[0], lambda x: x[1])
    with pytest.raises(InvalidArgumentError, match="group 'a' belongs to two parents"):
        within.split([("a", "p"), ("b", "p"), ("a", "q")])
    items = list(range(40))
    groups = [f"g{i % 13}" for i in items]
    kfold = GroupKFold(lambda i: groups[i], n_splits=3)
    assert kfold.get_n_splits() == 3
    ours = [(list(a), list(b)) for a, b in kfold.split(items)]
    assert [(list(a), list(b)) for a, b in kfold.split(items, None, groups)] == ours  # the keys given are the same
    x, y = np.arange(40.0)[:, None], np.arange(40.0) * 2
    assert len(cross_val_score(LinearRegression(), x, y, groups=groups, cv=kfold)) == 3
    with pytest.raises(InvalidArgumentError, match="groups has 2 keys for 40 items"):
        list(kfold.split(items, None, ["a", "b"]))
    assert LeaveOneGroupOut(lambda i: groups[i]).get_n_splits(items) == 13
