"""No layer signature crosses a split: the CPU layer split, the CPU held-out networks, and the GPU splits."""
from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter

import pytest

from hwaware.datasets.measured import load_layer_samples, load_network_samples
from hwaware.evaluation.splits import (HELD_OUT_FAMILIES, HELD_OUT_NETWORKS, TRAIN_NETWORKS, check_disjoint,
                                       cpu_layer_group, held_out_layer_groups, is_held_out, layer_group,
                                       split_cpu_layers, timm_family)


@pytest.fixture(scope="module")
def cpu_samples():
    return load_layer_samples()


def _check_sides(sides: dict[str, list], key) -> None:
    for (a, xs), (b, ys) in itertools.combinations(sides.items(), 2):
        try:
            check_disjoint([key(x) for x in xs], [key(y) for y in ys])
        except AssertionError as e:
            raise AssertionError(f"{a} / {b}: {e}") from None


def test_cpu_layer_split_is_grouped_and_clean(cpu_samples):
    train, val, test = split_cpu_layers(cpu_samples)
    sides = {"train": train, "val": val, "test": test}
    _check_sides(sides, cpu_layer_group)  # batch variants are one group
    _check_sides(sides, lambda s: s.layer.signature())  # so exact signatures cannot cross either
    heldout = held_out_layer_groups()
    assert not heldout & {cpu_layer_group(s) for s in train + val}  # no kernel of a held-out network trains
    assert 0.15 < len(test) / len(cpu_samples) < 0.25 and 0.05 < len(val) / len(train + val) < 0.15
    assert not any(is_held_out(s.source) for s in cpu_samples if s.source != "random")


def test_the_leaky_protocol_is_caught(cpu_samples):
    """The check above is not vacuous: without ``clean``, training holds kernels of held-out networks."""
    train, _, _ = split_cpu_layers(cpu_samples, clean=False)
    assert held_out_layer_groups() & {cpu_layer_group(s) for s in train}


def test_a_stored_form_of_a_network_is_in_its_family():
    """The graph store keys a reparameterizable model's train-time form apart (graph_store.UNFUSED); a family split
    must not tell the two forms apart."""
    from hwaware.datasets.graph_store import UNFUSED

    assert timm_family("mobileone_s1" + UNFUSED) == timm_family("mobileone_s1") == "byobnet"
    assert timm_family("repvit_m1@224" + UNFUSED) == timm_family("repvit_m1") != "repvit_m1"


def test_held_out_networks_are_whole_families():
    assert len(HELD_OUT_FAMILIES) == 9 and {timm_family(m) for m in HELD_OUT_NETWORKS} == set(HELD_OUT_FAMILIES)
    assert not any(is_held_out(m) for m in TRAIN_NETWORKS)
    measured = {n.model for n in load_network_samples() if n.batch == 1}
    assert measured == set(TRAIN_NETWORKS) | set(HELD_OUT_NETWORKS)


def _gpu_sample() -> list:
    """Every tenth HELP and DeepBench sample, and every timm and torch2trt sample (so that torch2trt rows meet their
    timm twins). Every source must load: a missing one fails (as the ``shared_data`` fixture does) rather than
    checking fewer splits."""
    from hwaware.evaluation import gpu_data

    loads = [(lambda space=space: gpu_data.help_samples((space,)), 10) for space in ("nb201", "fbnet", "ofa_mbv3")]
    return [s for load, step in (*loads, (gpu_data.timm_samples, 1), (gpu_data.torch2trt_samples, 1),
                                 (gpu_data.deepbench_samples, 10)) for s in load()[::step]]


def layer_multisets(samples: list) -> list[str]:
    """Each sample's multiset of batch-agnostic layer signatures (:func:`layer_group` of the layers
    :func:`sample_layers` gives, with counts): the network a model sees, computed without the splitter's group."""
    from hwaware.evaluation.gpu_data import sample_layers

    groups: dict = {}  # row key -> layer_group, computed once per distinct layer
    out = []
    for s in samples:
        counts: Counter[str] = Counter()
        for key, layer, c in sample_layers(s):
            group = groups.get(key)
            if group is None:  # (not setdefault, whose argument would be computed every time)
                group = groups[key] = layer_group(layer)
            counts[group] += c
        out.append(hashlib.blake2b(json.dumps(sorted(counts.items())).encode(), digest_size=10).hexdigest())
    return out


def check_gpu_split(samples: list, multisets: list[str]) -> None:
    """No layer multiset (``multisets``: :func:`layer_multisets` of ``samples``) on two sides of ``split_gpu_samples``
    (which must be looked up through its module, so that a test can replace it)."""
    from hwaware.evaluation import splits

    keys = dict(zip(map(id, samples), multisets))
    train, val, test = splits.split_gpu_samples(samples)
    assert test and val and train
    _check_sides({"train": train, "val": val, "test": test}, lambda s: keys[id(s)])


@pytest.fixture(scope="module")
def gpu_sample(shared_data) -> tuple[list, list[str]]:
    """:func:`_gpu_sample` and its :func:`layer_multisets`."""
    samples = _gpu_sample()
    return samples, layer_multisets(samples)


def test_gpu_splits_share_no_layer_multiset(gpu_sample):
    samples, keys = gpu_sample
    timm = {k for k, s in zip(keys, samples) if s.net is not None and s.net.space == "timm"}
    trt = {k for k, s in zip(keys, samples) if s.net is not None and s.net.table == "torch2trt"}
    assert timm & trt  # the check covers torch2trt networks that are also timm rows
    check_gpu_split(samples, keys)


def test_an_ungrouped_gpu_split_is_caught(gpu_sample, monkeypatch):
    """The check above is not vacuous: rows dealt to three sides one by one put a network on two of them."""
    from hwaware.evaluation import splits

    monkeypatch.setattr(splits, "split_gpu_samples", lambda xs: (xs[0::3], xs[1::3], xs[2::3]))
    with pytest.raises(AssertionError, match=r"^(train|val) / (val|test): "):
        check_gpu_split(*gpu_sample)
