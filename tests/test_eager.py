"""Eager PyTorch on a CUDA GPU as a graph rewrite: a convolution's bias is its own add kernel (cuDNN's path)."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

import hwaware
from hwaware.graph.layer import LayerKind
from hwaware.graph.transform import reshape_layer
from hwaware.runtime.eager import NOT_MODELLED as EAGER_NOTE
from hwaware.runtime.eager import kernels, rewrite

K = LayerKind


class _Biased(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)  # biased: split
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)  # depthwise: keeps its bias (an assumption, see the module)
        self.b = nn.Conv2d(8, 4, 1, bias=False)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2, groups=4)  # transposed depthwise: cuDNN, split
        self.fc = nn.Linear(4, 2)  # addmm: keeps its bias

    def forward(self, x):
        x = self.up(self.b(self.dw(torch.relu(self.a(x))))).mean((2, 3))
        return self.fc(x)


def test_a_biased_conv_runs_as_a_bias_free_conv_and_an_add():
    g = hwaware.capture(_Biased().eval(), input_size=(3, 16, 16))
    e = rewrite(g)
    assert [l.kind for l in e.layers] == [K.CONV, K.ELEMENTWISE, K.ACTIVATION, K.DEPTHWISE_CONV, K.CONV,
                                          K.DEPTHWISE_CONV, K.ELEMENTWISE, *(l.kind for l in g.layers[5:])]
    conv, add, relu = e.layers[:3]
    assert not conv.attrs["bias"] and conv.params == 3 * 8 * 9 and conv.flops == 2 * conv.macs
    assert conv.bytes_read == 4 * (3 * 16 * 16 + 3 * 8 * 9)
    # the in-place add reads the output and the 8 biases and writes the output
    assert (add.params, add.flops, add.bytes_read, add.bytes_written) == (8, 8 * 256, 4 * (8 * 256 + 8), 4 * 8 * 256)
    assert add.inputs == (0,) and relu.inputs == (1,)  # the relu reads what the add wrote
    assert [l.index for l in e.layers] == list(range(len(e.layers)))
    assert e.flops == g.flops and sum(l.params for l in e.layers) == g.total_params
    assert e.layers[3] == replace(g.layers[2], index=3, inputs=(2,))  # the depthwise conv keeps its bias
    up, up_add = e.layers[5:7]
    assert up.kind is K.DEPTHWISE_CONV and up.attrs["transposed"] and not up.attrs["bias"]
    assert up_add.kind is K.ELEMENTWISE and up_add.params == 4 and up_add.output_shapes == ((1, 4, 32, 32),)
    # nothing biased: the graph itself (no copy, so derived-graph caches keep their entries)
    plain = hwaware.capture("torchvision:resnet18")
    assert rewrite(plain) is plain


@pytest.mark.parametrize("precision", ["fp16", "fp32"])
def test_the_split_and_rebatching_commute(precision):
    """Both kernels' costs come from the same cost function as a capture's, so splitting then re-batching equals
    re-batching then splitting (what the training rows, captured at batch 1 in fp32, rely on)."""
    g = hwaware.capture(_Biased().eval(), input_size=(3, 16, 16))
    for l in g.layers:
        moved = [reshape_layer(k, 8, precision, from_precision="fp32") for k in kernels(l)]
        assert list(kernels(reshape_layer(l, 8, precision, from_precision="fp32"))) == moved


def test_a_bias_under_tensorrt_costs_its_arithmetic_not_a_different_kernel(onnx_consistency):
    """Under TensorRT a bias is inside the conv's kernel: giving every bias-free conv of densenet121 (pre-activation:
    no batch norm folds into its convs) a bias changes only its few FLOPs and bytes, and the answer stays within the
    ONNX tests' 3 % (version 5, which read the flag, 1.09-1.69x at batch 32 over five GPUs, ``python
    benchmarks/onnx_consistency.py``)."""
    import torchvision

    plain = torchvision.models.densenet121().eval()
    biased = onnx_consistency.with_biases(torchvision.models.densenet121().eval())
    for gpu in ("agx", "nano", "orin", "2080ti"):
        kw = dict(gpu=gpu, runtime="tensorrt", precision="fp16", batch_size=32, input_size=(3, 224, 224))
        assert 0.97 <= hwaware.latency(biased, **kw) / hwaware.latency(plain, **kw) <= 1.03, gpu


def test_a_bias_under_eager_pytorch_costs_its_add_kernels_alone(onnx_consistency):
    """Eager PyTorch: every conv row of resnet18 given biases predicts as the bias-free one's, and the rest of the
    answer is one elementwise add per conv, with no host-side share: PyTorch launches it inside the conv's call
    (version 5 read the flag and moved the conv rows themselves). Batch 1, where host costs weigh most and no batch
    cap scales the rows."""
    import torchvision

    kw = dict(gpu="agx", runtime="pytorch", precision="fp16", batch_size=1, input_size=(3, 224, 224))
    plain = hwaware.estimate(torchvision.models.resnet18().eval(), **kw)
    biased = hwaware.estimate(onnx_consistency.with_biases(torchvision.models.resnet18().eval()), **kw)
    convs = [i for i, r in enumerate(biased.layers) if r.kind == "conv"]
    adds = {i + 1 for i in convs}
    assert len(convs) == 20 and all(biased.layers[i].kind == "elementwise" for i in adds)
    assert all(biased.layers[i].host_share < 1e-6 < biased.layers[i - 1].host_share for i in adds)
    kept = [r.ms for i, r in enumerate(biased.layers) if i not in adds]
    assert kept == pytest.approx([r.ms for r in plain.layers], rel=1e-5)
    assert biased.total_ms - plain.total_ms == pytest.approx(sum(biased.layers[i].ms for i in adds), rel=1e-4)
    assert EAGER_NOTE in biased.notes and EAGER_NOTE not in plain.notes  # said where the rewrite changed the graph
    assert EAGER_NOTE not in hwaware.estimate(onnx_consistency.with_biases(torchvision.models.resnet18().eval()),
                                              **{**kw, "runtime": "tensorrt"}).notes
