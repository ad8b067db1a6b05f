"""bf16 against fp16: the default GPU estimator's answer ratio on every catalog GPU that has bf16.

No table the model trains on times bf16 (timm's torch.compile tables of the RTX PRO 6000 Max-Q do, large batches:
autocast in bf16 at 0.98-1.01x autocast in fp16 per image, 10th-90th percentile, ``benchmarks/compile_vs_eager.py``,
which the estimate's bf16 note quotes); fp16 (FP32 accumulate) and bf16 share tensor cores at one rate on every
catalog part with both figures (the RTX 3090: 71.2 against 71.0 TFLOPS) and move the same bytes, so the two answers
should be close, bf16's no faster. resperfnet-gpu 9.2 read bf16's GPU with fp32's non-tensor rate beside fp16's
tensor rate, a GPU no training row had; from 9.3 its heads read fp16's features (``gpu_features.HEAD_PRECISION``),
the roofline terms bf16's own rates (bf16's elementwise math at the fp32 rate), and from 9.6 fp16's off tensor
cores. Nothing here is measured on a GPU; no figure chose anything. 9.3-9.5: 0.991-1.115, 5 pairs above 1.05; 9.6:
0.997-1.000, none outside.

Networks resnet50, efficientnet_b0 and vit_small_patch16_224, eager PyTorch and TensorRT, batch 1 and 64. Prints the
lowest, median and highest ratio, and how many fall outside 0.95-1.05. Run: ``python benchmarks/bf16_vs_fp16.py``
(2026-12-06: about a minute; the same script on 7f01a3d's package gives 9.2's figures, quoted in docs/how-it-works.md).
"""
from __future__ import annotations

import statistics
import warnings

import hwaware
from hwaware.hardware import gpus

NETWORKS = ("resnet50", "efficientnet_b0", "vit_small_patch16_224")


def main() -> None:
    warnings.simplefilter("ignore")  # the estimates' own warnings (batch checks, zero-shot) are not the question here
    name = hwaware.estimate("resnet18", gpu="a100").estimator
    print(name, hwaware.get_estimator(name).version)
    ratios = []
    bf16_gpus = [g for g in gpus() if g.compute_capability >= 8.0]
    for model in NETWORKS:
        for batch in (1, 64):
            graphs = {p: hwaware.capture(model, batch_size=batch, precision=p) for p in ("fp16", "bf16")}
            for gpu in bf16_gpus:
                for runtime in ("pytorch", "tensorrt"):
                    half, brain = (hwaware.estimate(graphs[p], gpu=gpu.short_name, batch_size=batch, precision=p,
                                                    runtime=runtime).total_ms for p in ("fp16", "bf16"))
                    ratios.append((brain / half, model, gpu.short_name, runtime, batch))
    ratios.sort()
    print(f"{len(ratios)} pairs ({len(bf16_gpus)} GPUs with bf16, {len(NETWORKS)} networks, 2 runtimes, 2 batches): "
          f"bf16 / fp16 lowest {ratios[0][0]:.3f} {ratios[0][1:]}, median {statistics.median(r[0] for r in ratios):.3f}"
          f", highest {ratios[-1][0]:.3f} {ratios[-1][1:]}")
    print(f"below 0.95: {sum(r[0] < 0.95 for r in ratios)}, above 1.05: {sum(r[0] > 1.05 for r in ratios)}")


if __name__ == "__main__":
    main()
