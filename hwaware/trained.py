"""What the shipped GPU weights were trained on, read from their ``meta.json`` without importing torch (``hwaware
gpus`` lists it, and must stay quick)."""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

WEIGHTS = "resperfnet_gpu"  # resperfnet-gpu's folder under hwaware/estimators/weights


def shipped_meta(folder: str = WEIGHTS) -> dict[str, Any]:
    """The ``meta.json`` of the weights shipped in ``folder`` (FileNotFoundError where none are)."""
    return json.loads(resources.files("hwaware").joinpath("estimators", "weights", folder, "meta.json").read_text())


def measured_platforms(meta: dict[str, Any], gpu_name: str) -> list[tuple[tuple[str, str], tuple[int, int]]]:
    """((runtime, precision), (smallest, largest batch)) of every platform of the GPU named ``gpu_name`` whose
    networks trained the weights ``meta`` describes (``trained_batches``, written by ``scripts/train_gpu.py main``)."""
    return [((runtime, precision), (int(span[0]), int(span[1])))
            for key, span in meta["trained_batches"].items()
            for name, runtime, precision in [key.split("|")] if name == gpu_name]
