"""How many poolings a leave-one-GPU-out fold answers slower than their dense-convolution twins, with and without the
pooling prior (POOL_PRIOR_RULE's candidates in ``scripts/train_gpu.py``).

Retrains (or loads from ``logs/train_gpu_fits/``, as ``train_gpu.py logo --pool-prior off|on`` saved them from the
same clean commit) the fold of each GPU named, with the shipped recipe and with it plus the pooling prior, and counts
the pairs of :func:`hwaware.evaluation.gpu_data.twin_pairs_of` (every timed network's poolings that have a twin, each
on the platforms its network was timed on, the held-out GPU's included) whose layer time exceeds the twin's.
Diagnostic only: nothing is chosen from it.

Run: ``python scripts/pool_twins.py "Jetson AGX Xavier" "Jetson Nano" "GeForce RTX 3090"`` (two folds per GPU: a few
minutes each on one core; output kept in ``benchmarks/results/gpu/pool_prior_twins.txt``).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from hwaware.evaluation.gpu_data import build_design, twin_pairs_of
from hwaware.hardware.catalog import get_gpu
from train_gpu import LOGO_STEPS, all_samples, shipped_recipe, train_fold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gpus", nargs="+", help="GPUs with network measurements, each held out in turn")
    args = ap.parse_args()
    torch.set_num_threads(1)
    names = [get_gpu(g).name for g in args.gpus]
    samples = all_samples()
    pairs = twin_pairs_of(samples)
    design = build_design(samples, prediction_rules=False)
    for gpu in names:
        for on in (False, True):
            net, _, _ = train_fold(samples, design, gpu, {**shipped_recipe(), "pool_prior": on}, LOGO_STEPS)
            with torch.no_grad():
                ratio = (net.layer_times(pairs.x_pool, pairs.base_pool, pairs.bare_pool)[0]
                         / net.layer_times(pairs.x_twin, pairs.base_twin, pairs.bare_twin)[0]).numpy()
            print(f"{gpu} held out, pool_prior={on}: {int((ratio > 1).sum())} of {len(ratio)} poolings slower than "
                  f"their twins, at most {ratio.max():.2f}x (median {np.median(ratio):.2f}x)", flush=True)


if __name__ == "__main__":
    main()
