"""Grouped splits: one module for training scripts, tests, benchmarks and the leaderboard.

Modelled on scikit-learn's ``GroupKFold``: a splitter is an object whose ``split(items)`` yields
``(train_indices, test_indices)``, and every item belongs to exactly one group, so that nothing
identical is on both sides. The groups used by hwaware:

* :func:`layer_group` — a layer's signature without the batch dimension (shape + attributes): a layer
  and its batch variants are one group.
* :func:`arch_group` — a network architecture of a search space (``"nb201:1234"``): the same architecture
  measured on several GPUs and batches is one group.
* :func:`~hwaware.graph.sources.timm_family` — the timm module that defines a model (``resnet`` holds ResNet,
  ResNet-D, SE-ResNet …).
* the GPU itself, for leave-one-GPU-out.

Assignment to a fold is by a stable hash of the group key (blake2b, not Python's salted ``hash``), so a
split does not depend on the order or number of items and is reproducible across processes. Unlike scikit-learn's
folds, which balance their sizes over the items given, a hash bucket can hold few groups or none when groups are few
(``GroupKFold`` with 10 groups in 5 folds can yield an empty test fold; callers drop those, as
:func:`hwaware.evaluation.netregress_fit.grid_search` does). ``GroupKFold.split(X, y, groups)`` and ``get_n_splits``
take scikit-learn's arguments, so it serves as ``cv=`` there too.
"""
from __future__ import annotations

import functools
import hashlib
import json
import numbers
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from hwaware.calibration.profile import TEN_SHOTS
from hwaware.errors import InvalidArgumentError
from hwaware.graph.sources import timm_family

T = TypeVar("T")


def stable_unit(key: str, seed: int = 0) -> float:
    """A reproducible number in [0, 1) for ``key`` (the same in every process and on every machine)."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


def layer_group(layer: Any) -> str:
    """The batch-agnostic signature of a :class:`~hwaware.graph.layer.Layer`: its group in layer splits."""
    strip = lambda shapes: [list(s[1:]) for s in shapes]  # noqa: E731  (batch is the first dimension)
    payload = json.dumps([layer.kind.value, layer.op, strip(layer.input_shapes), strip(layer.output_shapes),
                          sorted(layer.attrs.items()), layer.params], default=str)
    return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()


def graph_multiset(graph: Any) -> str:
    """The multiset of a graph's kernel signatures: networks with equal multisets are the same network to a per-layer
    model (its group when networks are split, as :func:`gpu_sample_group` does for HELP)."""
    counts = sorted(Counter(l.signature() for l in graph.kernels()).items())
    return hashlib.blake2b(json.dumps(counts).encode(), digest_size=10).hexdigest()


def arch_group(space: str, arch_id: str) -> str:
    """The group of a search-space architecture measured on any GPU or batch (``"nb201:1234"``)."""
    return f"{space}:{arch_id}"


def _check_share(share: object) -> None:
    if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0 < share < 1:
        raise InvalidArgumentError(f"test_share is the share of groups held out: a number in (0, 1), got {share!r}")


@dataclass(frozen=True)
class GroupShuffleSplit(Generic[T]):
    """Hold out about ``test_share`` of the groups: a group is in the test split iff its stable hash is below
    ``test_share``. ``group`` maps an item to its group key."""

    group: Callable[[T], str]
    test_share: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        _check_share(self.test_share)

    def is_test(self, key: str) -> bool:
        return stable_unit(key, self.seed) < self.test_share

    def split(self, items: Sequence[T]) -> tuple[np.ndarray, np.ndarray]:
        test = np.array([self.is_test(self.group(x)) for x in items], dtype=bool)
        return np.flatnonzero(~test), np.flatnonzero(test)


@dataclass(frozen=True)
class GroupKFold(Generic[T]):
    """``n_splits`` folds of whole groups (fold = stable hash bucket): each group is tested exactly once.

    >>> items = ["a1", "a2", "b1", "c1", "c2", "d1"]
    >>> folds = list(GroupKFold(lambda x: x[0], n_splits=2).split(items))
    >>> all(not {items[i][0] for i in tr} & {items[i][0] for i in te} for tr, te in folds)  # no group on both sides
    True
    """

    group: Callable[[T], str]
    n_splits: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.n_splits, bool) or not isinstance(self.n_splits, (int, np.integer)) or self.n_splits < 2:
            raise InvalidArgumentError(f"n_splits must be an integer of at least 2, got {self.n_splits!r}")

    def fold_of(self, key: str) -> int:
        return int(stable_unit(key, self.seed) * self.n_splits)

    def get_n_splits(self, items: object = None, y: object = None, groups: object = None) -> int:
        """The number of folds (scikit-learn's signature; the arguments are not needed)."""
        return self.n_splits

    def split(self, items: Sequence[T], y: object = None, groups: Sequence[str] | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(train, test) indices per fold, fold ``k`` testing the groups whose hash falls in bucket ``k`` (possibly
        none: module docstring). ``groups``: the items' group keys, as scikit-learn passes them (default: ``group``
        of each item); ``y`` is accepted for scikit-learn and unused."""
        keys = [self.group(x) for x in items] if groups is None else [str(g) for g in groups]
        if len(keys) != len(items):
            raise InvalidArgumentError(f"groups has {len(keys)} keys for {len(items)} items")
        folds = np.array([self.fold_of(k) for k in keys])
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)


@dataclass(frozen=True)
class LeaveOneGroupOut(Generic[T]):
    """One split per distinct group (e.g. per GPU): train on every other group, test on that one."""

    group: Callable[[T], str]

    def groups(self, items: Sequence[T]) -> list[str]:
        return sorted({self.group(x) for x in items})

    def get_n_splits(self, items: Sequence[T]) -> int:
        """One split per distinct group of ``items``."""
        return len(self.groups(items))

    def split(self, items: Sequence[T]) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        keys = np.array([self.group(x) for x in items])
        for g in self.groups(items):
            yield g, np.flatnonzero(keys != g), np.flatnonzero(keys == g)


def check_disjoint(train_keys: Sequence[str], test_keys: Sequence[str]) -> None:
    """Raise if any group key is on both sides (the property every split here must have)."""
    both = set(train_keys) & set(test_keys)
    if both:
        raise AssertionError(f"{len(both)} groups on both sides of a split, e.g. {sorted(both)[:3]}")


# torchvision models whose timm twin has another name, or whose variants differ only in width: one family each (a review
# found torch2trt's mnasnet1_0 tested while timm's mnasnet_100, 150 of its 151 kernels identical, trained)
TORCHVISION_FAMILIES = {"mnasnet": "efficientnet", "mobilenet_v2": "efficientnet", "shufflenet_v2": "shufflenet_v2",
                        "squeezenet": "squeezenet"}


def torchvision_family(model: str) -> str:
    """The timm family of a torchvision classifier: its twin's (``mnasnet1_0`` -> ``efficientnet``, as timm's
    ``mnasnet_100``), else one family per torchvision family (``shufflenet_v2_x1_5`` -> ``shufflenet_v2``)."""
    for prefix, family in TORCHVISION_FAMILIES.items():
        if model.startswith(prefix):
            return family
    return timm_family(model)


# -- the GPU estimator's splits (scripts/train_gpu.py, benchmarks/gpu_accuracy.py, tests) --------------------------

def gpu_sample_group(s: Any) -> str:
    """The group of a :class:`~hwaware.evaluation.gpu_data.Sample`: for HELP, the network's multiset of distinct
    layers (across GPUs and batches); for timm and torchvision (torch2trt) networks, the timm family; for DeepBench,
    the kernel's signature without the batch.

    HELP rows are grouped by layer multiset, not by architecture string: a per-layer model sees only the multiset,
    and in NB201 many architectures share one (3,250 captured archs had 204 distinct multisets: a cell's op counts
    fix its layers), so holding out architecture strings would test on networks identical to training ones."""
    if s.kernel is not None:
        from hwaware.evaluation.gpu_data import kernel_layer

        return "deepbench:" + layer_group(kernel_layer(s.kernel))
    r = s.net
    if r.space == "timm":
        return "timm:" + timm_family(r.arch["model"])
    if r.space == "torchvision":  # the same networks as timm's resnet18, densenet121 ...: one group with their family
        return "timm:" + torchvision_family(r.arch_id)
    if r.table == "help":
        return f"{r.space}:" + _multiset_digest(r.space, r.arch_id)
    return arch_group(r.space, r.arch_id)


@functools.cache
def _multiset_digest(space: str, arch_id: str) -> str:
    from hwaware.datasets.graph_store import load_store

    store = load_store(space)
    sigs = _signatures(space)
    counts = sorted((sigs[i], c) for i, c in store.nets[arch_id].counts.items())
    return hashlib.blake2b(json.dumps(counts).encode(), digest_size=10).hexdigest()


@functools.cache
def _signatures(space: str) -> list[str]:
    from hwaware.datasets.graph_store import load_store

    return [l.signature() for l in load_store(space).layers]


GPU_TEST = GroupShuffleSplit(gpu_sample_group, test_share=0.2, seed=0)  # never trained on, never chosen on
GPU_VAL = GroupShuffleSplit(gpu_sample_group, test_share=0.15, seed=1)  # of the rest: selection and intervals
# torch2trt's 47 Jetson networks: too few to split, and the data README says to calibrate on them, never to report
# accuracy on them; they always train (fit error only), and no other table's row is tested in their groups
GPU_ALWAYS_TRAIN: tuple[str, ...] = ("torch2trt",)


def ten_shots(column: Sequence[Any]) -> tuple[list[int], list[int]]:
    """(the 10 calibration rows, the rows to evaluate) of one measured column of network samples, by a stable hash of
    the architecture (seed 7); rows in the same :func:`gpu_sample_group` as a shot (an identical layer multiset) are in
    neither: they would be the same network. Every few-shot protocol (scripts/train_gpu.py, benchmarks/gpu_accuracy.py,
    the leaderboard) uses it."""
    return shot_split([f"{s.column}:{s.net.arch_id}" for s in column], [gpu_sample_group(s) for s in column])


def shot_split(keys: Sequence[str], groups: Sequence[str]) -> tuple[list[int], list[int]]:
    """:func:`ten_shots` of any measured set: rows named by ``keys`` (a stable hash of each, seed 7, orders them),
    rows of a shot's group in neither the shots nor the rows to evaluate (``benchmarks/cpu_other_machine.py``: a CPU's
    networks, grouped by layer multiset)."""
    order = sorted(range(len(keys)), key=lambda i: stable_unit(keys[i], 7))
    shots = order[:TEN_SHOTS]
    taken = {groups[i] for i in shots}
    return shots, [i for i in order[TEN_SHOTS:] if groups[i] not in taken]


@functools.cache
def always_train_groups() -> frozenset[str]:
    """The groups of every network of the :data:`GPU_ALWAYS_TRAIN` tables (whichever samples a caller splits)."""
    from hwaware.evaluation.gpu_data import torch2trt_samples

    assert GPU_ALWAYS_TRAIN == ("torch2trt",)
    return frozenset(gpu_sample_group(s) for s in torch2trt_samples())


def split_gpu_samples(samples: Sequence[Any]) -> tuple[list, list, list]:
    """(train, val, test) of GPU samples: TEST's groups, then VAL's groups of the rest. The tables of
    :data:`GPU_ALWAYS_TRAIN` always train, and their groups (:func:`always_train_groups`) are never tested: a timm
    network of the same family trains or validates with them."""
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    for s in samples:
        parts[gpu_part(s)].append(s)
    return parts["train"], parts["val"], parts["test"]


def gpu_part(s: Any) -> str:
    """``"train"``, ``"val"`` or ``"test"``: where :func:`split_gpu_samples` puts a GPU sample."""
    if s.net is not None and s.net.table in GPU_ALWAYS_TRAIN:
        return "train"
    group = gpu_sample_group(s)
    if GPU_TEST.is_test(group) and group not in always_train_groups():
        return "test"
    return "val" if GPU_VAL.is_test(group) else "train"


def is_gpu_test(s: Any) -> bool:
    """Whether a GPU sample is in the test split (:func:`split_gpu_samples`; leave-one-GPU-out folds leave these out
    of training too)."""
    return gpu_part(s) == "test"


def is_gpu_val(s: Any) -> bool:
    """Whether a GPU sample is in the validation split (:func:`split_gpu_samples`)."""
    return gpu_part(s) == "val"


# -- the CPU estimator's splits (scripts/train_resperfnet.py, scripts/fit_network_calibration.py,
#    benchmarks/cpu_wholenet.py, tests) ------------------------------------------------------------------------------

# Whole timm families held out of everything: no layer of theirs trains, no choice is made on them.
HELD_OUT_FAMILIES: tuple[str, ...] = ("regnet", "densenet", "ghostnet", "dla", "rexnet", "vovnet", "hardcorenas",
                                      "selecsls", "res2net")

# Whole networks measured on the CPU at batch 1 (default timm input size).
TRAIN_NETWORKS: tuple[str, ...] = (
    "resnet18", "resnet26", "resnet34", "resnet50", "resnet18d", "resnet26d", "resnet34d", "seresnet18",
    "seresnet34", "seresnet50", "ecaresnet26t", "resnext26ts", "wide_resnet50_2", "efficientnet_b0",
    "efficientnet_b1", "efficientnet_lite0", "mobilenetv2_050", "mobilenetv2_100", "mobilenetv2_140",
    "mnasnet_100", "semnasnet_100", "spnasnet_100", "fbnetc_100", "mixnet_s", "tinynet_a", "tinynet_c",
    "mobilenetv3_large_100", "mobilenetv3_small_100", "mobilenetv3_small_050", "lcnet_100", "convnext_atto",
    "convnext_femto", "convnext_pico", "inception_v3", "vgg11", "vgg13_bn", "cspresnet50", "cs3darknet_s",
    "skresnet18", "dpn48b",
)
HELD_OUT_NETWORKS: tuple[str, ...] = (
    "regnetx_002", "regnetx_004", "regnetx_006", "regnetx_008", "regnetx_016", "regnetx_032", "regnety_002",
    "regnety_004", "regnety_006", "regnety_008", "regnety_016", "densenet121", "densenet169", "densenet201",
    "densenetblur121d", "ghostnet_050", "ghostnet_100", "ghostnet_130", "dla34", "dla46_c", "dla46x_c", "dla60x_c",
    "dla60", "rexnet_100", "rexnet_130", "rexnet_150", "rexnetr_100", "ese_vovnet19b_dw", "ese_vovnet19b_slim_dw",
    "hardcorenas_a", "hardcorenas_b", "hardcorenas_c", "hardcorenas_d", "selecsls42b", "regnety_032", "dla102",
    "res2net50_14w_8s", "res2net50_26w_4s",
)


def is_held_out(model: str) -> bool:
    """Whether a timm model's family is one of :data:`HELD_OUT_FAMILIES` (the timm GPU files' test side)."""
    return timm_family(model) in HELD_OUT_FAMILIES


def cpu_layer_group(sample: Any) -> str:
    """The group of a :class:`~hwaware.datasets.measured.LayerSample`: its layer's batch-agnostic signature."""
    return layer_group(sample.layer)


CPU_TEST = GroupShuffleSplit(cpu_layer_group, test_share=0.2, seed=0)  # layer-level test: never trained or chosen on
CPU_VAL = GroupShuffleSplit(cpu_layer_group, test_share=0.1, seed=1)  # of the rest: best epoch and candidate choice


@functools.cache
def held_out_layer_groups() -> frozenset[str]:
    """:func:`layer_group` of every kernel of :data:`HELD_OUT_NETWORKS`, captured at their default timm input size
    (the size ``data/cpu/networks.csv.gz`` measured them at)."""
    from hwaware.graph import capture

    return frozenset(layer_group(l) for m in HELD_OUT_NETWORKS for l in capture(m).layers if l.kind.launches_kernel)


def split_cpu_layers(samples: Sequence[Any], clean: bool = True) -> tuple[list, list, list]:
    """(train, val, test) of CPU layer samples, each a set of whole :func:`cpu_layer_group` groups.

    TEST's groups are the layer-level test split; of the rest, VAL's groups choose the best epoch and the
    candidate. ``clean`` also drops from train and val every layer whose group is a kernel of a held-out
    network, so that the held-out networks' figures are on layers no model saw (their share of the test split
    stays: the layer-level test never trains anything)."""
    heldout = held_out_layer_groups() if clean else frozenset()
    train, val, test = [], [], []
    for s in samples:
        group = cpu_layer_group(s)
        if CPU_TEST.is_test(group):
            test.append(s)
        elif group in heldout:
            continue
        elif CPU_VAL.is_test(group):
            val.append(s)
        else:
            train.append(s)
    return train, val, test


# -- paper 003's exploration spaces (Bouzidi et al., Sec. IV-A) on timm rows: scripts/train_netregress.py, the
#    leaderboard, tests. Items are timm rows (``NetworkLatency`` with ``arch["model"]`` and ``arch["input_size"]``) or
#    samples carrying one as ``.net``. -------------------------------------------------------------------------------

def _timm_row(x: Any) -> Any:
    return getattr(x, "net", None) or x


@functools.cache
def _timm_twins() -> dict[str, str]:
    """model -> the first name (alphabetically) of the stored timm models it shares a layer multiset with at some
    input size: aliases (``efficientnet_el`` / ``efficientnet_el_pruned``) are one network under two names."""
    from hwaware.datasets.graph_store import load_store

    parent: dict[str, str] = {}

    def root(m: str) -> str:
        while parent.get(m, m) != m:
            m = parent[m]
        return m

    first: dict[str, str] = {}  # multiset digest -> the first model seen with it
    for arch_id in sorted(load_store("timm").nets):
        model = arch_id.split("@")[0]
        a, b = root(model), root(first.setdefault(_multiset_digest("timm", arch_id), model))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {m: root(m) for m in {a.split("@")[0] for a in load_store("timm").nets}}


def timm_model_size(x: Any) -> str:
    """``"<model>@<image size>"``: a network at one input size, the unit NIS holds out (aliases merged)."""
    return f"{timm_model(x)}@{_timm_row(x).arch['input_size'][-1]}"


def timm_model(x: Any) -> str:
    """The row's timm model, with its identical-multiset aliases merged into one name (:func:`_timm_twins`)."""
    model = _timm_row(x).arch["model"]
    return _timm_twins().get(model, model)


def timm_row_family(x: Any) -> str:
    """The timm family of a timm table row's model (NCA's group; NCV's parent)."""
    return timm_family(timm_model(x))


@dataclass(frozen=True)
class GroupShuffleSplitWithin(Generic[T]):
    """Hold out about ``test_share`` of the groups *inside* each parent, keeping at least one group of every parent
    in training (the parent's lowest group under a second hash), so that the test side is new groups of known parents. Parents with a
    single group stay in training. A group must belong to exactly one parent."""

    group: Callable[[T], str]
    parent: Callable[[T], str]
    test_share: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        _check_share(self.test_share)

    def split(self, items: Sequence[T]) -> tuple[np.ndarray, np.ndarray]:
        groups = [self.group(x) for x in items]
        kept: dict[str, str] = {}  # parent -> its group that always trains
        parent_of: dict[str, str] = {}
        keep_seed = self.seed + 1000  # independent of the test draw (the same hash would bias the test share low)
        for g, x in zip(groups, items):
            p = self.parent(x)
            if parent_of.setdefault(g, p) != p:  # else its rows would train under one parent and test under another
                raise InvalidArgumentError(f"group {g!r} belongs to two parents ({parent_of[g]!r}, {p!r}); a group "
                                           "must belong to exactly one")
            if p not in kept or stable_unit(g, keep_seed) < stable_unit(kept[p], keep_seed):
                kept[p] = g
        keep = set(kept.values())
        test = np.array([g not in keep and stable_unit(g, self.seed) < self.test_share for g in groups], dtype=bool)
        return np.flatnonzero(~test), np.flatnonzero(test)


# New Image Sizes: a model at sizes it was not trained at (other sizes of it train).
NIS = GroupShuffleSplitWithin(timm_model_size, timm_model, test_share=0.3, seed=0)
# New CNN Variants: models whose family has other models in training (all sizes of a model on one side).
NCV = GroupShuffleSplitWithin(timm_model, timm_row_family, test_share=0.3, seed=0)
# New CNN Architectures: whole timm families never seen (the paper's random synthetic CNNs; timm families are ours).
NCA = GroupShuffleSplit(timm_row_family, test_share=0.3, seed=0)
PAPER003_SPLITS: dict[str, Any] = {"NIS": NIS, "NCV": NCV, "NCA": NCA}
PAPER003_GROUPS: dict[str, Callable[[Any], str]] = {"NIS": timm_model_size, "NCV": timm_model, "NCA": timm_row_family}
