"""Builders for the NAS search spaces behind the shipped latency tables (NAS-Bench-201, HW-NAS-Bench
FBNet, OFA MobileNetV3), in the style of timm's registry: a name maps to a builder.

>>> from hwaware import zoo
>>> zoo.list_builders()
['fbnet', 'nb201', 'ofa_mbv3']
>>> net = zoo.build("nb201", arch="|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
>>> sum(p.numel() for p in net.parameters())
129306
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from hwaware.errors import ModelNotFoundError
from hwaware.zoo.fbnet import build_fbnet
from hwaware.zoo.nb201 import build_nb201
from hwaware.zoo.ofa import build_ofa_mbv3

_BUILDERS: dict[str, Callable[..., nn.Module]] = {"nb201": build_nb201, "fbnet": build_fbnet, "ofa_mbv3": build_ofa_mbv3}


def list_builders() -> list[str]:
    """Names of the NAS-benchmark network builders, sorted (each one a valid :func:`build` name).

    >>> "nb201" in list_builders()
    True
    """
    return sorted(_BUILDERS)


def build(name: str, **arch: Any) -> nn.Module:
    """Build a network of space ``name`` from its architecture arguments (see each builder): a model space's
    architecture as keywords (``build("ofa_mbv3", **get_space("ofa_mbv3").default())``)."""
    if name not in _BUILDERS:
        from hwaware.zoo.spaces import list_spaces  # spaces build through this module: imported when asked

        hint = (f"; {name!r} is a model space: hwaware.search.get_space({name!r}).build(arch)"
                if name in list_spaces() else "")
        raise ModelNotFoundError(f"no builder {name!r}; available: {', '.join(list_builders())}{hint}")
    return _BUILDERS[name](**arch)
