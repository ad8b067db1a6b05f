"""GEMM layers answered faster than PyTorch's default flags allow: FP32 accumulate on GeForce tensor cores.

The GEMM floor (``gpu_features.peak_floor_ms``) bounds a layer by the fastest rate any library setting can take:
FP16 accumulate on tensor cores, twice the FP32-accumulate rate on GeForce parts (the RTX 3090: 142 against 71
TFLOPS dense). Eager PyTorch accumulates fp16 in fp32 by default (cuDNN's convolutions always; cuBLAS's matmuls unless
``torch.backends.cuda.matmul.allow_fp16_accumulation`` is set), so a layer answered above the FP32-accumulate rate
(times the floor's GPU Boost headroom) is faster than a default run can be. This counts such layers in the default
estimator's amp answers (eager PyTorch) and what raising them to that rate would add to the answer. Nothing here is
measured on a GPU or chose anything.

Run: ``python benchmarks/default_accumulate.py`` (2026-12-07: about 2 minutes; output in
``benchmarks/results/default_accumulate.txt``).
"""
from __future__ import annotations

import warnings

import hwaware
from hwaware.estimators.gpu_features import peak_headroom
from hwaware.hardware import gpus

NETWORKS = ("convnext_tiny", "resnet50", "efficientnet_b0", "regnety_040", "resnext50_32x4d", "mobilenetv3_large_100")
BATCHES = (1, 64, 256)
GEMM_KINDS = ("conv", "dense", "matmul")


def main() -> None:
    warnings.simplefilter("ignore")  # the estimates' own warnings are not the question here
    name = hwaware.estimate("resnet18", gpu="a100").estimator
    print(name, hwaware.get_estimator(name).version)
    # the GPUs where FP16 accumulate is faster than the FP32-accumulate rate eager PyTorch takes, that rate sourced
    # (the workstation parts' and the TITAN RTX's is a lower bound the catalog took, GPUSpec.unsourced_rates)
    geforce = [g for g in gpus() if g.tensor_cores and not g.unsourced_rates("fp16") and
               g.fastest_tflops("fp16", tensor_cores=True) > 1.01 * g.framework_tflops("fp16", tensor_cores=True)]
    print(f"{len(geforce)} GPUs whose FP16-accumulate rate exceeds their sourced FP32-accumulate one; networks "
          f"{', '.join(NETWORKS)}; amp, eager PyTorch, batches {BATCHES}")
    cases = worst = 0
    for gpu in geforce:
        fp32acc = gpu.framework_tflops("fp16", tensor_cores=True)
        limit = fp32acc * peak_headroom(gpu)
        for model in NETWORKS:
            for batch in BATCHES:
                est = hwaware.estimate(model, gpu=gpu.name, batch_size=batch, precision="amp")
                gemms = [(2 * r.macs / (r.ms * 1e9), r) for r in est.layers
                         if r.kind in GEMM_KINDS and r.macs > 0 and r.ms > 0]  # (TFLOPS it is answered at, row)
                over = [(rate, 2 * r.macs / (limit * 1e9) - r.ms) for rate, r in gemms if rate > limit]
                if over:
                    cases += 1
                    added = sum(a for _, a in over) / est.total_ms
                    worst = max(worst, added)
                    print(f"  {gpu.name}, {model}, batch {batch}: {len(over)} layers, up to "
                          f"{max(rate for rate, _ in over) / fp32acc:.2f}x the FP32-accumulate rate; "
                          f"raised to it (with the headroom) the answer grows {added:.1%}")
    print(f"{cases} of {len(geforce) * len(NETWORKS) * len(BATCHES)} answers with such layers; the most one grows: "
          f"{worst:.1%}")


if __name__ == "__main__":
    main()
