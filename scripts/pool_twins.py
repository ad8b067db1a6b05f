"""How many poolings a model answers slower than their dense-convolution twins: the shipped weights, or a
leave-one-GPU-out fold with and without the pooling prior (POOL_PRIOR_RULE's candidates in ``scripts/train_gpu.py``).

With ``--shipped``, the shipped weights on every pair of :func:`hwaware.evaluation.gpu_data.twin_pairs_of` (every
timed network's poolings that have a twin, each on the platforms its network was timed on), what the pairs are made
of, and how many come from rows outside GPU_TEST. Else, for each GPU named: retrains its fold with the shipped recipe
and with it plus the pooling prior, as ``train_gpu.py logo --pool-prior off|on`` does (from the same clean commit it
loads them from ``logs/train_gpu_fits/`` instead; the cache's keys hold the commit), and counts the pairs of the fold's
training rows (what the prior trained on) and of the held-out GPU's networks apart. Both compare layer times without
the prediction rules, the quantity the prior penalises. Diagnostic only: nothing is chosen from it.

Run: ``python scripts/pool_twins.py --shipped`` (seconds; ``benchmarks/results/gpu/pool_prior_twins_shipped.txt``) and
``python scripts/pool_twins.py "Jetson AGX Xavier" "Jetson Nano" "GeForce RTX 3090"`` (two folds per GPU: a few minutes
each on one core; ``benchmarks/results/gpu/pool_prior_twins.txt``).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from hwaware.estimators.resperfnet_gpu import LayerTimeNet, TwinPairs, load_net, twin_log_ratio
from hwaware.evaluation.gpu_data import build_design, twin_pairs_of
from hwaware.evaluation.splits import is_gpu_test
from hwaware.hardware.catalog import get_gpu
from train_gpu import LOGO_STEPS, OUT_WEIGHTS, all_samples, fold_rows, shipped_recipe, train_fold, weights_id


def slower(net: LayerTimeNet, pairs: TwinPairs | None) -> str:
    """How many of ``pairs`` ``net`` answers with the pooling slower than its twin, and by how much."""
    if pairs is None:
        return "no pooling with a twin"
    with torch.no_grad():
        ratio = torch.exp(twin_log_ratio(net, pairs)).numpy()
    return (f"{int((ratio > 1).sum())} of {len(ratio)} slower than their twins, at most {ratio.max():.2f}x (median "
            f"{np.median(ratio):.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gpus", nargs="*", help="GPUs with network measurements, each held out in turn")
    ap.add_argument("--shipped", action="store_true", help="the shipped weights on every pair instead")
    args = ap.parse_args()
    if args.shipped == bool(args.gpus):
        ap.error("give --shipped or GPUs to hold out, not both")
    torch.set_num_threads(1)
    samples = all_samples()
    if args.shipped:
        nets = [s for s in samples if s.net is not None]
        print(f"shipped weights {weights_id()}: {slower(load_net(OUT_WEIGHTS)[0], twin_pairs_of(nets))}", flush=True)
        kind = {s: f"{s.net.table}/{s.gpu if get_gpu(s.gpu).is_integrated_soc else 'desktops'}/{s.net.runtime}"
                for s in nets}
        for name, rows in (("pairs", nets), ("pairs outside GPU_TEST", [s for s in nets if not is_gpu_test(s)])):
            # the tables' platforms are apart, so the pairs of each kind add up to the whole
            made_of = {k: twin_pairs_of([s for s in rows if kind[s] == k]) for k in sorted(set(kind.values()))}
            print(f"{name}: " + ", ".join(f"{k} {len(p.x_pool)}" for k, p in made_of.items() if p is not None)
                  + f"; {sum(len(p.x_pool) for p in made_of.values() if p is not None)} in all", flush=True)
        return
    design = build_design(samples, prediction_rules=False)
    for gpu in [get_gpu(g).name for g in args.gpus]:
        train, held = fold_rows(samples, gpu)
        sides = {"the fold's training rows": twin_pairs_of([samples[i] for i in train]),
                 f"the {gpu}'s networks": twin_pairs_of([samples[i] for i in held])}
        for on in (False, True):
            net, _, _ = train_fold(samples, design, gpu, {**shipped_recipe(), "pool_prior": on}, LOGO_STEPS)
            print(f"{gpu} held out, pool_prior={on}: "
                  + "; ".join(f"{side}: {slower(net, pairs)}" for side, pairs in sides.items()), flush=True)


if __name__ == "__main__":
    main()
