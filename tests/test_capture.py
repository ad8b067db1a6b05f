"""Graph capture: coverage of real timm CNN families, functional ops, attributes, and failure modes."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import hwaware
from hwaware.errors import DynamicControlFlowError, GraphCaptureError, InvalidArgumentError, ModelNotFoundError
from hwaware.graph import LayerKind, capture, parse_input_size

K = LayerKind

# One model per family (>= 30 families), each checked against timm's published counts.
FAMILIES = [
    "resnet18", "resnet50", "resnext50_32x4d", "seresnet50", "ecaresnet50d", "resnest14d", "res2net50_14w_8s",
    "skresnet18", "efficientnet_b0", "efficientnetv2_rw_s", "tinynet_a", "mobilenetv2_100", "mobilenetv3_large_100",
    "lcnet_050", "mnasnet_100", "semnasnet_100", "spnasnet_100", "fbnetc_100", "hardcorenas_a", "mixnet_s",
    "ghostnet_100", "rexnet_100", "regnetx_002", "regnety_016", "regnetz_b16", "densenet121", "convnext_tiny",
    "inception_v3", "inception_v4", "inception_resnet_v2", "xception41", "vgg11", "repvgg_a2", "dla34",
    "dpn68", "cspresnet50", "cspdarknet53", "darknet53", "selecsls42b", "hrnet_w18_small", "gernet_s",
    "nf_resnet50", "ese_vovnet19b_dw", "mobileone_s0", "hgnet_tiny",
]


@pytest.mark.parametrize("name", FAMILIES)
def test_timm_family_matches_published_macs_and_params(name, timm_reference):
    g = capture(name)
    size = g.input_shape[-1]
    row = timm_reference[(name, size)]
    assert not g.unknown_ops, g.unknown_ops
    assert round(g.total_params / 1e6, 2) == row.param_count_m
    gmacs = g.fvcore_macs / 1e9  # timm's unit (fvcore): conv/linear MACs + norm terms
    assert abs(gmacs - row.gmacs) <= 0.05 * row.gmacs or round(gmacs, 2) == row.gmacs, (gmacs, row.gmacs)
    assert 0.85 * g.fvcore_macs <= g.macs <= g.fvcore_macs
    assert K.CONV in {l.kind for l in g.layers}
    assert any(-1 in l.inputs for l in g.layers)  # the graph input is read


class Functional(nn.Module):
    """Every op here is functional except the convs: none of it is a leaf module doing the work."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.dw = nn.Conv2d(8, 8, 5, padding=4, dilation=2, groups=8)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.a(x))
        y = F.hardswish(self.dw(x))
        gate = torch.sigmoid(y.mean((2, 3), keepdim=True))  # SE-style gate
        y = y * gate
        z = torch.cat([x, y + x], dim=1)
        return self.fc(z.mean((2, 3), keepdim=True).flatten(1))


def test_functional_ops_are_captured_with_their_shapes():
    g = capture(Functional(), input_size=(3, 16, 16))
    seq = [(l.kind, l.op) for l in g.layers]
    assert seq == [
        (K.CONV, "aten.convolution"), (K.ACTIVATION, "aten.relu"), (K.DEPTHWISE_CONV, "aten.convolution"),
        (K.ACTIVATION, "aten.hardswish"), (K.GLOBAL_POOL, "aten.mean"), (K.ACTIVATION, "aten.sigmoid"),
        (K.ELEMENTWISE, "aten.mul"), (K.ELEMENTWISE, "aten.add"), (K.CONCAT, "aten.cat"),
        (K.GLOBAL_POOL, "aten.mean"), (K.RESHAPE, "aten.view"), (K.DENSE, "aten.addmm"),
    ]
    conv, _, dw = g.layers[:3]
    assert conv.attrs == {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1), "dilation": (1, 1), "groups": 1,
                          "in_channels": 3, "out_channels": 8, "transposed": False, "bias": False}
    assert (dw.attrs["groups"], dw.attrs["dilation"], dw.attrs["padding"]) == (8, (2, 2), (4, 4))
    assert conv.output_shapes == ((1, 8, 8, 8),) and g.layers[8].output_shapes == ((1, 16, 8, 8),)
    # hand-computed MACs: 8*8*8 outputs x 3*3*3; depthwise 8*8*8 x 25; fc 16 x 10
    assert [l.macs for l in g.layers if l.macs] == [512 * 27, 512 * 25, 160]
    assert conv.params == 8 * 3 * 9 and dw.params == 8 * 25 + 8 and g.layers[-1].params == 170
    assert g.total_params == 216 + 208 + 170
    # bytes: the cat reads two 1x8x8x8 fp32 tensors and writes one 1x16x8x8
    assert (g.layers[8].bytes_read, g.layers[8].bytes_written) == (2 * 512 * 4, 1024 * 4)
    # data dependencies: the add reads the relu and the SE multiply
    assert g.layers[7].inputs == (6, 1)
    assert g.layers[9].output_shapes == ((1, 16, 1, 1),)
    assert g.layers[10].bytes_read == 0 and not g.layers[10].kind.launches_kernel


def test_modules_are_named_and_the_callers_model_is_untouched():
    m = Functional().train()
    before = {n: p.clone() for n, p in m.named_parameters()}
    g = capture(m, input_size=(3, 16, 16))
    assert [l.module for l in g.layers if l.kind is K.CONV] == ["a"]
    assert g.layers[-1].module == "fc"
    assert m.training and all(p.device.type == "cpu" for p in m.parameters())
    assert all(torch.equal(before[n], p) for n, p in m.named_parameters())


def test_batch_and_precision_scale_the_counts():
    g1 = capture("resnet18")
    g4 = capture("resnet18", batch_size=4)
    h = capture("resnet18", precision="fp16")
    assert g4.macs == 4 * g1.macs and g4.input_shape == (4, 3, 224, 224)
    assert sum(l.bytes_written for l in h.layers) * 2 == sum(l.bytes_written for l in g1.layers)


def test_unknown_op_is_kept_counted_and_reported():
    class Odd(nn.Module):
        def forward(self, x):
            return torch.special.bessel_j0(x) + 1

    g = capture(Odd(), input_size=(4,))
    assert g.unknown_ops == {"aten.special_bessel_j0": 1}
    assert [l.kind for l in g.layers] == [K.UNKNOWN, K.ELEMENTWISE]
    assert g.layers[0].bytes_read == 16  # still costed as data movement


def test_tied_weights_count_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(8, 8)
            self.b = nn.Linear(8, 8)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    assert capture(Tied(), input_size=(8,)).total_params == 64 + 8 + 8


def test_meta_failure_names_the_op_and_offers_the_cpu_fallback():
    class HoldsCpuTensor(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.offset = torch.ones(1, 4, 1, 1)  # plain attribute: not moved to meta

        def forward(self, x):
            return self.conv(x) + self.offset

    with pytest.raises(GraphCaptureError) as info:
        capture(HoldsCpuTensor(), input_size=(3, 8, 8))
    assert info.value.op == "aten.add" and "trace_device='cpu'" in str(info.value)
    g = capture(HoldsCpuTensor(), input_size=(3, 8, 8), trace_device="cpu")
    assert [l.kind for l in g.layers] == [K.CONV, K.ELEMENTWISE]


def test_dynamic_control_flow_is_reported_with_fallback():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Linear(4, 2)

        def forward(self, x):
            return self.a(x) if x.sum() > 0 else self.b(x)

    with pytest.raises(DynamicControlFlowError, match="trace_device='cpu'"):
        capture(Branchy(), input_size=(4,))
    g = capture(Branchy(), input_size=(4,), trace_device="cpu")
    assert len([l for l in g.layers if l.kind is K.DENSE]) == 1  # exactly one branch ran


def test_a_nonzero_on_the_meta_device_is_refused_with_hwawares_fix_only():
    """helper-134: the refusal quoted torch's advice to set a config flag that fakes nonzero's output, beside the fix
    (a CPU trace)."""

    class Keep(nn.Module):
        def forward(self, x):
            return torch.nonzero(x > 0).float().sum()

    with pytest.raises(DynamicControlFlowError) as info:
        capture(Keep(), input_size=(4,))
    said = str(info.value)
    assert "data-dependent shapes: its output's size depends on the values" in said and "trace_device='cpu'" in said
    assert "meta_nonzero_assume_all_nonzero" not in said


def test_input_size_sources_and_errors():
    assert capture("inception_v3").input_shape == (1, 3, 299, 299)  # timm config
    assert capture("torchvision:resnet18").input_shape == (1, 3, 224, 224)  # torchvision weight metadata
    with pytest.raises(InvalidArgumentError, match="input_size=\\(3, 224, 224\\)"):
        capture(Functional())
    with pytest.raises(ModelNotFoundError, match="similar names"):
        capture("resnet5O")
    for hub in ("timm/resnet50.a1_in1k", "hf-hub:timm/resnet50.a1_in1k"):  # a Hub id names the registry's (helper-161)
        with pytest.raises(ModelNotFoundError, match="pass the name timm registers, 'resnet50.a1_in1k'"):
            capture(hub)
    with pytest.raises(ModelNotFoundError) as caught:  # a tag timm does not register is not offered (helper-162)
        capture("timm/resnet50.bogus_tag")
    assert "pass the name" not in str(caught.value)
    with pytest.raises(InvalidArgumentError):
        capture("resnet18", batch_size=-1)


def test_what_no_trace_can_capture_is_one_line_with_advice_that_helps():
    """A TorchScript module and a two-input forward were told to pass trace_device='cpu', which failed as well; a timm
    ViT built for 224 px, traced at 384, got the same advice and a doubled full stop (helper-130)."""
    import timm

    conv = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    for scripted in (torch.jit.script(conv), torch.jit.trace(conv, torch.randn(1, 3, 32, 32))):
        for device in ("meta", "cpu"):
            with pytest.raises(GraphCaptureError, match="is a TorchScript module, which hwaware cannot trace: pass "
                                                        "the eager nn.Module"):
                capture(scripted, input_size=32, trace_device=device)

    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x, y, *, scale=1.0):
            return self.conv(x) + self.conv(y) * scale

    with pytest.raises(GraphCaptureError, match=r"Two.forward takes 2 inputs \(x, y\) and hwaware traces one tensor"):
        capture(Two(), input_size=32)
    vit = timm.create_model("vit_tiny_patch16_224")
    with pytest.raises(GraphCaptureError, match=r"match model \(224\)\. The model was built for another input size: "
                                                r"create it at this one"):
        capture(vit, input_size=384)
    assert capture("vit_tiny_patch16_224", input_size=384).input_shape == (1, 3, 384, 384)  # the advice works


def test_one_number_is_no_input_size_of_a_model_that_takes_no_image():
    """input_size=784 on an MLP captured a 3x784x784 image, its first Linear then run on 2,352 rows, answered without
    a word (helper-130): one number is an image's side, refused in one line where the first layer takes no image; the
    shape itself is captured, and an image model keeps the side."""
    mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    for side in (784, "784"):
        with pytest.raises(InvalidArgumentError, match=r"input_size=784 reads as a 3x784x784 image, but Sequential's "
                                                       r"dense layer '0' reads that image as it is: .* "
                                                       r"input_size=\(784,\)"):
            capture(mlp, input_size=side)
    assert capture(mlp, input_size=(784,)).input_shape == (1, 784)
    assert capture(nn.Sequential(nn.Conv2d(3, 8, 3)), input_size=32).input_shape == (1, 3, 32, 32)
    # a ViT whose patch projection is a Linear registered first reads patches, not the image (helper-132: refused)
    import timm

    assert capture(timm.create_model("naflexvit_base_patch16_gap"), input_size=224).macs > 17e9


@pytest.mark.parametrize("text,expected", [
    ("3x224x224", (3, 224, 224)), ("224", (3, 224, 224)), (160, (3, 160, 160)), ((1, 28, 28), (1, 28, 28)),
    ("3,256,256", (3, 256, 256)), (None, None),
])
def test_parse_input_size(text, expected):
    assert parse_input_size(text) == expected


@pytest.mark.parametrize("bad", ["3x22a", "", "0x224x224", (3, -1, 4), True, 2.5, (3.0, 224, 224)])
def test_parse_input_size_rejects(bad):
    with pytest.raises(InvalidArgumentError):
        parse_input_size(bad)


@pytest.mark.parametrize("trace_device", ["meta", "cpu"])
@pytest.mark.parametrize("size,got", [("3x224", "1 x 3 x 224"), ("1x224x224", "1 x 1 x 224 x 224")])
def test_wrong_input_channels_say_what_the_first_conv_expects(trace_device, size, got):
    with pytest.raises(GraphCaptureError) as info:
        capture("resnet18", input_size=size, trace_device=trace_device)
    msg = str(info.value)
    assert f"the input is {got} (batch first) but the first convolution expects N x 3 x H x W" in msg
    assert "--input 3x224x224" in msg and "trace_device" not in msg  # the fix, not another trace device


def test_sides_without_channels_are_echoed_in_the_suggested_input_size():
    """helper-134: --input 1024x2048 (the sides alone) was told to pass 3x224x224."""
    with pytest.raises(GraphCaptureError, match=r"input_size='3x1024x2048' \(CLI: --input 3x1024x2048\)"):
        capture("resnet18", input_size="1024x2048")


def test_a_video_networks_input_is_asked_as_frames_height_width():
    """A 3-D convolution's input is frames x height x width after the channels: the message suggested 224 frames,
    '3x224x224x224' (review helper-106); the suggestion it gives now captures."""
    with pytest.raises(GraphCaptureError, match=r"expects N x 3 x F x H x W: pass an input size of 3 channels x "
                                                 r"frames x height x width, e.g. input_size='3x16x224x224'"):
        capture("torchvision:r3d_18", input_size=(3, 112, 112))
    assert capture("torchvision:r3d_18", input_size="3x16x224x224").input_shape == (1, 3, 16, 224, 224)


@pytest.mark.parametrize("trace_device", ["meta", "cpu"])
def test_an_input_size_with_the_batch_says_input_size_is_one_sample(trace_device):
    """(1, 3, 224, 224) traces a 5-D input, which conv2d refuses before any op is recorded; before 2026-12-01 the
    meta trace's error suggested the CPU trace, which fails the same way."""
    with pytest.raises(GraphCaptureError) as info:
        capture("resnet18", input_size=(1, 3, 224, 224), trace_device=trace_device)
    msg = str(info.value)
    assert "The traced input was (1, 1, 3, 224, 224) (the batch, then input_size)" in msg
    assert "one sample's shape without the batch" in msg and "trace_device" not in msg

    class Normalised(nn.Module):  # an op on the input before the conv: the error still names the traced input
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            return self.conv(x - 0.5)

    class Deep(nn.Module):  # a rank error on another tensor, deeper in the model: no advice about input_size
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 3)

        def forward(self, x):
            return self.b(self.a(x)[:, None])

    with pytest.raises(GraphCaptureError, match="one sample's shape without the batch"):
        capture(Normalised(), input_size=(1, 3, 16, 16), trace_device=trace_device)
    with pytest.raises(GraphCaptureError) as info:
        capture(Deep(), input_size=(3, 16, 16), trace_device=trace_device)
    assert "one sample's shape without the batch" not in str(info.value)
    # a ViT unpacks B, C, H, W = x.shape in Python before any op: a missing side is said the same way
    with pytest.raises(GraphCaptureError, match=r"The traced input was \(1, 3, 224\) .*one sample's shape"):
        capture("vit_tiny_patch16_224", input_size="3x224", trace_device=trace_device)


def test_a_failure_on_the_cpu_does_not_suggest_the_cpu():
    class Broken(nn.Module):
        def forward(self, x):
            return x @ torch.ones(5, 2)  # 4 columns x 5 rows: fails with real tensors as on meta

    with pytest.raises(GraphCaptureError) as info:
        capture(Broken(), input_size=(4,), trace_device="cpu")
    assert "with real tensors on the CPU" in str(info.value) and "trace_device='cpu'" not in str(info.value)


@pytest.mark.parametrize("trace_device", ["meta", "cpu"])
def test_a_half_precision_module_is_estimable_with_precision_fp16(trace_device):
    import timm

    import hwaware

    half = timm.create_model("resnet18").half()
    with pytest.raises(InvalidArgumentError, match="pass precision='fp16'"):
        capture(half, input_size=(3, 224, 224), trace_device=trace_device)
    g = capture(half, input_size=(3, 224, 224), precision="fp16", trace_device=trace_device)
    ref = capture("resnet18", precision="fp16")
    assert (g.macs, g.total_params, sum(l.bytes_read for l in g.layers)) == (
        ref.macs, ref.total_params, sum(l.bytes_read for l in ref.layers))
    assert hwaware.latency(half, "agx", input_size=224, precision="fp16", trace_device=trace_device) == \
        pytest.approx(hwaware.latency("resnet18", "agx", precision="fp16"))


@pytest.mark.parametrize("trace_device", ["meta", "cpu"])
def test_a_double_or_bfloat16_module_is_told_how_to_convert_it(trace_device):
    """helper-115: a .double() module was told to trace on the CPU, which failed the same way; a bf16 one was told it
    had been converted with .half()."""
    with pytest.raises(InvalidArgumentError, match=r"float64 \(.double\(\)\), which no precision here estimates"):
        capture(nn.Conv2d(3, 8, 3).double(), input_size=(3, 32, 32), trace_device=trace_device)
    with pytest.raises(InvalidArgumentError, match=r"bfloat16 \(converted with .bfloat16\(\) or .to\(\)\)"):
        capture(nn.Conv2d(3, 8, 3).bfloat16(), input_size=(3, 32, 32), trace_device=trace_device)


def test_cpu_trace_uses_one_thread_and_restores_the_callers(two_threads):
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return x + 1

    capture(Probe(), input_size=(4,), trace_device="cpu")
    assert seen == [1] and torch.get_num_threads() == 2


@pytest.mark.parametrize("name", ["fasterrcnn_mobilenet_v3_large_320_fpn", "deeplabv3_mobilenet_v3_large"])
def test_torchvision_detection_and_segmentation_build_without_downloading(name, monkeypatch):
    from torchvision.models._api import WeightsEnum

    from hwaware.graph.sources import _build_torchvision

    def no_download(weights, *args, **kwargs):
        raise AssertionError(f"tried to download {weights}")

    monkeypatch.setattr(WeightsEnum, "get_state_dict", no_download)  # every torchvision weight download
    model, _ = _build_torchvision(name)
    assert sum(p.numel() for p in model.parameters()) > 1_000_000
    if name.startswith("deeplab"):  # segmentation traces on meta; detection needs trace_device='cpu'
        assert capture(f"torchvision:{name}", input_size=(3, 320, 320)).macs > 0


@pytest.mark.parametrize("name", ["regnet_y_400mf", "regnet_x_1_6gf"])
def test_a_constructor_that_reads_weights_is_built_on_the_cpu(name):
    """torchvision's RegNets read tensor values while they are built, which meta tensors refuse: built on the CPU,
    as timm's such models are, each matches the multiply-adds torchvision's weight metadata states."""
    import torchvision

    stated = torchvision.models.get_model_weights(name).DEFAULT.meta["_ops"] * 1e9  # GFLOPS as torchvision counts MACs
    assert capture(f"torchvision:{name}").macs == pytest.approx(stated, rel=0.01)


def test_a_constructor_built_on_the_cpu_keeps_no_weights():
    """The CPU build keeps its weights on meta as they are registered: RegNetY-128GF's 645 M parameters were
    allocated and initialised (2.6 GB; review helper-107)."""
    from hwaware.graph.sources import build_model

    model, _ = build_model("torchvision:regnet_y_128gf")
    tensors = [*model.parameters(), *model.buffers()]
    assert sum(p.numel() for p in model.parameters()) > 600e6 and {t.device.type for t in tensors} == {"meta"}
    assert next(torch.nn.Linear(2, 2).parameters()).device.type == "cpu"  # the registration is restored


def test_meta_weights_are_this_threads_and_end_with_the_last_block():
    """Only the building thread's registrations move to meta, a block left by an exception restores nn.Module, and
    two threads leaving out of order leave it as it was (review helper-108: the class kept one thread's wrapper and a
    later nn.Linear in the main thread was built on meta)."""
    import threading

    from hwaware.graph.meta import meta_weights

    original = torch.nn.Module.register_parameter
    inside, leave, seen = threading.Event(), threading.Event(), {}

    def worker():
        with meta_weights():
            seen["worker"] = torch.nn.Linear(2, 2).weight.device.type
            inside.set()
            leave.wait()

    block = meta_weights()
    block.__enter__()
    t = threading.Thread(target=worker)
    t.start()
    inside.wait()
    outside = threading.Thread(target=lambda: seen.setdefault("other", torch.nn.Linear(2, 2).weight.device.type))
    outside.start()
    outside.join()
    block.__exit__(None, None, None)  # the main thread leaves first
    seen["main"] = torch.nn.Linear(2, 2).weight.device.type
    leave.set()
    t.join()
    assert seen == {"worker": "meta", "other": "cpu", "main": "cpu"}
    assert torch.nn.Module.register_parameter is original and torch.nn.Linear(2, 2).weight.device.type == "cpu"
    with pytest.raises(RuntimeError), meta_weights():
        raise RuntimeError("a constructor failed")
    assert torch.nn.Module.register_parameter is original


def test_a_constructor_that_reads_back_its_buffer_is_built_on_the_cpu():
    """Meta weights fail a constructor that reads a buffer it registered; such a model is built wholly on the CPU
    (review helper-108), captured as it runs."""
    from hwaware.graph.sources import _on_meta

    class ReadsBack(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("idx", torch.arange(4))
            width = int(self.idx.max()) + 1  # a value read back: meta has none
            self.fc = torch.nn.Linear(width, width)

    model = _on_meta(ReadsBack, weights=False)
    assert model.fc.in_features == 4 and model.fc.weight.device.type == "cpu"


def test_a_fusion_that_refuses_training_mode_is_run_in_eval_mode():
    """EfficientViM's reparameterization asserts eval mode; the deployed (fused) form is captured, with timm's own
    fused model's trainable parameters."""
    import timm
    from timm.utils.model import reparameterize_model

    fused = reparameterize_model(timm.create_model("efficientvim_m1").eval())
    assert capture("efficientvim_m1").total_params == sum(p.numel() for p in fused.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", ["resnet50", "efficientnet_b0", "convnext_tiny", "inception_v3",
                                  "vit_small_patch16_224"])
def test_remembered_meta_outputs_give_the_graph_every_meta_kernel_gives(name, monkeypatch):
    """A meta trace serves a functional op's outputs from the metadata remembered for the same inputs (capture.py's
    ``_run_meta``: most of a search candidate's trace was Python meta kernels): every served output has the shape,
    strides, dtype and layout the op itself gives, and the graph is byte for byte the one that runs every kernel."""
    import importlib

    from hwaware.graph.cache import graph_to_bytes

    module = importlib.import_module("hwaware.graph.capture")  # the package's `capture` is the function
    monkeypatch.setenv("HWAWARE_GRAPH_CACHE", "0")  # trace every time
    served = []
    real_unflatten, real_run = module.tree_unflatten, module._run_meta
    monkeypatch.setattr(module, "tree_unflatten", lambda *a: served.append(1) or real_unflatten(*a))  # hits only

    def checked(func, args, kwargs):
        # the op itself on tensors of the same metadata (an in-place op's served answer is its argument: helper-159)
        want = func(*(torch.empty_strided(a.shape, a.stride(), dtype=a.dtype, device="meta")
                      if isinstance(a, torch.Tensor) and a.device.type == "meta" else a for a in args), **kwargs)
        got = real_run(func, args, kwargs)
        describe = lambda out: [(t.shape, t.stride(), t.dtype, t.layout) for t in module._tensor_leaves(out)]  # noqa: E731
        assert describe(got) == describe(want), func
        return got

    monkeypatch.setattr(module, "_run_meta", checked)
    module._meta_outputs.clear()
    first = graph_to_bytes(capture(name, batch_size=2))
    served.clear()
    again = graph_to_bytes(capture(name, batch_size=2))
    assert len(served) > 100  # the second trace came from the store, every served op checked
    monkeypatch.setattr(module, "_run_meta", lambda func, args, kwargs: func(*args, **kwargs))
    assert first == again == graph_to_bytes(capture(name, batch_size=2))


def test_an_in_place_op_is_remembered_by_dtype_and_rank_and_refused_where_its_kernel_refuses(monkeypatch):
    """An in-place op of one tensor (hardswish_: a 1.2 ms decomposition a call, about 20 ms of a MobileNetV3
    candidate's trace) is served at a shape never traced, by its tensor's dtype and rank, and the graph is the one
    that runs every kernel. What its kernel refuses is still refused: another rank (tril_), another dtype (sqrt_ of
    integers), unequal sides (fill_diagonal_), an in-place op of two tensors keyed by their shapes (a broadcast
    ``add_`` into a smaller tensor, after a same-shape one ran); a size argument decides (``_resize_output_``), and an
    op that re-views its tensor is run every time (squeeze_, unsqueeze_). Review helper-159: the first form of this
    test passed on the code before the store took in-place ops, and without three of these rules."""
    import importlib
    from collections import OrderedDict

    from hwaware.graph.cache import graph_to_bytes

    module = importlib.import_module("hwaware.graph.capture")
    monkeypatch.setenv("HWAWARE_GRAPH_CACHE", "0")
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Hardswish(inplace=True), nn.Conv2d(8, 8, 3), nn.Hardswish(inplace=True))
    module._meta_outputs.clear()
    capture(net, input_size=(3, 20, 20))
    ran, hits, run = [], [], module._run_meta

    class Store(OrderedDict):  # a call whose kernel ran is stored; a served one is moved to the end
        def __setitem__(self, key, value):
            ran.append(key[0])
            super().__setitem__(key, value)

        def move_to_end(self, key, last=True):
            hits.append(key[0])
            super().move_to_end(key, last)

    monkeypatch.setattr(module, "_meta_outputs", Store(module._meta_outputs))
    ran.clear()  # (the copy stored the first trace's calls)
    served = graph_to_bytes(capture(net, input_size=(3, 31, 17)))
    hardswish = torch.ops.aten.hardswish_.default
    assert hits.count(hardswish) == 2 and hardswish not in ran and torch.ops.aten.convolution.default in ran
    monkeypatch.setattr(module, "_run_meta", lambda func, args, kwargs: func(*args, **kwargs))
    assert served == graph_to_bytes(capture(net, input_size=(3, 31, 17)))

    aten = torch.ops.aten

    def meta(*shape, dtype=torch.float32):
        return torch.empty(*shape, dtype=dtype, device="meta")

    refused = [(aten.tril_.default, (meta(2, 3),), (meta(3),)),
               (aten.sqrt_.default, (meta(2, 3),), (meta(2, 3, dtype=torch.long),)),
               (aten.fill_diagonal_.default, (meta(2, 2, 2), 1.0, False), (meta(2, 3, 2), 1.0, False)),
               (aten.add_.Tensor, (meta(2, 3), meta(2, 3)), (meta(2, 3), meta(5, 3)))]
    for func, first, then in refused:
        run(func, first, {})
        with pytest.raises(RuntimeError):
            run(func, then, {})
    run(aten._resize_output_.default, (meta(2, 3), [2, 3], torch.device("meta")), {})
    for _ in range(2):  # a call that changed its tensor's shape is not remembered
        assert run(aten._resize_output_.default, (meta(4, 5), [2, 3], torch.device("meta")), {}).shape == (2, 3)
    run(aten.squeeze_.default, (meta(2, 3),), {})
    assert run(aten.squeeze_.default, (meta(1, 3),), {}).shape == (3,)
    for _ in range(2):
        assert run(aten.unsqueeze_.default, (meta(2, 3), 0), {}).shape == (1, 2, 3)


def test_meta_device_skips_weight_initialisation_and_nothing_else(monkeypatch):
    """``meta_device`` (hwaware/graph/meta.py) returns a value-only in-place op's tensor without its meta kernel; the
    model's parameters and buffers have the shapes, strides, dtypes and ``requires_grad`` that ``torch.device("meta")``
    gives, and its graph is the same."""
    import timm

    from hwaware.graph import meta
    from hwaware.graph.cache import graph_to_bytes

    monkeypatch.setenv("HWAWARE_GRAPH_CACHE", "0")
    skipped = []
    real = meta._skippable
    monkeypatch.setattr(meta, "_skippable", lambda func, args: real(func, args) and not skipped.append(func))
    with meta.meta_device():
        fast = timm.create_model("mobilenetv3_large_100")
    with torch.device("meta"):
        plain = timm.create_model("mobilenetv3_large_100")
    assert len(skipped) > 100  # normal_, uniform_, zero_, fill_ of every layer

    def describe(m):
        return [(n, t.shape, t.stride(), t.dtype, t.device.type, t.requires_grad)
                for n, t in [*m.named_parameters(), *m.named_buffers()]]

    assert describe(fast) == describe(plain)
    assert graph_to_bytes(capture(fast)) == graph_to_bytes(capture(plain))
    with meta.meta_device(), pytest.raises(RuntimeError):  # what plain meta refuses, this refuses too
        torch.empty(3).fill_(torch.empty(2))


def test_an_integer_input_model_is_told_how_to_wrap_it_and_then_traces():
    """An embedding refuses the float tensor the trace feeds it; the hint before 2026-12-04 offered the CPU trace,
    which fails the same way."""
    tokens = nn.Sequential(nn.Embedding(100, 8), nn.Flatten(), nn.Linear(8 * 16, 4))
    for trace_device in ("meta", "cpu"):
        with pytest.raises(GraphCaptureError) as info:
            capture(tokens, input_size=(16,), trace_device=trace_device)
        assert "integer inputs" in str(info.value) and "trace_device" not in str(info.value)

    class Wrapped(nn.Module):  # what the message says to write
        def __init__(self) -> None:
            super().__init__()
            self.model = tokens

        def forward(self, x):
            return self.model(torch.zeros_like(x, dtype=torch.long))

    for trace_device in ("meta", "cpu"):
        kinds = [l.kind for l in capture(Wrapped(), input_size=(16,), trace_device=trace_device).layers]
        assert LayerKind.DENSE in kinds


def test_a_vit_at_another_resolution_is_built_for_it():
    """A timm ViT asked at 256 x 256 failed its own input check ("Input height (256) doesn't match model (224)"), on
    the meta device and on the CPU alike (review helper-93): models whose constructor takes img_size are built at the
    size asked for, and cost what timm builds at that size."""
    import timm

    g = capture("vit_tiny_patch16_224", input_size=(3, 256, 256))
    at_256 = capture(timm.create_model("vit_tiny_patch16_224", img_size=256), input_size=(3, 256, 256))
    assert g.macs == at_256.macs > capture("vit_tiny_patch16_224").macs
    assert g.input_shape == (1, 3, 256, 256)
    # only a patch embedding fixed to another size is rebuilt: EfficientViT-MSRA takes 288 as built (rebuilt, it had
    # other MACs) and CrossViT cannot be rebuilt at 224 (review helper-95)
    assert capture("efficientvit_m0", input_size=(3, 288, 288)).macs == capture(
        timm.create_model("efficientvit_m0"), input_size=(3, 288, 288)).macs
    assert capture("crossvit_tiny_240", input_size=(3, 224, 224)).macs > 0


@pytest.mark.parametrize("trace_device", ["meta", "cpu"])
def test_a_callers_inference_mode_block_captures_the_same_graph(trace_device):
    """Inside ``torch.inference_mode()`` composite ops (conv2d, linear) reach the trace undecomposed unless its tensors
    are made outside it; a model built inside the block (inference-tensor weights) too."""
    from hwaware.graph.cache import GraphCache
    from hwaware.graph.capture import capture_module

    def net() -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 14 * 14, 4))

    plain = capture_module(net(), (2, 3, 16, 16), trace_device=trace_device, cache=GraphCache(None))
    with torch.inference_mode():
        inside = capture_module(net(), (2, 3, 16, 16), trace_device=trace_device, cache=GraphCache(None))
    assert inside.layers == plain.layers and {l.kind for l in plain.layers} >= {LayerKind.CONV, LayerKind.DENSE}


def test_a_forward_entering_inference_mode_is_one_line():
    class Inner(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return self.conv(x)

    with pytest.raises(GraphCaptureError, match=r"enters torch.inference_mode \(at aten.conv2d in module 'conv'\).*"
                                                r"use torch.no_grad\(\) there instead"):
        capture(Inner(), input_size=(3, 16, 16))


def test_a_cpu_trace_of_an_input_beyond_memory_is_one_line(monkeypatch):
    """helper-115: --input 3x100000x100000 --trace-device cpu ended in torch's allocator RuntimeError (120 GB)."""
    def refuse(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 120000000000 bytes")

    import importlib

    capture_mod = importlib.import_module("hwaware.graph.capture")  # the package's `capture` is the function
    monkeypatch.setattr(capture_mod.torch, "randn", refuse)
    with pytest.raises(InvalidArgumentError, match="cannot hold the input: use trace_device='meta'"):
        capture_mod.capture_module(nn.Conv2d(3, 8, 3), (1, 3, 100_000, 100_000), trace_device="cpu")


def test_a_timm_default_size_says_the_size_its_weights_are_evaluated_at():
    """helper-130: ``resnet50.a1h_in1k`` is captured at timm's input_size, 176, with no word that its weights are
    evaluated (timm's validate and benchmark scripts) at test_input_size, 224; the note says so, and goes where the
    caller chose the size."""
    g = capture("resnet50.a1h_in1k")
    assert g.input_shape == (1, 3, 176, 176)
    assert g.notes == ("input 3x176x176: timm's input_size for resnet50.a1h_in1k; its weights are evaluated at "
                       "3x224x224 (test_input_size): pass input_size='3x224x224' (CLI: --input 3x224x224) to time "
                       "that",)
    said = "timm's input_size for resnet50.a1_in1k; its weights are evaluated at 3x288x288"
    assert said in capture("resnet50").notes[0]
    assert capture("resnet50.a1h_in1k", input_size=224).notes == () == capture("efficientnet_b0").notes
    est = hwaware.estimate("resnet50.a1h_in1k", gpu="2080ti")
    assert g.notes[0] in est.notes


@pytest.mark.skipif(not torch._dynamo.is_dynamo_supported(), reason="torch.compile is not supported on this Python")
def test_a_compiled_or_channels_last_module_is_answered_as_eager_nchw_and_says_so():
    """helper-130: a torch.compile'd module was answered as eager PyTorch under the name 'OptimizedModule', and
    channels-last weights as NCHW, neither with a word."""
    net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3))
    plain = capture(net, input_size=(3, 32, 32))
    compiled = capture(torch.compile(net), input_size=(3, 32, 32))
    assert compiled.name == plain.name == "Sequential" and compiled.layers == plain.layers
    assert plain.notes == () and compiled.notes[0].startswith("a torch.compile'd module, answered as its eager module")
    nhwc = capture(nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3)).to(
        memory_format=torch.channels_last), input_size=(3, 32, 32))
    assert nhwc.notes == ("channels-last weights, answered as the NCHW layout the tables timed (cuDNN's NHWC "
                          "kernels, faster on tensor cores in fp16, are not modelled)",)
    est = hwaware.estimate(torch.compile(net), gpu="2080ti", input_size=(3, 32, 32))
    assert est.model == "Sequential" and compiled.notes[0] in est.notes


def test_a_torchvision_segmentation_model_takes_its_weights_resize_as_its_size():
    """helper-134: deeplabv3 and its kind had no default size (their weights give a resize, 520, and no crop), and were
    told to pass 3x224x224; a detection model, which resizes inside itself, still asks."""
    g = capture("torchvision:lraspp_mobilenet_v3_large")
    assert g.input_shape == (1, 3, 520, 520) and g.notes == (
        "input 3x520x520: the weights' evaluation resize (the shorter side to 520), taken square; pass input_size for "
        "your images' aspect",)
    assert capture("torchvision:lraspp_mobilenet_v3_large", input_size="3x512x1024").notes == ()
    assert capture("torchvision:resnet18").notes == ()  # a classifier's crop is square
    with pytest.raises(InvalidArgumentError, match="cannot tell the input size"):
        capture("torchvision:ssdlite320_mobilenet_v3_large")


def test_a_model_that_resizes_its_input_itself_says_so():
    """helper-134: torchvision's detection models resize every image inside (GeneralizedRCNNTransform), so Faster R-CNN
    asked at 1024x2048 computed at 672x1344 with no word of it."""
    from torchvision.models.detection.transform import GeneralizedRCNNTransform

    class Detector(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transform = GeneralizedRCNNTransform(min_size=320, max_size=640, image_mean=[0.0] * 3,
                                                      image_std=[1.0] * 3)
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            return self.conv(x)

    assert capture(Detector(), input_size=(3, 64, 96)).notes == (
        "GeneralizedRCNNTransform resizes each image inside the model to about 320x480 (shorter side 320, longer at "
        "most 640): its layers compute at that size, not at the 64x96 asked; build the model with min_size= and "
        "max_size= to time another",)
    assert "to about 160x640" in capture(Detector(), input_size=(3, 64, 256)).notes[0]  # the longer side caps it
    # an image the transform keeps (helper-135: the note said it was resized), a model without one
    assert capture(Detector(), input_size=(3, 320, 480)).notes == () == capture(nn.Conv2d(3, 8, 3),
                                                                                input_size=(3, 64, 64)).notes
