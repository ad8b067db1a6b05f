"""Hardware catalog: GPU specifications, measured CPU targets, and the platform a prediction is made for."""
from hwaware.hardware.catalog import CPUSpec, GPUSpec, Platform, get_device, get_gpu, gpus

__all__ = ["CPUSpec", "GPUSpec", "Platform", "get_device", "get_gpu", "gpus"]
