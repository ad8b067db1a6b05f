"""hwaware: predict how fast a network runs on an NVIDIA GPU without running it there.

>>> import hwaware
>>> ms = hwaware.latency("resnet50", gpu="agx")              # predicted milliseconds
>>> est = hwaware.estimate("resnet50", gpu="agx")            # with pre/exe/post and per-layer rows
>>> [g.short_name for g in hwaware.gpus()][:2]
['xavier', 'xavier_nx']
"""
from hwaware.api import estimate, features, latency
from hwaware.errors import HwawareError
from hwaware.estimators import Estimate, list_estimators
from hwaware.features import NetworkFeatures
from hwaware.graph import Graph, Layer, LayerKind, capture
from hwaware.hardware import CPUSpec, GPUSpec, Platform, get_device, get_gpu, gpus

__version__ = "0.1.0"
__all__ = ["CPUSpec", "Estimate", "GPUSpec", "Graph", "HwawareError", "Layer", "LayerKind", "NetworkFeatures", "Platform",
           "capture", "estimate", "features", "get_device", "get_gpu", "gpus", "latency", "list_estimators", "__version__"]
