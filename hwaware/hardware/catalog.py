"""The GPU catalog shipped as package data, its aliases, and :class:`Platform`.

Names are matched case- and punctuation-insensitively (``"Titan-RTX"`` == ``"titan_rtx"``).
Aliases come from the catalog's ``aliases`` column, plus the short names and dataset spellings
in :data:`EXTRA_ALIASES`; CUDA's device names (``torch.cuda.get_device_name()``, nvidia-smi) resolve too, through
:data:`DEVICE_NAMES` and with a leading vendor word dropped (:data:`VENDOR_WORDS`). A spelling that the catalog gives
to more than one GPU (``"Xavier"`` is the deviceQuery name of both the AGX Xavier and the Xavier NX) resolves to
nothing and the error lists the candidates, unless it is also one GPU's own alias (``xavier``, ``orin``: the AGX
modules; "Jetson Orin" or "NVIDIA Xavier" stay ambiguous, :data:`FAMILIES`).
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import numbers
import re
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources
from typing import Literal, Union

from hwaware.errors import InvalidArgumentError, UnknownGPUError, positive_integer

Precision = Literal["fp32", "fp16", "bf16", "int8", "amp"]
Runtime = Literal["pytorch", "tensorrt"]
# element size in bytes; "amp" is PyTorch autocast: fp16 activations, conv/dense/matmul on fp16 tensor cores,
# every other op's arithmetic in fp32 (the timm GPU tables are AMP)
PRECISIONS: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1, "amp": 2}
RUNTIMES: tuple[str, ...] = ("pytorch", "tensorrt")
# what an answer for a torch.compile'd model is not (the refused runtime's message and a compiled module's note)
COMPILE_NOT_MODELLED = ("torch.compile is not modelled: timm's GPU tables that time it beside eager PyTorch (AMP, "
                        "large batches, an RTX 4090 and an RTX PRO 6000) put it at 0.45-0.82x eager PyTorch's time "
                        "per image (10th-90th percentile, torch 2.9.1; python benchmarks/compile_vs_eager.py)")
# dp4a's int8 multiply-adds per fp32 one (NVIDIA's Tesla P4 datasheet: 22 TOPS int8, 5.5 TFLOPS fp32)
DP4A_PER_FP32 = 4
# what a rate note says of a rate taken for a figure the catalog lacks (GPUSpec.unsourced_rates finds them by it)
LOWER_BOUND = "a lower bound"

# hwaware's short names and the spellings of the shipped datasets (torch2trt, HELP, timm, DeepBench)
# that the catalog's alias column does not already give.
EXTRA_ALIASES: dict[str, str] = {
    "agx": "Jetson AGX Xavier",
    "jetson_agx_xavier": "Jetson AGX Xavier",
    "jetson_xavier_nx": "Jetson Xavier NX",
    "jetson_tx2": "Jetson TX2",
    "jetson_nano": "Jetson Nano",
    # the AGX Orin developer kit's module; the 32 GB module is "agx_orin_32gb"
    "orin": "Jetson AGX Orin 64GB",
    "jetson_agx_orin": "Jetson AGX Orin 64GB",
    "titan_xp": "TITAN Xp",
    "titanrtx": "TITAN RTX",
}
# How CUDA names a GPU (``torch.cuda.get_device_name()``, nvidia-smi) where that differs from a catalog name or alias
# by more than a leading vendor word (:data:`VENDOR_WORDS`); resolved, not listed as aliases
DEVICE_NAMES: dict[str, str] = {
    "Tesla V100-SXM2-16GB": "Tesla V100 SXM2 16/32GB",
    "Tesla V100-SXM2-32GB": "Tesla V100 SXM2 16/32GB",
    "NVIDIA A100 80GB PCIe": "A100 PCIe 80GB",
    "NVIDIA H100 80GB HBM3": "H100 SXM5 80GB",
    "NVIDIA H100 PCIe": "H100 PCIe 80GB",
    "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition": "RTX PRO 6000 Blackwell Max-Q",
    "NVIDIA RTX PRO 6000 Blackwell Workstation Edition": "RTX PRO 6000 Blackwell",
    "GeForce GTX TITAN X": "GeForce GTX TITAN X (Maxwell)",
}
# words before a name the catalog has: CUDA's "NVIDIA" ("NVIDIA A100-SXM4-40GB"), then at most one product word
# ("NVIDIA GeForce RTX 3090"; "Jetson Orin Nano", two modules: FAMILIES)
VENDOR_WORDS: tuple[str, ...] = ("nvidia", "geforce", "tesla", "quadro", "jetson")
# a Jetson family's name, which CUDA reports on every module of it: "orin" and "xavier" alone are the AGX modules'
# aliases, but a spelling that reaches them by dropping a vendor word ("Jetson Orin", "NVIDIA Xavier") is ambiguous
FAMILIES: dict[str, tuple[str, ...]] = {
    "orin": ("agx_orin", "agx_orin_32gb", "orin_nx", "orin_nx_8gb", "orin_nano", "orin_nano_4gb", "orin_nano_super"),
    "orinnx": ("orin_nx", "orin_nx_8gb"),  # "Jetson Orin NX": two modules; the alias orin_nx is the 16GB
    "orinnano": ("orin_nano", "orin_nano_4gb", "orin_nano_super"),
    "xavier": ("agx_xavier", "xavier_nx"),
}
# Spellings that datasets use but that do not identify one GPU.
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "titanx": ("titanx_pascal", "titanx_maxwell"),  # HELP's 'titanx' columns do not say which
    "p100": ("p100_pcie", "p100_sxm2"),  # the closest spellings of a bare 'p100' were the Quadro P1000
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# NVIDIA data-centre names: Tesla P100 / T4 / V100, A100, H100, A2 / A10 / A30, L4 / L40S (not "RTX A6000")
_DATACENTRE = re.compile(r"Tesla |[AHL]\d+S?\b")


@dataclass(frozen=True)
class GPUSpec:
    """One catalog row. Units: clocks MHz, bandwidth GB/s, memory GB, L2 MB, throughput TFLOPS (int8: TOPS), power W.

    Tensor-core throughput is dense (no 2:4 sparsity) at the boost clock; ``None`` where the part has no
    tensor cores, no such mode, or no sourced figure (``source`` and ``flags`` say which):
    ``fp16_tensor_tflops_dense`` FP16 inputs with FP16 accumulate, ``fp16_tensor_fp32acc_tflops_dense``
    FP16 inputs with FP32 accumulate (half the former on GeForce parts), ``bf16_tensor_tflops_dense``
    (Ampere and later, FP32 accumulate), ``int8_tensor_tops_dense`` (tera int8 ops per second).
    """

    name: str
    aliases: tuple[str, ...]
    is_integrated_soc: bool
    architecture: str
    gpu_chip: str
    compute_capability: float
    sm_count: int
    cuda_cores: int
    tensor_cores: int
    base_clock_mhz: float | None
    boost_clock_mhz: float | None
    memory_type: str
    memory_bus_bits: float | None
    memory_bandwidth_gbs: float
    memory_size_gb: float | None
    l2_cache_mb: float | None
    fp32_tflops: float
    fp16_tflops_nontensor: float | None
    fp16_tensor_tflops_dense: float | None
    fp16_tensor_fp32acc_tflops_dense: float | None
    bf16_tensor_tflops_dense: float | None
    int8_tensor_tops_dense: float | None
    tdp_w: float | None
    release_date: str
    bus_interface: str
    source: str
    crosscheck: str
    flags: str

    @property
    def short_name(self) -> str:
        """The first alias, else the name: what listings show."""
        return self.aliases[0] if self.aliases else self.name

    @property
    def boosts_beyond_rated(self) -> bool:
        """Whether the part may clock above its catalog boost clock: GeForce, TITAN and workstation cards (GPU Boost
        runs them above the rated boost where power and temperature allow), not NVIDIA's data-centre parts (Tesla,
        A/H/L series: at most their rated boost, the application clocks) nor Jetson modules (the catalog's clocks are
        their maximum). An assumption the data agree with: DeepBench's fastest GEMMs ran at 1.07x the GTX 1080 Ti's
        datasheet peak and 1.02x the GTX TITAN X's, at most 0.94x on its four data-centre GPUs
        (``tests/test_gpu_data.py``)."""
        return not self.is_integrated_soc and not _DATACENTRE.match(self.name)

    @property
    def runs_int8(self) -> bool:
        """Whether an int8 network runs on this GPU: int8 tensor cores or dp4a, compute capability 6.1 or 7.0 and
        later. 6.2 (the Jetson TX2's GP10B) has no dp4a: MathWorks' TensorRT data-type reference says compute
        capability 6.2 does not support INT8, and cuDNN refuses int8 there (CUDNN_STATUS_ARCH_MISMATCH,
        AlexeyAB/yolo2_light#26)."""
        return self.compute_capability >= 6.1 and self.compute_capability != 6.2

    def peak_tflops(self, precision: Precision, *, tensor_cores: bool = False) -> float:
        """The hardware's peak for ``precision`` (TFLOPS; int8: TOPS), as the vendor quotes it.

        With ``tensor_cores`` and a catalog figure: fp16 the FP16-accumulate tensor rate, bf16 and int8
        their tensor rates. Otherwise fp16/bf16 the native non-tensor fp16 rate; a precision the catalog
        has no figure for falls back to fp32's. This is the datasheet number, which on Pascal GeForce
        (fp16 at 1/64 rate) no framework reaches or wants: for a latency use :meth:`framework_tflops`.
        """
        if precision == "amp":  # autocast's tensor-core layers are fp16
            precision = "fp16"
        if precision == "fp32":
            return self.fp32_tflops
        if tensor_cores:
            tensor = {"fp16": self.fp16_tensor_tflops_dense, "bf16": self.bf16_tensor_tflops_dense,
                      "int8": self.int8_tensor_tops_dense}[precision]
            if tensor:
                return tensor
        if precision == "int8":
            return self.fp32_tflops
        return self.fp16_tflops_nontensor or self.fp32_tflops

    @property
    def tf32_tflops_dense(self) -> float | None:
        """The dense TF32 tensor rate (compute capability 8.0 and later): half the bf16 tensor rate, the ratio of every
        part NVIDIA's whitepapers list (dense TF32 / BF16: GA100's A100 156 / 312, GA102's RTX 3090 35.6 / 71, Ada's
        RTX 4090 82.6 / 165.2, H100 SXM5 494.7 / 989.4, RTX Blackwell's RTX 5090 104.8 / 209.5); a derived figure,
        and for parts no cited table lists (the Jetson Orins, the RTX PRO 6000) an assumption that their tensor cores
        keep that ratio. None before Ampere or without a bf16 figure."""
        if self.compute_capability < 8.0 or not self.bf16_tensor_tflops_dense:
            return None
        return self.bf16_tensor_tflops_dense / 2

    def framework_tflops(self, precision: Precision, *, tensor_cores: bool = False, tf32: bool = False) -> float:
        """The arithmetic rate a framework (PyTorch/cuDNN/cuBLAS, TensorRT) achieves for ``precision``:
        what a latency model should divide FLOPs by. ``tensor_cores``: the layer is one the libraries
        run on tensor cores (conv, dense, matmul).

        The rule, per precision, never below the fp32 rate (a library that has a slower path for a
        precision computes in fp32 instead, as cuDNN does for fp16 on Pascal GeForce at 1/64 rate):

        - fp32: the fp32 rate; with ``tensor_cores`` and ``tf32`` (the library runs the layer on TF32 tensor cores,
          which the caller decides: :func:`hwaware.estimators.gpu_features.runs_tf32`) :attr:`tf32_tflops_dense`
          where it is at least 1 % above the fp32 rate (not on GeForce parts, whose two figures are one rate).
        - fp16 on tensor cores: the tensor rate with FP32 accumulate, which AMP and cuDNN use. Where the
          catalog has no FP32-accumulate figure, the bf16 tensor rate where it has one (the Jetson Orins: bf16
          always accumulates in FP32, and every catalog part with both figures runs the two at one rate), else
          half the FP16-accumulate rate, the lowest NVIDIA ships (GeForce; the TITAN RTX): a lower bound, not
          a datasheet value.
        - bf16 on tensor cores: the bf16 tensor rate (FP32 accumulate), else as fp16.
        - int8 on tensor cores: the int8 tensor rate; without an int8 figure (Volta, dp4a on Pascal) the
          fp16 rule's rate, a lower bound: a runtime with no faster int8 path keeps the layer in fp16.
        - otherwise: fp16 the larger of the native fp16 and the fp32 rate; bf16 the fp32 rate
          (elementwise bf16 is computed in fp32); int8 as fp16.
        - amp (autocast): fp16's rate on tensor-core layers, fp32's elsewhere.

        resperfnet-gpu (from 9.6) reads bf16's layers off tensor cores, and amp's depthwise convolutions, at fp16's
        rate instead (:func:`hwaware.estimators.gpu_features.roofline_ms` says why); the roofline estimator keeps this.
        """
        return self.framework_rate(precision, tensor_cores=tensor_cores, tf32=tf32)[0]

    def framework_rate(self, precision: Precision, *, tensor_cores: bool = False, tf32: bool = False
                       ) -> tuple[float, str | None]:
        """(:meth:`framework_tflops`, why): ``why`` names what the rate leaves out, for an estimate's notes: a figure
        the catalog lacks (the rate taken instead) or, for fp32 from Ampere on, which layers the TF32 rate is taken
        for. None where the rate is the catalog's figure and what the libraries run (bf16 on layers without
        tensor cores is computed in fp32, as the fp32 rate says)."""
        rate = self.fp32_tflops
        if precision == "amp":
            return self.framework_rate("fp16", tensor_cores=True) if tensor_cores else (rate, None)
        if precision == "fp32":
            if not tensor_cores or self.compute_capability < 8.0:
                return rate, None
            tf32_rate = self.tf32_tflops_dense
            if tf32_rate is None:
                return rate, (f"fp32 tensor-core layers at {self.name}'s fp32 rate: the catalog has no bf16 tensor "
                              f"figure for it, from which its TF32 rate is derived ({LOWER_BOUND} on their speed)")
            if tf32_rate < 1.01 * rate:  # GeForce Ampere and later: TF32 no faster than the fp32 pipes (35.6 / 35.58)
                return rate, None
            return (tf32_rate if tf32 else rate), (
                f"fp32 convolutions at {self.name}'s TF32 tensor rate ({tf32_rate:.3g} TFLOPS, half its bf16 rate), as "
                "cuDNN runs them by default (torch.backends.cudnn.allow_tf32) and TensorRT runs every conv and dense "
                "layer; eager PyTorch's dense layers and matmuls at the fp32 rate (torch.backends.cuda.matmul."
                "allow_tf32 is off by default): a model run with TF32 disabled is slower than this answer")
        if tensor_cores:
            fp16_why = None
            if self.fp16_tensor_fp32acc_tflops_dense:
                fp32acc = self.fp16_tensor_fp32acc_tflops_dense
            elif self.bf16_tensor_tflops_dense:
                fp32acc = self.bf16_tensor_tflops_dense
                fp16_why = (f"fp16 tensor-core layers at {self.name}'s bf16 tensor rate ({fp32acc:.3g} TFLOPS): the "
                            "catalog has no FP32-accumulate fp16 figure for it, and every part with both runs them at "
                            "one rate")
            elif self.fp16_tensor_tflops_dense:
                fp32acc = self.fp16_tensor_tflops_dense / 2
                fp16_why = (f"fp16 tensor-core layers at half {self.name}'s FP16-accumulate tensor rate "
                            f"({fp32acc:.3g} TFLOPS): the catalog has no FP32-accumulate figure for it ({LOWER_BOUND})")
            else:
                fp32acc = None
            tensor, why = {"fp16": (fp32acc, fp16_why),
                           "bf16": (self.bf16_tensor_tflops_dense, None) if self.bf16_tensor_tflops_dense else
                           (fp32acc, f"bf16 tensor-core layers at the fp16 tensor rate: the catalog has no bf16 figure "
                                     f"for {self.name}" + (f"; {fp16_why}" if fp16_why else "")),
                           "int8": (self.int8_tensor_tops_dense, None)}[precision]
            if tensor:
                return max(tensor, rate), why
        if precision == "int8":
            fp16, _ = self.framework_rate("fp16", tensor_cores=tensor_cores)
            if not tensor_cores:
                return fp16, None
            why = (f"it has no tensor cores, and its dp4a int8 path ({DP4A_PER_FP32}x the fp32 rate) is not modelled "
                   f"({LOWER_BOUND} on their speed)" if not self.tensor_cores else
                   "Volta's tensor cores have no int8 mode, so TensorRT keeps them in fp16"
                   if self.compute_capability == 7.0 else
                   f"the catalog has no sourced int8 tensor rate for it ({LOWER_BOUND} on their speed)")
            return fp16, f"int8 layers at the rate fp16 gets on {self.name} ({fp16:.3g} TFLOPS): {why}"
        if precision == "fp16":
            if self.fp16_tflops_nontensor is None:
                return rate, f"fp16 at {self.name}'s fp32 rate: the catalog has no native fp16 figure for it"
            if self.fp16_tflops_nontensor < rate:
                return rate, (f"fp16 at {self.name}'s fp32 rate: its native fp16 runs at "
                              f"{self.fp16_tflops_nontensor:.3g} TFLOPS, so the libraries compute in fp32")
            return self.fp16_tflops_nontensor, None
        return rate, None

    def fastest_tflops(self, precision: Precision, *, tensor_cores: bool) -> float | None:
        """The fastest datasheet rate any library setting can run a layer at (``tensor_cores``: a conv, dense or
        matmul layer), for a bound no answer may beat whatever the user's math flags: TF32 from Ampere on (PyTorch
        1.7-1.11 and ``torch.backends.cuda.matmul.allow_tf32`` run matmuls on it too), and FP16 accumulate (TensorRT's
        tactics, PyTorch's opt-in ``allow_fp16_accumulation``), twice FP32 accumulate on GeForce parts. At the
        catalog's clocks: a Jetson power mode above them (JetPack 6.2's Super modes) is another spec. None where the
        catalog has no sourced figure that bounds it: a tensor-core GPU without any fp16 or bf16 tensor figure, TF32
        without a bf16 one, fp16 without a native figure. int8 without an int8 tensor figure runs on dp4a (4 int8
        multiply-adds per fp32 one: the Tesla P4's datasheet gives 22 TOPS int8 and 5.5 TFLOPS fp32) or, on Volta's
        tensor cores, as fp16 (TensorRT keeps such layers there): the faster of the two bounds it (until 2026-12-07
        None: helper-165 found the V100 answering int8 layers at 1.35x its fp16 tensor peak)."""
        if precision == "amp":
            precision = "fp16" if tensor_cores else "fp32"
        if precision == "fp32":
            if not tensor_cores or self.compute_capability < 8.0:
                return self.fp32_tflops
            return None if self.tf32_tflops_dense is None else max(self.tf32_tflops_dense, self.fp32_tflops)
        if precision == "int8":
            if not tensor_cores:
                return None
            if self.int8_tensor_tops_dense:
                return self.int8_tensor_tops_dense
            fp16 = self.fastest_tflops("fp16", tensor_cores=True)
            dp4a = DP4A_PER_FP32 * self.fp32_tflops if self.runs_int8 else None
            return max((r for r in (fp16, dp4a) if r), default=None)
        if tensor_cores and self.tensor_cores:
            rates = ((self.bf16_tensor_tflops_dense,) if precision == "bf16" else (
                self.fp16_tensor_tflops_dense, self.fp16_tensor_fp32acc_tflops_dense, self.bf16_tensor_tflops_dense))
            known = [r for r in rates if r]
            return max(max(known), self.fp32_tflops) if known else None
        if precision == "bf16":  # computed in fp32 without tensor cores
            return self.fp32_tflops
        return None if self.fp16_tflops_nontensor is None else max(self.fp16_tflops_nontensor, self.fp32_tflops)

    def dominates(self, other: GPUSpec, *, kernels: bool = False) -> bool:
        """Whether this GPU is at least ``other`` in every datasheet figure a latency depends on: the same integration
        class (an SoC's host is its own), a compute capability and host link at least ``other``'s (or none to cross),
        and the fp32, fp16, fp16 tensor-core and TF32 rates the libraries take (:meth:`framework_tflops`), DRAM
        bandwidth and L2, each at least ``other``'s. Not the host's CPU, which the catalog does not hold. With
        ``kernels``, a discrete GPU may also dominate an integrated SoC of its architecture or an older one: for the
        kernels' time with their dispatch (an estimate's ``exe``), the copies over the discrete GPU's link left out and
        its host taken to be no slower than the SoC's own CPU (an assumption: desktop and server CPUs outrun the
        Jetsons' ARM cores).

        >>> from hwaware.hardware import get_gpu
        >>> get_gpu("agx").dominates(get_gpu("tx2")), get_gpu("tx2").dominates(get_gpu("agx"))
        (True, False)
        >>> get_gpu("a2").dominates(get_gpu("orin_nano")), get_gpu("a2").dominates(get_gpu("orin_nano"), kernels=True)
        (False, True)
        """
        across = kernels and not self.is_integrated_soc and other.is_integrated_soc
        link = across or self.host_link_gbs is None or (other.host_link_gbs is not None and
                                                        self.host_link_gbs >= other.host_link_gbs)
        rates = (("fp32", {}), ("fp16", {}), ("fp16", {"tensor_cores": True}),
                 ("fp32", {"tensor_cores": True, "tf32": True}))
        return (self.name != other.name and (self.is_integrated_soc == other.is_integrated_soc or across) and link
                # an SoC's minor version is its own (Orin's 8.7 is Ampere, as an A2's 8.6)
                and (self.compute_capability >= other.compute_capability
                     or across and int(self.compute_capability) >= int(other.compute_capability))
                and all(self.framework_tflops(p, **k) >= other.framework_tflops(p, **k) for p, k in rates)
                and self.memory_bandwidth_gbs >= other.memory_bandwidth_gbs
                and (self.l2_cache_mb or 0) >= (other.l2_cache_mb or 0))

    def rate_notes(self, precision: Precision) -> tuple[str, ...]:
        """What :meth:`framework_rate` approximates for ``precision`` on this GPU, tensor-core layers first."""
        return tuple(dict.fromkeys(why for tc in (True, False)
                                   if (why := self.framework_rate(precision, tensor_cores=tc, tf32=tc)[1])))

    def unsourced_rates(self, precision: Precision) -> tuple[str, ...]:
        """The :meth:`rate_notes` whose rate is a lower bound the catalog took for a figure it lacks (an answer on it
        is likely high): the RTX A4000-A6000's and RTX 6000 Ada's FP32-accumulate and TF32 rates, the TITAN RTX's
        FP32-accumulate rate, int8 where no int8 tensor rate is known."""
        return tuple(why for why in self.rate_notes(precision) if LOWER_BOUND in why)

    @property
    def host_link_gbs(self) -> float | None:
        """Theoretical one-direction host<->device bandwidth (GB/s) of the PCIe link, ``None`` on an
        integrated SoC, where host and GPU share DRAM and nothing is copied."""
        if self.is_integrated_soc:
            return None
        m = re.match(r"PCIe (\d)\.0 x(\d+)", self.bus_interface)
        if not m:
            raise ValueError(f"cannot parse bus interface {self.bus_interface!r} of {self.name}")
        per_lane = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938}[int(m.group(1))]  # GB/s per lane, PCIe spec
        return per_lane * int(m.group(2))

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _num(text: str, kind: type = float) -> float | int | None:
    return kind(float(text)) if text.strip() else None


def _parse(row: dict[str, str]) -> GPUSpec:
    aliases = tuple(a.strip() for a in row["aliases"].split(";") if a.strip())
    return GPUSpec(
        name=row["name"],
        aliases=aliases,
        is_integrated_soc=row["is_integrated_soc"] == "1",
        architecture=row["architecture"],
        gpu_chip=row["gpu_chip"],
        compute_capability=float(row["compute_capability"]),
        sm_count=int(float(row["sm_count"])),
        cuda_cores=int(float(row["cuda_cores"])),
        tensor_cores=int(float(row["tensor_cores"] or 0)),
        base_clock_mhz=_num(row["base_clock_mhz"]),
        boost_clock_mhz=_num(row["boost_clock_mhz"]),
        memory_type=row["memory_type"],
        memory_bus_bits=_num(row["memory_bus_bits"]),
        memory_bandwidth_gbs=float(row["memory_bandwidth_gbs"]),
        memory_size_gb=_num(row["memory_size_gb"]),
        l2_cache_mb=_num(row["l2_cache_mb"]),
        fp32_tflops=float(row["fp32_tflops"]),
        fp16_tflops_nontensor=_num(row["fp16_tflops_nontensor"]),
        fp16_tensor_tflops_dense=_num(row["fp16_tensor_tflops_dense"]),
        fp16_tensor_fp32acc_tflops_dense=_num(row["fp16_tensor_fp32acc_tflops_dense"]),
        bf16_tensor_tflops_dense=_num(row["bf16_tensor_tflops_dense"]),
        int8_tensor_tops_dense=_num(row["int8_tensor_tops_dense"]),
        tdp_w=_num(row["tdp_w"]),
        release_date=row["release_date"],
        bus_interface=row["bus_interface"],
        source=row["source"],
        crosscheck=row["crosscheck"],
        flags=row["flags"],
    )


def _check_spec(spec: GPUSpec) -> None:
    """A hand-made spec (``dataclasses.replace`` of a catalog row) gets the catalog's own limits: every number positive
    and finite, tensor cores at least 0, a missing figure None (0 SMs or a negative bandwidth were a math domain error,
    a NaN bandwidth a NaN answer)."""
    for f in fields(GPUSpec):
        value = getattr(spec, f.name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            continue
        if not (math.isfinite(value) and (value >= 0 if f.name == "tensor_cores" else value > 0)):
            raise InvalidArgumentError(f"{spec.name}: {f.name} must be a positive finite number"
                                       f"{' or 0' if f.name == 'tensor_cores' else ''} (None where unknown), "
                                       f"got {value!r}")


@functools.cache
def _catalog() -> tuple[dict[str, GPUSpec], dict[str, str], dict[str, tuple[str, ...]]]:
    """(name -> spec, key -> name, key -> ambiguous candidates), read once per process."""
    text = resources.files("hwaware.hardware").joinpath("data/gpu_specs.csv").read_text()
    specs = {s.name: s for s in map(_parse, csv.DictReader(io.StringIO(text)))}
    index: dict[str, str] = {}
    secondary: dict[str, set[str]] = {}
    for spec in specs.values():
        index[_key(spec.name)] = spec.name
        for alias in spec.aliases:
            if "(" in alias:  # "Xavier (deviceQuery name)": a spelling seen in the wild, may be shared
                secondary.setdefault(_key(alias.split("(")[0]), set()).add(spec.name)
            else:
                index[_key(alias)] = spec.name
    for alias, name in (EXTRA_ALIASES | DEVICE_NAMES).items():
        index[_key(alias)] = name
    ambiguous = {k: tuple(v) for k, v in AMBIGUOUS.items()}
    for key, names in secondary.items():
        if key in index:
            continue
        if len(names) == 1:
            index[key] = next(iter(names))
        else:
            ambiguous[key] = tuple(sorted(specs[n].short_name for n in names))
    for name, spec in specs.items():  # each alias listed once, and only where it resolves to this GPU
        extra = tuple(alias for alias, target in EXTRA_ALIASES.items() if target == name)
        listed: dict[str, str] = {}
        for alias in spec.aliases + extra:
            alias = alias.split("(")[0].strip()  # "Xavier (deviceQuery name)": the spelling, without where it is seen
            if index.get(_key(alias)) == name:  # the catalog's "Orin" of the 32 GB is the 64 GB's; "Xavier" the AGX's
                listed.setdefault(_key(alias), alias)
        specs[name] = replace(spec, aliases=tuple(listed.values()))
    return specs, index, ambiguous


def get_gpu(name: str | GPUSpec) -> GPUSpec:
    """Look a GPU up by name or alias.

    >>> get_gpu("agx").name
    'Jetson AGX Xavier'
    >>> get_gpu("agx-orin-64gb").name
    'Jetson AGX Orin 64GB'
    >>> get_gpu("NVIDIA GeForce RTX 3090").name  # as torch.cuda.get_device_name() says it
    'GeForce RTX 3090'
    """
    if isinstance(name, GPUSpec):
        return name
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"gpu must be a GPU name such as 'agx' or 'v100', got {name!r}")
    specs, index, ambiguous = _catalog()
    key = _key(name)
    if key not in index and not key.startswith("jetson"):
        key = f"jetson{key}" if f"jetson{key}" in index else key  # "agx-orin-64gb": the module name without "Jetson"
    for bare in _without_vendor(key):
        if bare in FAMILIES and bare != key:
            raise UnknownGPUError(name, (), hint=f"several modules are named so: use one of "
                                                 f"{', '.join(FAMILIES[bare])}")
        if bare in index:
            return specs[index[bare]]
        if bare in ambiguous:
            raise UnknownGPUError(name, (), hint=f"the name is ambiguous: use one of {', '.join(ambiguous[bare])}")
    raise UnknownGPUError(name, _known_names())


def _without_vendor(key: str) -> list[str]:
    """``key``, then without CUDA's "nvidia", then without one product word after it (:data:`VENDOR_WORDS`)."""
    keys = [key]
    if key.startswith("nvidia"):
        keys.append(key[len("nvidia"):])
    keys += [k[len(w):] for k in keys[-1:] for w in VENDOR_WORDS[1:] if k.startswith(w)]
    return keys


@functools.cache
def _known_names() -> tuple[str, ...]:
    specs, index, _ = _catalog()
    return tuple(sorted({s.name.lower() for s in specs.values()} | {a.lower() for s in specs.values() for a in s.aliases if "(" not in a} | set(EXTRA_ALIASES)))


def gpus() -> list[GPUSpec]:
    """Every GPU in the catalog, in catalog order (the shared catalog's rows, Jetson modules first, then the ones
    hwaware adds: ``scripts/build_gpu_catalog.py``).

    >>> [g.short_name for g in gpus()][:3]
    ['xavier', 'xavier_nx', 'tx2']
    """
    return list(_catalog()[0].values())


@dataclass(frozen=True)
class CPUSpec:
    """A CPU target: the host CPU a learned estimator was trained on, at a fixed thread count.

    CPUs have no catalog: a CPU target exists because hwaware measured it (``data/cpu/``)."""

    name: str
    aliases: tuple[str, ...]
    device_name: str
    threads: int
    source: str

    @property
    def short_name(self) -> str:
        return self.aliases[0] if self.aliases else self.name


# The machine hwaware's CPU dataset was measured on (``/proc/cpuinfo`` model name, 1 torch thread).
CPU_TARGETS: dict[str, CPUSpec] = {
    "cpu-epyc-1t": CPUSpec(name="cpu-epyc-1t", aliases=("cpu",), device_name="AMD EPYC", threads=1,
                           source="measured by `hwaware collect` into data/cpu/ (1 torch thread, fp32)"),
}

Device = Union[GPUSpec, CPUSpec]


def get_device(name: str | GPUSpec | CPUSpec) -> Device:
    """A GPU from the catalog or a measured CPU target (``"cpu"``)."""
    if isinstance(name, (GPUSpec, CPUSpec)):
        return name
    if isinstance(name, str):
        key = _key(name)
        for spec in CPU_TARGETS.values():
            if key in {_key(spec.name), *map(_key, spec.aliases)}:
                return spec
    return get_gpu(name)


@dataclass(frozen=True)
class Platform:
    """What a prediction is for: a device (GPU or measured CPU), a runtime, a numeric precision and a batch size."""

    device: Device
    precision: Precision = "fp32"
    runtime: Runtime = "pytorch"
    batch_size: int = 1

    @classmethod
    def resolve(cls, device: str | Device, *, precision: str = "fp32", runtime: str = "pytorch", batch_size: int = 1) -> Platform:
        """Validate every field and build the platform; each bad value raises an error that says what is allowed.
        Precision and runtime are read in any case, as GPU names are."""
        spec = get_device(device)
        precision = check_precision(precision)
        runtime = check_runtime(runtime)
        if isinstance(spec, GPUSpec) and _catalog()[0].get(spec.name) is not spec:  # the rows pass: a test reads all
            _check_spec(spec)
        if isinstance(spec, CPUSpec):
            if (precision, runtime) != ("fp32", "pytorch"):
                raise InvalidArgumentError(f"CPU target {spec.name} was measured with PyTorch in fp32 only; "
                                           "use precision='fp32', runtime='pytorch' (CLI: --precision fp32 --runtime "
                                           "pytorch)")
        elif precision == "amp" and runtime == "tensorrt":
            # autocast is PyTorch's per-op precision policy; a TensorRT engine is built with its own precision flags
            raise InvalidArgumentError("amp is PyTorch's autocast, which a TensorRT engine does not run; use "
                                       "precision='fp16' (or 'int8') with runtime='tensorrt', or runtime='pytorch' "
                                       "(CLI: --precision fp16, or --runtime pytorch)")
        elif precision == "bf16" and spec.compute_capability < 8.0:
            raise InvalidArgumentError(f"{spec.name} (compute capability {spec.compute_capability}) has no bf16; use "
                                       "precision='fp16' (CLI: --precision fp16)")
        elif precision == "int8" and not spec.runs_int8:
            raise InvalidArgumentError(
                f"{spec.name} (compute capability {spec.compute_capability}) has neither int8 tensor cores nor dp4a "
                "(compute capability 6.1 or 7.0 and later); use precision='fp16' or 'fp32' (CLI: --precision fp16)")
        elif precision == "int8" and runtime == "pytorch":
            # PyTorch's quantized convolutions and linears run on CPU backends (fbgemm, qnnpack, onednn); on an NVIDIA
            # GPU a quantized CNN runs through TensorRT
            raise InvalidArgumentError("eager PyTorch has no int8 GPU kernels for a quantized network; use "
                                       "runtime='tensorrt' for int8, or precision='fp16' (CLI: --runtime "
                                       "tensorrt, --precision fp16)")
        return cls(device=spec, precision=precision, runtime=runtime, batch_size=check_batch_size(batch_size))  # type: ignore[arg-type]

    @property
    def key(self) -> str:
        """Identifies device, runtime and precision (batch excluded): what a trained model is specific to."""
        return f"{_key(self.device.name)}-{self.runtime}-{self.precision}"


@functools.lru_cache(maxsize=256)
def spec_digest(device: GPUSpec | CPUSpec) -> str:
    """A short hash of what predictions for ``device`` read (prediction cache keys, the base of a calibration profile):
    a GPU's name, chip, size, clocks, memory, host link and the rate :meth:`GPUSpec.framework_rate` gives every
    precision, so that a change of that rule changes it and an edit of the catalog's sources or aliases does not; the
    CPU target's whole spec."""
    if not isinstance(device, GPUSpec):
        return hashlib.blake2b(repr(sorted(asdict(device).items())).encode(), digest_size=6).hexdigest()
    rates = [device.framework_rate(p, tensor_cores=tc, tf32=tc)[0]  # type: ignore[arg-type]
             for p in PRECISIONS for tc in (False, True)]
    read = (device.name, device.gpu_chip, device.is_integrated_soc, device.compute_capability, device.sm_count,
            device.tensor_cores, device.base_clock_mhz, device.boost_clock_mhz, device.memory_bandwidth_gbs,
            device.l2_cache_mb, device.memory_size_gb, device.bus_interface, device.fp32_tflops, rates)
    return hashlib.blake2b(repr(read).encode(), digest_size=6).hexdigest()


def check_precision(precision: object) -> str:
    """``precision`` in lower case (any case, as GPU names are), or a one-line error naming the ones there are."""
    precision = precision.lower() if isinstance(precision, str) else precision
    if precision not in PRECISIONS:
        why = ""
        if precision == "tf32":  # not a precision of its own here: what fp32 runs at where the libraries allow it
            why = ("; fp32 is answered with convolutions at the TF32 tensor rate where cuDNN and TensorRT use it by "
                   "default (Ampere and later; the answer's notes say so): use precision='fp32'")
        elif precision in ("fp8", "fp4", "int4", "nvfp4"):
            why = (f"; {precision} is not modelled (no measured table times it): int8 with runtime='tensorrt' is the "
                   "lowest precision answered")
        raise InvalidArgumentError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}{why}")
    return precision  # type: ignore[return-value]


def check_runtime(runtime: object) -> str:
    """``runtime`` in lower case, or a one-line error naming the ones there are."""
    runtime = runtime.lower() if isinstance(runtime, str) else runtime
    if runtime not in RUNTIMES:
        # torch.compile fuses differently from both, and the tables time it too sparsely to learn: say so, not guess
        compiled = "compile" in str(runtime) or runtime == "inductor"
        why = f"; {COMPILE_NOT_MODELLED}: runtime='pytorch' answers eager PyTorch" if compiled else ""
        raise InvalidArgumentError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}{why}")
    return runtime


def check_batch_size(batch_size: object) -> int:
    """``batch_size`` as an int: any integer type (NumPy's too, as a search space may give), never a bool."""
    if not positive_integer(batch_size):
        raise InvalidArgumentError(f"batch size must be a positive integer, got {batch_size!r}")
    return int(batch_size)
