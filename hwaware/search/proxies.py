"""Cheap accuracy proxies that run on the CPU (they rank architectures; they are not accuracy).

* ``synflow`` (Tanaka et al. 2020, zero-cost NAS proxies of Abdelfattah et al. 2021): with all
  weights made positive, the sum over parameters of |dR/dw * w| for R = sum of the network's output
  on an all-ones input; computed in float64, reported as log. To keep a trial cheap the input is at
  most 64x64 (an assumption that preserves the ranking of depth/width/kernel choices but not of
  resolution).
* ``params``: log of the parameter count (capacity).
"""
from __future__ import annotations

import math

import torch
from torch import nn

PROXIES = ("synflow", "params")


def synflow(model: nn.Module, input_size: tuple[int, int, int], max_side: int = 64) -> float:
    model = model.double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    c, h, w = input_size
    x = torch.ones(1, c, min(h, max_side), min(w, max_side), dtype=torch.float64)
    model.zero_grad()
    model(x).sum().backward()
    score = sum(float((p.grad * p).abs().sum().detach()) for p in model.parameters() if p.grad is not None)
    return math.log(score) if score > 0 else -math.inf


def proxy_score(name: str, model: nn.Module, input_size: tuple[int, int, int]) -> float:
    if name == "synflow":
        return synflow(model, input_size)
    if name == "params":
        return math.log(sum(p.numel() for p in model.parameters()))
    raise ValueError(f"proxy must be one of {', '.join(PROXIES)}, got {name!r}")
