"""Why a DeepBench GPU held out is predicted too slow or too fast: its kernels under other GPUs' catalog features.

Retrains the fold of ``scripts/train_gpu.py kernels`` that holds out ``GPU`` (the shipped recipe, same steps: none of
its rows trains), then predicts each of its DeepBench kernels (bare, no framework) with the GPU's own catalog features
(:func:`hwaware.estimators.gpu_features.gpu_vector`) and with those of every other GPU that has rows in the data in
their place, all else kept (the layer, its roofline terms on the held-out GPU). Prints the median predicted /
measured per precision. A swap that brings the ratio to about 1 says the error comes from what the heads learned for
GPUs whose features look like the held-out one's, not from the roofline terms. The swap reaches only what the recipe's
kernel head reads of the GPU (``gpu_features.KERNEL_GPU_SETS``: with the 'size' set its SMs, L2 and integrated flag).
Diagnostic only: nothing is chosen from it, and it reads the held-out GPU's measurements, so no figure of it is an
accuracy claim.

Run: ``python scripts/kernel_fold_features.py "Tesla V100 SXM2 16/32GB"`` (one fold: about 5 minutes on one core).
"""
from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import torch

from hwaware.estimators.gpu_features import GPU_FEATURES, ROW_FEATURES, gpu_vector
from hwaware.estimators.resperfnet_gpu import predict_design
from hwaware.evaluation.gpu_data import build_design
from hwaware.hardware.catalog import get_gpu
from train_gpu import LOGO_STEPS, all_samples, shipped_recipe, train_fold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gpu", help="a GPU DeepBench timed, as the data names it (e.g. 'Tesla V100 SXM2 16/32GB')")
    args = ap.parse_args()
    torch.set_num_threads(1)
    samples = all_samples()
    timed = sorted({s.gpu for s in samples if s.kernel is not None})
    if args.gpu not in timed:
        raise SystemExit(f"DeepBench timed no kernel on {args.gpu!r}; one of: {timed}")
    cfg = shipped_recipe()
    net, _, _ = train_fold(samples, build_design(samples, prediction_rules=False), args.gpu, cfg, LOGO_STEPS)
    idx = np.flatnonzero([s.gpu == args.gpu and s.kernel is not None for s in samples])
    kernels = [samples[i] for i in idx]
    design = build_design(kernels)
    measured = np.array([s.ms for s in kernels])
    precisions = sorted({s.kernel.precision for s in kernels})
    # a kernel sample is one row (repeated shapes share one): each row gets the swapped GPU's features at its precision
    row_precision = np.empty(len(design.x), dtype=object)
    for i, s in enumerate(kernels):
        row_precision[design.indices[design.indptr[i]:design.indptr[i + 1]]] = s.kernel.precision
    first = ROW_FEATURES.index(GPU_FEATURES[0])
    columns = slice(first, first + len(GPU_FEATURES))
    print(f"{args.gpu} held out ({len(kernels)} kernels): median predicted / measured per precision")
    others = sorted({s.gpu for s in samples} - {args.gpu})
    for features in [args.gpu, *others]:
        x = design.x.copy()
        for p in precisions:
            x[row_precision == p, columns] = gpu_vector(get_gpu(features), p)
        ratio = predict_design(net, dataclasses.replace(design, x=x)) / measured
        label = "its own features" if features == args.gpu else f"{features}'s"
        by = ", ".join(f"{p} x{np.median(ratio[[s.kernel.precision == p for s in kernels]]):.2f}" for p in precisions)
        print(f"  with {label}: {by}")


if __name__ == "__main__":
    main()
