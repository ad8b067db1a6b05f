"""How many poolings a leave-one-GPU-out fold answers slower than their dense-convolution twins, with and without the
pooling prior (POOL_PRIOR_RULE's candidates in ``scripts/train_gpu.py``).

Retrains the fold of each GPU named with the shipped recipe and with it plus the pooling prior, as
``train_gpu.py logo --pool-prior off|on`` does (from the same clean commit it loads them from ``logs/train_gpu_fits/``
instead; the cache's keys hold the commit), and counts the pairs of :func:`hwaware.evaluation.gpu_data.twin_pairs_of`
whose pooling's layer time exceeds its twin's, the quantity the prior penalises (layer times without the prediction
rules): those of the fold's training rows (what the prior trained on) and those of the held-out GPU's networks apart.
Diagnostic only: nothing is chosen from it.

Run: ``python scripts/pool_twins.py "Jetson AGX Xavier" "Jetson Nano" "GeForce RTX 3090"`` (two folds per GPU: a few
minutes each on one core; output kept in ``benchmarks/results/gpu/pool_prior_twins.txt``).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from hwaware.evaluation.gpu_data import build_design, twin_pairs_of
from hwaware.evaluation.splits import is_gpu_test
from hwaware.hardware.catalog import get_gpu
from train_gpu import LOGO_STEPS, all_samples, shipped_recipe, train_fold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gpus", nargs="+", help="GPUs with network measurements, each held out in turn")
    args = ap.parse_args()
    torch.set_num_threads(1)
    names = [get_gpu(g).name for g in args.gpus]
    samples = all_samples()
    design = build_design(samples, prediction_rules=False)
    for gpu in names:
        sides = {"the fold's training rows": twin_pairs_of([s for s in samples if s.gpu != gpu and not is_gpu_test(s)]),
                 f"the {gpu}'s networks": twin_pairs_of([s for s in samples if s.gpu == gpu])}
        for on in (False, True):
            net, _, _ = train_fold(samples, design, gpu, {**shipped_recipe(), "pool_prior": on}, LOGO_STEPS)
            counts = []
            for side, pairs in sides.items():
                with torch.no_grad():
                    ratio = (net.layer_times(pairs.x_pool, pairs.base_pool, pairs.bare_pool)[0]
                             / net.layer_times(pairs.x_twin, pairs.base_twin, pairs.bare_twin)[0]).numpy()
                counts.append(f"{side}: {int((ratio > 1).sum())} of {len(ratio)} slower than their twins, at most "
                              f"{ratio.max():.2f}x (median {np.median(ratio):.2f}x)")
            print(f"{gpu} held out, pool_prior={on}: " + "; ".join(counts), flush=True)


if __name__ == "__main__":
    main()
