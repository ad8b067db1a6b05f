"""Once-for-All MobileNetV3 subnets of ``ofa_mbv3_d234_e346_k357_w1.2`` as static networks, per
``shared/data/archspecs.md`` §3 (the form HELP's validation code builds)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from hwaware.errors import InvalidArgumentError

STAGE_WIDTHS = (32, 48, 96, 136, 192)
STAGE_STRIDES = (2, 2, 2, 1, 2)
STAGE_ACT = ("relu", "relu", "h_swish", "h_swish", "h_swish")
STAGE_SE = (False, True, False, True, True)


def make_divisible(v: float, divisor: int = 8) -> int:
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


class HSwish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * F.relu6(x + 3.0) / 6.0


class HSigmoid(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3.0) / 6.0


def _act(name: str) -> nn.Module:
    return nn.ReLU(inplace=True) if name == "relu" else HSwish()


class SE(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        mid = make_divisible(ch // 4)
        self.fc = nn.Sequential(nn.Conv2d(ch, mid, 1), nn.ReLU(inplace=True), nn.Conv2d(mid, ch, 1), HSigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x.mean(3, keepdim=True).mean(2, keepdim=True))


class MBConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, e: int, stride: int, act: str, se: bool) -> None:
        super().__init__()
        mid = make_divisible(round(c_in * e))
        layers: list[nn.Module] = []
        if e != 1:
            layers += [nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), _act(act)]
        layers += [nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), _act(act)]
        if se:
            layers.append(SE(mid))
        layers += [nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + x if self.residual else self.conv(x)


def blocks(ks: Sequence[int], e: Sequence[int], d: Sequence[int]) -> list[tuple[tuple, Callable[[], nn.Module]]]:
    """Each block of the subnet as (what determines its module, a builder): the network's ``blocks``, in order."""
    if len(ks) != 20 or len(e) != 20 or len(d) != 5 or any(x not in (3, 5, 7) for x in ks) \
            or any(x not in (3, 4, 6) for x in e) or any(x not in (2, 3, 4) for x in d):
        raise InvalidArgumentError("an OFA MobileNetV3 arch is ks[20] in {3,5,7}, e[20] in {3,4,6}, d[5] in {2,3,4}")
    specs = [(24, 24, 3, 1, 1, "relu", False)]
    c_in = 24
    for stage, (width, stride, act, se) in enumerate(zip(STAGE_WIDTHS, STAGE_STRIDES, STAGE_ACT, STAGE_SE)):
        for i in range(d[stage]):
            slot = 4 * stage + i
            specs.append((c_in, width, ks[slot], e[slot], stride if i == 0 else 1, act, se))
            c_in = width
    return [(("ofa_mbv3", *args), partial(MBConv, *args)) for args in specs]


class OFAMobileNetV3(nn.Module):
    def __init__(self, ks: Sequence[int], e: Sequence[int], d: Sequence[int], num_classes: int = 1000) -> None:
        super().__init__()
        made = blocks(ks, e, d)  # checks the architecture before any module is made
        self.first_conv = nn.Sequential(nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), HSwish())
        self.blocks = nn.Sequential(*(make() for _, make in made))
        self.final_expand = nn.Sequential(nn.Conv2d(192, 1152, 1, bias=False), nn.BatchNorm2d(1152), HSwish())
        self.feature_mix = nn.Sequential(nn.Conv2d(1152, 1536, 1, bias=False), HSwish())
        self.classifier = nn.Linear(1536, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.final_expand(self.blocks(self.first_conv(x)))
        x = self.feature_mix(x.mean(3, keepdim=True).mean(2, keepdim=True))
        return self.classifier(x.flatten(1))


def build_ofa_mbv3(ks: Sequence[int], e: Sequence[int], d: Sequence[int], resolution: int = 224) -> nn.Module:
    """An OFA MobileNetV3 (w1.2) subnet; ``resolution``: its input's side (HELP's tables call it ``r``), spelled as the
    ``ofa_mbv3`` model space's architectures spell it, so ``build("ofa_mbv3", **space.default())`` builds."""
    net = OFAMobileNetV3(ks, e, d)
    net.default_cfg = {"input_size": (3, int(resolution), int(resolution))}
    return net
