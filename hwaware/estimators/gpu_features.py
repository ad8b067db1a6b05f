"""Feature rows of the learned GPU estimator: one per (layer, platform), one function for training and prediction.

A row joins the layer's own features (:func:`hwaware.estimators.features.layer_features`, at the platform's
batch and precision), its roofline terms on that GPU (compute time at the precision's peak, memory time at
DRAM bandwidth), the GPU's catalog features, the precision and the runtime. Counts and sizes enter as
``log1p`` so that one scale serves a 32x32 NB201 cell and a batch-1024 ConvNeXt.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from hwaware.estimators.features import KINDS, LAYER_FEATURES, kind_one_hot, layer_features
from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.hardware.catalog import GPUSpec
from hwaware.runtime import runtime_kernels

PRECISION_CODES: tuple[str, ...] = ("fp32", "fp16", "bf16", "int8", "amp")
RUNTIME_CODES: tuple[str, ...] = ("pytorch", "tensorrt", "kernel")  # kernel: DeepBench, no framework around it
_TENSOR_KINDS = {LayerKind.CONV, LayerKind.DENSE, LayerKind.MATMUL, LayerKind.ATTENTION}
GPU_FEATURES: tuple[str, ...] = ("log_sms", "log_fp32_tflops", "log_peak_tensor", "log_peak_plain", "log_bandwidth",
                                 "log_l2_mb", "integrated", "compute_capability", "log_clock_ghz", "tensor_cores")


def _one_hot(value: str, codes: tuple[str, ...]) -> np.ndarray:
    v = np.zeros(len(codes))
    v[codes.index(value)] = 1.0
    return v


def runs_tf32(kind: LayerKind, runtime: str) -> bool:
    """Whether the libraries run an fp32 layer of ``kind`` on TF32 tensor cores by default (where the GPU has them,
    :attr:`GPUSpec.tf32_tflops_dense`): cuDNN's convolutions (``torch.backends.cudnn.allow_tf32`` is on by default;
    DeepBench's convolutions are cuDNN's too) and, under TensorRT, whose TF32 builder flag is on by default, its dense
    layers and matmuls as well; eager PyTorch's (cuBLAS's) matmuls and dense layers are not
    (``torch.backends.cuda.matmul.allow_tf32`` is off by default from PyTorch 1.12). Depthwise convolutions have no
    tensor-core path here (:data:`_TENSOR_KINDS`). No measured row is affected (every fp32 row was timed before
    Ampere), so the shipped weights train as before; the batch prior's pairs, drawn on every catalog GPU, change
    (``scripts/train_gpu.py batches`` trains with them)."""
    return kind == LayerKind.CONV or (runtime == "tensorrt" and kind in _TENSOR_KINDS)


# The precision whose GPU features a head reads for a precision no training row timed (training would read them so
# too: no row is bf16). bf16 moves fp16's bytes on the same tensor cores (one rate on every catalog part with
# both figures, but the RTX 3090's 71.2 against 71.0 TFLOPS), so the heads read fp16's features (from resperfnet-gpu
# 9.3); the roofline terms keep bf16's own rates. 9.2 read bf16's non-tensor rate, the fp32 one
# (elementwise bf16 is computed in fp32), beside a tensor rate at fp16's: an AMP row's GPU on a data-centre part, and it
# answered resnet50 under TensorRT on an A100 at batch 64 0.87x its fp16 time, with nothing said (helper-136).
HEAD_PRECISION = {"bf16": "fp16"}
# And amp, as a prediction rule (from 9.6; training designs, built without the rules, read amp's own: the batch prior
# draws amp on every catalog GPU, so training stays what it was, bit for bit). Autocast's measured rows (timm's) were
# timed on GPUs whose native fp16 runs at the fp32 rate (the RTX 3090, 4090 and PRO 6000), where its features and
# fp16's agree (tests/test_resperfnet_gpu.py checks every trained amp platform); on a part whose fp16 is faster (an
# A100's 78 against 19.5 TFLOPS) amp's, the plain rate at fp32's beside fp16's tensor rate, were a GPU no measured row
# had, and 9.5 answered resnet18 on an A100 at batch 128 0.93x its fp16 time (helper-165), though autocast runs fp16's
# tensor-core layers and keeps the others no narrower.
PREDICTION_HEAD_PRECISION = {**HEAD_PRECISION, "amp": "fp16"}


def gpu_vector(gpu: GPUSpec, precision: str, *, rules: bool = True) -> np.ndarray:
    """The GPU's catalog features at ``precision`` (at :data:`PREDICTION_HEAD_PRECISION`'s stand-in where it has one;
    ``rules=False``, as a training design reads them: :data:`HEAD_PRECISION`'s). In fp32 the tensor-core rate stays
    the fp32 one, TF32 or not: every fp32 training row had the two equal, so TF32 (:func:`runs_tf32`) reaches the heads
    only through a layer's roofline terms, not as a GPU combination no row had."""
    precision = (PREDICTION_HEAD_PRECISION if rules else HEAD_PRECISION).get(precision, precision)
    clock = gpu.boost_clock_mhz or gpu.base_clock_mhz or 1000.0
    return np.array([
        math.log(gpu.sm_count), math.log(gpu.fp32_tflops), math.log(gpu.framework_tflops(precision, tensor_cores=True)),
        math.log(gpu.framework_tflops(precision, tensor_cores=False)), math.log(gpu.memory_bandwidth_gbs),
        math.log(gpu.l2_cache_mb or 0.25), float(gpu.is_integrated_soc), gpu.compute_capability,
        math.log(clock / 1e3), float(gpu.tensor_cores > 0)])


def roofline_ms(layer: Layer, gpu: GPUSpec, precision: str, runtime: str, *, rules: bool = True
                ) -> tuple[float, float]:
    """(compute ms, memory ms) of ``layer`` under ``runtime`` at the precision's peak and the GPU's DRAM bandwidth.

    Off tensor cores, from 9.6, at fp16's rate: a bf16 layer, since PyTorch computes the two alike (each in fp32, its
    opmath type, from the same bytes, where the model reads fp16's layers at fp16's rate) and cuDNN's bf16 depthwise
    convolutions ran at fp16's speed (pytorch/pytorch#91735: bf16 / fp16 geomean 1.02 on sm80, 1.00 sm86, 1.12 sm89,
    1.00 sm90); and, a prediction rule (``rules``; training designs keep amp's own: the batch prior draws amp on every
    GPU), an amp depthwise convolution, which autocast runs in fp16 as every conv2d (helper-167). 9.5 took both at the
    fp32 rate and answered convnext_tiny on an A30 at batch 64 1.30x its fp16 time in bf16 and 1.45x in amp (eager
    PyTorch; bf16 under TensorRT 1.53x: helper-165, helper-168). An amp network's other layers off tensor cores keep
    the catalog's amp rule, the fp32 rate, which timm's amp rows were timed with on GPUs where it is fp16's. (The
    catalog's :meth:`~hwaware.hardware.GPUSpec.framework_rate`, which the roofline estimator takes, keeps both at
    the fp32 rate.)"""
    tensor = layer.kind in _TENSOR_KINDS
    depthwise = layer.kind is LayerKind.DEPTHWISE_CONV
    if (precision == "bf16" and not tensor) or (rules and precision == "amp" and depthwise):
        precision = "fp16"
    peak = gpu.framework_tflops(precision, tensor_cores=tensor,  # type: ignore[arg-type]
                                tf32=runs_tf32(layer.kind, runtime))
    compute = layer.flops / (peak * 1e9)
    memory = (layer.bytes_read + layer.bytes_written) / (gpu.memory_bandwidth_gbs * 1e6)
    return compute, memory


# Datasheet peaks are quoted at the rated boost clock, which GPU Boost exceeds on parts with thermal headroom (an
# assumption, not a measured figure: GeForce cards commonly run some 5-15 % above it), so a bound leaves that margin.
BOOST_HEADROOM = 1.15
# The highest share of its datasheet peak (the floor's rate) any DeepBench GEMM reached, on eight GPUs: the GTX 1080
# Ti's fp32 GEMMs (GPU Boost); on tensor cores, the V100's fp16 (tests/test_gpu_data.py derives both from the data).
# An answer the GEMM floor raised runs beyond both: an estimate's note says it is likely too fast.
MEASURED_PEAK_SHARE = 1.07
MEASURED_TENSOR_PEAK_SHARE = 0.90


def is_gemm(layer: Layer) -> bool:
    """Whether ``layer``'s FLOPs are a GEMM's multiply-adds that no algorithm reduces: a dense layer, a matmul, a 1x1
    convolution (transposed too), or one not transposed with a stride or a dilation above 1. A larger kernel at stride
    1, undilated, may run Winograd or FFT, fewer multiplies than its FLOPs count; cuDNN runs both at stride 1 only,
    and a dilated convolution as an implicit GEMM (cuDNN 6's release notes, which added dilation; helper-130 found
    dilated 3x3 convolutions answered at 2-3x the GPU's peak rate, unfloored)."""
    if layer.kind in (LayerKind.DENSE, LayerKind.MATMUL):
        return True
    a = layer.attrs
    if layer.kind != LayerKind.CONV:
        return False
    if all(k == 1 for k in a.get("kernel", (0,))):  # transposed too, as before 9.1
        return True
    spread = any(s > 1 for s in a.get("stride", ())) or any(d > 1 for d in a.get("dilation", ()))
    return spread and not a.get("transposed")


def undilated(layer: Layer) -> Layer:
    """``layer`` as the kernel head reads it when predicting: a dilated convolution (depthwise or transposed too) as its
    undilated twin (dilation 1; shapes, MACs and bytes its own), other layers as they are. The same multiply-adds
    spread wider cannot run faster (cuDNN runs dilation as an implicit GEMM, never Winograd or FFT), but no training
    row is dilated but SK-ResNets' 17, and 9.1 answered a stack of dilated 3x3 convolutions down to 0.18x its twin
    (RTX 5090, TensorRT fp16; depthwise 0.21x, transposed 0.13x: ``tests/test_sanity.py``, relation 9); the floors
    still read the layer itself (:func:`is_gemm`). The twin's padding is the least with which an undilated window
    gives the recorded output's size (an even kernel: one more; at least 0, where a convolution pads less than its
    dilation reaches)."""
    a = layer.attrs
    dil = tuple(a.get("dilation", ()))
    if layer.kind not in (LayerKind.CONV, LayerKind.DEPTHWISE_CONV) or not any(d > 1 for d in dil):
        return layer
    kernel, pad = a.get("kernel", ()), a.get("padding", (0,) * len(dil))
    shapes = (layer.input_shapes[0][2:], layer.output_shapes[0][2:]) if layer.input_shapes and layer.output_shapes \
        else ((), ())
    if a.get("transposed") or len(shapes[0]) != len(dil) or len(shapes[1]) != len(dil):
        # (in - 1) s - 2p + d (k - 1) + extra + 1 keeps its size as p takes (d - 1)(k - 1) / 2 less
        twin_pad = tuple(max(0, p - (d - 1) * (k - 1) // 2) for p, d, k in zip(pad, dil, kernel))
    else:  # out = (in + 2p - k) // s + 1, solved for the least such p
        stride = a.get("stride", (1,) * len(dil))
        twin_pad = tuple(max(0, -(-((o - 1) * s + k - i) // 2)) for i, o, s, k in zip(*shapes, stride, kernel))
    return replace(layer, attrs={**a, "dilation": (1,) * len(dil), "padding": twin_pad})


def pool_twin(layer: Layer) -> Layer | None:
    """The dense convolution that bounds a windowed 2-D pooling's time from above, None for any other layer: the same
    input, window, stride and padding, no bias, as many output channels as the pooling's. It reads what the pooling
    reads and its weights, writes as much, and does a multiply-add per tap and input channel where the pooling does
    one max or add per tap, and a framework dispatches a convolution with more work around it, so no pooling layer
    takes longer on any GPU and runtime (relation 11 of ``tests/test_sanity.py``; resperfnet-gpu warns where it
    answers otherwise). A pooling that also writes its indices (eager max pooling: int64, more bytes than its values)
    has none; a dilated pooling's twin is undilated (the same taps, as :func:`undilated` reads a convolution); an
    adaptive pooling's takes its window as its stride."""
    a, x = layer.attrs, layer.input_shapes[0] if layer.input_shapes else ()
    y = layer.output_shapes[0] if layer.output_shapes else ()
    if (layer.kind is not LayerKind.POOL or len(layer.output_shapes) != 1 or len(x) != 4 or len(y) != 4
            or len(a.get("kernel", ())) != 2):
        return None
    channels, out = x[1], y[1]
    element = layer.bytes_read / math.prod(x)  # a pooling reads its input alone
    params = out * channels * math.prod(a["kernel"])
    macs = params * y[0] * y[2] * y[3]
    return replace(layer, kind=LayerKind.CONV, op="aten.convolution", output_shapes=((y[0], out, y[2], y[3]),),
                   attrs={"kernel": a["kernel"], "stride": a.get("stride") or a["kernel"],
                          "padding": a.get("padding", (0, 0)), "dilation": (1, 1), "groups": 1,
                          "in_channels": channels, "out_channels": out, "transposed": False, "bias": False},
                   params=params, macs=macs, flops=2 * macs, bytes_read=int(layer.bytes_read + params * element))


def peak_headroom(gpu: GPUSpec) -> float:
    """How far above its datasheet peak the GEMM floor lets ``gpu`` run: ``BOOST_HEADROOM`` where GPU Boost may clock
    it above its rated boost (:attr:`GPUSpec.boosts_beyond_rated`), none on data-centre parts and Jetsons (from
    2026-12-06, helper-134: the Jetsons' catalog clocks are their maximum, yet their floors let dense segmentation
    run 1.15x faster than their peak, and the floor then set whole answers)."""
    return BOOST_HEADROOM if gpu.boosts_beyond_rated else 1.0


def peak_floor_ms(layer: Layer, gpu: GPUSpec, precision: str) -> float:
    """The least kernel time ``layer``'s arithmetic allows: its multiply-adds at the fastest datasheet rate any library
    setting can take (:meth:`GPUSpec.fastest_tflops`: TF32, FP16 accumulate), :func:`peak_headroom` faster still; 0
    where no bound is sound (not :func:`is_gemm`, or no sourced rate). The same for every runtime: a bound, not what
    the runtime is assumed to run."""
    if not is_gemm(layer) or layer.macs <= 0:
        return 0.0
    rate = gpu.fastest_tflops(precision, tensor_cores=True)  # type: ignore[arg-type]
    return 0.0 if rate is None else 2 * layer.macs / (rate * peak_headroom(gpu) * 1e9)


# Kinds whose byte counts (hwaware.graph.ops.layer_cost: every input, parameter and output once) a kernel cannot
# beat: each reads its whole input(s) and parameters and writes its output. Not counted exactly, so given no DRAM
# floor: copies (a gather or pad reads part of its input, a broadcast's copy counts its expanded view), upsampling
# (grid sampling), matmuls and attention (a broadcast operand counts its expanded view), reductions (bool and index
# outputs), unknown ops, and elementwise ops but arithmetic (fills read nothing, comparisons write bools).
_EXACT_BYTES = {LayerKind.CONV, LayerKind.DEPTHWISE_CONV, LayerKind.DENSE, LayerKind.NORM, LayerKind.POOL,
                LayerKind.GLOBAL_POOL, LayerKind.ACTIVATION, LayerKind.SOFTMAX, LayerKind.CONCAT}
_BROADCAST_DENSE = {"bmm", "baddbmm", "matmul", "einsum", "addbmm"}  # a DENSE op whose operand may be a broadcast
_ARITHMETIC = {"add", "sub", "mul", "div", "rsub", "neg", "maximum", "minimum", "addcmul", "addcdiv", "lerp", "exp",
               "log", "sqrt", "rsqrt", "pow", "abs", "reciprocal", "square"}


def _floor_read_bytes(layer: Layer) -> float | None:
    """Bytes ``layer`` must read (None: its count is not a bound, see ``_EXACT_BYTES``): an arithmetic elementwise op
    its largest input only (an operand may be a broadcast view or the same tensor twice); a convolution or pooling
    the input positions its windows' taps read only (:func:`_tap_share`: DeepBench's 1x1 stride-2 convolution on the
    T4 in fp16 runs at 1/1.055 of the floor its whole input would give)."""
    name = layer.aten_name.rsplit(".", 1)[-1]  # an ONNX import's too (its op is ``onnx.Add``)
    elem = layer.bytes_written / max(1, layer.output_elements)
    if layer.kind is LayerKind.ELEMENTWISE:
        shapes = layer.input_shapes
        return max((math.prod(s) for s in shapes), default=0) * elem if name in _ARITHMETIC and shapes else None
    if layer.op == "tensorrt.concat_copy":  # one operand into the concat's buffer: read and written once
        return float(layer.bytes_read)
    if layer.kind not in _EXACT_BYTES or (layer.kind is LayerKind.DENSE and name in _BROADCAST_DENSE):
        return None
    read = float(layer.bytes_read)
    window, stride = layer.attrs.get("kernel"), layer.attrs.get("stride")
    if window and stride and layer.input_shapes and layer.output_shapes and not layer.attrs.get("transposed"):
        n = len(window) if isinstance(window, tuple) else 1
        window, stride, dilation, padding = (
            v if isinstance(v, tuple) else (v,) * n
            for v in (window, stride, layer.attrs.get("dilation") or 1, layer.attrs.get("padding") or 0))
        ins, outs = layer.input_shapes[0][-n:], layer.output_shapes[0][-n:]
        share = math.prod(_tap_share(*dim) for dim in zip(ins, outs, window, stride, dilation, padding))
        read -= (1.0 - share) * math.prod(layer.input_shapes[0]) * elem
    return read


def _tap_share(size: int, out: int, taps: int, stride: int, dilation: int, pad: int) -> float:
    """The share of an input dimension's ``size`` positions that ``out`` windows read: each ``taps`` positions
    ``dilation`` apart, windows ``stride`` apart, the first ``pad`` positions padding (read from nowhere). A window
    narrower than its stride, dilated taps with a stride, or windows not reaching the input's end leave some unread."""
    at = np.arange(out)[:, None] * stride + np.arange(taps)[None, :] * dilation - pad
    return np.unique(at[(at >= 0) & (at < size)]).size / max(1, size)


def dram_floor_ms(layer: Layer, gpu: GPUSpec) -> float:
    """The least kernel time ``layer``'s bytes allow: the bytes it must move (:func:`_floor_read_bytes` and its output)
    that cannot sit in L2 before and after the kernel (all but twice the L2), at ``BOOST_HEADROOM`` x the datasheet
    DRAM bandwidth (the margin here for the byte counts' approximations: DRAM clocks do not boost); 0 where the catalog
    has no L2 size or the layer's byte count is no bound. Data compression is not modelled: Ampere's compute data
    compression applies only to memory created with the compressible hint (CUDA driver API, ``cuMemCreate`` with
    ``CUmemAllocationProp.compressionType``), which PyTorch's caching allocator does not set (``cudaMalloc``, or
    ``cuMemCreate`` with a zeroed ``prop`` for its expandable segments, c10/cuda/CUDACachingAllocator.cpp)."""
    read = _floor_read_bytes(layer) if gpu.l2_cache_mb is not None and layer.kind.launches_kernel else None
    if read is None:
        return 0.0
    spill = read + layer.bytes_written - 2 * gpu.l2_cache_mb * 2 ** 20
    return max(0.0, spill) / (gpu.memory_bandwidth_gbs * 1e6 * BOOST_HEADROOM)


def network_floor_ms(graph: Graph, gpu: GPUSpec, precision: str, runtime: str) -> float:
    """The least time the kernels ``runtime`` runs for ``graph`` (captured at the platform's batch and precision)
    allow on ``gpu``: each kernel's :func:`peak_floor_ms` or :func:`dram_floor_ms`, the larger, summed (they run one
    after another). A bound no answer may go below, whatever estimator gave it."""
    return sum(max(peak_floor_ms(l, gpu, precision), dram_floor_ms(l, gpu))
               for l in runtime_kernels(graph, runtime).layers)


def arithmetic_ms(graph: Graph, gpu: GPUSpec, precision: str) -> float | None:
    """The time ``graph``'s convolutions (not depthwise), dense layers and matmuls take, every multiply-add counted,
    at ``gpu``'s fastest datasheet rate for ``precision`` (:meth:`GPUSpec.fastest_tflops`); None without a sourced
    rate. Not a bound: Winograd and FFT run a stride-1 convolution in fewer multiplies (hence no floor on those
    layers, :func:`is_gemm`), but an answer below it needs them on most of the network's arithmetic, at that rate."""
    rate = gpu.fastest_tflops(precision, tensor_cores=True)  # type: ignore[arg-type]
    macs = sum(l.macs for l in graph.layers if l.kind in (LayerKind.CONV, LayerKind.DENSE, LayerKind.MATMUL))
    return None if rate is None else 2 * macs / (rate * 1e9)


# The floors' rules, named in floor_digest: 140a22a's first DRAM floor answered as resperfnet-gpu "8.1" too, so a
# change to what the floors count gets a new tag (no cached answer outlives it, a profile fitted on the old answers is
# reported stale).
FLOOR_RULES = "rules=dram-whitelist,window-taps,gemm-strided-dilated,boost-by-class"
# The rules that build a row as predictions read it (:func:`gpu_vector`, :func:`roofline_ms`), for resperfnet-gpu's
# cache keys: a rule changed under one version number keeps no earlier answer (8b2481a and 80fb5be were both 9.6, and
# a cache written by the first answered for the second: helper-168). Not in a profile's base, which
# ``answers_version`` keys per platform.
ROW_RULES = "rows=amp-heads-fp16,amp-depthwise-fp16,bf16-plain-fp16"


def floor_digest(gpu: GPUSpec) -> str:
    """What :func:`peak_floor_ms` reads of ``gpu`` beyond :func:`~hwaware.hardware.catalog.spec_digest` (its FP16-
    accumulate figure, which no framework rate takes) and the floors' rules (``FLOOR_RULES``), for resperfnet-gpu's
    cache keys and calibration base."""
    rates = ",".join(f"{gpu.fastest_tflops(p, tensor_cores=True)}" for p in ("fp32", "fp16", "bf16", "int8"))
    return f"{rates},{FLOOR_RULES}"


def row_features(layer: Layer, gpu: GPUSpec, precision: str, runtime: str, gvec: np.ndarray | None = None, *,
                 rules: bool = True) -> tuple[np.ndarray, float]:
    """(feature vector, log of the roofline time in ms) of one kernel-launching layer on one platform (``rules``: as
    predictions read it; False: as a training design does, :func:`gpu_vector`, :func:`roofline_ms`)."""
    compute, memory = roofline_ms(layer, gpu, precision, runtime, rules=rules)
    base = max(compute, memory, 1e-7)
    gvec = gpu_vector(gpu, precision, rules=rules) if gvec is None else gvec
    x = np.concatenate([
        np.log1p(np.maximum(layer_features(layer), 0.0)), kind_one_hot(layer.kind),
        [math.log(compute + 1e-7), math.log(memory + 1e-7)],
        gvec, _one_hot(precision, PRECISION_CODES), _one_hot(runtime, RUNTIME_CODES)])
    return x, math.log(base)


ROW_FEATURES: tuple[str, ...] = (
    *LAYER_FEATURES, *(f"kind_{k.value}" for k in KINDS), "log_compute_ms", "log_memory_ms",
    *GPU_FEATURES, *(f"precision_{p}" for p in PRECISION_CODES), *(f"runtime_{r}" for r in RUNTIME_CODES))
# What each head may read. The data confound device identity with the host that measured it (fp16 PyTorch is
# measured only on Jetsons, whose hosts are slow; each desktop GPU of HELP sat in its own machine), so:
# the kernel head sees the GPU only through the catalog features of ``KERNEL_GPU_SETS`` (no compute capability, clock
# or precision label: a leave-one-GPU-out run that let it read them predicted an unseen RTX 4090 12x too slow), and the
# framework head (host-side dispatch) reads the op, the runtime and a coarse device class.
# Nor does the kernel head read a conv's ``bias`` flag (from version 6): a bias costs its FLOPs and bytes inside the
# kernel (TensorRT, a folded norm) or is a kernel of its own (eager PyTorch, :mod:`hwaware.runtime.eager`), while the
# flag itself marks VGG, AlexNet and SqueezeNet in the training data, whose costs version 5 let it carry.
# No head reads how many operations a TensorRT kernel fuses (version 7; until then the row's ``log_fused``): the
# fused epilogue adds its FLOPs and bytes, which the row carries, while the count was measured on the Jetsons at batch 1
# only, and version 6's kernel head, reading it with a desktop GPU's rates at batch 64, answered TensorRT slower than
# eager PyTorch (``DISCLOSED_FUSED`` in scripts/train_gpu.py). The ``runtime_tensorrt`` flag, as narrowly measured, is
# still read on a Jetson (the class that measured it); on a desktop GPU the estimator reads the row as eager
# PyTorch's (from version 7.1, resperfnet_gpu.runtime_via). tests/test_sanity.py's relation 6 checks the answers.
_HOST = ("integrated", "log_clock_ghz", "log_sms")
# The GPU features the kernel head reads, by name (a recipe's ``kernel_gpu``, in meta.json's architecture):
# "rates-and-size" through version 8; "size" leaves the rates to the layer's roofline terms, which carry them. The
# V100 held out of DeepBench's kernels was predicted x7.0 too slow in fp16 with its own features, x0.7 with a GP102
# card's, x3.2-4.1 with the RTX 2080 Ti's and TITAN RTX's (x1.04 with the T4's), x6.3-18.8 with timm's AMP GPUs'
# (benchmarks/results/gpu/kernel_fold_features_v100.txt, from scripts/kernel_fold_features.py, which swaps every
# feature, SMs and L2 too, so it does not single out the rates). SMs and L2, which set how a layer fills a GPU, stay.
# scripts/train_gpu.py's KERNEL_GPU_RULE chose between the sets: "rates-and-size" stays (gpu_accuracy.md).
KERNEL_GPU_SETS: dict[str, tuple[str, ...]] = {
    "rates-and-size": ("log_peak_tensor", "log_peak_plain", "log_bandwidth", "log_l2_mb", "log_sms", "integrated"),
    "size": ("log_l2_mb", "log_sms", "integrated"),
}
KERNEL_GPU_BEFORE_9 = "rates-and-size"  # weights whose meta.json names no set
KERNEL_RUNTIME_BEFORE_10 = True  # weights whose meta.json names no kernel_runtime read the runtime flags


def kernel_inputs(kernel_gpu: str, runtime: bool = KERNEL_RUNTIME_BEFORE_10) -> tuple[int, ...]:
    """The columns of a feature row the kernel head reads, with the GPU features of ``KERNEL_GPU_SETS[kernel_gpu]``;
    ``runtime=False`` (a recipe's ``kernel_runtime``): without the runtime flags, so a kernel costs the same whichever
    runtime launched it (the runtime decides which kernels run, :mod:`hwaware.runtime`, and their host-side costs), as
    :func:`~hwaware.estimators.resperfnet_gpu.runtime_via` already assumes for TensorRT on a desktop GPU. Read, the
    TensorRT flag is learned from two Jetsons only, and a Jetson held out of training got it from the other one:
    the TensorRT columns' zero-shot mean |log(pred/true)| was 1.33 (AGX Xavier) and 0.45 (Nano) with version 9's
    recipe (``benchmarks/results/gpu/logo.json``), against 0.18 and 0.17 under eager PyTorch. Tried and not shipped
    (``python scripts/train_gpu.py kernel-runtime``, 2026-12-06): without the flags the held-out AGX Xavier came out
    worse under both runtimes (mean |log| 0.17 -> 0.56 under eager PyTorch, 1.36 -> 1.60 under TensorRT)."""
    gpu = KERNEL_GPU_SETS[kernel_gpu]
    return tuple(i for i, n in enumerate(ROW_FEATURES)
                 if not n.startswith("precision_") and n != "bias" and (n not in GPU_FEATURES or n in gpu)
                 and (runtime or not n.startswith("runtime_")))


FRAMEWORK_INPUTS: tuple[int, ...] = tuple(i for i, n in enumerate(ROW_FEATURES)
                                          if n.startswith(("kind_", "runtime_")) or n in (*_HOST, "n_inputs"))


def n_features() -> int:
    return len(ROW_FEATURES)


def call_features(gpu: GPUSpec, runtime: str, batch: int) -> np.ndarray:
    """Features of the per-call cost (synchronisation, Python around the forward): device class, runtime, batch."""
    clock = gpu.boost_clock_mhz or gpu.base_clock_mhz or 1000.0
    return np.concatenate([[float(gpu.is_integrated_soc), math.log(clock / 1e3), math.log(gpu.sm_count)],
                           _one_hot(runtime, RUNTIME_CODES), [math.log(batch)]])
