"""The NAS-space builders reproduce the published parameter and MAC counts of the HELP architectures; NB201, FBNet and
OFA graphs assembled without a build or a trace equal whole-network captures."""
import ast
import csv
import random
from collections import Counter

import pytest

from hwaware import zoo
from hwaware.errors import InvalidArgumentError, ModelNotFoundError
from hwaware.graph import Graph, capture
from hwaware.runtime.tensorrt import fuse
from hwaware.zoo.nb201 import DATASETS, OPS, build_nb201, nb201_graph


def _rows(shared_data, name, n, seed=0):
    with open(shared_data / "archspecs" / name, newline="") as f:
        rows = list(csv.DictReader(f))
    return random.Random(seed).sample(rows, n)


def test_nb201_matches_all_three_dataset_variants(shared_data):
    for row in _rows(shared_data, "nb201_all_params_macs.csv", 40):
        for dataset, p, m in (("cifar10", "params_c10", "macs_c10_32x32"), ("cifar100", "params_c100", "macs_c100_32x32"),
                              ("ImageNet16-120", "params_in16_120cls", "macs_in16_120cls_16x16")):
            g = capture(zoo.build("nb201", arch=row["arch_str"], dataset=dataset))
            assert (g.total_params, g.macs) == (int(row[p]), int(row[m])), (row["nb201_index"], dataset)


def test_fbnet_matches(shared_data):
    for row in _rows(shared_data, "fbnet_all_params_macs.csv", 60):
        g = capture(zoo.build("fbnet", ops=ast.literal_eval(row["op_idx_list"])))
        assert (g.total_params, g.macs) == (int(row["params_cifar100"]), int(row["macs_cifar100_32x32"])), row["idx"]


def test_ofa_matches(shared_data):
    with open(shared_data / "wholenet" / "help" / "ofa_mbv3_latency_ms.csv", newline="") as f:
        archs = {r["idx"]: r for r in csv.DictReader(f)}
    for row in _rows(shared_data, "ofa_all_params_macs.csv", 30):
        a = archs[row["idx"]]
        net = zoo.build("ofa_mbv3", ks=ast.literal_eval(a["ks"]), e=ast.literal_eval(a["e"]), d=ast.literal_eval(a["d"]),
                        resolution=int(a["r"]))
        g = capture(net)
        assert (g.total_params, g.macs) == (int(row["params"]), int(row["macs_at_r"])), row["idx"]


def test_nb201_kernel_level_details():
    # 'none' edges are a real multiply and node sums start from 0 (eager PyTorch, archspecs §1.3)
    g = capture(zoo.build("nb201", arch="|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
    muls = [l for l in g.layers if l.op == "aten.mul"]
    assert len(muls) == 15 * 6


@pytest.mark.parametrize("name,kwargs", [
    ("nb201", {"arch": "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"}),
    ("fbnet", {"ops": [0] * 21}),
    ("ofa_mbv3", {"ks": [3] * 20, "e": [3] * 20, "d": [5] * 5}),
])
def test_bad_architectures_are_rejected(name, kwargs):
    with pytest.raises(InvalidArgumentError):
        zoo.build(name, **kwargs)
    with pytest.raises(ModelNotFoundError, match="available"):
        zoo.build("darts")


def _arch(ops: list[str]) -> str:
    return f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"


def _same_graph(a: Graph, b: Graph) -> bool:
    """Every field of every layer (index, module, shapes, attrs, params, costs, inputs) and of the graph."""
    fields = lambda g: (g.name, g.input_shape, g.precision, g.total_params, g.source, g.skipped, g.notes)  # noqa: E731
    return a.layers == b.layers and fields(a) == fields(b)


def test_nb201_graph_equals_whole_network_capture(monkeypatch):
    monkeypatch.setenv("HWAWARE_GRAPH_CACHE", "0")  # the comparison traces every network
    rng = random.Random(0)
    archs = [_arch([op] * 6) for op in OPS] + [_arch([rng.choice(OPS) for _ in range(6)]) for _ in range(50)]
    datasets = list(DATASETS)
    for i, arch in enumerate(archs):
        dataset = datasets[i % len(datasets)]
        assert _same_graph(nb201_graph(arch, dataset), capture(build_nb201(arch, dataset))), (arch, dataset)
    for arch, batch, precision in ((archs[7], 4, "fp16"), (archs[8], 3, "bf16"), (archs[1], 8, "fp32")):
        assert _same_graph(nb201_graph(arch, "cifar100", batch_size=batch, precision=precision),
                           capture(build_nb201(arch, "cifar100"), batch_size=batch, precision=precision))


def test_nb201_graph_gives_tensorrt_fusion_the_same_layers():
    # fuse() follows `inputs`: the assembled graph's producers must be the captured ones
    for arch in (_arch(["nor_conv_3x3", "skip_connect", "none", "nor_conv_1x1", "avg_pool_3x3", "skip_connect"]),
                 _arch(["skip_connect"] * 6)):
        assert fuse(nb201_graph(arch)).layers == fuse(capture(build_nb201(arch))).layers


@pytest.mark.parametrize("name", ["fbnet", "ofa_mbv3"])
def test_chain_graph_equals_whole_network_capture(name, monkeypatch):
    from hwaware.search import get_space
    from hwaware.zoo.spaces import ModelSpace

    monkeypatch.setenv("HWAWARE_GRAPH_CACHE", "0")  # the comparison traces every network
    space, rng = get_space(name), random.Random(0)
    archs = [space.random_arch(rng) for _ in range(25)]
    if name == "fbnet":  # every op at every position, the skip (an identity where shapes allow) among them
        archs += [{"ops": [op] * 22} for op in range(9)]
    else:  # the smallest and largest inputs, every depth at once
        archs += [{**space.default(), "resolution": r, "d": [d] * 5} for r, d in ((128, 2), (224, 4))]
    for arch in archs:
        assert _same_graph(space.graph(arch), ModelSpace.graph(space, arch)), arch
    for arch, batch, precision in ((archs[1], 4, "fp16"), (archs[2], 3, "bf16"), (archs[3], 64, "fp32")):
        assert _same_graph(space.graph(arch, batch_size=batch, precision=precision),
                           ModelSpace.graph(space, arch, batch_size=batch, precision=precision))
    # fuse() follows `inputs`: the assembled graph's producers must be the captured ones
    assert fuse(space.graph(archs[0])).layers == fuse(ModelSpace.graph(space, archs[0])).layers


def test_chain_graphs_made_in_threads_equal_whole_captures(monkeypatch):
    # a search's worker threads: the module-name hooks are global, and another thread's forwards once named this
    # trace's layers (helper-157: an assembly's frame check then failed, and the pieces kept the wrong names)
    from concurrent.futures import ThreadPoolExecutor

    from hwaware.search import get_space
    from hwaware.zoo import chain
    from hwaware.zoo.spaces import ModelSpace

    monkeypatch.setattr(chain, "_pieces", {})
    monkeypatch.setattr(chain, "_frames", {})
    monkeypatch.setenv("HWAWARE_GRAPH_CACHE", "0")
    fbnet, other, rng = get_space("fbnet"), get_space("mobilenetv3"), random.Random(11)
    jobs = [job for _ in range(8) for job in ((fbnet, fbnet.random_arch(rng), True), (other, other.random_arch(rng),
                                                                                        False))]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda j: j[0].graph(j[1]) if j[2] else ModelSpace.graph(j[0], j[1]), jobs))
    for g, (space, arch, _) in zip(got, jobs):
        assert _same_graph(g, ModelSpace.graph(space, arch)), arch


def test_a_chain_space_of_ones_own_gets_its_own_network():
    # frames are the space class's; a builder that makes other blocks than _blocks says is traced whole
    from hwaware.zoo.fbnet import FBNet
    from hwaware.zoo.spaces import FBNetSpace, ModelSpace

    class TenClasses(FBNetSpace):
        def _build(self, arch):
            return FBNet(arch["ops"], num_classes=10)

    class Shifted(FBNetSpace):
        def _build(self, arch):
            return FBNet([(op + 1) % 9 for op in arch["ops"]])

    class Classes(FBNetSpace):  # a setting of the instance's
        def __init__(self, n):
            self.n = n

        def _build(self, arch):
            return FBNet(arch["ops"], num_classes=self.n)

    arch = FBNetSpace().random_arch(random.Random(3))
    FBNetSpace().graph(arch)
    for space in (TenClasses(), Shifted(), Classes(10), Classes(1000)):
        assert _same_graph(space.graph(arch), ModelSpace.graph(space, arch)), type(space).__name__


def test_a_frame_is_refused_where_its_blocks_hold_more_than_its_reference(monkeypatch):
    # the frame's parameters and skipped ops are the reference's minus its blocks': a reference that counts fewer
    # than its blocks would give every assembly negative stem-and-head parameters (once accepted: its own totals
    # came back by construction)
    from dataclasses import replace

    from hwaware.zoo import chain
    from hwaware.zoo.spaces import FBNetSpace, ModelSpace

    monkeypatch.setattr(chain, "_frames", {})
    space, arch = FBNetSpace(), FBNetSpace().random_arch(random.Random(2))
    whole = ModelSpace.graph(space, space.default())
    blocks = lambda: space._blocks(space.default())  # noqa: E731
    for key, told in (("fewer params", replace(whole, total_params=1)),
                      ("fewer skipped", replace(whole, skipped=Counter())), ("the same", whole)):
        assert (chain.chain_graph(key, lambda: told, blocks, space._blocks(arch)) is None) == (told is not whole), key
    assert whole.skipped and _same_graph(chain.chain_graph("the same", None, None, space._blocks(arch)),
                                         ModelSpace.graph(space, arch))


@pytest.mark.parametrize("name", ["fbnet", "ofa_mbv3"])
def test_the_chain_spaces_assemble_rather_than_trace(name, monkeypatch):
    # a frame that failed its check would fall back to whole traces, every equality above still holding
    from hwaware.search import get_space

    space, rng = get_space(name), random.Random(5)
    same_input = {"resolution": space.default()["resolution"]} if name == "ofa_mbv3" else {}
    space.graph(space.default())  # the frame's reference, built and traced once
    monkeypatch.setattr(type(space), "_build", lambda self, arch: pytest.fail("a whole network was built"))
    for _ in range(20):
        assert space.graph({**space.random_arch(rng), **same_input}).layers


@pytest.mark.parametrize("name", ["nb201", "fbnet", "ofa_mbv3"])
def test_assembled_graphs_check_batch_and_precision_as_a_capture_does(name):
    from hwaware.search import get_space

    space = get_space(name)
    arch = space.default()
    for batch, precision in ((0, "fp32"), (2.5, "fp32"), (True, "fp32"), (2 ** 45, "fp32"), (1, "fp64"), (1, None)):
        with pytest.raises(InvalidArgumentError):
            space.graph(arch, batch_size=batch, precision=precision)
    g = space.graph(arch, batch_size=__import__("numpy").int64(4), precision="FP16")
    assert (type(g.input_shape[0]), g.input_shape[0], g.precision) == (int, 4, "fp16")
    # a spec's: the setting is refused as such, not as an architecture of the space (helper-158)
    from hwaware.zoo.spaces import spec_graph

    for batch, precision, said in ((0, "fp32", "batch size must be"), (2 ** 45, "fp32", "more elements than any"),
                                   (1, "fp64", "precision must be")):
        with pytest.raises(InvalidArgumentError, match=said) as caught:
            spec_graph(space.spec(arch), batch_size=batch, precision=precision)
        assert "not an architecture" not in str(caught.value)


@pytest.mark.parametrize("name,arch", [("fbnet", {"ops": [9] * 22}), ("fbnet", {"ops": [0] * 21}),
                                       ("ofa_mbv3", {"ks": [4] * 20, "e": [3] * 20, "d": [2] * 5, "resolution": 160}),
                                       ("ofa_mbv3", {"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5, "resolution": 130})])
def test_chain_graph_rejects_what_build_rejects(name, arch):
    from hwaware.search import get_space

    space = get_space(name)
    with pytest.raises(InvalidArgumentError):
        space.build(arch)
    with pytest.raises(InvalidArgumentError):
        space.graph(arch)


def test_nb201_graph_rejects_what_build_rejects():
    with pytest.raises(InvalidArgumentError):
        nb201_graph(_arch(["conv"] * 6))
    with pytest.raises(InvalidArgumentError, match="dataset"):
        nb201_graph(_arch(["none"] * 6), "imagenet")


@pytest.mark.parametrize("name", zoo.list_builders())
def test_a_spaces_default_architecture_builds_by_name(name):
    from hwaware.search import get_space

    space = get_space(name)
    arch = space.default()
    net = zoo.build(name, **arch)  # until 2026-12-06 the OFA builder took ``r``, its space ``resolution``
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in space.build(arch).parameters())
    if "resolution" in arch:  # the keyword reaches the network's input size
        assert net.default_cfg["input_size"] == (3, arch["resolution"], arch["resolution"]) != (3, 224, 224)


def test_a_space_that_is_no_builder_is_named_as_a_space():
    with pytest.raises(ModelNotFoundError, match=r"get_space\('resnet'\)"):
        zoo.build("resnet", layers=[2, 2, 2, 2])
