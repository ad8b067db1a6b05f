"""Whether a timm family's miss follows its input resolution: the shipped model's answer / measured per family and size.

For one timm GPU file, every row the store has a graph for (training, GPU_VAL and GPU_TEST rows alike) is predicted
as users get it (:func:`hwaware.evaluation.gpu_data.user_predictions`, the shipped ``resperfnet-gpu``), and the
answer / measured ratio is summarised per image size over all rows (median and quartiles); for the families asked
for, each row's batch, measured and answered ms, by size. A family whose ratio flips between sizes that the GPU's
other rows do not flip between misses with resolution, not with a layer kind it shares across sizes; two variants at
one size and batch that differ in one part show what that part costs, measured and answered (the question of issue
8's FocalNet miss: its level-4 9x9 focal kernels, or its 384-px variants). Diagnostic only: it reads every row,
training ones included, so no figure of it is a held-out accuracy claim; nothing is chosen from it.

Run: ``python scripts/timm_resolution.py --gpu "GeForce RTX 4090" --family focalnet`` (under a minute on one core).
"""
from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
import torch

from hwaware.estimators import get_estimator
from hwaware.evaluation.gpu_data import build_design, timm_samples, user_predictions
from hwaware.evaluation.splits import gpu_sample_group, is_gpu_test, is_gpu_val


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpu", default="GeForce RTX 4090", help="a GPU of timm's files, as the data names it")
    ap.add_argument("--family", action="append", default=[], help="a family prefix of the arch names (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    samples = [s for s in timm_samples() if s.gpu == args.gpu]
    if not samples:
        raise SystemExit(f"timm's files have no CNN row on {args.gpu!r}; one of: "
                         f"{sorted({s.gpu for s in timm_samples()})}")
    net, meta = get_estimator("resperfnet-gpu")._loaded()
    answer = user_predictions(net, build_design(samples), samples, meta["train_columns"])
    ratio = answer / np.array([s.ms for s in samples])
    size = np.array([int(s.net.arch_id.rsplit("@", 1)[1]) for s in samples])
    print(f"{args.gpu}: {len(samples)} rows, answer / measured (median, quartiles) per image size")
    for px in sorted(set(size)):
        r = ratio[size == px]
        if len(r) >= 5:
            q1, med, q3 = np.percentile(r, [25, 50, 75])
            print(f"  {px:5d} px  {len(r):4d} rows  x{med:.2f}  ({q1:.2f}-{q3:.2f})")
    split = ["test" if is_gpu_test(s) else "val" if is_gpu_val(s) else "train" for s in samples]
    for family in args.family:
        rows = defaultdict(list)
        for i, s in enumerate(samples):
            if s.net.arch_id.startswith(family):
                rows[size[i]].append(f"{s.net.arch_id} batch {s.net.batch} {s.ms:.1f} ms, answered {answer[i]:.1f} "
                                     f"x{ratio[i]:.2f} ({split[i]}, {gpu_sample_group(s)})")
        print(f"{family}: " + ("no row" if not rows else ""))
        for px in sorted(rows):
            print(f"  {px} px: " + "; ".join(sorted(rows[px])))


if __name__ == "__main__":
    main()
