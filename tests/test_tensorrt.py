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


def test_concat_of_single_use_tensors_and_views_launch_nothing():
    g = hwaware.capture("torchvision:squeezenet1_0")  # fire modules: cat(expand1x1, expand3x3), each read once
    f = fuse(g)
    assert not any(l.kind in (LayerKind.CONCAT, LayerKind.RESHAPE, LayerKind.COPY) for l in f.layers)
    assert sum(1 for l in g.layers if l.kind is LayerKind.CONV) == sum(1 for l in f.layers if l.kind is LayerKind.CONV)


class _TwoConcats(nn.Module):
    """``a`` is read by two concatenations, so it cannot sit in place in both outputs; ``b`` and ``c`` can."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 6, 1), nn.Conv2d(3, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.a(x)
        return torch.cat([a, self.b(x)], 1).sum() + torch.cat([a, self.c(x)], 1).sum()


def test_a_tensor_two_concats_read_is_copied_into_each():
    f = fuse(hwaware.capture(_TwoConcats().eval(), input_size=(3, 5, 7)))
    copies = [l for l in f.layers if l.kind is LayerKind.COPY]
    assert len(copies) == 2 and not any(l.kind is LayerKind.CONCAT for l in f.layers)
    assert all(l.input_shapes == ((1, 4, 5, 7),) and l.bytes_read == l.bytes_written == 4 * 5 * 7 * 4 for l in copies)
    conv_a = next(l for l in f.layers if l.kind is LayerKind.CONV)
    assert all(l.inputs == (conv_a.index,) for l in copies)
    assert [l.index for l in f.layers] == list(range(len(f.layers)))


def test_densenet_copies_every_feature_a_later_layer_reads_again():
    g = hwaware.capture("torchvision:densenet121")
    f = fuse(g)
    consumers: dict[int, int] = {}
    for l in g.layers:
        for i in l.inputs:
            consumers[i] = consumers.get(i, 0) + 1
    shared = sum(1 for l in g.layers if l.kind is LayerKind.CONCAT and len(l.inputs) > 1
                 for i in l.inputs if consumers[i] > 1)
    assert sum(1 for l in f.layers if l.kind is LayerKind.COPY) == shared > 500  # quadratic in a block's depth
    assert sum(1 for l in g.layers if l.kind is LayerKind.CONV) == sum(1 for l in f.layers if l.kind is LayerKind.CONV)


