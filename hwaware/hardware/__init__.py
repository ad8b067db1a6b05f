"""Hardware catalog: GPU specifications and the platform a prediction is made for."""
from hwaware.hardware.catalog import GPUSpec, Platform, get_gpu, gpus

__all__ = ["GPUSpec", "Platform", "get_gpu", "gpus"]
