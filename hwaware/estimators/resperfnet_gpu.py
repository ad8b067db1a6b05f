"""``resperfnet-gpu``: one learned per-layer latency model for every catalog GPU, trained on whole networks.

Per kernel-launching layer ``l`` on platform ``P`` (GPU, runtime, precision, batch):

* kernel time ``k = roofline(l, P) * exp(f(x))``: the roofline time (FLOPs at the precision's peak vs bytes
  at DRAM bandwidth) times a learned inefficiency, so a GPU without measurements still gets the right order
  of magnitude from its specs;
* framework time ``o = exp(g(x))``: what the runtime spends around the kernel (dispatch, launch; 0 for
  DeepBench's bare kernels and, from version 6, eager PyTorch's conv bias adds, launched inside the conv's call);
* layer time ``t = (k^p + o^p)^(1/p)`` with a learned ``p >= 1``: while the host queues the next kernel
  the GPU runs the current one, so a layer costs about the larger of the two (``p`` -> inf), not their sum
  (``p = 1``). ``p`` is learned because the pipeline is not perfect.

Every head's output is clamped to the range it took over the training rows (``out_lo``/``out_hi``, set after
training): a GPU or feature combination no measurement covered cannot push a layer's inefficiency or dispatch cost
beyond what some measured row needed. The clamp passes the gradient straight through during training: a plain clamp
has none outside its bounds, and in the leave-one-GPU-out fold without the AGX Xavier the per-call head overshot early
and stayed at its bound (8.1 s per call), which was the whole of that fold's ">500x" zero-shot error.

The network: ``T = T_pre + sum_l t_l + T_post``, with ``T_pre`` a learned per-call cost (synchronisation,
Python around the forward) and ``T_post = 0``: every training table times inputs that already sit on the
device, so host<->device copies are not included (the estimate says so). A batch's answer is capped at ``b`` times
the batch-1 answer (``b`` images one at a time bound a batch) and the estimate says so: the Jetsons were timed at
batch 1 only, and above it, under PyTorch on them and on small desktop GPUs, the kernel head extrapolates past every
training batch (resnet50 fp32 on the Jetson Nano at batch 32: 72x its batch-1 time uncapped, weights of 7e6f8f0;
version 6 answers it at 0.89x the bound, version 7 at 0.79x, version 8 at 0.66x, and resnet18/50, MobileNetV2 and
VGG16 on the Nano, AGX Xavier and TX2 in fp32 and fp16 at batch 32 all stay below it: at most 0.75x with version
8). On timm's RTX 4090 rows (batch up to 1024, AMP), measured rows near the bound, it does not bind
(``tests/test_resperfnet_gpu.py``).
Since version 7.5 (same weights), an answer at a batch the training never timed the platform around warns where an
image costs more than ``BATCH_RISE`` x its cost at a smaller power of two (:meth:`_batch_bounds`: a warning, not a
cap, as no row says which answer is off): 7.4's answers did so unwarned in 192 of 4,122 steps of ``python
benchmarks/peak_floor.py``'s sweep at 67dc2c3, mostly desktop TensorRT from batch 8 to 64 (1.46x at worst).
A platform asked at a batch outside those the training timed it at (``meta.json``'s ``trained_batches``: a Jetson
above batch 1, timm's GPUs below 384-1024) gets the zero-shot interval and a note quoting ``python
scripts/train_gpu.py batches``: folds that hold out every batch > 1 column of the Pascal or Turing desktops predict
them at 20.4 % MAPE (batches 32-256; version 8: 19.9 %, version 7: 18.6 %), the zero-shot interval covering 87 % of a
column on average (version 8: 89 %; ``meta.json``'s ``batch_extrapolation``). The same stage tried a prior on the kernel
head (:func:`_batch_penalty`: a layer's kernel at batch ``2b`` takes at most twice its time at ``b``, on every catalog
GPU): 20.1 % (version 8: 20.4 %, version 7: 20.2 %), so, by the rule declared before the
run (``scripts/train_gpu.py``'s ``BATCH_RULE``), it is not trained with. With it (trained at 29bb65b), no Jetson answer
in a sweep of resnet50 / MobileNetV2 / VGG16 at batch 8 and 32 was capped, but the Quadro P1000's batch-1 resnet50
doubled (28 -> 54 ms; ``benchmarks/results/gpu/batch_prior_sweep.txt``): the prior can be met by slowing small batches
where the host hides them.

Under TensorRT, where no row timed the platform (every GPU but the Jetsons' fp16 engines at batch 1), an answer is the
fastest of the engine and the engines at the precisions it may fall back to (:func:`engine_bound`, per network), and an
answer above eager PyTorch's warns (:meth:`ResPerfNetGPUEstimator._engine_bounds`): a builder keeps the fastest of its
tactics. Version 7's answers broke both (``tests/test_sanity.py``, relations 6 and 7). On a desktop GPU, whose class no
row timed under TensorRT, the per-layer heads do not read the runtime flag (version 7.1, :func:`runtime_via`): each
launch's host-side cost comes through the Jetsons that timed both runtimes, kernels are eager PyTorch's for the fused
layers; the per-call time still reads the flag.

No GEMM (a dense layer, a matmul, a 1x1 convolution, since 9.1 a strided or dilated one:
:func:`~hwaware.estimators.gpu_features.is_gemm`) gets a kernel time below its multiply-adds at the fastest datasheet
rate any library setting can take on the GPU (TF32, FP16 accumulate), ``BOOST_HEADROOM`` (1.15, an assumption) above
it for GPU Boost clocks beyond the rated one (since 9.2 on GeForce, TITAN and workstation cards only:
:func:`~hwaware.estimators.gpu_features.peak_headroom`), at the catalog's clocks
(:func:`~hwaware.estimators.gpu_features.peak_floor_ms`; none where the catalog has no figure that bounds the rate, nor
for larger kernels at stride 1, undilated, which Winograd or FFT may run in fewer multiplies than their FLOPs count).
Version 7.3 answered DeepBench's largest GEMMs, as bare kernels, above that rate on 27 catalog GPU and precision pairs,
up to 1.64x (``python benchmarks/peak_floor.py``): the kernel head, its inputs clamped to the training range, gives
rates no training row had an inefficiency learned on slower parts. A physical bound, found by that sweep, not from any
accuracy figure; every one of DeepBench's 2,549 bounded GEMM rows (2,378 before 9.1, whose 171 strided convolutions
it now bounds) is above it (``tests/test_gpu_data.py``), none faster than 1.07x its datasheet peak (0.90x on tensor
cores), so an estimate whose GEMMs the floor raised says they are likely answered too fast. It applies when
predicting and evaluating, not in training, as the dense-layer rule below (version 7.4, same weights);
an estimate notes how many kernels it raised; ``tests/test_sanity.py`` (relation 8) checks every estimator on every
catalog GPU. From version 8.1 (same weights) no kernel is faster than its bytes allow either: those beyond twice the
L2 (what can sit there before and after it) at ``BOOST_HEADROOM`` x the datasheet DRAM bandwidth
(:func:`~hwaware.estimators.gpu_features.dram_floor_ms`; for the kinds whose byte counts bound the traffic: no copy,
gather, broadcast matmul or fill). Version 8's weights without either floor predict 6,071 of 407,308 such layers of
``python benchmarks/peak_floor.py``'s sweep faster than that (eager concatenations, GELUs, means, up to 2.2x): the
training fits whole networks, so nothing held one layer of a sum to its bytes; with both floors, 1,148 of its 5,496
answers move (312 with the GEMM floor alone), and 226 layers stay under, all in the 33 answers the batch cap scaled.
Also a prediction rule, from that sweep and no accuracy figure; no DeepBench kernel and no HELP, timm or torch2trt
network is measured faster than its floors (``tests/test_gpu_data.py``). Raising a layer is not met by
lowering the others, as training would; a training with the floors was tried on 2026-12-03 and not shipped (version
8: 0.1181 against 0.1189 on GPU_VAL, within its declared rule's margin; version 9: 0.1222 against 0.1159, worse:
``python scripts/train_gpu.py floors``, ``benchmarks/results/gpu/floors_training.json``). From version
8.2 (same weights) nothing takes a kernel below its floor afterwards: the batch cap scales the kernels but none below
its floor (:func:`cap_scale`; where the floors alone exceed the cap, the answer is not capped and warns that one of
the two answers is off), and a calibration profile stops a layer at its floor
(:attr:`LayerEstimate.floor_ms`), as it stops one at 0. In 8.1 both scaled floored kernels with the rest: 226 layers of
the sweep's answers, all in the 33 it capped. 8.2's DRAM floor also counts a window's taps, dilation included.

Outside the training domain (a network with layers of a kind no training row has, :meth:`untrained_kinds`: the
tables are CNNs, so matmul between activations marks a transformer) the heads are not trusted: every kernel of that
network is timed at its roofline (``f = 0``) and every launch costs the framework time of an elementwise one, and the
estimate warns. Chosen after the learned heads answered timm's transformers a median 3.2-4.4x too slow (softmax and
token-wise dense layers, unlike any CNN's, got inefficiencies and dispatch costs far above their roofline);
``benchmarks/timm_other.py`` reports the rule on those same rows (MAPE 24-40 % per GPU at timm's batches, in sample)
and, run at commit 4ff0d9f, the heads before it.

A network's dense layers but its classifier take the framework time of a convolution (``as_conv``; their kernel head
still sees a dense layer): every training network timed where dispatch shows has one dense layer, its classifier
(HELP's; torchvision's but AlexNet and VGG, whose three sit among kernels that hide it), so the framework head's value
for dense absorbed per-network costs (277 us per Linear on an RTX 4090 against 39 us per convolution, weights of
95d2a92), and ConvNeXt-T, with 37 Linears, was predicted 14.7 ms there at batch 1, twice resnet50 with more kernels (6.2
ms with the rule, versions 5 and 6 too; 6.1 with version 7). A Linear is one GEMM launch, as a 1x1 convolution is; the
classifier keeps the learned value (``tests/test_resperfnet_gpu.py`` pins both networks and that stacking Linears before
a classifier adds about a launch each). A rule of physical sense chosen from those two predictions, which no measurement
covers. It applies when predicting and evaluating, not in training: every training design is built without it
(``DesignBuilder(prediction_rules=False)``), so training is what it was, bit for bit, and the shipped weights (trained
and chosen before the rule; their ``train.json`` figures are without it) are those ``scripts/train_gpu.py main`` gives
(re-run on 2026-12-03 on the machine that trained them: the same weights, tensor for tensor; another CPU trains
other weights: ``benchmarks/results/gpu/retrain_other_cpu.txt``). Since then the measured interval comes from the validation
rows with the prediction rules, as users get answers: about the same quantiles as without them (version 9: 518 of
40,902 rows move, by at most 0.9 %; 8.3: 896, 1.4 %: ``train.json``'s ``measured_interval``). Applied in training
too, a first leave-one-GPU-out run moved the RTX 3090's zero-shot MAPE from 25.9 to 42.9 % and the AGX Xavier's 10-shot
from 7.0 / 42.6 to 4.4 / 25.4 % (PyTorch / TensorRT; stopped after five folds), and a second, training without the rule
on a design whose rows it had split (which changes the random draws, not the loss), moved the 3090 to 29.8 % and the RTX
4090's 10-shot from 11.6 to 15.5 %: a fold's figures move by several points with any change of training draws (both
runs' lines: ``benchmarks/results/gpu/logo_disclosed_runs.txt``). With training unchanged the stage (``python
scripts/train_gpu.py logo``) reproduces every HELP fold of the run before the rule exactly and moves the folds with
several-dense networks (timm, torch2trt) by at most 0.3 points: RTX 4090 10-shot 11.6 -> 11.8 %, AGX Xavier zero-shot
20.7 / 33.7 -> 20.9 / 33.8 %, 10-shot 7.0 / 42.6 -> 7.1 / 42.7 %. On the then shipped model's evaluation (``python
benchmarks/gpu_accuracy.py``, before and after) it moves the AGX Xavier fit error (PyTorch 1.3 -> 1.6 %; both columns
3.4 -> 3.6 %) and no held-out figure at the printed precision.

From version 9.2 (same weights) the kernel head reads a dilated convolution, depthwise or transposed too, as its
undilated twin (:func:`~hwaware.estimators.gpu_features.undilated`: dilation 1, the padding that gives the output's
size), a prediction rule as the others: the same multiply-adds read from a wider window cannot run faster, but the
training rows hold 17 dilated layers (SK-ResNets'), and 9.1 answered one 3x3 at 0.52x its twin (T4, TensorRT fp16,
batch 16: 1.03 against 2.00 ms), a stack of three down to 0.13x (relation 9 of ``tests/test_sanity.py``, which
now refuses it); an estimate with such layers says so in a note. Found from predictions (helper-131's sweep), not
from any accuracy figure; ``python benchmarks/gpu_accuracy.py`` re-run with it.

From version 9.3 (same weights) the heads read a bf16 layer's GPU at fp16's catalog features
(:data:`~hwaware.estimators.gpu_features.HEAD_PRECISION`), its roofline terms at bf16's own rates, and the estimate
notes it: no training row timed bf16, and 9.2, reading bf16's non-tensor rate (fp32's) beside fp16's tensor rate,
answered resnet18 up to 1.25x faster in bf16 than in fp16 on GPUs that run both at one rate (relation 10 of
``tests/test_sanity.py``). Found from predictions (helper-136), not from any accuracy figure; no table or benchmark
asks bf16, so no figure can move.

From version 9.6 (same weights) a bf16 layer off tensor cores takes fp16's roofline terms (its math was read at the
fp32 rate), and, as prediction rules that training designs do not apply (the batch prior draws amp on every GPU),
amp's heads read fp16's GPU features and its depthwise convolutions fp16's roofline terms: timm's amp rows, the only
measured ones, were timed on GPUs where amp's features and fp16's agree, so no measured row's answer moves (relation
12 of ``tests/test_sanity.py``: 9.5 answered amp faster than fp16 on the A100s). Found from predictions (helper-165,
helper-167); NVIDIA's published AMP rows, which nothing fits, were re-run (``python benchmarks/external_nvidia.py``).

From version 9.4 (same weights, same answers) an answer whose pooling layers outlast the dense convolutions of their
windows (:func:`~hwaware.estimators.gpu_features.pool_twin`: same input, window, stride and padding, which reads and
writes as much and does more arithmetic) warns (:data:`POOL_WARNING`; beyond ``ORDER_SLACK`` over the answer with each
pooling at its twin, else a note): under TensorRT on the Jetsons resnet50's 3x3 max pooling took 7.5x (AGX Xavier) and
2.3x (Nano) its twin, and an NB201 cell of ``avg_pool_3x3`` edges was answered slower than one of ``nor_conv_3x3`` on
every catalog Jetson under TensorRT fp16. Every torchvision network the Jetsons timed has a pooling layer, so pooling
carries per-network costs the data cannot place elsewhere: totals fit those networks, while NAS choices between
pooling and convolution rank wrongly there. Relation 11 of ``tests/test_sanity.py``; found from predictions, not from
any accuracy figure. Eager max pooling, which also writes its int64 indices, has no twin and is not checked.
Training that holds each training pooling to its twin (:func:`_pool_penalty`, a recipe's ``pool_prior``) was tried
and not shipped (``scripts/train_gpu.py``'s POOL_PRIOR_RULE kept the recipe without it, 0.2125 against 0.2195): the
costs moved to other layers, and the held-out AGX Xavier's poolings stayed above their twins (docs/accuracy.md).
So was a per-call head that reads TensorRT as eager PyTorch (``call_runtime=False``; CALL_RUNTIME_RULE kept the flags,
0.2125 against 0.2141): held out, the tied per-call time went to about zero for both runtimes (docs/accuracy.md).

``x`` is :func:`hwaware.estimators.gpu_features.row_features`: the layer's features at the platform's batch
and precision, its roofline terms, the GPU's catalog features, precision and runtime. Each head reads only the
part of ``x`` that can cause its time (``kernel_inputs``, ``FRAMEWORK_INPUTS``): precision reaches the kernel
head through the rates and roofline terms, never as a label, and the framework head reads the op, the runtime
and a coarse device class. This restriction was added after a preliminary run in which every head read all of
``x``: fp16 PyTorch is measured only on Jetsons, whose hosts are slow, and that model predicted fp16 resnet18
on an RTX 5090 2.1x slower than fp32 (``tests/test_sanity.py`` failed); on the preliminary data its validation
loss was 0.094 against 0.106 with the restriction (that preliminary run, on an earlier split, is in no committed
file). Physical sanity was preferred to that difference. A leave-one-GPU-out run then predicted an unseen RTX 4090
12x too slow, and the kernel head lost compute capability and clock too. A GPU whose machine never measured small
batches gets, from the host-side heads, the average (in log) of their outputs over the measured hosts of its class
(:func:`column_shows_host`: machines timed at one batch <= 64, where dispatch shows; until 2026-11-30 it was the
heads' output at the row-weighted mean host features, timm's batch-1024 GPUs included). ``f`` and ``g`` are
ResPerfNet-style residual regressors with dense blocks instead of the paper's 1-D convolutions (a choice
measured for cost: the paper's 128-channel 1-D CNN needs ~2 M MACs per row, and whole-network supervision
evaluates hundreds of thousands of rows per step on 2 CPU cores; a residual MLP needs ~20 k).

Measurement setups (version 3, 2026-11-30): one GPU was timed on different machines or harnesses for different
tables, and the host-side costs follow the setup, not the GPU. In HELP's medians at batch 1, the TITAN RTX takes
0.84x the 2080 Ti's time on NB201, 1.14x on FBNet and 0.50x on OFA (``../shared/data/wholenet/help``; the data's
``archspecs.md`` finds 0.25 ms per OFA block on the TITAN RTX against 0.52 ms on the 2080 Ti). Heads that see only
the GPU cannot fit both: version 2 missed the OFA batch-1 *training* rows by about 15 % in opposite directions on
the 2080 Ti and the TITAN RTX (a diagnostic of its predictions, not committed; its held-out OFA batch-1 MAPE was
16.2 %, ``benchmarks/results/gpu_accuracy.md`` at commit cfea5af). Every setup (:func:`measurement_setup`: a table's machine for one GPU, in the columns that
:func:`column_shows_host`) now gets two learned log offsets, framework and per-call, centred per GPU: the heads give
the average over a GPU's setups, which is what a prediction without a setup (every user's, the leave-one-GPU-out
folds') uses. The kernel head has no offset: kernel time is the GPU's. Evaluations on a measured column can add its
setup's offsets (``predict_design(..., use_setup=True)``); ``benchmarks/gpu_accuracy.py`` reports both.

Training (``scripts/train_gpu.py``): whole-network latencies supervise the sum ``T`` (HELP NB201 / FBNet /
OFA, torch2trt Jetson, timm), DeepBench supervises single kernels ``k``; the loss is the mean
``|log(T_pred / T_true)|`` with every measured column (table, GPU, runtime, precision, batch) weighted
equally, plus a physical prior (:func:`_resource_penalty`, from version 3): a GPU with more compute, bandwidth or L2
and nothing else changed never runs a kernel slower. Without it the first version-3 model predicted resnet18 at
batch 64 6 % slower on the V100S than on the V100 it dominates (``tests/test_sanity.py`` failed): the kernel head's
slope in the GPU's rates is free where only eight GPUs anchor it. Its weight and ranges are set a priori, not
tuned; inputs are clamped to the training range, so it constrains nothing beyond it. TensorRT is the graph rewrite
of :mod:`hwaware.runtime.tensorrt` plus ``runtime="tensorrt"`` in ``x`` (on a desktop GPU, from version 7.1, what
:func:`runtime_via` says); eager PyTorch that of :mod:`hwaware.runtime.eager` (a conv's bias its own kernel, from
version 6). No head reads how many operations a TensorRT kernel fuses (from version 7, ``DISCLOSED_FUSED`` in
``scripts/train_gpu.py``). Intervals come from held-out log residuals (split conformal, see ``meta.json``): for a
measured platform the validation rows' (of a GPU timed on several machines: each row at its own measurement setup,
around the answers at each of the GPU's setups, from version 8.3, :func:`setup_factors`; ``MEASURED_INTERVAL`` in
``scripts/train_gpu.py`` says why), the leave-one-GPU-out folds' rows outside ``GPU_TEST`` for a zero-shot one (from
2026-12-05; before, every row), and for a Jetson no row
measured (and, from version 7.1, TensorRT on a desktop GPU, :func:`runtime_via`) the held-out Jetsons' columns,
widened to contain the pooled interval (``zero-shot-integrated``, from 2026-12-01: the pooled interval covered 26 % and
75 % of the AGX Xavier's and the Nano's held-out rows; this rule, each Jetson against the rule made from the other,
40 % and 86 %; version 5, pooled 36 % and 75 %, this rule 36 % and 78 %; version 6, pooled 57 % and 72 %, this rule
69 % and 78 %; version 7, pooled 34 % and 75 %, this rule 34 % and 78 %; version 8, pooled 34 % and 72 %, this rule
34 % and 75 %; version 9, pooled 38 % and 69 %, this rule 47 % and 75 %, ``python scripts/train_gpu.py logo``); from
2026-12-05 the held-out Jetsons' columns of the estimate's runtime only (``zero-shot-integrated-pytorch``,
``-tensorrt``; ``INTEGRATED_RUNTIME_RULE`` in scripts/train_gpu.py: eager PyTorch x0.69-x1.74 covering 93 % and 100 %
of the AGX Xavier's and the Nano's PyTorch rows, each against the other's rule; TensorRT x0.39-x10.43, 7 % and 50 %;
``python scripts/train_gpu.py logo``; chosen after those columns' errors were seen, so not clean held-out figures).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from hwaware.errors import InvalidArgumentError, UnsupportedPlatformError
from hwaware.estimators.base import (HOST_NOTE, INT8_TRT_NOTE, INTERVAL_NOTE, JETSON_TRT_NOTE, ORDER_SLACK,
                                    OUTSIDE_INTERVAL_NOTE, REGIME_NOTES, UNMEASURED_JETSON_NOTE, Estimate, Estimator,
                                    LayerEstimate, order_warning_prefix, register_estimator)
from hwaware.estimators.cache import PredictionCache
from hwaware.estimators.gpu_features import (FRAMEWORK_INPUTS, GPU_FEATURES, KERNEL_GPU_BEFORE_9,
                                             KERNEL_RUNTIME_BEFORE_10, ROW_FEATURES, MEASURED_PEAK_SHARE,
                                             MEASURED_TENSOR_PEAK_SHARE, RUNTIME_CODES, BOOST_HEADROOM,
                                             HEAD_PRECISION, ROW_RULES, call_features, dram_floor_ms, floor_digest,
                                             gpu_vector, kernel_inputs, n_features, peak_floor_ms, pool_twin,
                                             row_features, undilated)
from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.graph.transform import ELEMENT_BYTES, at_batch, reshape_layer
from hwaware.hardware.catalog import GPUSpec, Platform, get_gpu, spec_digest
from hwaware.hardware.catalog import gpus as catalog_gpus  # the module's own names say 'gpus' for column GPUs
from hwaware.runtime import runtime_kernels
from hwaware.runtime.eager import NOT_MODELLED as EAGER_NOTE
from hwaware.runtime.eager import inside_call
from hwaware.trained import WEIGHTS, measured_platforms

KIND_NAMES = {k: k.value for k in LayerKind}  # Enum.value is a descriptor call: slow per layer of a whole space
FLOOR_NOTE = "GEMM peak floor"  # how an estimate's note on the kernels :func:`peak_floor_ms` raised begins
DRAM_NOTE = "DRAM floor"  # and on those :func:`dram_floor_ms` raised

# autocast casts each conv/dense weight to fp16 in every call (its cast cache lives one autocast region) and adds a
# dispatch step per op; no table times AMP below timm's large batches, so neither is learned
AMP_NOTE = ("amp: conv/dense/matmul at fp16 {rates}, depthwise convolutions at fp16's, other layers at fp32 rates; "
            "autocast's per-call weight casts and dispatch are not modelled (AMP was timed at large batches only): at "
            "small batches, where the host decides, the answer may be low (NVIDIA's published AMP latency at batch 1 "
            "is 1.09-1.31x its fp32 on a V100, T4 and A100, where version 9 answers 0.91-1.00x; their AMP runs differ "
            "in more than the casts: channels-last, APEX AMP for ResNeXt101: python benchmarks/external_nvidia.py)")

BF16_NOTE = ("bf16: no training row timed it; its layers are read as fp16's (the same bytes on the same tensor cores, "
             "gpu_features.HEAD_PRECISION) at bf16's tensor rate, its other layers at fp16's rates (PyTorch computes "
             "both in fp32; cuDNN's bf16 depthwise convolutions run at fp16's speed, pytorch/pytorch#91735). The "
             "only bf16 GPU rows, timm's torch.compile tables of the RTX PRO 6000 Max-Q (large batches, not trained "
             "on), time autocast in bf16 at 0.98-1.01x autocast in fp16 per image and the whole network in bf16 at "
             "0.94-1.06x (10th-90th percentile; python benchmarks/compile_vs_eager.py)")

# every version up to 9: the per-call head reads the runtime flags (a recipe's ``call_runtime``; False: every runtime's
# per-call time is eager PyTorch's on the same host and batch, scripts/train_gpu.py's CALL_RUNTIME_RULE)
CALL_RUNTIME_BEFORE_10 = True


class _Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.l1, self.l2 = nn.Linear(width, width), nn.Linear(width, width)
        nn.init.zeros_(self.l2.weight)  # starts as the identity, as ResPerfNet's residual blocks
        nn.init.zeros_(self.l2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.l2(torch.relu(self.l1(x))))


def _regressor(n_in: int, width: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), *(_Block(width) for _ in range(blocks)), nn.Linear(width, 1))


class LayerTimeNet(nn.Module):
    """Kernel, framework and per-call heads over standardised feature rows; times in ms. ``call_runtime`` False: the
    per-call head reads every runtime as eager PyTorch (:meth:`_call_z`; CALL_RUNTIME_RULE, not shipped)."""

    def __init__(self, n_row: int, n_call: int, width: int = 64, blocks: int = 2, combine: str = "smoothmax",
                 setups: Sequence[str] = (), kernel_gpu: str = KERNEL_GPU_BEFORE_9,
                 kernel_runtime: bool = KERNEL_RUNTIME_BEFORE_10, call_runtime: bool = CALL_RUNTIME_BEFORE_10) -> None:
        super().__init__()
        self.call_runtime = call_runtime
        self.register_buffer("kernel_idx", torch.tensor(kernel_inputs(kernel_gpu, kernel_runtime)))
        self.register_buffer("framework_idx", torch.tensor(FRAMEWORK_INPUTS))
        self.kernel = _regressor(len(self.kernel_idx), width, blocks)
        self.framework = _regressor(len(FRAMEWORK_INPUTS), width, blocks)
        self.call = _regressor(n_call, 32, 1)
        self.raw_p = nn.Parameter(torch.tensor(0.5))
        self.smooth = combine == "smoothmax"
        for name, n in (("row", n_row), ("call", n_call)):
            self.register_buffer(f"{name}_mean", torch.zeros(n))
            self.register_buffer(f"{name}_std", torch.ones(n))
            # the training range of every feature: inputs are clamped to it, so nothing is extrapolated
            self.register_buffer(f"{name}_lo", torch.full((n,), -1e30))
            self.register_buffer(f"{name}_hi", torch.full((n,), 1e30))
        # the measured hosts (integrated, log clock, log SMs: how the host heads tell machines apart) whose dispatch
        # costs the data shows (:func:`known_hosts`); an unmeasured GPU gets the average of its class's hosts' outputs
        self.register_buffer("hosts", torch.zeros(MAX_HOSTS, len(_CALL_HOST)))
        self.register_buffer("host_used", torch.zeros(MAX_HOSTS, dtype=torch.bool))
        # each head's output range over the training rows (set after training, see :func:`train_net`): an unseen
        # combination of features (a Jetson never measured) cannot take a head beyond what any measured row needed
        self.register_buffer("out_lo", torch.tensor([-10.0, -12.0, -12.0]))  # kernel, framework, call
        self.register_buffer("out_hi", torch.tensor([10.0, 12.0, 12.0]))
        # per measurement setup (:func:`measurement_setup`), log offsets of the framework and per-call times, centred
        # over each GPU's setups so the heads alone give the GPU's average setup
        self.setups = list(setups)
        self.setup_offset = nn.Parameter(torch.zeros(len(self.setups), 2))
        gpus = [column_gpu(name) for name in self.setups]
        self.register_buffer("setup_group", torch.tensor([gpus.index(g) for g in gpus], dtype=torch.long),
                             persistent=False)  # rebuilt from the names, which meta.json keeps

    def centred_offsets(self) -> torch.Tensor:
        """(setups, 2) framework and per-call log offsets, each GPU's setups averaging to zero."""
        g = self.setup_group
        n = torch.bincount(g, minlength=len(self.setups)).clamp(min=1).float()[:, None]
        mean = torch.zeros_like(self.setup_offset).index_add_(0, g, self.setup_offset) / n
        return self.setup_offset - mean[g]

    def setup_index(self, names: Sequence[str]) -> np.ndarray:
        """Indices of ``names`` among the model's setups (-1: not one of them), with a trailing -1 so that a design's
        -1 (no setup) maps to -1."""
        known = {n: i for i, n in enumerate(self.setups)}
        return np.array([known.get(n, -1) for n in names] + [-1], dtype=np.int64)

    def gpu_setup_offsets(self, gpu: str) -> np.ndarray:
        """(n, 2) centred framework and per-call log offsets of ``gpu``'s ``n`` measurement setups (none: (0, 2))."""
        rows = [i for i, name in enumerate(self.setups) if column_gpu(name) == gpu]
        with torch.no_grad():
            return self.centred_offsets()[rows].numpy().astype(np.float64).reshape(len(rows), 2)

    def setup_spread(self, gpu: str) -> SetupSpread:
        """What :func:`setup_factors` reads of this model for ``gpu`` (a prediction keeps it per GPU)."""
        return SetupSpread(self.gpu_setup_offsets(gpu), float(self.p.detach()))

    def _offset(self, setup: torch.Tensor | None, which: int) -> torch.Tensor | float:
        if setup is None or not len(self.setups):
            return 0.0
        off = self.centred_offsets()[setup.clamp(min=0), which]
        return torch.where(setup >= 0, off, torch.zeros_like(off))

    @property
    def p(self) -> torch.Tensor:
        return 1.0 + nn.functional.softplus(self.raw_p) if self.smooth else torch.tensor(1.0)

    def layer_times(self, x: torch.Tensor, log_base: torch.Tensor, bare: torch.Tensor, generic_host: bool = False,
                    setup: torch.Tensor | None = None, roofline_kernel: torch.Tensor | None = None,
                    as_conv: torch.Tensor | None = None, hosts: torch.Tensor | None = None,
                    via: torch.Tensor | None = None, log_floor: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor, ...]:
        """(t, k, o) per row; ``bare`` rows (bare kernels) have no framework time. ``generic_host``: the framework
        time is the average (in log) over the measured hosts of the GPU's class, each seen in place of the GPU's own
        clock and SM count (a GPU that never trained: its machine's dispatch cost is unknown, and extrapolating it
        from specs is not sound); ``hosts`` (rows of integrated flag, log clock, log SMs) narrows the average to
        those measured hosts (:func:`host_choice`). ``setup``: per row, the index of its
        measurement setup (-1 or None: the GPU's average setup); ignored with ``generic_host``. ``roofline_kernel``:
        rows of a network outside the training domain, whose kernel time is their roofline time (no learned
        inefficiency) and whose framework time is that of a plain elementwise launch, the launch the training data
        has most of (the framework head's per-kind values for dense and softmax absorbed per-network costs: one
        classifier per CNN, 19 small softmax layers).
        ``as_conv``: rows whose framework time is a convolution's (a network's dense layers but its classifier, see
        the module docstring); the kernel head still reads their own kind. ``via``: host rows (:func:`host_rows`) of
        the machines through which the rows' runtime reaches a host that never ran it (:func:`runtime_via`): the
        framework time is eager PyTorch's on this host times the runtime's against eager PyTorch's on those, and the
        kernel head reads the rows as eager PyTorch's. ``log_floor``: per row, the log of the least kernel time its
        arithmetic and bytes allow (:func:`peak_floor_ms`, :func:`dram_floor_ms`), which the kernel time never goes
        below."""
        # through ``via``, the kernel is eager PyTorch's on this GPU (what the builder can always pick: cuDNN's kernels
        # are among its tactics), not a reading of the runtime flag where no row of this class has it
        z = self._standard(x if via is None else _eager(x), self.row_lo, self.row_hi, self.row_mean, self.row_std)
        head = _bounded(self.kernel(z[:, self.kernel_idx]).squeeze(-1), self.out_lo[0], self.out_hi[0])
        log_k = log_base + (head if roofline_kernel is None else torch.where(roofline_kernel, 0.0, head))
        if log_floor is not None:
            log_k = torch.maximum(log_k, log_floor)
        for rows, flags in ((as_conv, _CONV_FLAGS), (roofline_kernel, _ELEMENTWISE_FLAGS)):
            if rows is not None and bool(rows.any()):
                x = x.clone()
                x[rows.nonzero()[:, 0][:, None], _KIND_COLUMNS] = flags
        def own(v: torch.Tensor) -> torch.Tensor:
            return (self._over_hosts(self._log_framework, v, _ROW_HOST, hosts) if generic_host
                    else self._log_framework(v) + self._offset(setup, 0))

        log_o = (own(x) if via is None else self._via(own, x, via)) - 3.0  # ~50 us at 0
        log_o = torch.where(bare, torch.full_like(log_o, -30.0), log_o)
        p = self.p
        # (k^p + o^p)^(1/p) in log space, stable for the five decades layer times span
        log_t = torch.logsumexp(torch.stack([p * log_k, p * log_o]), dim=0) / p
        return torch.exp(log_t), torch.exp(log_k), torch.exp(log_o)

    def layer_parts(self, x: torch.Tensor, log_base: torch.Tensor, bare: torch.Tensor, generic_host: bool = False,
                    setup: torch.Tensor | None = None, roofline_kernel: torch.Tensor | None = None,
                    as_conv: torch.Tensor | None = None, hosts: torch.Tensor | None = None,
                    via: torch.Tensor | None = None, log_floor: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(t, k, host share) per row: the share is ``d log t / d log o = (o / t)^p``, the part of the layer's time that
        the framework (host) time decides (what a calibration profile's host factor scales)."""
        t, k, o = self.layer_times(x, log_base, bare, generic_host, setup, roofline_kernel, as_conv, hosts, via,
                                   log_floor)
        return t, k, self.host_share(t, o)

    def host_share(self, t: torch.Tensor, o: torch.Tensor) -> torch.Tensor:
        """:meth:`layer_parts`' host share of layers whose time is ``t`` and framework time ``o``."""
        return ((o / t) ** self.p).clamp(0.0, 1.0)

    def call_time(self, c: torch.Tensor, generic_host: bool = False, setup: torch.Tensor | None = None,
                  hosts: torch.Tensor | None = None) -> torch.Tensor:
        log_c = (self._over_hosts(self._log_call, c, _CALL_HOST, hosts) if generic_host
                 else self._log_call(c) + self._offset(setup, 1))
        return torch.exp(log_c - 3.0)

    def _via(self, own: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, via: torch.Tensor) -> torch.Tensor:
        """``own`` (the framework head at this host) of ``x`` under eager PyTorch, plus the mean over the ``via`` hosts
        of the framework head's log difference between ``x``'s own runtime and eager PyTorch (:func:`runtime_via`)."""
        eager = _eager(x)
        delta = torch.zeros(len(x))
        for h in via:
            at, at_eager = x.clone(), eager.clone()
            at[:, _ROW_HOST] = h
            at_eager[:, _ROW_HOST] = h
            delta += self._log_framework(at) - self._log_framework(at_eager)
        return own(eager) + delta / len(via)

    def _log_framework(self, x: torch.Tensor) -> torch.Tensor:
        z = self._standard(x, self.row_lo, self.row_hi, self.row_mean, self.row_std)
        return _bounded(self.framework(z[:, self.framework_idx]).squeeze(-1), self.out_lo[1], self.out_hi[1])

    def _log_call(self, c: torch.Tensor) -> torch.Tensor:
        return _bounded(self.call(self._call_z(c)).squeeze(-1), self.out_lo[2], self.out_hi[2])

    def _call_z(self, c: torch.Tensor) -> torch.Tensor:
        """The per-call head's input for call features ``c``: standardised, and without ``call_runtime`` every
        runtime read as eager PyTorch (torch2trt's harness times an engine's call as eager PyTorch's, from Python and
        synchronised: CALL_RUNTIME_RULE)."""
        c = c if self.call_runtime else _eager(c, _CALL_RUNTIME)
        return self._standard(c, self.call_lo, self.call_hi, self.call_mean, self.call_std)

    def _over_hosts(self, head: Any, x: torch.Tensor, columns: list[int], hosts: torch.Tensor | None = None
                    ) -> torch.Tensor:
        """``head`` averaged over the measured hosts (``hosts``, default all) of each row's device class (``columns``:
        where the host's integrated flag, clock and SMs sit in ``x``); a class without one takes every given host.
        The average of the hosts' outputs, not the output at their average: the head is not linear in its inputs."""
        hosts, used = (self.hosts[self.host_used] if hosts is None else hosts), None
        if not len(hosts):  # a model no host-revealing column trained: the GPU's own features, as for a measured one
            return head(x)
        out = torch.zeros(len(x))
        for cls in (0.0, 1.0):
            rows = x[:, columns[0]].round() == cls
            if not bool(rows.any()):
                continue
            used = hosts[hosts[:, 0] == cls]
            used = used if len(used) else hosts
            xs = x[rows].repeat(len(used), 1)
            xs[:, columns[1:]] = used[:, 1:].repeat_interleave(int(rows.sum()), dim=0)
            out[rows] = head(xs).view(len(used), -1).mean(dim=0)
        return out

    @staticmethod
    def _standard(x: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
                  ) -> torch.Tensor:
        # inputs clamped to the training range (outputs are bounded too): a GPU outside that range stays finite
        return (torch.minimum(torch.maximum(x, lo), hi) - mean) / std


RESOURCE_FEATURES = {name: ROW_FEATURES.index(name) for name in (
    "log_peak_tensor", "log_peak_plain", "log_compute_ms", "log_bandwidth", "log_memory_ms", "log_l2_mb")}
RESOURCE_STEP = 0.5  # up to +65 % of each resource (log); an assumption, not tuned
RESOURCE_WEIGHT = 1.0  # as much as the fit's own |log ratio|; an assumption, not tuned


def _resource_penalty(net: LayerTimeNet, x: torch.Tensor, log_base: torch.Tensor, gen: torch.Generator
                      ) -> torch.Tensor:
    """Mean increase of the log kernel time when each row's GPU gets more compute, DRAM bandwidth and L2 (independent
    random steps in ``[0, RESOURCE_STEP)``), its roofline terms moving with them: physically, never positive."""
    f = RESOURCE_FEATURES
    step = torch.rand(len(x), 3, generator=gen) * RESOURCE_STEP  # compute, bandwidth, L2
    more = x.clone()
    more[:, f["log_peak_tensor"]] += step[:, 0]
    more[:, f["log_peak_plain"]] += step[:, 0]
    more[:, f["log_compute_ms"]] -= step[:, 0]
    more[:, f["log_bandwidth"]] += step[:, 1]
    more[:, f["log_memory_ms"]] -= step[:, 1]
    more[:, f["log_l2_mb"]] += step[:, 2]
    roof = lambda v: torch.maximum(v[:, f["log_compute_ms"]], v[:, f["log_memory_ms"]])  # noqa: E731
    new_base = log_base + roof(more) - roof(x)
    return torch.relu(new_base + _raw_kernel(net, more) - log_base - _raw_kernel(net, x)).mean()


def setup_scaled(ms: np.ndarray, share: np.ndarray, p: float, offset: float) -> np.ndarray:
    """Layer times ``ms`` (host share ``share``, :meth:`LayerTimeNet.layer_parts`) with the framework time moved by the
    log ``offset``: ``t = (k^p + o^p)^(1/p)`` becomes ``t (1 - share + share e^(p offset))^(1/p)``, exact as
    ``share = (o / t)^p``."""
    return ms * (1.0 - share + share * np.exp(p * offset)) ** (1.0 / p)


class SetupSpread(NamedTuple):
    """A GPU's measurement setups as :func:`setup_factors` reads them (:meth:`LayerTimeNet.setup_spread`): their
    (n, 2) centred framework and per-call log offsets, and the model's combination exponent ``p``."""

    offsets: np.ndarray
    p: float


def setup_factors(spread: SetupSpread, ms: np.ndarray, share: np.ndarray, call: Any,
                  per_sample: Callable[[np.ndarray], Any] = np.sum) -> tuple[Any, Any]:
    """The least and the largest ratio (1 included) of a network's time at one of a GPU's measurement setups
    (``spread``) to its time at the GPU's average setup, which every answer is at: ``ms`` and ``share`` per layer,
    ``call`` the per-call ms, ``per_sample`` the sum over a network's layers (a design's :meth:`Design.per_sample` for
    many at once). Both 1 for a GPU with one setup or none. A measured platform's interval spans its answers at every
    setup (version 8.3, ``MEASURED_INTERVAL`` in scripts/train_gpu.py): a user's machine is none of them, and they
    differ as machines do."""
    base = per_sample(ms) + call
    lo = hi = base / base
    for framework, per_call in spread.offsets:
        ratio = (per_sample(setup_scaled(ms, share, spread.p, framework)) + call * math.exp(per_call)) / base
        lo, hi = np.minimum(lo, ratio), np.maximum(hi, ratio)
    return lo, hi


def interval_ends(intervals: dict[str, Any], key: str, spread: SetupSpread, total: Any, ms: np.ndarray,
                  share: np.ndarray, call: Any, per_sample: Callable[[np.ndarray], Any] = np.sum) -> tuple[Any, Any]:
    """The ends (ms) of the interval ``intervals[key]`` (:func:`interval_key`; widened to contain 0) around answers
    ``total``: for ``measured-own-setup``, around the answers at each of the GPU's measurement setups
    (:func:`setup_factors` of its ``spread``, the layers' ``ms`` and host ``share`` and the per-call ``call``,
    ``per_sample`` as there). What an estimate carries and what the benchmarks check
    (``hwaware.evaluation.gpu_data.measured_bounds``)."""
    lo, hi = intervals[key]
    least, most = setup_factors(spread, ms, share, call, per_sample) if key == "measured-own-setup" else (1.0, 1.0)
    return total * least * math.exp(min(lo, 0.0)), total * most * math.exp(max(hi, 0.0))


def _raw_kernel(net: LayerTimeNet, x: torch.Tensor) -> torch.Tensor:
    """The kernel head's log inefficiency on rows ``x``, unbounded (what the priors shape)."""
    return net.kernel(net._standard(x, net.row_lo, net.row_hi, net.row_mean, net.row_std)[:, net.kernel_idx]).squeeze(-1)


BATCH_WEIGHT = 1.0  # as the resource prior's; an assumption, not tuned
PRIOR_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128)  # each paired with twice itself
PRIOR_PAIRS = 20000  # drawn once per training design; 1024 of them per step
PRIOR_DRAWS = 1024


@dataclass(frozen=True)
class BatchPairs:
    """Feature rows (and log roofline times) of layers at batch ``b`` (``lo``) and ``2b`` (``hi``), each pair on one
    catalog GPU, runtime and precision: what :func:`_batch_penalty` compares."""

    x_lo: torch.Tensor
    base_lo: torch.Tensor
    x_hi: torch.Tensor
    base_hi: torch.Tensor


def batch_pairs(layers: Sequence[Layer], gpus: Sequence[GPUSpec], n: int = PRIOR_PAIRS, seed: int = 0) -> BatchPairs:
    """``n`` random (layer, GPU, runtime, precision, batch ``b`` in :data:`PRIOR_BATCHES`) pairs of rows at ``b`` and
    ``2b``; ``layers`` are batch-1 fp32 layers (:func:`graph_layers`). Every catalog GPU may be drawn, measured or
    not: the prior holds everywhere, and the Jetsons, measured at batch 1 only, are where it is needed."""
    if not layers or not gpus:
        raise ValueError("batch_pairs needs at least one layer and one GPU")
    rng = np.random.default_rng(seed)
    builder = DesignBuilder(prediction_rules=False)
    lo, hi = [], []
    for _ in range(20 * n):  # bounded: every layer could be one that cannot move
        if len(lo) == n:
            break
        i, gpu = int(rng.integers(len(layers))), gpus[int(rng.integers(len(gpus)))]
        runtime = ("pytorch", "tensorrt")[int(rng.integers(2))]
        precision = (("fp32", "fp16", "amp") if runtime == "pytorch" else ("fp32", "fp16", "int8"))[int(rng.integers(3))]
        b = PRIOR_BATCHES[int(rng.integers(len(PRIOR_BATCHES)))]
        try:
            pair = [builder.row(i, layers[i], gpu, runtime, precision, v, from_batch=1) for v in (b, 2 * b)]
        except ValueError:  # a layer whose operands lead with different dimensions cannot be moved
            continue
        lo.append(pair[0])
        hi.append(pair[1])
    if not lo:
        raise ValueError("batch_pairs: no layer leads with one dimension, so none can be moved to another batch")
    x, base = torch.from_numpy(np.asarray(builder.x, dtype=np.float32)), torch.tensor(builder.log_base)
    return BatchPairs(x[lo], base[lo], x[hi], base[hi])


def _batch_penalty(net: LayerTimeNet, pairs: BatchPairs, gen: torch.Generator) -> torch.Tensor:
    """Mean excess of a layer's kernel time at batch ``2b`` over twice its time at ``b`` (in log), over
    :data:`PRIOR_DRAWS` random pairs: physically never positive, for ``2b`` images can run as two batches of ``b``.
    The data cannot teach it where a GPU was timed at one batch only (the Jetsons), and the kernel head then grew
    faster than the batch there (resnet50 fp32 on the Jetson Nano at batch 32: 72x its batch-1 time)."""
    idx = torch.randint(len(pairs.x_lo), (PRIOR_DRAWS,), generator=gen)
    excess = pairs.base_hi[idx] + _raw_kernel(net, pairs.x_hi[idx]) - pairs.base_lo[idx] - _raw_kernel(net, pairs.x_lo[idx])
    return torch.relu(excess - math.log(2.0)).mean()


POOL_WEIGHT = 1.0  # as the other priors'; an assumption, not tuned
POOL_PRIOR_BEFORE_10 = False  # every version up to 9 trained without the pooling prior (a recipe's pool_prior)


@dataclass(frozen=True)
class TwinPairs:
    """Feature rows, log roofline times and bare flags of pooling layers (``pool``) and of their dense-convolution
    twins (:func:`~hwaware.estimators.gpu_features.pool_twin`) on the same platform: what :func:`_pool_penalty`
    compares."""

    x_pool: torch.Tensor
    base_pool: torch.Tensor
    bare_pool: torch.Tensor
    x_twin: torch.Tensor
    base_twin: torch.Tensor
    bare_twin: torch.Tensor


def twin_pairs(rows: Iterable[tuple[Any, Layer, GPUSpec, str, str, int]]) -> TwinPairs | None:
    """The pooling prior's pairs: each (row key, batch-1 fp32 layer, GPU, runtime, precision, batch) whose layer has a
    twin, with that twin, on that platform (None: no such layer)."""
    builder = DesignBuilder(prediction_rules=False)
    pool, twin = [], []
    for key, layer, gpu, runtime, precision, batch in rows:
        other = pool_twin(layer)
        if other is None:
            continue
        pool.append(builder.row(key, layer, gpu, runtime, precision, batch, from_batch=1))
        twin.append(builder.row(("pool twin", key), other, gpu, runtime, precision, batch, from_batch=1))
    if not pool:
        return None
    x, base = torch.from_numpy(np.asarray(builder.x, dtype=np.float32)), torch.tensor(builder.log_base)
    bare = torch.tensor(builder.bare)
    return TwinPairs(x[pool], base[pool], bare[pool], x[twin], base[twin], bare[twin])


def _pool_penalty(net: LayerTimeNet, pairs: TwinPairs, gen: torch.Generator) -> torch.Tensor:
    """Mean excess of a pooling layer's time (kernel and framework, as a network's sum takes it) over its twin's (in
    log), over :data:`PRIOR_DRAWS` random pairs: physically never positive (:func:`pool_twin`). The data cannot teach
    it where every timed network has a pooling layer (the Jetsons' torchvision networks): there the poolings took
    per-network costs, up to 7.5x their twins under TensorRT (9.4's warning)."""
    idx = torch.randint(len(pairs.x_pool), (PRIOR_DRAWS,), generator=gen)
    return torch.relu(twin_log_ratio(net, pairs, idx)).mean()


def twin_log_ratio(net: LayerTimeNet, pairs: TwinPairs, idx: torch.Tensor | None = None) -> torch.Tensor:
    """Per pair (``idx``: those drawn; None: every one), the log of the pooling's layer time over its twin's, as
    ``net`` answers them without the prediction rules: what :func:`_pool_penalty` holds at or below 0."""
    idx = torch.arange(len(pairs.x_pool)) if idx is None else idx
    log_pool = torch.log(net.layer_times(pairs.x_pool[idx], pairs.base_pool[idx], pairs.bare_pool[idx])[0])
    return log_pool - torch.log(net.layer_times(pairs.x_twin[idx], pairs.base_twin[idx], pairs.bare_twin[idx])[0])


def _eager(x: torch.Tensor, columns: list[int] | None = None) -> torch.Tensor:
    """Feature rows ``x`` with their runtime set to eager PyTorch (``columns``: where its flags sit; default a layer
    row's)."""
    eager = x.clone()
    flags = torch.tensor([float(r == "pytorch") for r in RUNTIME_CODES])
    eager[:, _ROW_RUNTIME if columns is None else columns] = flags
    return eager


def _layer_rows(graph: Graph, parts: Sequence[tuple[float, float, float, float]], scale: float
                ) -> tuple[LayerEstimate, ...]:
    """An estimate's per-layer rows: ``parts`` are the kernels' (host share, ms, floor kind, floor ms) in
    ``graph.kernels()``'s order, their ms times ``scale`` (the batch cap's, :func:`cap_scale`) but never below their
    floors; a view launches nothing (0 ms)."""
    in_order = iter(parts)
    rows = []
    for l in graph.layers:
        share, ms, _, floor = next(in_order) if l.kind.launches_kernel else (0.0, 0.0, 0.0, 0.0)
        rows.append(LayerEstimate(l.index, l.module, KIND_NAMES[l.kind], l.op, l.input_shapes, l.output_shapes, l.macs,
                                  max(ms * scale, floor), share, floor))
    return tuple(rows)


def floors_ms(log_floor: np.ndarray) -> np.ndarray:
    """Least kernel times in ms (0: none) from their float32 logs, in float64: an estimate's rows and a design's
    take them alike, so a profile clamps both at the same values."""
    return np.exp(log_floor.astype(np.float64))


def cap_scale(ms: np.ndarray, floor_ms: np.ndarray, room: float) -> float:
    """The factor ``s`` in (0, 1) that brings kernels of times ``ms`` to ``room`` in all, none below its floor:
    ``sum(max(s * ms, floor_ms)) = room``, for ``sum(floor_ms) < room < sum(ms)`` (bisection: the sum rises with
    ``s``)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):  # 2^-60 of the range: the float's own resolution
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.maximum(mid * ms, floor_ms).sum() < room else (lo, mid)
    return hi


def cap_applies(total: Any, bound: Any, least: Any) -> Any:
    """Whether the batch cap takes a total to ``bound`` (b x the batch-1 answer): the total exceeds it and the least
    time the kernels' floors and the per-call time allow (``least``) is below it (else the estimator warns instead).
    Scalars or arrays alike: :class:`ResPerfNetGPUEstimator` and :func:`batch_capped` share it."""
    return (total > bound) & (bound > least)


def batch_capped(total: np.ndarray, bound: np.ndarray, least: np.ndarray) -> np.ndarray:
    """Totals under the batch cap as :class:`ResPerfNetGPUEstimator` applies it (:func:`cap_applies`), for evaluations
    of designs; the estimator also scales each layer (:func:`cap_scale`)."""
    return np.where(cap_applies(total, bound, least), bound, total)


def _bounded(v: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """``v`` clamped to [lo, hi] with the gradient of ``v`` (straight through). A plain clamp has zero gradient outside
    the bounds: a head that overshoots early in training stays stuck there (a leave-one-GPU-out fold left the per-call
    head at its +12 bound, 8.1 s per call, on every Jetson row it trained on)."""
    return v.clamp(lo, hi).detach() + (v - v.detach())  # exact clamp values; v's gradient


# One user request's answers by (estimator, device, runtime, precision, batch, graphs), while it runs: the TensorRT and
# batch checks ask for the same other answers several times (a context variable: threads do not share it)
_REQUEST: ContextVar[dict | None] = ContextVar("resperfnet_gpu_request", default=None)
# The precisions a TensorRT engine built for a precision may also run a layer in (assumed: an int8 engine is built
# with the fp16 flag too, as the catalog's int8 rate falls back to fp16 where a GPU has no int8 path)
TENSORRT_FALLBACKS: dict[str, tuple[str, ...]] = {"fp16": ("fp32",), "bf16": ("fp32",), "int8": ("fp16", "fp32")}


def engine_bound(total: float, fallbacks: Sequence[float]) -> tuple[float, int | None]:
    """A TensorRT engine's answer as its builder works (it times tactics in every precision it is allowed and keeps the
    fastest): never slower than the engines at the precisions it falls back to (``fallbacks``: their answers, already
    bounded). Returns the bounded total and the index of the fallback engine taken (None: its own)."""
    taken = min(range(len(fallbacks)), key=lambda i: fallbacks[i], default=None)
    return (total, None) if taken is None or fallbacks[taken] >= total else (fallbacks[taken], taken)


# The largest softmax (output elements per image) of a stored network, a training one: resnest50d_4s2x40d's split
# attention over 4 x 2 x 320; the others are SK-ResNets' and ResNeSts' too, and MobileViTv2's (up to 4 x 576): every
# softmax in the graph stores, a shape and no latency (a test holds it)
TRAINED_SOFTMAX = 2560


def unlike_training(layer: Layer) -> bool:
    """Whether ``layer``, of a kind the training has, is far from every training row of its kind, so the kernel head
    extrapolates with no bound but its output range's: a softmax over more elements per image than any training
    network's (:data:`TRAINED_SOFTMAX`). The head's softmax time rises with size past them, and a segmentation map's
    over 21 x 512 x 512 was answered at 442x its roofline time, the head's upper bound (31.7 ms on the 2080 Ti, the
    rest of the network 0.65 ms; helper-130). Such a layer is timed at its roofline, with an elementwise launch's
    framework time, as a network outside the domain is, and the estimate says so."""
    shape = layer.output_shapes[0] if layer.output_shapes else ()
    return layer.kind is LayerKind.SOFTMAX and math.prod(shape[1:]) > TRAINED_SOFTMAX


# A batch answered below batch 1 by more than this is implausible; less is measured: HELP's NB201 table times batch 32
# at a median 0.922 (TITAN Xp) to 0.999 (2080 Ti) of batch 1 per GPU (tests/test_resperfnet_gpu.py derives it)
BATCH_DIP = 0.92
# An image dearer by more than this at a larger batch warns: a learned model's noise takes a few percent, and HELP's
# tables show such a rise (32 -> 64) for at most 1.1 % of a column's architectures (python benchmarks/peak_floor.py)
BATCH_RISE = 1.1
# How the warnings of one relation open, for code that tells them from the others (the sanity tests, the benchmarks
# that count warned answers): an image dearer at a larger batch (:func:`_rise_warning`, the batch-1 cap and dip in
# :meth:`ResPerfNetGPUEstimator._predict_many`), a TensorRT answer above eager PyTorch's (``_engine_bounds``)
BATCH_WARNINGS = ("physically implausible: batch", "capped: batch")
ENGINE_WARNINGS = ("physically implausible: TensorRT predicted",)


def _rise_warning(total: float, batch: int, below: dict[int, float]) -> list[str]:
    """The warning of an answer ``total`` at ``batch`` whose image costs more than ``BATCH_RISE`` x the cheapest among
    ``below``'s answers at powers of two above 1 (batch 1's is the cap), as a list of zero or one. The ratio has three
    decimals: with two, 1.1009 read as the limit itself (helper-136)."""
    k = min((h for h in below if h > 1), key=lambda h: below[h] / h, default=None)
    if k is None or total / batch <= BATCH_RISE * below[k] / k:
        return []
    return [f"physically implausible: batch {batch} predicted {total:.3f} ms, an image "
            f"{total / batch / (below[k] / k):.3f}x dearer than at batch {k} ({below[k]:.3f} ms there): an image never "
            "costs more in a larger batch, so one of the two answers is off; no training row timed this platform at "
            "these batches to say which"]
_ROW_HOST = [ROW_FEATURES.index(n) for n in ("integrated", "log_clock_ghz", "log_sms")]
_KIND_COLUMNS = torch.tensor([i for i, n in enumerate(ROW_FEATURES) if n.startswith("kind_")])
_ELEMENTWISE_FLAGS = torch.tensor([float(n == "kind_elementwise") for n in ROW_FEATURES if n.startswith("kind_")])
_CONV_FLAGS = torch.tensor([float(n == "kind_conv") for n in ROW_FEATURES if n.startswith("kind_")])
_CALL_HOST = [0, 1, 2]  # call_features: integrated, log clock, log SMs, runtime ..., log batch
_ROW_RUNTIME = [ROW_FEATURES.index(f"runtime_{r}") for r in RUNTIME_CODES]
_CALL_RUNTIME = [len(_CALL_HOST) + i for i in range(len(RUNTIME_CODES))]
MAX_HOSTS = 32
KNOWN_HOST_MAX_BATCH = 64  # at larger batches every kernel hides the dispatch cost: such columns say nothing of it


# from 9.4, see the module docstring
# its own kind of warning (hwaware.api tells it from those that call an answer too low: its answer may be too high)
POOL_WARNING_KIND = "physically implausible layer split"
POOL_NOTE_KIND = "layer split"  # the same words as a note, where the answer is within ORDER_SLACK of the bounded one
POOL_WARNING = (POOL_WARNING_KIND + ": {n} pooling layer{s} answered slower than the dense convolution of the same "
                "window and shapes ({worst:.1f}x at worst), which reads and writes as much and does more arithmetic "
                "({excess:.3f} ms of the model's {total:.3f} ms answer beyond them): the model put costs of its "
                "training networks there (every torchvision network the Jetsons timed has a pooling layer), so a total "
                "can match such networks while a choice between pooling and convolution (NB201's avg_pool_3x3 and "
                "nor_conv_3x3) ranks wrongly on this platform")


def _cost_key(layer: Layer) -> str:
    """A kernel's prediction key: its signature and its arithmetic and bytes, which a fused kernel's signature does not
    fix (the operands of the ops it absorbed; 2026-12-05: torchvision's efficientnet_b0 under TensorRT took 0.17 %
    less after timm's had filled the cache, its squeeze-excite kernels read as timm's)."""
    return f"{layer.signature()}:{layer.macs}:{layer.flops}:{layer.bytes_read}:{layer.bytes_written}"


def dense_as_conv(layers: Sequence[Layer], counts: Sequence[int]) -> list[tuple[int, int]]:
    """Per entry of a network's kernels (``layers[i]`` occurring ``counts[i]`` times), how many take a convolution's
    framework time and how many their own: every dense layer but one, the classifier (see the module docstring),
    told by the fewest outputs (on a tie, the smallest signature), not by position: the graph store keeps a
    network's layers in no execution order, and a prediction and a design must pick the same layer."""
    dense = [i for i, l in enumerate(layers) if l.kind is LayerKind.DENSE]
    if sum(counts[i] for i in dense) <= 1:  # most networks: their one dense kernel is the classifier
        return [(0, c) for c in counts]
    own = min(dense, key=lambda i: (math.prod(layers[i].output_shapes[0]), layers[i].signature()), default=-1)
    return [(c - (i == own), int(i == own)) if l.kind is LayerKind.DENSE else (0, c)
            for i, (l, c) in enumerate(zip(layers, counts))]


def interval_key(intervals: dict[str, Any], regime: str, generic: bool, integrated: bool, via: bool = False,
                 setups: int = 0, runtime: str = "") -> str:
    """Which of ``meta.json``'s ``intervals`` an estimate in ``regime`` carries. A Jetson no row measured
    (``generic`` host, ``integrated``) takes the held-out Jetsons' residuals (scripts/train_gpu.py:
    integrated_interval); a measured one at another precision or batch keeps the pooled interval (its own host is
    known; no fold held out a measured Jetson's precision or batch). A runtime its device class never ran (``via``,
    :func:`runtime_via`: TensorRT on a desktop GPU, from version 7.1) takes the held-out Jetsons' residuals too, not the
    pooled ones: no held-out row is of such a platform, and the held-out Jetsons' TensorRT columns, whose engines' costs
    the other Jetson taught, are the nearest evidence. A measured GPU with two or more measurement ``setups`` takes the
    residuals at their own setup, to put around its answers at each (from version 8.3, :func:`setup_factors`,
    ``MEASURED_INTERVAL`` in scripts/train_gpu.py). From 2026-12-05 the held-out Jetsons' residuals are those of their
    columns of ``runtime`` where meta.json has them (``INTEGRATED_RUNTIME_RULE`` in scripts/train_gpu.py)."""
    wide = regime == "zero-shot" and (via or (generic and integrated)) and "zero-shot-integrated" in intervals
    if regime == "measured" and not generic and setups > 1 and "measured-own-setup" in intervals:
        return "measured-own-setup"
    if wide and f"zero-shot-integrated-{runtime}" in intervals:
        return f"zero-shot-integrated-{runtime}"
    return "zero-shot-integrated" if wide else regime


def column_shows_host(column: str) -> bool:
    """Whether a training column times its machine where host-side costs show: a network column with one batch size,
    <= :data:`KNOWN_HOST_MAX_BATCH` (HELP, torch2trt). timm's columns (no batch in the name: it runs at 1024 and
    shrinks per row on out-of-memory) and DeepBench's bare kernels say nothing about it."""
    parts = _platform_parts(column)
    return len(parts) == 4 and parts[3].isdigit() and int(parts[3]) <= KNOWN_HOST_MAX_BATCH


def measurement_setup(column: str) -> str | None:
    """The setup that timed a training column (``table:space:gpu``: one table's machine and harness for one GPU, every
    runtime and batch of it), for the columns that :func:`column_shows_host`; None for the others, whose host-side
    costs the data cannot show."""
    return column.split("|", 1)[0] if column_shows_host(column) else None


def host_gpus(columns: Sequence[str]) -> set[str]:
    """The GPUs whose machines the training ``columns`` timed where host-side costs show (:func:`column_shows_host`);
    every other GPU is predicted with the averaged measured host."""
    return {column_gpu(c) for c in columns if column_shows_host(c)}


class HostChoice(NamedTuple):
    """Whose host-side costs a GPU's prediction takes (:func:`host_choice`)."""

    generic: bool  # False: the GPU's own measured host
    siblings: tuple[GPUSpec, ...]  # with ``generic``: the measured Jetsons of its chip, else () (its class's average)

    def rows(self) -> torch.Tensor | None:
        """The ``hosts`` argument of :meth:`LayerTimeNet.layer_times`: the siblings' host rows (integrated flag, log
        clock, log SMs, as :func:`known_hosts` stores them), or None."""
        return host_rows(self.siblings) if self.siblings else None

    def key(self) -> str:
        """What the prediction cache's keys say of it: the siblings' names and specs, whose host rows it reads."""
        if not self.generic:
            return "own"
        return "generic" if not self.siblings else "hosts=" + "+".join(f"{g.name}@{spec_digest(g)}"
                                                                      for g in self.siblings)


def host_choice(gpu: GPUSpec, train_columns: Sequence[str]) -> HostChoice:
    """Whose host-side costs a prediction for ``gpu`` takes, by a model trained on ``train_columns``: its own where
    those columns timed its machine (:func:`host_gpus`); for a Jetson they did not, the measured Jetsons with its GPU
    chip (the catalog's ``gpu_chip``: the Xavier NX's GV10B is the AGX Xavier's), from 2026-12-01; else the average
    over the measured hosts of its class. One chip is one SoC family, CPU complex and software stack (JetPack), and the
    class average mixes in another family's: with it, the Xavier NX, the AGX Xavier's chip with fewer SMs, lower
    clocks and less bandwidth, came out faster than the AGX Xavier (densenet121 under TensorRT fp16: 9.7 against
    13.3 ms at 949fa4a; ``tests/test_resperfnet_gpu.py`` pins the order). Desktop GPUs keep the average: one chip
    sits in any machine. An assumption chosen from that one prediction; no measurement of a sibling Jetson tests it.
    Such a Jetson keeps the unmeasured-Jetson interval, from folds that predicted each Jetson with the other's host
    alone (the only other Jetson host of its fold), as a sibling is predicted."""
    measured = host_gpus(train_columns)
    if gpu.name in measured:
        return HostChoice(False, ())
    if not gpu.is_integrated_soc:
        return HostChoice(True, ())
    return HostChoice(True, tuple(g for g in map(get_gpu, sorted(measured))
                                  if g.is_integrated_soc and g.gpu_chip == gpu.gpu_chip))


def host_rows(gpus: Sequence[GPUSpec]) -> torch.Tensor:
    """The host rows (integrated flag, log clock, log SMs, as :func:`known_hosts` stores them) of ``gpus``' machines."""
    return torch.from_numpy(np.stack([call_features(g, "pytorch", 1)[_CALL_HOST] for g in gpus])).float()


def runtime_via(gpu: GPUSpec, runtime: str, train_columns: Sequence[str]) -> tuple[GPUSpec, ...]:
    """The machines through which ``runtime``'s host-side costs reach ``gpu``'s (:meth:`LayerTimeNet.layer_times`'s
    ``via``): () where ``train_columns`` timed ``runtime`` on a machine of ``gpu``'s class (desktop or Jetson) where
    host-side costs show (:func:`column_shows_host`), or never timed it with eager PyTorch on one machine; else every
    machine they timed under both. From version 7.1, for TensorRT on a desktop GPU, which no training row times: the
    framework head, reading the desktop class with TensorRT's flag, a combination no row has, answered 22 us per conv
    launch on an RTX 4090 (the AGX Xavier's 23 us; resnet50 fp16 at batch 1), while eager PyTorch's launches cost 34 us
    there against the AGX Xavier's 110 us, and the kernel head put the fused graph's kernels at 3.0x (batch 1) and 1.9x
    (batch 64) what it answers for the same rows as eager PyTorch's (the H100: 4.2x, 2.3x), where the Jetsons, timed at
    batch 1, put that ratio at 0.45-1.13x (``python benchmarks/tensorrt_vs_eager.py``, its second table). Through the
    Jetsons, a launch costs eager PyTorch's on this host times TensorRT's against eager PyTorch's on the Jetsons (the
    runtime's dispatch path sets that ratio, the host's CPU the scale), and a kernel eager PyTorch's for the fused layer
    (what the builder can always pick). The per-call head still reads the flag: the Jetsons' TensorRT per-call time is
    learned as next to nothing (their per-layer costs carry it), so no ratio can be drawn from it (a per-call head that
    reads TensorRT as eager PyTorch, a recipe's ``call_runtime=False``, was tried and not shipped: docs/accuracy.md).
    Assumptions chosen from those predictions; no measurement tests them. They leave every evaluated figure as it was:
    no training or held-out row is of such a platform, in the shipped model or any leave-one-GPU-out fold
    (``tests/test_resperfnet_gpu.py``; the design path, :func:`hwaware.evaluation.gpu_data.user_predictions`, refuses
    one)."""
    shown = [_platform_parts(c) for c in train_columns if column_shows_host(c)]
    timed = {rt: {get_gpu(p[0]) for p in shown if p[1] == rt} for rt in (runtime, "pytorch")}
    if runtime == "pytorch" or any(g.is_integrated_soc == gpu.is_integrated_soc for g in timed[runtime]):
        return ()
    return tuple(sorted(timed[runtime] & timed["pytorch"], key=lambda g: g.name))


def column_gpu(column: str) -> str:
    """The GPU of a training column (``table:space:gpu|runtime|precision[|batch]``)."""
    return _platform_parts(column)[0]


def column_runtime(column: str) -> str:
    """The runtime of a training column (``table:space:gpu|runtime|precision[|batch]``)."""
    return _platform_parts(column)[1]


def _platform_parts(column: str) -> list[str]:
    """GPU, runtime, precision[, batch] of a training column (``table:space:gpu|runtime|precision|batch``)."""
    return column.rsplit(":", 1)[-1].split("|")


def known_hosts(call: np.ndarray) -> np.ndarray:
    """The distinct hosts (integrated, log clock, log SMs) of the call rows ``call`` (the samples of columns that
    :func:`column_shows_host`): the machines whose dispatch cost the data shows."""
    hosts = np.unique(np.round(call[:, _CALL_HOST], 6), axis=0)
    if len(hosts) > MAX_HOSTS:
        raise ValueError(f"{len(hosts)} measured hosts; raise MAX_HOSTS")
    return hosts


@dataclass
class Design:
    """Rows (distinct layer x platform), samples (networks) as sparse row counts, targets."""

    x: np.ndarray  # rows x features
    log_base: np.ndarray  # rows
    bare: np.ndarray  # rows, bool
    indptr: np.ndarray  # CSR over samples
    indices: np.ndarray
    counts: np.ndarray
    call: np.ndarray  # samples x call features
    has_call: np.ndarray  # samples, bool (bare kernels have none)
    y: np.ndarray  # samples, ms
    weight: np.ndarray  # samples
    macs: np.ndarray  # rows: each row's MACs at its platform's batch
    row_setup: np.ndarray  # rows: index into ``setup_names`` (-1: none)
    setup: np.ndarray  # samples: index into ``setup_names`` (-1: none)
    setup_names: list[str]  # the :func:`measurement_setup` of the design's columns
    as_conv: np.ndarray  # rows, bool: framework time of a convolution (:func:`dense_as_conv`)
    log_floor: np.ndarray  # rows: log of the least kernel time (peak_floor_ms, dram_floor_ms; -inf: none)

    def subset(self, idx: np.ndarray) -> Design:
        starts, ends = self.indptr[idx], self.indptr[idx + 1]
        take = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if len(idx) else np.zeros(0, int)
        indptr = np.concatenate([[0], np.cumsum(ends - starts)])
        return Design(self.x, self.log_base, self.bare, indptr, self.indices[take], self.counts[take], self.call[idx],
                      self.has_call[idx], self.y[idx], self.weight[idx], self.macs, self.row_setup, self.setup[idx],
                      self.setup_names, self.as_conv, self.log_floor)

    @property
    def floor_ms(self) -> np.ndarray:
        """Per row, the least kernel time in ms (0: none), as an estimate's
        :attr:`~hwaware.estimators.base.LayerEstimate.floor_ms` (:func:`floors_ms`)."""
        return floors_ms(self.log_floor)

    @property
    def shows_host(self) -> np.ndarray:
        """Per sample, whether its column :func:`column_shows_host` (exactly the samples with a setup)."""
        return self.setup >= 0

    def per_sample(self, row_values: np.ndarray) -> np.ndarray:
        """Per sample, the count-weighted sum of a per-row quantity (e.g. ``macs``: each network's MACs)."""
        sample = np.repeat(np.arange(len(self.y)), np.diff(self.indptr))
        return np.bincount(sample, weights=row_values[self.indices] * self.counts, minlength=len(self.y))


def predict_design(net: LayerTimeNet, d: Design, host: HostChoice = HostChoice(False, ()), use_setup: bool = False
                   ) -> np.ndarray:
    """Predicted ms of every sample of ``d`` (no gradient) with the host-side costs ``host`` says (:func:`host_choice`
    gives a GPU's; the default, the GPU's own measured host); ``use_setup``: add each sample's measurement-setup
    offsets (only an evaluation on a measured column can: a user's prediction, as :class:`ResPerfNetGPUEstimator`
    makes it, is at the GPU's average setup)."""
    return predict_design_call(net, d, host, use_setup)[0]


def predict_design_call(net: LayerTimeNet, d: Design, host: HostChoice = HostChoice(False, ()), use_setup: bool = False
                        ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict_design`'s totals and, beside them, each sample's per-call ms (in the totals)."""
    with torch.no_grad():
        total, call = _forward(net, d, host, use_setup)
    return total.numpy().astype(np.float64), call.numpy().astype(np.float64)


class DesignParts(NamedTuple):
    """What an estimate reports, for a whole design: per row its ms and host share (0 where no sample uses the row),
    per sample its per-call ms."""

    row_ms: np.ndarray
    host_share: np.ndarray
    call_ms: np.ndarray


def design_parts(net: LayerTimeNet, d: Design, host: HostChoice = HostChoice(False, ())) -> DesignParts:
    """:class:`DesignParts` of ``d`` without setups, with the host-side costs ``host`` says, for calibrating designs as
    :class:`Profile` does estimates (one forward of the model; compute it once per model and design)."""
    with torch.no_grad():
        used, _, (t, _, o) = design_layer_times(net, d, host)
        share = net.host_share(t, o)
        call = _call_times(net, d, host)
    rows, shares = np.zeros(len(d.x)), np.zeros(len(d.x))
    rows[used], shares[used] = t.numpy(), share.numpy()
    return DesignParts(rows, shares, call.numpy().astype(np.float64))


def design_layer_times(net: LayerTimeNet, d: Design, host: HostChoice = HostChoice(False, ()), use_setup: bool = False
                       ) -> tuple[np.ndarray, np.ndarray, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The rows ``d``'s samples use, each index's position among them, and those rows' (t, k, o) per
    :meth:`LayerTimeNet.layer_times`, with the host-side costs ``host`` says; ``use_setup``: each row at its sample's
    measurement setup."""
    used, inverse = np.unique(d.indices, return_inverse=True)
    row_setup = torch.from_numpy(net.setup_index(d.setup_names)[d.row_setup[used]]) if use_setup else None
    return used, inverse, net.layer_times(
        torch.from_numpy(d.x[used]).float(), torch.from_numpy(d.log_base[used]).float(), torch.from_numpy(d.bare[used]),
        host.generic, row_setup, as_conv=torch.from_numpy(d.as_conv[used]), hosts=host.rows(),
        log_floor=torch.from_numpy(d.log_floor[used]).float())


def _call_times(net: LayerTimeNet, d: Design, host: HostChoice, use_setup: bool = False) -> torch.Tensor:
    """Every sample's per-call time (0 for a bare kernel) at the host-side costs ``host`` says; ``use_setup``: at
    each sample's measurement setup."""
    setup = torch.from_numpy(net.setup_index(d.setup_names)[d.setup]) if use_setup else None
    return (net.call_time(torch.from_numpy(d.call).float(), host.generic, setup, host.rows())
            * torch.from_numpy(d.has_call).float())


def _forward(net: LayerTimeNet, d: Design, host: HostChoice, use_setup: bool) -> tuple[torch.Tensor, torch.Tensor]:
    _, inverse, (t, _, _) = design_layer_times(net, d, host, use_setup)
    call = _call_times(net, d, host, use_setup)
    sample = np.repeat(np.arange(len(d.y)), np.diff(d.indptr))
    contrib = t[torch.from_numpy(inverse)] * torch.from_numpy(d.counts).float()
    total = torch.zeros(len(d.y)).index_add_(0, torch.from_numpy(sample), contrib)
    return total + call, call


def design_net(train: Design, width: int, blocks: int, combine: str, kernel_gpu: str,
               kernel_runtime: bool = KERNEL_RUNTIME_BEFORE_10, call_runtime: bool = CALL_RUNTIME_BEFORE_10
               ) -> LayerTimeNet:
    """An untrained :class:`LayerTimeNet` shaped for ``train`` (its row and call features, its setups): what
    :func:`train_net` fits, and what weights it saved load into."""
    return LayerTimeNet(train.x.shape[1], train.call.shape[1], width, blocks, combine, train.setup_names, kernel_gpu,
                        kernel_runtime, call_runtime)


def train_net(train: Design, *, width: int = 64, blocks: int = 2, combine: str = "smoothmax",
              kernel_gpu: str = KERNEL_GPU_BEFORE_9, kernel_runtime: bool = KERNEL_RUNTIME_BEFORE_10, steps: int = 1500,
              lr: float = 3e-3, batch: int = 1024, seed: int = 0, log: Any = None, pairs: BatchPairs | None = None,
              pool_prior: bool = POOL_PRIOR_BEFORE_10, twins: TwinPairs | None = None,
              call_runtime: bool = CALL_RUNTIME_BEFORE_10) -> tuple[LayerTimeNet, dict]:
    """Fit a :class:`LayerTimeNet` to ``train`` (weighted mean |log ratio| of whole-network sums); with ``pairs``
    (:func:`batch_pairs`), plus the batch prior :func:`_batch_penalty`; with ``pool_prior``, plus the pooling prior
    :func:`_pool_penalty` on ``twins`` (:func:`twin_pairs` of the training rows); ``call_runtime`` False: the
    per-call head reads every runtime as eager PyTorch (:class:`LayerTimeNet`)."""
    import time

    if pool_prior != (twins is not None):
        raise ValueError("pool_prior needs twins (the training rows' twin_pairs), and twins need pool_prior")

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = design_net(train, width, blocks, combine, kernel_gpu, kernel_runtime, call_runtime)
    used = np.unique(train.indices)
    for name, arr in (("row", train.x[used]), ("call", train.call[train.has_call] if train.has_call.any() else train.call)):
        std = arr.std(axis=0)
        getattr(net, f"{name}_mean").copy_(torch.from_numpy(arr.mean(axis=0)).float())
        getattr(net, f"{name}_std").copy_(torch.from_numpy(np.where(std > 1e-9, std, 1.0)).float())
        getattr(net, f"{name}_lo").copy_(torch.from_numpy(arr.min(axis=0)).float())
        getattr(net, f"{name}_hi").copy_(torch.from_numpy(arr.max(axis=0)).float())
    hosts = known_hosts(train.call[train.shows_host])
    net.hosts[:len(hosts)] = torch.from_numpy(hosts).float()
    net.host_used[:len(hosts)] = True
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    p = train.weight / train.weight.sum()
    gen, pair_gen = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed + 1)
    twin_gen = torch.Generator().manual_seed(seed + 2)
    t0 = time.time()
    for step in range(steps):
        idx = np.sort(rng.choice(len(train.y), size=min(batch, len(train.y)), replace=False, p=p))
        sub = train.subset(idx)
        pred, _ = _forward(net, sub, HostChoice(False, ()), True)  # each column fitted on its own setup
        rows = np.unique(sub.indices)
        prior = RESOURCE_WEIGHT * _resource_penalty(net, torch.from_numpy(train.x[rows]).float(),
                                                    torch.from_numpy(train.log_base[rows]).float(), gen)
        if pairs is not None:  # its own draws: without pairs (or at weight 0) training is what it was
            prior = prior + BATCH_WEIGHT * _batch_penalty(net, pairs, pair_gen)
        if twins is not None:  # as the batch prior: its own draws
            prior = prior + POOL_WEIGHT * _pool_penalty(net, twins, twin_gen)
        loss = torch.abs(torch.log(pred) - torch.log(torch.from_numpy(sub.y).float())).mean() + prior
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        if log and (step % 100 == 0 or step == steps - 1):
            log(f"step {step + 1}/{steps} loss {loss.item():.4f} (prior {prior.item():.4f}) p {float(net.p.detach()):.2f} "
                f"({time.time() - t0:.0f}s)")
    _set_output_ranges(net, train, used)
    return net, {"steps": steps, "lr": lr, "batch": batch, "width": width, "blocks": blocks, "combine": combine,
                 "kernel_gpu": kernel_gpu, "kernel_runtime": kernel_runtime, "pool_prior": pool_prior,
                 "call_runtime": call_runtime,
                 **({"pool_prior_pairs": {"weight": POOL_WEIGHT, "pairs": len(twins.x_pool), "draws": PRIOR_DRAWS}}
                    if twins is not None else {}),
                 "seed": seed, "seconds": round(time.time() - t0, 1), "p": float(net.p.detach()),
                 "resource_prior": {"weight": RESOURCE_WEIGHT, "step": RESOURCE_STEP},
                 "batch_prior": None if pairs is None else {"weight": BATCH_WEIGHT, "pairs": len(pairs.x_lo),
                                                            "draws": PRIOR_DRAWS, "batches": list(PRIOR_BATCHES)},
                 "setups": dict(zip(net.setups, np.round(net.centred_offsets().detach().numpy(), 4).tolist()))}


def _set_output_ranges(net: LayerTimeNet, train: Design, used: np.ndarray) -> None:
    """Each head's output range over the rows it trained on (framework: rows with a framework; call: samples with a
    call), stored in ``out_lo``/``out_hi``; predictions clamp to it."""
    with torch.no_grad():
        x = torch.from_numpy(train.x[used]).float()
        z = net._standard(x, net.row_lo, net.row_hi, net.row_mean, net.row_std)
        k = net.kernel(z[:, net.kernel_idx]).squeeze(-1)
        f = net.framework(z[:, net.framework_idx]).squeeze(-1)[torch.from_numpy(~train.bare[used])]
        c = torch.from_numpy(train.call[train.has_call]).float()
        g = net.call(net._call_z(c)).squeeze(-1)
        lo = [t.min() if len(t) else net.out_lo[i] for i, t in enumerate((k, f, g))]
        hi = [t.max() if len(t) else net.out_hi[i] for i, t in enumerate((k, f, g))]
        net.out_lo.copy_(torch.maximum(torch.stack(lo), net.out_lo))
        net.out_hi.copy_(torch.minimum(torch.stack(hi), net.out_hi))


def _row_key(key: Any, gpu: GPUSpec, runtime: str, precision: str, batch: int, setup: int, as_conv: bool) -> tuple:
    """The key a :class:`DesignBuilder` files a row under (``setup``: its index; -1: none)."""
    return key, gpu.name, runtime, precision, batch, setup, as_conv


class DesignBuilder:
    """Turns (network layers, platform, ms) into a :class:`Design`, deduplicating rows. ``prediction_rules``: the
    rules predictions apply and training does not (see the module docstring): a network's dense layers but its
    classifier take a convolution's framework time (:func:`dense_as_conv`), a dilated convolution's kernel head reads
    its undilated twin (:func:`~hwaware.estimators.gpu_features.undilated`, since 9.2), and no kernel is faster than
    the GPU's peak (a GEMM's, :func:`peak_floor_ms`) or DRAM (:func:`dram_floor_ms`) allows; training designs are
    built without them. ``floors`` (default: ``prediction_rules``) sets the last alone: a training design with the
    floors is ``scripts/train_gpu.py``'s ``floors`` stage's candidate."""

    def __init__(self, prediction_rules: bool = True, floors: bool | None = None) -> None:
        self.prediction_rules = prediction_rules
        self.floors = prediction_rules if floors is None else floors
        self.rows: dict[tuple, int] = {}
        self.x: list[np.ndarray] = []
        self.log_base: list[float] = []
        self.log_floor: list[float] = []
        self.floor_kind: list[int] = []  # per row, the floor in log_floor: 0 none, 1 the GEMM peak's, 2 DRAM's
        self.bare: list[bool] = []
        self.as_conv: list[bool] = []
        self.layers: list[Layer] = []  # each row's layer at its platform's batch and precision (for baselines)
        self.samples: list[tuple[list[int], list[int], np.ndarray, bool, float, float, int]] = []
        self.row_setup: list[int] = []
        self.setups: dict[str, int] = {}
        self._gvec: dict[tuple[str, str], np.ndarray] = {}

    def row(self, key: Any, layer: Layer, gpu: GPUSpec, runtime: str, precision: str, batch: int,
            from_precision: str = "fp32", setup: str | None = None, *, from_batch: int | None,
            as_conv: bool = False) -> int:
        """The row of ``layer`` (captured at batch ``from_batch`` in ``from_precision``; None: the batch its first
        activation leads with) on the platform, as timed by ``setup`` (:func:`measurement_setup`; None: no
        particular one), with a convolution's framework time if ``as_conv`` (:func:`dense_as_conv`). Only a layer
        whose activations lead with the batch, or fold it (:func:`reshape_layer`), can be moved to another batch.
        ``from_batch`` has no default, as in :meth:`add` (since 8.2): a caller states where its layer's batch is."""
        s = -1 if setup is None else self.setups.setdefault(setup, len(self.setups))
        full = _row_key(key, gpu, runtime, precision, batch, s, as_conv)
        if full not in self.rows:
            shapes = layer.input_shapes or layer.output_shapes
            captured = shapes[0][0] if from_batch is None else from_batch
            same = batch == captured and ELEMENT_BYTES[precision] == ELEMENT_BYTES[from_precision]
            shaped = layer if same else reshape_layer(layer, batch, precision, from_precision=from_precision,
                                                      from_batch=from_batch)
            gv = self._gvec.setdefault((gpu.name, precision),
                                       gpu_vector(gpu, precision, rules=self.prediction_rules))
            # a dilated convolution's head reads its undilated twin (prediction only, as the floors)
            x, base = row_features(undilated(shaped) if self.prediction_rules else shaped, gpu, precision, runtime,
                                   gv, rules=self.prediction_rules)
            self.rows[full] = len(self.x)
            self.row_setup.append(s)
            self.x.append(x)
            self.log_base.append(base)
            gemm, dram = ((peak_floor_ms(shaped, gpu, precision), dram_floor_ms(shaped, gpu)) if self.floors
                          else (0.0, 0.0))
            self.log_floor.append(math.log(max(gemm, dram)) if max(gemm, dram) > 0 else -math.inf)
            self.floor_kind.append(0 if max(gemm, dram) <= 0 else 1 if gemm >= dram else 2)
            self.bare.append(runtime == "kernel" or inside_call(layer))  # no framework time of its own
            self.as_conv.append(as_conv)
            self.layers.append(shaped)
        return self.rows[full]

    def add(self, layers: Sequence[tuple[Any, Layer, int]], gpu: GPUSpec, runtime: str, precision: str, batch: int,
            ms: float, weight: float = 1.0, setup: str | None = None, *, from_batch: int | None) -> None:
        """One measured network (or bare kernel): ``layers`` are (key, fp32 layer captured at batch ``from_batch``,
        count; None: a bare kernel's layer, at the batch its first activation leads with); ``setup``: its column's
        :func:`measurement_setup` (None where the column does not :func:`column_shows_host`). From batch 1 a
        kernel-only layer leading with ``d != 1`` rows is a fold of ``d`` rows per image (:func:`reshape_layer`;
        before version 8 its ``d`` was taken for the batch). No default: a bare kernel moved as from batch 1 would
        have its batch squared (e25e558 defaulted to 1, which ``benchmarks/peak_floor.py``'s kernels took)."""
        ids, counts = [], []
        split = (dense_as_conv([l for _, l, _ in layers], [c for *_, c in layers]) if self.prediction_rules
                 else [(0, c) for *_, c in layers])
        s = -1 if setup is None else self.setups.setdefault(setup, len(self.setups))
        for (k, l, _), (n_conv, n_own) in zip(layers, split):
            for n, as_conv in ((n_conv, True), (n_own, False)):
                if n:  # most rows exist (a layer recurs across networks and columns): looked up before row() runs
                    i = self.rows.get(_row_key(k, gpu, runtime, precision, batch, s, as_conv))
                    ids.append(self.row(k, l, gpu, runtime, precision, batch, setup=setup, from_batch=from_batch,
                                        as_conv=as_conv) if i is None else i)
                    counts.append(n)
        self.samples.append((ids, counts, call_features(gpu, runtime, batch), runtime != "kernel", ms, weight, s))

    def build(self) -> Design:
        lens = [len(s[0]) for s in self.samples]
        return Design(np.asarray(self.x, dtype=np.float32), np.asarray(self.log_base, dtype=np.float32),
                      np.asarray(self.bare, dtype=bool), np.concatenate([[0], np.cumsum(lens)]).astype(np.int64),
                      np.asarray([i for s in self.samples for i in s[0]], dtype=np.int64),
                      np.asarray([c for s in self.samples for c in s[1]], dtype=np.float32),
                      np.asarray([s[2] for s in self.samples], dtype=np.float32),
                      np.asarray([s[3] for s in self.samples], dtype=bool),
                      np.asarray([s[4] for s in self.samples], dtype=np.float64),
                      np.asarray([s[5] for s in self.samples], dtype=np.float64),
                      np.asarray([l.macs for l in self.layers], dtype=np.float64),
                      np.asarray(self.row_setup, dtype=np.int64), np.asarray([s[6] for s in self.samples], dtype=np.int64),
                      list(self.setups), np.asarray(self.as_conv, dtype=bool),
                      np.asarray(self.log_floor, dtype=np.float32))


def graph_layers(graph: Graph) -> list[tuple[Any, Layer, int]]:
    """(key, layer, count) of a graph's kernels, for :meth:`DesignBuilder.add`; the key is :func:`_cost_key`'s (no
    TensorRT graph of the training data has two kernels of one signature and other costs: the same rows as by
    signature)."""
    seen: dict[str, list] = {}
    for l in graph.kernels():
        sig = _cost_key(l)
        if sig in seen:
            seen[sig][2] += 1
        else:
            seen[sig] = [sig, l, 1]
    return [tuple(v) for v in seen.values()]  # type: ignore[misc]


def weights_bytes(net: LayerTimeNet) -> bytes:
    """The ``weights.safetensors`` file :func:`save_net` writes for ``net`` (its sha256 names trained weights)."""
    from safetensors.torch import save

    return save({k: v.detach().contiguous() for k, v in net.state_dict().items()})


def save_net(net: LayerTimeNet, folder: Path, meta: dict[str, Any]) -> None:
    """The weights and ``meta``, which records their sha256 and the estimator version they were trained for."""
    folder.mkdir(parents=True, exist_ok=True)
    data = weights_bytes(net)
    (folder / "weights.safetensors").write_bytes(data)
    meta = {**meta, "weights_sha256": hashlib.sha256(data).hexdigest(),  # a minor version keeps its major's weights
            "estimator_version": ResPerfNetGPUEstimator.version.split(".")[0]}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))


def load_net(folder: Path) -> tuple[LayerTimeNet, dict[str, Any]]:
    from safetensors.torch import load_file

    meta = json.loads((folder / "meta.json").read_text())
    arch = meta["architecture"]
    net = LayerTimeNet(n_features(), arch["n_call"], arch["width"], arch["blocks"], arch["combine"],
                       meta.get("setups", []), arch.get("kernel_gpu", KERNEL_GPU_BEFORE_9),
                       arch.get("kernel_runtime", KERNEL_RUNTIME_BEFORE_10),
                       arch.get("call_runtime", CALL_RUNTIME_BEFORE_10))
    try:
        net.load_state_dict(load_file(str(folder / "weights.safetensors")))
    except RuntimeError as exc:  # weights of another version of this model
        raise UnsupportedPlatformError(f"the resperfnet-gpu weights at {folder} do not fit this version of the model "
                                       f"({str(exc).splitlines()[0]}); retrain with scripts/train_gpu.py") from exc
    net.eval()
    return net, meta


@register_estimator
class ResPerfNetGPUEstimator(Estimator):
    """Learned per-layer latency on any catalog GPU (eager PyTorch or TensorRT; fp32, fp16, bf16, amp; int8 with TensorRT).

    >>> import hwaware
    >>> est = hwaware.estimate("resnet18", gpu="2080ti", estimator="resperfnet-gpu")
    >>> est.estimator, est.total_ms > 0, est.interval_ms[0] < est.total_ms < est.interval_ms[1]
    ('resperfnet-gpu', True, True)
    """

    name = "resperfnet-gpu"
    # 2: host-side costs of an unmeasured GPU averaged over the measured hosts (buffers hosts, host_used);
    # 3: measurement-setup offsets (a user's prediction is at the GPU's average setup)
    # 4: a Jetson sharing a measured Jetson's GPU chip takes its host (host_choice); calibration profiles record it
    # 5: under TensorRT a batch norm folds into its conv as that conv's bias; pooling's argmax indices dropped
    # 6: eager PyTorch runs a conv's bias as its own add kernel, without a dispatch; the kernel head reads no bias flag
    # 7: no head reads how many ops a TensorRT kernel fuses (log_fused dropped from the row); then, same weights,
    #    unmeasured TensorRT answers bounded by their fallback precisions' and warned above eager PyTorch's
    # 7.1: same weights; TensorRT on a desktop GPU, which no row times, reaches each launch's host-side cost through
    #    the Jetsons that timed it and eager PyTorch, and its kernels at eager PyTorch's (:func:`runtime_via`); cache
    #    keys name the version, so no answer of an earlier one is reused
    # 7.2: same weights, same training rows; fp32 convolutions (and TensorRT's dense layers) from Ampere on at the TF32
    #    tensor rate (gpu_features.runs_tf32), as cuDNN and TensorRT run them by default, in the roofline terms and the
    #    GPU features' tensor rate; 7.3: in the roofline terms only (every fp32 training row had the feature at fp32)
    # 7.4: same weights; no GEMM's kernel time below its multiply-adds at the GPU's fastest datasheet rate
    #    (:func:`peak_floor_ms`), a prediction rule as ``dense_as_conv`` is, not applied in training
    # 7.5: same weights; an answer at a batch the training did not time the platform around warns where an image costs
    #    more than at a smaller power of two (:meth:`_batch_bounds`)
    # 8: retrained; a network's stored kernels leading with d != 1 rows at batch 1 move as folds (the timm store's
    #    ConvNeXt-style dense layers had got one row per image at a row's batch: ``DISCLOSED_STORE``)
    # 8.1: same weights; no kernel below the time its bytes beyond twice the L2 take at the DRAM bandwidth
    #    (:func:`dram_floor_ms`), a prediction rule as the GEMM floor is, not applied in training
    # 8.2: same weights; the batch cap and calibration profiles take no kernel below its floors (:func:`cap_scale`,
    #    ``LayerEstimate.floor_ms``); a window's DRAM floor counts the positions its taps read
    # 8.3: same weights; a measured platform of a GPU timed on several machines takes the validation rows' residuals
    #    at their own measurement setup, around the answers at each of the GPU's setups (:func:`setup_factors`), not
    #    the residuals at the GPU's average setup around that answer
    # 9: retrained, same recipe, candidates and rule, every stage re-run on one machine (an AMD EPYC, recorded): timm's
    #    rows on the graph their run timed (fused or unfused reparameterizable blocks, ``graph_store.store_key``; 8 had
    #    trained 7 rows on the other form and 4 that are now left out)
    # 9.1: same weights; the GEMM floor on strided and dilated convolutions too (:func:`is_gemm`: neither runs Winograd
    #    or FFT), a prediction rule; a softmax larger than any training network's timed at its roofline
    #    (:func:`unlike_training`); the interval of a batch warned below batch 1 reaching batch 1's answer
    # 9.2: same weights; the kernel head reads a dilated convolution as its undilated twin (:func:`undilated`), a
    #    prediction rule: 9.1 answered a stack of them down to 0.13x the twins' time; the GEMM floor's GPU Boost
    #    headroom only on parts that boost beyond their rated clock (:func:`peak_headroom`: no Jetson, no data centre)
    # 9.3: same weights; the heads read a bf16 layer's GPU at fp16's features (:data:`HEAD_PRECISION`: no row timed
    #    bf16), with a note: 9.2 answered bf16 down to 0.80x fp16's time on GPUs that run both at one rate
    # 9.4: same weights and answers; a pooling layer answered slower than the convolution of its window warns
    #    (:data:`POOL_WARNING`, :func:`pool_twin`)
    # 9.5: same weights; int8 layers bounded on GPUs without an int8 tensor figure (:meth:`GPUSpec.fastest_tflops`)
    # 9.6: same weights; amp's heads read fp16's GPU features too and its depthwise convolutions fp16's roofline
    #    terms, prediction rules (``PREDICTION_HEAD_PRECISION``, ``roofline_ms``: every trained amp platform has
    #    the features equal), and bf16's layers off tensor cores fp16's roofline terms: 9.5 answered amp faster than
    #    fp16 (the A100s, down to 0.90x), and bf16 1.30x and amp 1.45x fp16's time (convnext_tiny, an A30, eager
    #    PyTorch)
    version = "9.6"
    intervals = True
    floors_layers = True

    def __init__(self, weights_dir: str | Path | None = None, cache: PredictionCache | bool = True) -> None:
        self.weights_dir = weights_dir
        self.cache = cache

    def _folder(self) -> Path:
        if self.weights_dir is not None:
            return Path(self.weights_dir)
        return Path(str(resources.files("hwaware.estimators.weights").joinpath(WEIGHTS)))

    def _loaded(self) -> tuple[LayerTimeNet, dict[str, Any]]:
        if "net_" not in self.__dict__:
            folder = self._folder()
            if not (folder / "meta.json").is_file():
                raise UnsupportedPlatformError(f"no trained resperfnet-gpu weights at {folder}; run scripts/train_gpu.py")
            net, meta = load_net(folder)
            # cache keys name the weights, so a re-trained model never reads an old model's predictions
            self.weights_id_ = hashlib.blake2b((folder / "weights.safetensors").read_bytes(), digest_size=6).hexdigest()
            self.meta_ = meta
            self.net_ = net  # last: a search's other threads take net_ for all three (helper-163: weights_id_ missing)
        return self.net_, self.meta_

    def supports(self, platform: Platform) -> bool:
        return isinstance(platform.device, GPUSpec) and (self._folder() / "meta.json").is_file()

    def answers_version(self, platform: Platform) -> str:
        """9.3 changed bf16's answers only: every other platform's are 9.2's, and a profile fitted on them is not
        stale (helper-137: 9.3 called every saved profile stale); 9.4 added a warning and a note, no answer; 9.5 bounds
        int8 layers on GPUs without an int8 tensor figure (Volta, dp4a: :meth:`GPUSpec.fastest_tflops`); 9.6 reads amp
        and bf16 at fp16's rates where those differ from their own off tensor cores
        (:data:`~hwaware.estimators.gpu_features.PREDICTION_HEAD_PRECISION`,
        :func:`~hwaware.estimators.gpu_features.roofline_ms`), a platform whose answers may move: a network may not
        (the Jetson Nano's amp features were clamped to the training range's fp16 rate before: only its depthwise
        convolutions move). A new version says here which answers it changes (tests/test_calibration.py pins this to
        the version)."""
        gpu = platform.device
        if isinstance(gpu, GPUSpec):
            if platform.precision == "int8" and not gpu.int8_tensor_tops_dense:
                return "9.5"
            if platform.precision in ("amp", "bf16") and gpu.framework_tflops(platform.precision) != \
                    gpu.framework_tflops("fp16"):
                return "9.6"
        return "9.3" if platform.precision == "bf16" else "9.2"

    def model_id(self, platform: Platform) -> str:
        self._loaded()
        choice = self.host_choice(platform.device) if isinstance(platform.device, GPUSpec) else None
        floor = f" floor {floor_digest(platform.device)}" if isinstance(platform.device, GPUSpec) else ""
        # a sibling Jetson's host is read from its spec: the cache key's account of it
        return f"{super().model_id(platform)} weights {self.weights_id_}{floor}" + (
            f" {choice.key()}" if choice is not None and choice.siblings else "")

    def calibrated_interval(self) -> tuple[float, float] | None:
        """meta.json's ``calibrated`` interval: the leave-one-GPU-out folds' 10-shot residuals of held-out rows
        (``python scripts/train_gpu.py logo``)."""
        lo_hi = self._loaded()[1]["intervals"].get("calibrated")
        return None if lo_hi is None else (float(lo_hi[0]), float(lo_hi[1]))

    def batch_span(self, platform: Platform) -> tuple[int, int] | None:
        """The smallest and largest batch the training rows timed this GPU, runtime and precision at (meta.json's
        ``trained_batches``, written by ``scripts/train_gpu.py main``); None if they never did."""
        return dict(self.measured_platforms(platform.device)).get((platform.runtime, platform.precision))

    def measured_platforms(self, gpu: GPUSpec) -> list[tuple[tuple[str, str], tuple[int, int]]]:
        """((runtime, precision), (smallest, largest batch)) of every platform of ``gpu`` the training rows timed
        (none: every answer for it is zero-shot, from its catalog specs).

        >>> from hwaware.estimators import get_estimator
        >>> get_estimator("resperfnet-gpu").measured_platforms(get_gpu("2080ti"))
        [(('pytorch', 'fp32'), (1, 256))]
        """
        return measured_platforms(self._loaded()[1], gpu.name)

    def measured(self, platform: Platform) -> bool:
        """Whether the training rows timed this GPU, runtime and precision at batches around this one."""
        span = self.batch_span(platform)
        return span is not None and span[0] <= platform.batch_size <= span[1]

    def outside_training_range(self, gpu: GPUSpec, precision: str) -> list[str]:
        """The GPU features (as the kernel head reads them) outside the range the model was trained on."""
        return list(self._remembered("outside_", (gpu, precision),
                                     lambda: self._outside_training_range(gpu, precision)))

    def _outside_training_range(self, gpu: GPUSpec, precision: str) -> list[str]:
        net, _ = self._loaded()
        vec = gpu_vector(gpu, precision)
        read = set(net.kernel_idx.tolist())
        out = []
        for j, name in enumerate(GPU_FEATURES):
            i = ROW_FEATURES.index(name)
            if i in read and not net.row_lo[i] - 1e-6 <= vec[j] <= net.row_hi[i] + 1e-6:
                out.append(name.removeprefix("log_"))
        return out

    def untrained_kinds(self) -> frozenset[str]:
        """Layer kinds that no training row has (the kind's flag never set; ``unknown`` aside, which the estimate
        reports on its own): the kernel head sees such a layer with no kind at all, its time a guess from its size
        and roofline terms. The GPU tables are CNNs, so these are a transformer's matmul and attention."""
        net, _ = self._loaded()
        return self._remembered("untrained_", None, lambda: frozenset(
            name.removeprefix("kind_") for i, name in enumerate(ROW_FEATURES)
            if name.startswith("kind_") and name != "kind_unknown" and float(net.row_hi[i]) < 0.5))

    def known_host(self, gpu: GPUSpec) -> bool:
        """Whether the training data timed this GPU's machine where host-side costs show: a network column at batch
        <= 64 (HELP, torch2trt). At timm's batch 1024 every kernel hides the dispatch cost, so those columns say
        nothing about it."""
        return not self.host_choice(gpu).generic

    def host_choice(self, gpu: GPUSpec) -> HostChoice:
        """Whose host-side costs this model's predictions for ``gpu`` take (:func:`host_choice`; kept per GPU spec:
        every warm prediction asks)."""
        _, meta = self._loaded()
        return self._remembered("host_choices_", gpu, lambda: host_choice(gpu, meta.get("train_columns", [])))

    def runtime_via(self, gpu: GPUSpec, runtime: str) -> tuple[GPUSpec, ...]:
        """The measured machines through which this model's host-side costs of ``runtime`` reach ``gpu``
        (:func:`runtime_via`; () where its class timed the runtime)."""
        _, meta = self._loaded()
        return self._remembered("runtime_vias_", (gpu, runtime),
                                lambda: runtime_via(gpu, runtime, meta.get("train_columns", [])))

    def predict(self, graph: Graph, platform: Platform) -> Estimate:
        return self.predict_many([graph], platform)[0]

    def predict_many(self, graphs: Sequence[Graph], platform: Platform) -> list[Estimate]:
        """Every graph at once: distinct layers are looked up in the prediction cache, the rest go through one
        forward of the regressor. Within one call, the answers for other precisions, runtimes and batch 1 that the
        checks ask for (:meth:`_engine_bounds`, :meth:`_batch_bounds`) are computed once each, without their
        per-layer rows, which they do not read."""
        return self._answers(graphs, platform, layers=True)

    def _answers(self, graphs: Sequence[Graph], platform: Platform, layers: bool, checks: str = "all"
                 ) -> list[Estimate]:
        """:meth:`predict_many`, memoised per request; ``layers=False``: the estimates' ``layers`` are left empty (their
        totals, notes and warnings are the same). ``checks``: the batch checks of :meth:`_batch_bounds` taken, "all"
        (as users get it), "cap" (the batch-1 cap only: the totals are the same, what other answers' bounds read) or
        "none" (what the checks are computed from)."""
        memo = _REQUEST.get()
        token = _REQUEST.set({}) if memo is None else None
        try:
            key = (id(self), id(platform.device), platform.runtime, platform.precision, platform.batch_size,
                   tuple(map(id, graphs)), checks)
            known = _REQUEST.get()
            if (key, True) in known:
                return known[key, True][1]
            if (key, layers) not in known:  # the graphs kept with their answers: no id is reused within the request
                known[key, layers] = (list(graphs), self._predict_many(graphs, platform, layers, checks))
            return known[key, layers][1]
        finally:
            if token is not None:
                _REQUEST.reset(token)

    def _predict_many(self, graphs: Sequence[Graph], platform: Platform, layers: bool = True, checks: str = "all"
                      ) -> list[Estimate]:
        if not isinstance(platform.device, GPUSpec):
            raise UnsupportedPlatformError(f"resperfnet-gpu predicts catalog GPUs, not {platform.device.name}; for "
                                           "the CPU leave estimator out (its default is resperfnet; CLI: no "
                                           "--estimator)")
        net, meta = self._loaded()
        gpu, runtime, precision = platform.device, platform.runtime, platform.precision
        for g in graphs:  # a layer that folds the batch cannot be moved to another one (hwaware.estimate re-batches)
            if g.batch_size != platform.batch_size:
                raise InvalidArgumentError(f"{g.name} was captured at batch {g.batch_size}, not the platform's "
                                           f"{platform.batch_size}; capture it at that batch or use hwaware.estimate")
        prepared = [runtime_kernels(g, runtime) for g in graphs]
        choice = self.host_choice(gpu)
        generic, siblings, hosts = choice.generic, choice.siblings, choice.rows()
        through = self.runtime_via(gpu, runtime)
        via = host_rows(through) if through else None
        # keys name the weights, what the rows read of the GPU's spec and the hosts used, so no earlier prediction is
        # reused (a catalog update or a user's GPUSpec under a catalog name changes the rates the rows are built from)
        prefix = (f"{self.name}:{self.version}:{self.weights_id_}:share:{platform.key}:{spec_digest(gpu)}:"
                  f"floor={floor_digest(gpu)}:{ROW_RULES}:"
                  f"{platform.batch_size}:{choice.key()}:" + "".join(f"via={g.name}@{spec_digest(g)}:" for g in through))
        # 'share': entries carry the host share since 2026-11-30
        untrained = self.untrained_kinds()
        # per network, its layers of kinds no training row has: if any, it is outside the training domain and its
        # kernels take their roofline times (marked in the keys)
        odds = [Counter(k for k in (KIND_NAMES[l.kind] for l in g.layers) if k in untrained) for g in prepared]
        outside = [bool(odd) for odd in odds]
        prefixes = [prefix + ("outside-domain:" if o else "") for o in outside]
        # per kernel, its key and layer, whether it takes a convolution's framework time (dense_as_conv), and whether
        # it is timed at its roofline (a network outside the domain, or a layer unlike its kind's training rows)
        keyed = []
        for g, p, o in zip(prepared, prefixes, outside):
            kernels = list(g.kernels())
            conv = [bool(n) for n, _ in dense_as_conv(kernels, [1] * len(kernels))]
            rows = []
            for l, c in zip(kernels, conv):
                roofline = o or unlike_training(l)
                # a roofline launch is an elementwise one's anyway: no as-conv key
                mark = ("outside-domain:" if roofline and not o else "") + ("as-conv:" if c and not roofline else "")
                rows.append((p + mark + _cost_key(l), l, c and not roofline, roofline))
            keyed.append(rows)
        # per network, each pooling kernel's key with its dense-convolution twin's (pool_twin), which bounds it: the
        # estimate warns where the pooling is answered slower
        pooled = [[(key, p + _cost_key(twin), twin) for key, l, _, roofline in rows
                   if checks != "none" and not roofline and (twin := pool_twin(l)) is not None]
                  for rows, p in zip(keyed, prefixes)]  # (not for the checks' own answers, which never say it)
        keys = list(dict.fromkeys([*(k for rows in keyed for k, *_ in rows),
                                   *(k for pairs in pooled for _, k, _ in pairs)]))
        cache = self._prediction_cache()
        known = cache.get_many(keys) if cache is not None else {}
        todo = {}
        for g, rows, pairs in zip(prepared, keyed, pooled):
            for key, l, c, o in rows:
                if key not in known and key not in todo:
                    todo[key] = (l, g.precision, g.batch_size, o, c)
            for _, key, twin in pairs:
                if key not in known and key not in todo:
                    todo[key] = (twin, g.precision, g.batch_size, False, False)
        if todo:
            builder = DesignBuilder()
            for key, (l, captured, captured_batch, _, c) in todo.items():
                builder.row(key, l, gpu, runtime, precision, platform.batch_size, captured, from_batch=captured_batch,
                            as_conv=c)
            log_floor = np.asarray(builder.log_floor, dtype=np.float32)
            with torch.no_grad():
                t, k, share = (v.numpy().astype(np.float64) for v in net.layer_parts(
                    torch.from_numpy(np.asarray(builder.x, dtype=np.float32)),
                    torch.from_numpy(np.asarray(builder.log_base, dtype=np.float32)),
                    torch.from_numpy(np.asarray(builder.bare, dtype=bool)), generic,
                    roofline_kernel=torch.tensor([v[3] for v in todo.values()], dtype=torch.bool),
                    as_conv=torch.tensor(builder.as_conv, dtype=torch.bool), hosts=hosts, via=via,
                    log_floor=torch.from_numpy(log_floor)))
            # the kernel head asked for less than the GPU's peak or DRAM allows: which floor it got
            floored = (np.isfinite(log_floor) & (np.log(k) <= log_floor + 1e-6)) * np.asarray(builder.floor_kind)
            # (host share, ms, floor kind: 0 none, 1 GEMM peak, 2 DRAM; floor ms, 0 where none)
            fresh = {key: (float(s), float(v), float(f), float(m))
                     for key, v, s, f, m in zip(todo, t, share, floored, floors_ms(log_floor))}
            if cache is not None:
                cache.put_many(fresh)
            known.update(fresh)
        def call_ms() -> float:
            with torch.no_grad():
                features = torch.from_numpy(call_features(gpu, runtime, platform.batch_size)).float()[None]
                return float(net.call_time(features, generic, hosts=hosts)[0])

        # per platform: its hosts follow from the GPU and runtime
        call = self._remembered("call_ms_", (gpu, runtime, platform.batch_size), call_ms)
        # measured: the training rows timed this platform at batches around this one (the measured interval comes
        # from measured batches); zero-shot otherwise
        span = self.batch_span(platform)
        regime = "measured" if self.measured(platform) else "zero-shot"
        # a measured GPU timed on several machines: its interval spans the answers at each (setup_factors)
        # kept per GPU: every warm prediction of a measured platform asks (a torch op per setup)
        spread = self._remembered("setup_spreads_", gpu.name, lambda: net.setup_spread(gpu.name))
        setups = len(spread.offsets) if regime == "measured" else 0
        source = interval_key(meta["intervals"], regime, generic, gpu.is_integrated_soc, bool(through), setups,
                              runtime)
        if regime == "measured":
            status = "is in the training data"
        elif span is None:  # others of its platforms may train the model (timm's GPUs: amp alone, their host unseen)
            others = ("" if not self.measured_platforms(gpu) else " at this runtime and precision (others of this "
                      "GPU train the model, " + ("but not its host costs" if generic else "its host costs included")
                      + ")")
            status = f"has no training measurements{others}; predicted from its catalog features"
        else:
            batches = f"batch {span[0]}" if span[0] == span[1] else f"batches {span[0]}-{span[1]}"
            status = (f"was timed at {batches} only, so batch {platform.batch_size} is extrapolated, with the "
                      "zero-shot interval")
            figure = meta.get("batch_extrapolation") if span == (1, 1) else None  # what the batches stage measures
            if figure is not None:
                jetson = "; no Jetson was timed above batch 1, so expect more" if gpu.is_integrated_soc else ""
                status += (f" (desktop GPUs timed at batch 1 only came out {figure['mape']:.0%} MAPE at batches "
                           f"{figure['batches']}, the interval covering {figure['coverage']:.0%} of a column on "
                           f"average, some far less: {figure['command']}{jetson})")
        notes = [f"{REGIME_NOTES[regime]}{gpu.name} ({runtime}, {precision}) {status}",
                 f"{meta['intervals']['coverage']:.0%} {INTERVAL_NOTE} ({regime}"
                 + {"zero-shot-integrated": ", of the Jetsons held out in turn",
                    f"zero-shot-integrated-{runtime}": f", of the Jetsons held out in turn, their {runtime} columns"
                    }.get(source, "") + ")"
                 + (f", at its own machine, around the answers at each of the {setups} machines the tables timed "
                    "this GPU on (host-side costs differ by machine; yours is none of them)"
                    if source == "measured-own-setup" else ""),
                 "inputs assumed on the device: host<->device copies are not included"]
        if f"{source}-source" in meta["intervals"] and source.startswith("zero-shot-integrated"):
            # how that interval fared on the measured Jetsons, each held out: far below 90 % under TensorRT
            notes.append(f"{INTERVAL_NOTE}: {meta['intervals'][f'{source}-source']}")  # a profile drops it
        if generic and gpu.is_integrated_soc:
            notes.append(f"{UNMEASURED_JETSON_NOTE} (its expected error is the leave-one-Jetson-out figure in "
                         "benchmarks/results/gpu_accuracy.md, largest with TensorRT); `hwaware calibrate` with a few "
                         "measurements of your device narrows it")
        outside = self.outside_training_range(gpu, precision)
        if outside:
            notes.append(f"outside the training GPUs' range ({', '.join(outside)}): the learned parts see the nearest "
                         "trained value, only the roofline terms extrapolate; expect larger errors")
        if siblings:
            names = " and ".join(g.name for g in siblings)
            notes.append(f"{HOST_NOTE} {names}'s, measured, the "
                         f"Jetson{'s' if len(siblings) > 1 else ''} with this one's GPU chip ({gpu.gpu_chip}): batch-1 "
                         "latency on your device differs as its CPU does; `hwaware calibrate` with a few measurements "
                         "fixes it")
        elif generic:
            notes.append(f"{HOST_NOTE} average measured "
                         + ("Jetson" if gpu.is_integrated_soc else "desktop") + " host's: batch-1 latency on your "
                         "machine differs; `hwaware calibrate` with a few measurements fixes it")
        if through:
            widest = (", the interval the held-out Jetsons'" if source.startswith("zero-shot-integrated") else "")
            notes.append(f"{runtime} on a {'Jetson' if gpu.is_integrated_soc else 'desktop GPU'}: no training machine "
                         f"of this class timed it, so each launch costs the host what eager PyTorch's does here, times "
                         f"{runtime}'s against eager PyTorch's on the {' and '.join(g.name for g in through)}, which "
                         "timed both, and each kernel what eager PyTorch's kernel for the fused layer takes (assumptions "
                         f"no measurement tests{widest})")
        if call < 1e-3:  # what "pre 0.000" in a summary means
            notes.append(f"pre (per call: synchronisation, the code around the forward) learned as {call * 1e3:.2g} us "
                         "here: the measured tables of this runtime and device class do not separate it from the "
                         "per-layer costs, which carry it")
        if runtime == "tensorrt":
            from hwaware.runtime.tensorrt import NOT_MODELLED

            notes.append(NOT_MODELLED)
            if gpu.is_integrated_soc:
                notes.append(JETSON_TRT_NOTE)
            elif precision == "int8":
                notes.append(INT8_TRT_NOTE)
        if precision == "amp":  # without tensor cores autocast's fp16 layers run at the fp16 rate the notes below give
            notes.append(AMP_NOTE.format(rates="tensor-core rates" if gpu.tensor_cores else "rates (no tensor cores)"))
        if precision in HEAD_PRECISION:
            notes.append(BF16_NOTE)
        notes.extend(gpu.rate_notes(precision))  # where the catalog lacks the rate the roofline terms need
        out = []
        bounds = (self._batch_bounds(graphs, platform, rise=checks == "all") if checks != "none"
                  else [{} for _ in graphs])
        for g, original, kernels, below, odd, pairs in zip(prepared, graphs, keyed, bounds, odds, pooled):
            # (host share, ms, floor kind, floor ms) per kernel, in g.kernels()'s order
            parts = [known[key] for key, *_ in kernels]
            exe = sum(p[1] for p in parts)
            total = call + exe
            b = platform.batch_size
            warn, own_notes, scale, reach = [], [], 1.0, None
            single = below.get(1)
            if checks != "none" and b > 1 and not below:  # the network answers as the model predicts it, unchecked
                own_notes = ["no batch bound: the network cannot be moved to smaller batches exactly (a layer's "
                             "first dimension does not carry the batch, or an attention layer folds it), so nothing "
                             f"checks that an image costs no more at batch {b}"]
            over = single is not None and total > b * single  # more than b images one at a time
            # what no cap goes below: the kernels' floors and the per-call time (only gathered where a cap is asked)
            floors = np.array([p[3] for p in parts]) if over else np.zeros(0)
            least = call + floors.sum()
            if single is not None and cap_applies(total, b * single, least):
                # b images one at a time bound a batch; the training batches stop short of this GPU's regime
                # (Jetsons and small desktop GPUs above batch 1 under PyTorch) and the kernel head overshoots there
                scale = cap_scale(np.array([p[1] for p in parts]), floors, b * single - call)
                warn = [f"capped: batch {b} predicted {total:.3f} ms, more than {b} images one at a time "
                        f"({b} x {single:.3f} ms at batch 1); the model extrapolates beyond its training batches here, "
                        f"so every layer is scaled by {scale:.3g} to that bound, none below the least time its "
                        "arithmetic and bytes allow, which is likely pessimistic"]
                exe, total = b * single - call, b * single
            elif over:  # the floors and per-call time alone exceed the bound, which no cap then meets
                warn = [f"physically implausible: batch {b} predicted {total:.3f} ms, more than {b} images one at a "
                        f"time ({b} x {single:.3f} ms at batch 1), while the least times its kernels' arithmetic and "
                        f"bytes allow take {least:.3f} ms with the per-call time: not capped, as one of "
                        "the two answers is off (at batch 1 more of a kernel's bytes fit in the L2)"]
            elif single is not None and total < BATCH_DIP * single:
                warn = [f"physically implausible: batch {b} predicted {total:.3f} ms against {single:.3f} ms at batch 1 "
                        f"(a batch costs about one image at least: the measured tables go no lower than {BATCH_DIP} of "
                        "batch 1); the learned per-call time falls with batch. The interval reaches batch 1's answer"]
                reach = single  # which of the two is off no row says (helper-130: 0.334 against 0.841 ms, unreached)
            elif single is not None and total < single:
                own_notes = [f"batch {b} predicted {1 - total / single:.0%} below batch 1 ({total:.3f} against "
                             f"{single:.3f} ms), as measured: HELP's NB201 tables time batch 32 at a median "
                             f"{BATCH_DIP}-1.00 of batch 1 per GPU"]
            warn += _rise_warning(total, b, below)
            late_notes = []
            # as the answer takes them: the batch cap's scale on both, none below its floor
            slower = [(max(known[k][1] * scale, known[k][3]), max(known[t][1] * scale, known[t][3]))
                      for k, t, _ in pairs if known[k][1] > known[t][1]]
            slower = [(p, t) for p, t in slower if p > t]
            excess = sum(p - t for p, t in slower)
            if slower:
                said = POOL_WARNING.format(n=len(slower), s="s" if len(slower) > 1 else "",
                                           worst=max(p / t for p, t in slower), excess=excess, total=total)
                if total > ORDER_SLACK * (total - excess):  # beyond a learned model's noise over the bounded answer
                    warn.append(said)
                else:  # after the platform's notes, whose first names the regime
                    late_notes.append(said.replace(POOL_WARNING_KIND, POOL_NOTE_KIND, 1))
            if odd:  # the whole network is then unlike the training ones (its softmax, norms, token-wise dense too)
                warn.append("outside the training domain: " + ", ".join(f"{n} {k}" for k, n in sorted(odd.items()))
                            + " layers, a kind no training network has (the GPU tables are CNNs), so every kernel is "
                            "timed at its roofline, without the inefficiency learned on CNN layers, and every launch "
                            "costs the host what a plain elementwise one does. " + (
                                "A transformer's attention runs as one fused kernel here where TensorRT's "
                                "guide fuses it (no scale on the scores: the rewrite's rule 6). "
                                if runtime == "tensorrt" else
                                "A transformer's attention is captured unfused (matmul, softmax, matmul) where "
                                "PyTorch on a GPU runs one fused kernel. ") + "On "
                            "timm's 772 such rows (eager PyTorch, AMP, batch 4-2048, most 1024) this answered a median "
                            "0.59-0.87x the measured time per GPU, MAPE 24-40 % (benchmarks/results/timm_other.md), "
                            "its platform's interval alone covering 15-50 %, hence the wider interval its note "
                            "describes; batch 1 is untested")
            unlike = 0 if odd else sum(1 for *_, roofline in kernels if roofline)
            if unlike:
                own_notes.append(f"{unlike} softmax layer{'s' if unlike > 1 else ''} over more than {TRAINED_SOFTMAX} "
                                 "elements per image, more than any training network's (unlike_training): timed at "
                                 "the roofline, without a learned inefficiency, so likely answered too fast")
            twins = sum(1 for _, l, *_ in kernels if undilated(l) is not l)
            if twins:  # helper-134: nothing said that dilation was priced as free
                own_notes.append(f"{twins} dilated convolution{'s' if twins > 1 else ''} timed as undilated (dilation "
                                 "1, same shapes): no training row is dilated but SK-ResNets' 17, and the same "
                                 "multiply-adds cannot run faster spread wider; where its twin runs Winograd, cuDNN's "
                                 "dilated kernel is slower, so likely answered too fast")
            floored = Counter(int(p[2]) for p in parts)
            if floored[1]:
                own_notes.append(f"{FLOOR_NOTE}: {floored[1]} GEMM kernel{'s' if floored[1] > 1 else ''} (dense, "
                                 "matmul, 1x1, strided or dilated convolution) raised to the least time "
                                 f"{gpu.name}'s fastest datasheet rate allows ("
                                 + (f"{BOOST_HEADROOM:.2f}x above it for GPU Boost" if gpu.boosts_beyond_rated else
                                    "at its rated clock, which it does not exceed") + "): the learned model asked "
                                 "for less, an extrapolation beyond its training GPUs and shapes. No GEMM DeepBench "
                                 f"timed ran above {MEASURED_PEAK_SHARE:.2f}x its GPU's datasheet peak, none on tensor "
                                 f"cores above {MEASURED_TENSOR_PEAK_SHARE:.2f}x: such layers are likely answered too "
                                 "fast")
            if floored[2]:
                own_notes.append(f"{DRAM_NOTE}: {floored[2]} kernel{'s' if floored[2] > 1 else ''} raised to the least "
                                 f"time their bytes beyond twice the L2 take at {gpu.name}'s datasheet DRAM bandwidth "
                                 f"({BOOST_HEADROOM:.2f}x above it): the learned model, fitted to whole networks, "
                                 "asked for less; data compression (Ampere's, of sparse activations) is not modelled")
            # the layers' ms as the rows carry them (the batch cap's scale, their floors)
            ms = np.maximum(np.array([p[1] for p in parts]) * scale, np.array([p[3] for p in parts]))
            ends = interval_ends(meta["intervals"], source, spread, total, ms, np.array([p[0] for p in parts]), call)
            ends = ends if reach is None else (ends[0], max(ends[1], reach))
            if odd and "outside-domain" in meta["intervals"]:  # its platform's interval was made of CNNs' residuals
                wide = interval_ends(meta["intervals"], "outside-domain", spread, total, ms, np.zeros(0), call)
                ends = (min(ends[0], wide[0]), max(ends[1], wide[1]))
                own_notes.append(f"{OUTSIDE_INTERVAL_NOTE}: " + meta["intervals"].get("outside-domain-source", ""))
            out.append(Estimate(total_ms=total, pre_ms=call, exe_ms=exe, post_ms=0.0,
                                layers=_layer_rows(g, parts, scale) if layers else (),
                                unknown_ops=g.unknown_ops, estimator=self.name, estimator_version=self.version,
                                platform=platform, model=g.name,
                                notes=tuple([*own_notes, *notes, *late_notes,
                                             *([EAGER_NOTE] if runtime == "pytorch" and g is not original else [])]),
                                warnings=tuple(warn), interval_ms=(float(ends[0]), float(ends[1]))))
        out = self._engine_bounds(graphs, platform, out, layers, checks, bounds)
        return self._order_warnings(graphs, platform, out) if checks == "all" else out

    def _batch_bounds(self, graphs: Sequence[Graph], platform: Platform, rise: bool = True) -> list[dict[int, float]]:
        """Per graph, the model's answers at smaller batches that check its answer at the platform's batch ``b``: an
        image never costs more in a larger batch (a runtime could run it as smaller ones). Batch 1's caps it (``b``
        images one at a time); where the training never timed the platform around ``b`` (:meth:`measured`), every
        power of two below ``b`` is asked too (if ``rise``), without these checks, and an image dearer than
        ``BATCH_RISE`` x the cheapest of theirs warns (:func:`_rise_warning`). Empty where the graph cannot be moved
        to another batch exactly (:func:`hwaware.graph.transform.with_batch`).

        A warning, not a cap (resperfnet-gpu 7.5): no row tells which answer is off, and on timm's measured rows
        capping at the smaller powers of two made answers worse in each form tried (``python
        benchmarks/batch_bounds.py`` at each commit; on every platform, at da36944: 519 of 1,104 rows lowered, up to
        25 %; on unmeasured batches only, at a2122c3: 24 rows timed below their GPU's training batches, MAPE
        11.6/12.5/9.0 -> 13.4/15.4/9.4 %; with a floor at the smallest timed batch's cost per image, at da36944: 32
        rows moved, worse too): there the model's small-batch answers look like the ones off."""
        b = platform.batch_size
        every = rise and not self.measured(platform)
        batches = [1 << i for i in range(max(b - 1, 0).bit_length())] if every else [1] if b > 1 else []
        out: list[dict[int, float]] = [{} for _ in graphs]
        for h in batches:
            moved: dict[int, Graph] = {}
            for i, g in enumerate(graphs):
                try:
                    moved[i] = at_batch(g, h)
                except ValueError:  # a layer's first dimension is not the batch's
                    pass
            totals = self._answers(list(moved.values()), replace(platform, batch_size=h), layers=False, checks="none")
            for i, e in zip(moved, totals):
                out[i][h] = e.total_ms
        return out

    def _engine_bounds(self, graphs: Sequence[Graph], platform: Platform, estimates: list[Estimate],
                       layers: bool = True, checks: str = "all", bounds: Sequence[dict[int, float]] | None = None
                       ) -> list[Estimate]:
        """:func:`engine_bound` on each TensorRT answer where no row timed the platform (:meth:`measured`), taken per
        network (an approximation of the builder's per-layer choice), and a warning where the answer still exceeds
        eager PyTorch's at a precision the engine allows (eager PyTorch runs no int8): cuDNN's kernels are among an
        engine's tactics. A warning, not a cap: eager PyTorch's answer depends on graph details an engine erases (an
        ONNX export's batch norms are folded, a module's are kernels), and a network and its export are one engine.
        A measured platform's answer stands (the model is fit to engines that made their own choices, and the
        figures report it), with a note where a fallback engine, which no row timed, is predicted faster. Added after
        version 7 broke both relations (tests/test_sanity.py, 6 and 7). The engine taken keeps its own batch-1 cap and
        gets this platform's batch warning (:func:`_rise_warning` on ``bounds``); this platform's batch-1 cap is not
        applied again (its batch-1 answer is at most the fallback's, so a taken answer may exceed it, unwarned)."""
        if platform.runtime != "tensorrt":
            return estimates
        fallbacks = TENSORRT_FALLBACKS.get(platform.precision, ())
        # the other engines' totals are read (their batch-1 cap, not the batch check's warning: this one's is redone)
        sub = "none" if checks == "none" else "cap"
        higher = [self._answers(graphs, replace(platform, precision=p), layers=False, checks=sub) for p in fallbacks]
        if self.measured(platform):
            out = []
            for i, est in enumerate(estimates):
                faster = [p for p, h in zip(fallbacks, higher) if h[i].total_ms < est.total_ms]
                out.append(replace(est, notes=(*est.notes, f"TensorRT precision: the {' and '.join(faster)} engine is "
                                               "predicted faster; this platform's measured regime stands"))
                           if faster else est)
            return out
        eager = [self._answers(graphs, replace(platform, runtime="pytorch", precision=p), layers=False, checks=sub)
                 for p in (platform.precision, *fallbacks) if p != "int8"]
        out = []
        for i, est in enumerate(estimates):
            total, taken = engine_bound(est.total_ms, [h[i].total_ms for h in higher])
            if taken is not None:  # the faster engine's layers and warnings; this platform's notes, and why
                alt = (self._answers([graphs[i]], replace(platform, precision=fallbacks[taken]), layers=True,
                                      checks=sub)[0]
                       if layers else higher[taken][i])
                lo, hi = (v / est.total_ms for v in est.interval_ms)
                own = tuple(n for n in est.notes if not n.startswith((f"batch {platform.batch_size} predicted",
                                                                       FLOOR_NOTE, DRAM_NOTE, POOL_NOTE_KIND)))
                est = replace(est, total_ms=total, pre_ms=alt.pre_ms, exe_ms=alt.exe_ms, layers=alt.layers,
                              warnings=(*alt.warnings, *_rise_warning(total, platform.batch_size,
                                                                       bounds[i] if bounds else {})),
                              interval_ms=(total * lo, total * hi),
                              notes=(*own, *(n for n in alt.notes if n.startswith(("TensorRT precision", "batch ",
                                                                                   FLOOR_NOTE, DRAM_NOTE,
                                                                                   POOL_NOTE_KIND))),
                                     f"TensorRT precision: the {fallbacks[taken]} engine is predicted faster ("
                                     f"{total:.3f} ms) than {platform.precision} layers, and an engine allowed "
                                     f"{platform.precision} keeps the faster tactics: its answer is taken"))
            bound = min(e[i].total_ms for e in eager)
            if est.total_ms > bound:
                est = replace(est, warnings=(*est.warnings, f"physically implausible: TensorRT predicted {total:.3f} ms, "
                                             f"more than eager PyTorch's {bound:.3f} ms on this platform, while an "
                                             "engine keeps the fastest of its tactics, cuDNN's kernels among them: "
                                             "expect at most that (the TensorRT tables are the Jetsons' at batch 1: "
                                             "the model extrapolates here)"))
            out.append(est)
        return out

    def _order_warnings(self, graphs: Sequence[Graph], platform: Platform, estimates: list[Estimate]
                        ) -> list[Estimate]:
        """A warning on each Jetson answer that is more than ``ORDER_SLACK`` x faster than the answer for a measured
        Jetson that :meth:`~hwaware.hardware.GPUSpec.dominates` it: a module with less of every rate does not run a
        network faster. A warning, not a bound. Where no row timed this Jetson at this runtime, precision and batch,
        the catalog has no CPU figures, and on a Jetson the host's cost per launch decides at batch 1, where the
        answer takes a guessed host (:func:`host_choice`); found by ``python benchmarks/gpu_order.py`` (the TX2 under
        TensorRT fp16 answered below the AGX Xavier, densenet121 12.3 against 13.0 ms). Where both are measured, each
        answer carries its own table, and the tables time other networks (the Nano's no MobileNet: under TensorRT
        fp16 its mobilenetv3_small_100 answered below the AGX Xavier's, 1.50 against 1.67 ms); one of the two is off.
        Desktops are left alone, where a measured GPU's answer carries the machines that timed it. Each dominating
        platform's answers are asked once for all the graphs."""
        gpu = platform.device
        if not gpu.is_integrated_soc:
            return estimates
        above = [g for g in self._remembered("dominating_", gpu, lambda: tuple(
                    g for g in catalog_gpus() if g.dominates(gpu)))  # dominates: same class
                 if self.measured(replace(platform, device=g))]
        if not above:  # most Jetsons, the AGX Xavier too: nothing measured to compare with
            return estimates
        if self.measured(platform):
            why = ("both modules are measured at this runtime, precision and batch, and their tables time other "
                   "networks: one of the two answers is off for this one")
        else:
            siblings = self.host_choice(gpu).siblings
            why = "that one is measured, and the host-side costs, which decide here, are a guess ({})".format(
                f"the {' and '.join(h.name for h in siblings)}'s, a measured module of its chip" if siblings else
                "the measured Jetsons' average (no measured machine of its chip)")
        theirs = {g: self._answers(graphs, replace(platform, device=g), layers=False, checks="cap") for g in above}
        out = []
        for i, est in enumerate(estimates):
            for g, answers in theirs.items():
                if est.total_ms * ORDER_SLACK < answers[i].total_ms:
                    est = replace(est, warnings=(*est.warnings, (
                        f"{order_warning_prefix(g.name)}{answers[i].total_ms:.3f} ms; this answer "
                        f"{est.total_ms:.3f} ms), which is at least the {gpu.name} in every datasheet rate: "
                        f"{why}; calibrate it with a few measurements (hwaware calibrate)")))
            out.append(est)
        return out
