"""hwaware: predict how fast a network runs on an NVIDIA GPU without running it there.

>>> import hwaware
>>> ms = hwaware.latency("resnet50", gpu="agx")              # predicted milliseconds
>>> many = hwaware.latency_many(["resnet18", "resnet50"], gpu="agx")  # a list, batched
>>> est = hwaware.estimate("resnet50", gpu="agx")            # with pre/exe/post and per-layer rows
>>> [g.short_name for g in hwaware.gpus()][:2]
['xavier', 'xavier_nx']
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"
# name -> module: imported on first use, so `import hwaware` (and the CLI's --help) does not import torch
_LAZY = {
    "calibrate": "hwaware.api", "calibrate_here": "hwaware.api", "estimate": "hwaware.api",
    "estimate_many": "hwaware.api", "features": "hwaware.api", "OtherCPUWarning": "hwaware.errors",
    "latency": "hwaware.api", "latency_many": "hwaware.api", "Measurement": "hwaware.calibration.measurements",
    "HwawareError": "hwaware.errors", "ImplausibleEstimateWarning": "hwaware.errors", "Estimate": "hwaware.estimators",
    "get_estimator": "hwaware.estimators", "list_estimators": "hwaware.estimators",
    "NetworkFeatures": "hwaware.features", "Graph": "hwaware.graph", "Layer": "hwaware.graph",
    "LayerKind": "hwaware.graph", "capture": "hwaware.api", "CPUSpec": "hwaware.hardware",
    "GPUSpec": "hwaware.hardware", "Platform": "hwaware.hardware", "get_device": "hwaware.hardware",
    "get_gpu": "hwaware.hardware", "gpus": "hwaware.hardware", "rank": "hwaware.ranking", "RankTable": "hwaware.ranking",
}
__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'hwaware' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__


class _Package(types.ModuleType):
    """``hwaware.features`` is the function even after the submodule ``hwaware/features.py`` has been imported
    (importing a submodule sets the parent's attribute of that name)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "features" and isinstance(value, types.ModuleType):
            return  # the submodule stays reachable as sys.modules["hwaware.features"]
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
