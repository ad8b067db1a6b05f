"""HW-NAS-Bench FBNet space (CIFAR-100 variant used by HELP), per ``shared/data/archspecs.md`` §2.

22 searchable positions, op ids 0-8 (:data:`OPS`). Not the original ImageNet FBNet: stem and stage-1
stride 1, a 1x1 expansion conv even for e=1, grouped 1x1 convs with one channel shuffle for the
``_g2`` ops, header 1504 channels.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch import nn

from hwaware.errors import InvalidArgumentError

# op index -> (kernel, expansion, groups): k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2, k5_e3, k5_e6, skip
OPS = {0: (3, 1, 1), 1: (3, 1, 2), 2: (3, 3, 1), 3: (3, 6, 1), 4: (5, 1, 1), 5: (5, 1, 2), 6: (5, 3, 1), 7: (5, 6, 1), 8: None}
STAGE_LAYERS = (1, 4, 4, 4, 4, 4, 1)
STAGE_WIDTHS = (16, 24, 32, 64, 112, 184, 352)
STAGE_STRIDES = (1, 1, 2, 2, 1, 2, 1)


def _shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, e: int, g: int, stride: int) -> None:
        super().__init__()
        mid = c_in * e
        self.groups = g
        self.conv1 = nn.Sequential(nn.Conv2d(c_in, mid, 1, groups=g, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True))
        pad = math.ceil((k - stride) / 2)
        self.conv2 = nn.Sequential(nn.Conv2d(mid, mid, k, stride, pad, groups=mid, bias=False), nn.BatchNorm2d(mid),
                                   nn.ReLU(inplace=True))
        self.conv3 = nn.Sequential(nn.Conv2d(mid, c_out, 1, groups=g, bias=False), nn.BatchNorm2d(c_out))
        self.residual = c_in == c_out and stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x)
        if self.groups == 2:
            y = _shuffle(y, 2)
        y = self.conv3(self.conv2(y))
        if self.residual:
            y += x
        return y


def _skip(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def _block(c_in: int, c_out: int, stride: int, spec: tuple[int, int, int] | None) -> nn.Module:
    return _skip(c_in, c_out, stride) if spec is None else ConvBlock(c_in, c_out, *spec, stride)


def blocks(ops: Sequence[int]) -> list[tuple[tuple, Callable[[], nn.Module]]]:
    """Each position's block as (what determines its module, a builder): the network's ``blocks``, in order."""
    ops = list(ops)
    if len(ops) != sum(STAGE_LAYERS) or any(o not in OPS for o in ops):
        raise InvalidArgumentError(f"an FBNet arch is {sum(STAGE_LAYERS)} op ids in 0..8, got {ops!r}")
    out = []
    c_in, pos = 16, 0
    for n, width, first_stride in zip(STAGE_LAYERS, STAGE_WIDTHS, STAGE_STRIDES):
        for i in range(n):
            args = (c_in, width, first_stride if i == 0 else 1, OPS[ops[pos]])
            out.append((("fbnet", *args), partial(_block, *args)))
            c_in, pos = width, pos + 1
    return out


class FBNet(nn.Module):
    def __init__(self, ops: Sequence[int], num_classes: int = 100) -> None:
        super().__init__()
        made = blocks(ops)  # checks the architecture before any module is made
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*(make() for _, make in made))
        self.header = nn.Sequential(nn.Conv2d(352, 1504, 1, bias=False), nn.BatchNorm2d(1504), nn.ReLU(inplace=True))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1504, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.avgpool(self.header(self.blocks(self.stem(x)))).flatten(1))


def build_fbnet(ops: Sequence[int], num_classes: int = 100) -> nn.Module:
    """An FBNet (HW-NAS-Bench, CIFAR-100) network from its 22 op ids; input 3x32x32."""
    net = FBNet(ops, num_classes)
    net.default_cfg = {"input_size": (3, 32, 32)}
    return net
