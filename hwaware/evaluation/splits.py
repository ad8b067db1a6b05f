"""Grouped splits: one module for training scripts, tests, benchmarks and the leaderboard.

Modelled on scikit-learn's ``GroupKFold``: a splitter is an object whose ``split(items)`` yields
``(train_indices, test_indices)``, and every item belongs to exactly one group, so that nothing
identical is on both sides. The groups used by hwaware:

* :func:`layer_group` — a layer's signature without the batch dimension (shape + attributes): a layer
  and its batch variants are one group.
* :func:`arch_group` — a network architecture of a search space (``"nb201:1234"``): the same architecture
  measured on several GPUs and batches is one group.
* :func:`timm_family` — the timm module that defines a model (``resnet`` holds ResNet, ResNet-D, SE-ResNet …).
* the GPU itself, for leave-one-GPU-out.

Assignment to a fold is by a stable hash of the group key (blake2b, not Python's salted ``hash``), so a
split does not depend on the order or number of items and is reproducible across processes.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import numpy as np

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


def arch_group(space: str, arch_id: str) -> str:
    return f"{space}:{arch_id}"


@functools.cache
def _model_to_family() -> dict[str, str]:
    import timm

    return {m: module for module in timm.list_modules() for m in timm.list_models(module=module)}


def timm_family(model: str) -> str:
    """The timm module defining ``model`` (``"mobilenetv2_100"`` -> ``"efficientnet"``)."""
    return _model_to_family().get(model.split(".")[0].split("@")[0], model)


@dataclass(frozen=True)
class GroupShuffleSplit(Generic[T]):
    """Hold out about ``test_share`` of the groups: a group is in the test split iff its stable hash is below
    ``test_share``. ``group`` maps an item to its group key."""

    group: Callable[[T], str]
    test_share: float = 0.2
    seed: int = 0

    def is_test(self, key: str) -> bool:
        return stable_unit(key, self.seed) < self.test_share

    def split(self, items: Sequence[T]) -> tuple[np.ndarray, np.ndarray]:
        test = np.array([self.is_test(self.group(x)) for x in items], dtype=bool)
        return np.flatnonzero(~test), np.flatnonzero(test)


@dataclass(frozen=True)
class GroupKFold(Generic[T]):
    """``n_splits`` folds of whole groups (fold = stable hash bucket): each group is tested exactly once."""

    group: Callable[[T], str]
    n_splits: int = 5
    seed: int = 0

    def fold_of(self, key: str) -> int:
        return int(stable_unit(key, self.seed) * self.n_splits)

    def split(self, items: Sequence[T]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        folds = np.array([self.fold_of(self.group(x)) for x in items])
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)


@dataclass(frozen=True)
class LeaveOneGroupOut(Generic[T]):
    """One split per distinct group (e.g. per GPU): train on every other group, test on that one."""

    group: Callable[[T], str]

    def groups(self, items: Sequence[T]) -> list[str]:
        return sorted({self.group(x) for x in items})

    def split(self, items: Sequence[T]) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        keys = np.array([self.group(x) for x in items])
        for g in self.groups(items):
            yield g, np.flatnonzero(keys != g), np.flatnonzero(keys == g)


def check_disjoint(train_keys: Sequence[str], test_keys: Sequence[str]) -> None:
    """Raise if any group key is on both sides (the property every split here must have)."""
    both = set(train_keys) & set(test_keys)
    if both:
        raise AssertionError(f"{len(both)} groups on both sides of a split, e.g. {sorted(both)[:3]}")


def with_seed(splitter: Any, seed: int) -> Any:
    return replace(splitter, seed=seed)


# -- the GPU estimator's splits (scripts/train_gpu.py, benchmarks/gpu_accuracy.py, tests) --------------------------

def gpu_sample_group(s: Any) -> str:
    """The group of a :class:`~hwaware.evaluation.gpu_data.Sample`: HELP architecture (across GPUs and batches),
    timm family, torchvision model, or DeepBench kernel signature (across batch sizes)."""
    if s.kernel is not None:
        from hwaware.evaluation.gpu_data import kernel_layer

        return "deepbench:" + layer_group(kernel_layer(s.kernel))
    r = s.net
    if r.space == "timm":
        return "timm:" + timm_family(r.arch["model"])
    return arch_group(r.space, r.arch_id)


GPU_TEST = GroupShuffleSplit(gpu_sample_group, test_share=0.2, seed=0)  # never trained on, never chosen on
GPU_VAL = GroupShuffleSplit(gpu_sample_group, test_share=0.15, seed=1)  # of the rest: selection and intervals
GPU_ALWAYS_TRAIN: tuple[str, ...] = ("torch2trt",)  # 47 rows: too small to split, fit error only


def split_gpu_samples(samples: Sequence[Any]) -> tuple[list, list, list]:
    """(train, val, test) of GPU samples: TEST's groups, then VAL's groups of the rest; torch2trt always trains."""
    train, val, test = [], [], []
    for s in samples:
        group = gpu_sample_group(s)
        if s.net is not None and s.net.table in GPU_ALWAYS_TRAIN:
            train.append(s)
        elif GPU_TEST.is_test(group):
            test.append(s)
        elif GPU_VAL.is_test(group):
            val.append(s)
        else:
            train.append(s)
    return train, val, test
