"""Cheap accuracy proxies that run on the CPU (they rank architectures; they are not accuracy).

* ``synflow`` (Tanaka et al. 2020, zero-cost NAS proxies of Abdelfattah et al. 2021): with all
  weights made positive, the sum over parameters of |dR/dw * w| for R = sum of the network's output
  on an all-ones input at the candidate's own resolution; computed in float64, reported as log.
* ``params``: log of the parameter count (capacity).

Both run with one torch thread (:func:`hwaware.threads.torch_threads`): a search calls them once per
trial, and torch's default thread count stalls under CPU contention.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from hwaware.errors import InvalidArgumentError
from hwaware.graph.sources import InputSize, parse_input_size
from hwaware.threads import torch_threads

PROXIES = ("synflow", "params")
LABELS = {"synflow": "log synflow", "params": "log parameter count"}


def synflow(model: nn.Module, input_size: tuple[int, int, int]) -> float:
    """Modifies ``model`` (float64, absolute weights): pass a throw-away copy."""
    model = model.double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    x = torch.ones(1, *input_size, dtype=torch.float64)
    model.zero_grad()
    model(x).sum().backward()
    score = sum(float((p.grad * p).abs().sum().detach()) for p in model.parameters() if p.grad is not None)
    return math.log(score) if score > 0 else -math.inf


def proxy_score(name: str, model: nn.Module, input_size: InputSize) -> float:
    """The proxy ``name`` of ``model`` at ``input_size`` (``(3, 32, 32)``, ``"3x32x32"`` or ``32``); ``model`` is left
    as it was (synflow scores a copy: helper-163 found the caller's weights float64 and positive)."""
    if name not in PROXIES:
        raise InvalidArgumentError(f"proxy must be one of {', '.join(PROXIES)}, got {name!r}")
    size = parse_input_size(input_size)
    if name == "synflow" and size is None:
        raise InvalidArgumentError("synflow runs the network on an input: give its size, e.g. (3, 32, 32)")
    if name == "synflow" and any(p.is_meta for p in model.parameters()):
        raise InvalidArgumentError("synflow runs the network: its weights are on the meta device (a shell); "
                                   "score the built model (space.build(arch))")
    with torch_threads(1):
        if name == "synflow":
            return synflow(copy.deepcopy(model), size)
        return math.log(sum(p.numel() for p in model.parameters()))
