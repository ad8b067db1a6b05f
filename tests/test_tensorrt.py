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
    # BN folding removes the norms' arithmetic and gives each bias-free conv a bias (one add per output element);
    # every other FLOP is still counted
    bn_flops = sum(l.flops for l in g.layers if l.kind is LayerKind.NORM)
    convs = [l for l in g.layers if l.kind is LayerKind.CONV]
    assert not any(l.attrs["bias"] for l in convs)
    assert f.flops == g.flops - bn_flops + sum(l.output_elements for l in convs)
    block = next(l for l in f.layers if "aten.add" in l.attrs["fused"])
    assert block.attrs["fused"] == ["aten.convolution", "aten.add", "aten.relu"]
    assert block.attrs["folded"] == ["aten.native_batch_norm"] and block.attrs["bias"]
    assert sum(l.params for l in f.layers) == g.total_params - sum(l.params for l in g.layers
                                                                   if l.kind is LayerKind.NORM) // 2
    pool = next(l for l in f.layers if l.kind is LayerKind.POOL)  # TensorRT writes no argmax indices
    assert len(pool.output_shapes) == 1 and pool.bytes_written == 4 * 64 * 56 * 56


def test_a_network_and_its_onnx_export_are_one_tensorrt_graph(resnet18_onnx, onnx_to_module_ratio):
    """An exporter folds each batch norm into its conv's bias; the rewrite folds the captured norm the same way, so the
    kernels of torchvision's resnet18 and of its ONNX export read alike to the learned model (every feature of every
    conv; before resperfnet-gpu version 5 their bias flag, FLOPs and fused-op count differed, and the estimates
    1.07-1.83x, ``python benchmarks/onnx_consistency.py``)."""
    from hwaware.estimators.gpu_features import row_features

    model, path = resnet18_onnx
    a = list(fuse(hwaware.capture(path, precision="fp16")).kernels())
    b = list(fuse(hwaware.capture(model, input_size=(3, 224, 224), precision="fp16")).kernels())
    gpu = hwaware.get_gpu("agx")
    assert [l.kind for l in a] == [l.kind for l in b]
    for la, lb in zip(a, b):
        if la.kind is LayerKind.CONV:
            assert (row_features(la, gpu, "fp16", "tensorrt")[0] == row_features(lb, gpu, "fp16", "tensorrt")[0]).all()
    for g in ("agx", "orin", "nano"):
        assert 0.97 < onnx_to_module_ratio(path, model, g) < 1.03, g


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
    """``a`` is read by two concatenations: it is written in place into the first and copied into the second."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.c = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 6, 1), nn.Conv2d(3, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.a(x)
        return torch.cat([a, self.b(x)], 1).sum() + torch.cat([self.c(x), a], 1).sum()


def test_a_tensor_two_concats_read_is_copied_into_the_second():
    g = hwaware.capture(_TwoConcats().eval(), input_size=(3, 5, 7))
    f = fuse(g)
    copies = [l for l in f.layers if l.kind is LayerKind.COPY]
    assert len(copies) == 1 and not any(l.kind is LayerKind.CONCAT for l in f.layers)
    assert copies[0].input_shapes == ((1, 4, 5, 7),) and copies[0].bytes_read == copies[0].bytes_written == 4 * 5 * 7 * 4
    conv_a = next(l for l in g.layers if l.kind is LayerKind.CONV and l.output_shapes == ((1, 4, 5, 7),))
    second = [l for l in g.layers if l.kind is LayerKind.CONCAT][1]
    assert copies[0].inputs == (conv_a.index,) and second.inputs[1] == conv_a.index
    assert [l.index for l in f.layers] == list(range(len(f.layers)))


class _Operands(nn.Module):
    """A graph input, a producer read twice, and a concat nested in another."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 1), nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        a = self.a(x)
        nested = torch.cat([torch.cat([self.b(x), torch.relu(x)], 1), a], 1)  # inner cat read by the outer alone
        return torch.cat([x, nested], 1), torch.cat([a, a], 1)


def test_graph_inputs_repeated_operands_and_nested_concats():
    f = fuse(hwaware.capture(_Operands().eval(), input_size=(3, 5, 7)))
    copies = [l.input_shapes[0] for l in f.layers if l.kind is LayerKind.COPY]
    # x is a graph input: copied; cat([a, a]) lists its producer once: both operands copied; a's home is the
    # nested cat (its first concat); the inner cat, b and relu(x) are placed in the outer concat
    assert sorted(copies) == [(1, 3, 5, 7), (1, 4, 5, 7), (1, 4, 5, 7)]


def test_shufflenet_copies_the_half_its_channel_split_passes_through():
    f = fuse(hwaware.capture("torchvision:shufflenet_v2_x1_0"))
    # one per stride-1 unit (3 + 7 + 3): cat(x1, branch2(x2)) with x1 half of a tensor branch2 also reads
    assert sum(1 for l in f.layers if l.kind is LayerKind.COPY) == 13


def test_densenet_copies_every_feature_an_earlier_concat_holds():
    g = hwaware.capture("torchvision:densenet121")
    f = fuse(g)
    # a block of n layers: layer j (2..n) concatenates j features, the block's output n + 1; each of the n + 1
    # features is placed once, in the first concat that reads it: n (n + 1) / 2 - 1 copies per block
    assert sum(1 for l in f.layers if l.kind is LayerKind.COPY) == sum(n * (n + 1) // 2 - 1 for n in (6, 12, 24, 16))
    assert sum(1 for l in g.layers if l.kind is LayerKind.CONV) == sum(1 for l in f.layers if l.kind is LayerKind.CONV)
    assert len([l for l in f.layers if l.kind is not LayerKind.COPY]) < len(g.kernels()) // 2


def test_only_a_batch_norm_folds_and_a_biased_conv_reads_as_its_norm_free_twin():
    """A group norm's per-sample statistics cannot fold into the conv (it stays a kernel; until 2026-12-01 it was
    folded away). torchvision's VGG16-BN has biased convs then batch norms: fused, its kernels read exactly as VGG16's,
    and torch2trt timed the two within 1 % on both Jetsons."""
    from hwaware.estimators.gpu_features import row_features

    gn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.GroupNorm(2, 8), nn.ReLU()).eval()
    f = fuse(hwaware.capture(gn, input_size=(3, 16, 16)))
    assert [l.kind for l in f.kernels()] == [LayerKind.CONV, LayerKind.NORM]
    assert not f.layers[0].attrs["bias"] and "folded" not in f.layers[0].attrs
    gpu = hwaware.get_gpu("nano")
    plain, bn = (list(fuse(hwaware.capture(f"torchvision:{n}")).kernels()) for n in ("vgg16", "vgg16_bn"))
    assert len(plain) == len(bn)
    for a, b in zip(plain, bn):
        assert (row_features(a, gpu, "fp16", "tensorrt")[0] == row_features(b, gpu, "fp16", "tensorrt")[0]).all()


def test_an_activation_behind_a_view_joins_the_dense_kernel_in_its_rows():
    """``nn.Linear`` on a channels-last map (ConvNeXt's blocks) is an addmm on the folded rows, then a view back to the
    map, then GELU: the view kept the GELU a kernel of its own, where TensorRT writes it in the GEMM's epilogue, and a
    fused kernel took its last op's output shape, which the kernel head reads as another layer (torchvision's
    convnext_tiny and its ONNX export, one engine, came out 0.84-1.31x apart over five GPUs: python
    benchmarks/onnx_consistency.py, 2026-12-05). Now one kernel per Linear and GELU, in the dense layer's rows. Two
    readers of the view keep the GELU apart."""

    class ChannelsLast(nn.Module):
        def __init__(self, twice: bool = False) -> None:
            super().__init__()
            self.fc, self.act, self.twice = nn.Linear(8, 16), nn.GELU(), twice

        def forward(self, x):
            y = self.fc(x.permute(0, 2, 3, 1))
            return self.act(y) + y if self.twice else self.act(y)

    g = hwaware.capture(ChannelsLast(), input_size=(8, 4, 4))
    kinds = [l.kind for l in g.layers]  # what the rule is for: a view after the matrix product (its bias, then GELU)
    assert kinds[kinds.index(LayerKind.DENSE) + 1] is LayerKind.RESHAPE and kinds[-1] is LayerKind.ACTIVATION
    (kernel,) = fuse(g).layers
    assert (kernel.kind, kernel.output_shapes) == (LayerKind.DENSE, ((16, 16),))
    assert "aten.gelu" in kernel.attrs["fused"]
    assert [l.kind for l in fuse(hwaware.capture(ChannelsLast(twice=True), input_size=(8, 4, 4))).layers].count(
        LayerKind.ACTIVATION) == 1


class _Attention(nn.Module):
    """One attention over (1, 2, 16, 8) queries, keys and values: ``sdpa`` PyTorch's fused op (which a meta-device
    capture records written out), ``bias`` written out with a bias added to the scores, ``scaled_scores`` with the
    scale on the scores instead of on Q, ``shared`` with the softmax's output read twice."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.bias = nn.Parameter(torch.zeros(2, 16, 16))
        self.gain = nn.Parameter(torch.ones(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = x, x + 1, x + 2
        if self.mode == "sdpa":
            return nn.functional.scaled_dot_product_attention(q, k, v)
        if self.mode == "scaled_scores":
            return (q @ k.transpose(-2, -1) * 0.35).softmax(-1) @ v
        if self.mode == "queries_axis":
            return (q @ k.transpose(-2, -1)).softmax(-2) @ v
        if self.mode == "log_softmax":
            return (q @ k.transpose(-2, -1)).log_softmax(-1) @ v
        if self.mode == "transposed":
            return (q @ k.transpose(-2, -1)).transpose(-2, -1).softmax(-1) @ v
        if self.mode == "per_channel":
            return ((q * self.gain) @ k.transpose(-2, -1)).softmax(-1) @ v
        if self.mode == "transposed_probabilities":
            return ((q * 0.35) @ k.transpose(-2, -1)).softmax(-1).transpose(-2, -1) @ v
        p = ((q * 0.35) @ k.transpose(-2, -1) + self.bias).softmax(-1)
        return p @ v + (p.sum() if self.mode == "shared" else 0)


def _kinds(mode: str) -> tuple[list[LayerKind], object, object]:
    g = hwaware.capture(_Attention(mode), input_size=(2, 16, 8))
    f = fuse(g)
    return [l.kind for l in f.kernels()], g, f


def test_written_out_attention_is_one_fused_kernel_as_an_opset_23_export_reads():
    """Rule 6: scores matmul, the scales of Q and K (PyTorch's written-out ``scaled_dot_product_attention`` scales
    both), softmax and the matmul with V run as one attention kernel, with both matmuls' multiply-adds, Q, K and V read
    and the output written; the scores never leave it."""
    kinds, g, f = _kinds("sdpa")
    assert kinds.count(LayerKind.ATTENTION) == 1
    assert not {LayerKind.MATMUL, LayerKind.SOFTMAX} & set(kinds)
    assert kinds.count(LayerKind.ELEMENTWISE) == 2  # k = x + 1, v = x + 2: the scales joined the kernel
    att = next(l for l in f.layers if l.kind is LayerKind.ATTENTION)
    assert {k: att.attrs[k] for k in ("batch_heads", "q_len", "kv_len", "head_dim", "v_dim")} == {
        "batch_heads": 2, "q_len": 16, "kv_len": 16, "head_dim": 8, "v_dim": 8}
    assert att.macs == 2 * 16 * 16 * (8 + 8) and f.macs == g.macs
    assert att.bytes_read == 3 * 2 * 16 * 8 * 4 and att.bytes_written == 2 * 16 * 8 * 4
    assert att.flops > 2 * att.macs  # the softmax's and the scales' arithmetic too


def test_a_bias_on_the_scores_joins_the_attention_kernel():
    kinds, _, f = _kinds("bias")
    assert kinds.count(LayerKind.ATTENTION) == 1 and LayerKind.SOFTMAX not in kinds
    assert "aten.add" in next(l for l in f.layers if l.kind is LayerKind.ATTENTION).attrs["fused"]


def test_a_scale_on_the_scores_or_a_softmax_read_twice_keeps_the_chain_unfused():
    """TensorRT's guide wants the scale on Q or K before the first matmul; a probability map something else reads is
    written by a kernel of its own; a log-softmax, or a softmax over the queries (or over transposed scores) is no
    attention (review helper-99)."""
    for mode in ("scaled_scores", "shared", "queries_axis", "log_softmax", "transposed", "transposed_probabilities"):
        kinds, g, f = _kinds(mode)
        assert LayerKind.ATTENTION not in kinds, mode
        assert kinds.count(LayerKind.MATMUL) == 2 and kinds.count(LayerKind.SOFTMAX) == 1, mode
        assert f.flops == g.flops, mode  # no scale dropped for a kernel that is not made (review helper-100)


def test_a_per_channel_multiplier_of_q_stays_a_kernel_of_its_own():
    """Only scalar scales of Q and K join the attention kernel; a per-channel gain is a kernel, its FLOPs its own
    (review helper-99: it was dropped into the attention)."""
    kinds, g, f = _kinds("per_channel")
    assert kinds.count(LayerKind.ATTENTION) == 1 and kinds.count(LayerKind.ELEMENTWISE) == 3  # x + 1, x + 2, q * gain
    assert f.flops == g.flops


class _Vector(nn.Module):
    """Scores of one query, a vector (``torch.mv``), softmax, then times a matrix: no batched attention."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = (x + 1)[0]
        return torch.mv(k, k[0]).softmax(-1) @ k


def test_an_unbatched_product_is_no_attention_and_no_error():
    """Review helper-99: a 1-D scores matmul crashed the rewrite (``ValueError`` unpacking its shape)."""
    f = fuse(hwaware.capture(_Vector(), input_size=(16, 8)))
    assert LayerKind.ATTENTION not in {l.kind for l in f.layers}


class _NormAcross(nn.Module):
    """A conv, its map permuted so that the rows are the channels, a batch norm over those rows."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x).permute(0, 2, 1, 3))


def test_a_batch_norm_over_another_axis_than_the_convs_channels_does_not_fold():
    """A batch norm folds into a conv's weights only over the conv's own output channels: not across a permute (or
    an export's Transpose, through which pointwise ops now join a kernel; review helper-99)."""
    kinds = [l.kind for l in fuse(hwaware.capture(_NormAcross(), input_size=(3, 16, 16))).kernels()]
    assert kinds == [LayerKind.CONV, LayerKind.NORM]


class _HeadsBack(nn.Module):
    """A dense layer on tokens, its heads moved back (view, transpose, reshape: a clone of the permuted view), an
    activation, a dense layer: LeViT's attention output as timm writes it."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a(x).view(1, 16, 2, 4).transpose(1, 2).reshape(1, 16, 8)
        return self.b(nn.functional.hardswish(y))


def test_an_activation_behind_a_layout_copy_joins_its_kernel():
    """The module's reshape of a transposed view is a clone, where an export has Transpose and Reshape: both are
    layout copies the engine eliminates, and the activation behind them joins the dense kernel either way (LeViT's
    export came out 0.89x its module when only the export's Transpose was passed; 2026-12-05)."""
    g = hwaware.capture(_HeadsBack(), input_size=(16, 8))
    assert any(l.aten_name == "clone" for l in g.layers)
    f = fuse(g)
    assert [(l.kind, len(l.attrs["fused"])) for l in f.kernels()] == [(LayerKind.DENSE, 2), (LayerKind.DENSE, 1)]


class _Gate(nn.Module):
    """A squeeze-excite gate (pool, 1x1 convs, sigmoid) multiplying the map: ``x * gate`` as timm writes it, or
    ``gate * x`` as torchvision does."""

    def __init__(self, gate_first: bool) -> None:
        super().__init__()
        self.reduce, self.expand, self.gate_first = nn.Conv2d(16, 4, 1), nn.Conv2d(4, 16, 1), gate_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.expand(self.reduce(x.mean((2, 3), keepdim=True))).sigmoid()
        return gate * x if self.gate_first else x * gate


def test_a_fused_gate_reads_the_map_whichever_operand_it_is():
    """The gate's kernel (conv, sigmoid, the product) reads the 16 x 28 x 28 map it multiplies; until 2026-12-05 the
    rewrite took the product's first operand for the group's own, so timm's ``x * gate`` read 16 gate values instead."""
    gates = [next(l for l in fuse(hwaware.capture(_Gate(first), input_size=(16, 28, 28))).kernels()
                  if "aten.mul" in l.attrs["fused"]) for first in (True, False)]
    assert gates[0].bytes_read == gates[1].bytes_read
    assert gates[0].bytes_read >= 4 * 16 * 28 * 28
