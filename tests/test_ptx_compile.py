"""The compile path (TVM + NVRTC, optional extra hwaware[ptx]): the golden corpus's own small CNN
compiles to the kernels and launches the corpus documents; the slicer's counts of the compiled kernels
equal full interpretation (a consistency check of the shortcut: exactness against GPGPU-Sim is
tested on the corpus PTX in test_ptx.py, since NVRTC's PTX differs in detail from the corpus's nvcc PTX)."""
from __future__ import annotations

import json
import math

import pytest
import torch

from hwaware.datasets.ptx_golden import golden_root
from hwaware.ptx import analyze, buffer_from_array
from hwaware.ptx.compile import CompilerMissingError, count_network_instructions, network_instructions

tvm = pytest.importorskip("tvm", reason="optional extra hwaware[ptx] not installed")


class GoldenNet(torch.nn.Module):
    """The network of shared/ptx-golden/README.md whose TVM kernels are in the corpus."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.pool = torch.nn.MaxPool2d(2)
        self.c2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.c1(x)))
        x = self.pool(x)
        x = torch.relu(self.c2(x))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


@pytest.fixture(scope="module")
def compiled():
    torch.manual_seed(0)
    return network_instructions(GoldenNet(), (3, 16, 16), arch="sm_80")


def test_kernels_and_launches_match_the_corpus(compiled):
    net, counts = compiled
    spec = json.loads((golden_root() / "cases.json").read_text())
    golden = {c["kernel"]: c for c in spec["cases"] if c["origin"].startswith("TVM") or "tvm" in c}
    launches = {l.kernel: l for l in net.launches}
    assert [l.kernel for l in net.launches] == ["conv2d_kernel", "fused_batch_norm_relu_kernel", "max_pool2d_kernel",
                                                "fused_conv2d1_add_relu1_kernel", "mean_kernel", "transpose_kernel",
                                                "fused_matmul_add1_kernel"]
    for name, case in golden.items():
        assert launches[name].grid == tuple(case["launch"]["grid"]) and launches[name].block == tuple(case["launch"]["block"])
    assert ".entry conv2d_kernel" in net.ptx and ".target sm_80" in net.ptx
    assert counts.total_thread_instructions == sum(t for _, t, _ in counts.per_kernel) > 0


def test_compiled_kernels_slice_equals_interpretation(compiled):
    """Slicer (with its CTA grouping and per-launch cache) == reference interpreter on every compiled
    kernel, on all three count fields. Both run the same SIMT engine, so this checks the shortcuts,
    not the warp rules (those are checked against GPGPU-Sim's counts on the corpus)."""
    net, counts = compiled
    for launch, (_, thread, warp) in zip(net.launches, counts.per_kernel):
        args = {k: buffer_from_array(None, n) for k, n in launch.args.items()}
        spec = {"grid": launch.grid, "block": launch.block, "args": args}
        ref = analyze(net.ptx, spec, kernel=launch.kernel, method="interpret")[0]
        sl = analyze(net.ptx, spec, kernel=launch.kernel)[0]
        assert (ref.thread_instructions, ref.warp_instructions) == (thread, warp), launch.kernel
        assert (sl.thread_instructions_guard_true, sl.per_line) == (ref.thread_instructions_guard_true, ref.per_line)


def test_counts_are_cached_per_kernel_and_launch(compiled):
    net, counts = compiled
    again = count_network_instructions(net.ptx, net.launches)
    assert again.cache_hits == len(net.launches) and again.total_thread_instructions == counts.total_thread_instructions
    # the analyzer's work over the distinct launches, the same from the cache: each launch's own figures, summed once
    work = [analyze(net.ptx, {"grid": l.grid, "block": l.block,
                              "args": {k: buffer_from_array(None, n) for k, n in l.args.items()}}, kernel=l.kernel)[0]
            for l in {(l.kernel, l.grid, l.block): l for l in net.launches}.values()]
    assert (again.ctas_run, again.ctas_in_grids, again.evaluated) == (counts.ctas_run, counts.ctas_in_grids,
                                                                      counts.evaluated)
    assert counts.ctas_run == sum(r.ctas_executed for r in work) < counts.ctas_in_grids  # some CTAs grouped
    assert counts.ctas_in_grids == sum(math.prod(r.grid) for r in work)
    assert counts.evaluated == sum(r.evaluated for r in work) > 0


def test_cta_grouping_of_a_channel_tiled_convolution_equals_interpretation():
    """TVM tiles a 16 -> 128 channel 3x3 convolution on 7x7 into a (2, 2) grid: ctaid.x picks pixels (bound checks:
    the CTAs differ), ctaid.y picks output channels (it moves the weight tile's vector loads by whole sectors: the
    CTAs count alike, L1 hits included). The slicer runs 2 of the 4 CTAs; full interpretation runs all 4."""
    net, _ = network_instructions(torch.nn.Conv2d(16, 128, 3, padding=1, bias=False), (16, 7, 7), arch="sm_72")
    (launch,) = [l for l in net.launches if l.kernel.startswith("conv2d")]
    args = {k: buffer_from_array(None, n) for k, n in launch.args.items()}
    spec = {"grid": launch.grid, "block": launch.block, "args": args}
    sl = analyze(net.ptx, spec, kernel=launch.kernel)[0]
    ref = analyze(net.ptx, spec, kernel=launch.kernel, method="interpret")[0]
    assert launch.grid == (2, 2, 1) and sl.ctas_executed == 2 and sl.l1_repeat_warp_instructions > 0
    assert (sl.thread_instructions, sl.warp_instructions, sl.thread_instructions_guard_true, sl.per_line) == \
        (ref.thread_instructions, ref.warp_instructions, ref.thread_instructions_guard_true, ref.per_line)


def test_missing_extra_is_a_clear_error(monkeypatch):
    import hwaware.ptx.compile as c

    def missing(name):
        raise CompilerMissingError("compiling to PTX needs the optional extra: pip install 'hwaware[ptx]'")

    monkeypatch.setattr(c, "_require", missing)
    with pytest.raises(CompilerMissingError, match=r"hwaware\[ptx\]"):
        c.compile_network(GoldenNet(), (3, 16, 16))


def test_parsing_pauses_the_cyclic_gc_and_restores_it(monkeypatch):
    """parse() runs with the cyclic collector off (it cost two thirds of parsing a network's PTX) and leaves it as it
    found it: on, off, or after an error."""
    import gc

    from hwaware.errors import PTXParseError
    from hwaware.ptx import parser

    seen = []

    class Spy(parser._Parser):
        def module(self):
            seen.append(gc.isenabled())
            return super().module()

    monkeypatch.setattr(parser, "_Parser", Spy)
    text = ".version 7.0\n.target sm_70\n.address_size 64\n"
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            parser.parse(text)
            assert gc.isenabled() is enabled
        gc.enable()
        with pytest.raises(PTXParseError):
            parser.parse(text + ".entry k( {")
        assert gc.isenabled() and seen == [False, False, False]
    finally:
        gc.enable()



@pytest.mark.parametrize("model,size", [("mobileone_s0", (3, 224, 224)), ("torchvision:inception_v3", (3, 299, 299))])
def test_cli_count_compiles_the_model_as_latency_captures_it(monkeypatch, model, size):
    """`hwaware ptx count` builds a model as capture does (graph.sources.build_model): a reparameterizable timm model
    in its fused inference form (it compiled the train-time branches), torchvision's at its weights' crop size (it took
    224 for inception_v3). The compile is replaced by a recorder: what reaches it is the point."""
    from hwaware import cli
    from hwaware.ptx import compile as ptx_compile

    seen = {}

    def record(module, input_size, *, arch):
        seen.update(module=module, size=tuple(input_size), arch=arch)
        raise RuntimeError("recorded, nothing compiled")

    monkeypatch.setattr(ptx_compile, "network_instructions", record)
    assert cli.main(["ptx", "count", model, "--gpu", "agx"]) == 2  # a failed compile is one line
    assert seen["size"] == size and seen["arch"] == "sm_72"
    assert next(seen["module"].parameters()).device.type == "cpu"  # real weights: TVM compiles values
    if model.startswith("mobileone"):
        blocks = [m for m in seen["module"].modules() if hasattr(m, "reparam_conv")]
        assert blocks and all(m.reparam_conv is not None for m in blocks)


def test_nvrtc_finds_the_cuda_runtime_headers_and_its_errors_are_one_line():
    """TVM's CUDA for some ops (MobileNetV3's) includes math_constants.h, a CUDA runtime header the extra did not
    install: `--estimator ipc-tree` failed on it with an 11-line NVRTC log (review helper-93)."""
    from hwaware.errors import HwawareError
    from hwaware.ptx.compile import nvrtc_compile

    ptx = nvrtc_compile('#include <math_constants.h>\nextern "C" __global__ void k(float* x) { x[0] = CUDART_INF_F; }')
    assert ".entry k(" in ptx
    with pytest.raises(HwawareError, match=r"could not compile the generated CUDA for sm_72: .*error") as info:
        nvrtc_compile('extern "C" __global__ void k(float* x) { x[0] = nosuch + alsonot; }')
    assert "\n" not in str(info.value) and str(info.value).endswith("(and 1 more)")
    with pytest.raises(HwawareError, match="catastrophic error: cannot open source file \"nosuch.h\""):  # helper-95
        nvrtc_compile('#include <nosuch.h>\nextern "C" __global__ void k(float* x) { x[0] = 1; }')


def test_the_jetson_thors_architecture_compiles_under_either_of_its_names():
    """CUDA 13 calls the Jetson Thor compute_110, CUDA 12.8-12.9 compute_101; `hwaware ptx count --gpu thor` asked
    the pinned NVRTC 12.9 for sm_110 and failed (review helper-175). An architecture no NVRTC name fits is one line."""
    from hwaware.errors import HwawareError
    from hwaware.hardware import get_gpu
    from hwaware.ptx.compile import nvrtc_compile

    assert get_gpu("thor").compute_capability == 11.0
    ptx = nvrtc_compile('extern "C" __global__ void k(float* x) { x[0] = 1; }', "sm_110")
    assert [line for line in ptx.splitlines() if line.startswith(".target")] in ([".target sm_101"], [".target sm_110"])
    with pytest.raises(HwawareError, match=r"^the installed NVRTC cannot compile for sm_130 \(it knows compute_.*\); "):
        nvrtc_compile('extern "C" __global__ void k(float* x) { x[0] = 1; }', "sm_130")
