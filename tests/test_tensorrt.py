"""The TensorRT graph rewrite: which kernels survive, counted by hand from the architectures."""
from __future__ import annotations

import torch
from torch import nn

import hwaware
from hwaware.graph.layer import LayerKind
from hwaware.runtime.tensorrt import fuse


def test_resnet18_fuses_to_its_convs_pools_and_fc():
    g = hwaware.capture("torchvision:resnet18")
    f = fuse(g)
    kinds = [l.kind for l in f.kernels()]
    # 17 3x3/7x7 convs + 3 1x1 downsample convs; every BN folded, every ReLU and residual add in a conv epilogue
    assert kinds.count(LayerKind.CONV) == 20
    assert len(kinds) == 20 + 1 + 1 + 1  # + max pool, global pool, fc
    assert not {LayerKind.NORM, LayerKind.ACTIVATION, LayerKind.ELEMENTWISE} & set(kinds)
    # BN folding removes only the norms' arithmetic; every other FLOP is still counted
    bn_flops = sum(l.flops for l in g.layers if l.kind is LayerKind.NORM)
    assert f.flops == g.flops - bn_flops
    block = next(l for l in f.layers if "aten.add" in l.attrs["fused"])
    assert block.attrs["fused"] == ["aten.convolution", "aten.native_batch_norm", "aten.add", "aten.relu"]


class _Shared(nn.Module):
    """A conv whose output feeds a BN and a second branch: folding the BN would change the branch."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return self.bn(y) + y


def test_a_conv_output_used_twice_keeps_its_norm():
    f = fuse(hwaware.capture(_Shared().eval(), input_size=(3, 16, 16)))
    kinds = [l.kind for l in f.kernels()]
    assert kinds[:2] == [LayerKind.CONV, LayerKind.NORM]


def test_concat_and_views_launch_nothing():
    g = hwaware.capture("torchvision:densenet121")
    f = fuse(g)
    assert not any(l.kind in (LayerKind.CONCAT, LayerKind.RESHAPE, LayerKind.COPY) for l in f.layers)
    assert sum(1 for l in g.layers if l.kind is LayerKind.CONV) == sum(1 for l in f.layers if l.kind is LayerKind.CONV)
    assert len(f.kernels()) < len(g.kernels()) // 2
