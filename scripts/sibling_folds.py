"""Would an unseen GPU be answered better from a measured same-chip GPU's learned kernel costs? A diagnostic.

For each GPU with network measurements that shares its GPU chip with another such GPU (HELP's GP102 trio: GTX 1080 Ti,
TITAN X (Pascal), TITAN Xp; its TU102 pair: RTX 2080 Ti, TITAN RTX), retrains its leave-one-GPU-out fold as
``scripts/train_gpu.py logo`` does (the shipped recipe, ``LOGO_STEPS``) and answers each of its network rows two ways,
both with the host-side costs a user gets for a GPU no row measured (:func:`host_choice`: the measured desktop hosts'
average):

* ``zero-shot``: the fold's kernel head at the GPU's own catalog features (what ``logo`` reports);
* ``same-chip``: each kernel's time the geometric mean, over the fold's GPUs of the same chip, of the kernel head's
  time there times the ratio of the two GPUs' roofline times of that kernel, never below the GPU's own floors; the
  framework and per-call times as in ``zero-shot``. (``benchmarks/leaderboard.py``'s same-architecture section: the
  siblings' measured times beat the folds' zero-shot on these GPUs, most at small batches, where the host weighs and
  the GP102 machines agree; this changes the kernel term only, so any gain is expected at large batches.)

Disclosed: a 3-step smoke run of one fold (``--steps 3 --gpus "TITAN RTX"``) ran before the full run, to check the
code; its figures (an untrained model) were neither kept nor read. The idea came from the leaderboard's section,
computed on all rows of these GPUs, GPU_TEST's included.

RULE, declared 2026-12-04 before this script first ran: a next version of resperfnet-gpu adopts ``same-chip`` for a
catalog GPU no row measured that shares its chip with a measured one if, over these folds' columns, ``same-chip``'s
mean MAPE on rows outside GPU_TEST is at least 1 point below ``zero-shot``'s; else it does not. Both are reported on
those rows and on all rows. Nothing ships from this run, and no figure of it is chosen on here.

Run: ``python scripts/sibling_folds.py`` (five folds, about half an hour on one core; ``--steps`` for a smoke run);
writes ``benchmarks/results/gpu/sibling_folds.json`` (not with ``--steps``).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

import numpy as np
import torch

from hwaware.estimators.resperfnet_gpu import (Design, HostChoice, LayerTimeNet, design_layer_times, host_choice,
                                              predict_design, predict_design_call)
from hwaware.evaluation.gpu_data import Sample, build_design
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.splits import is_gpu_test
from hwaware.hardware.catalog import get_gpu
from train_gpu import LOGO_STEPS, RESULTS, all_samples, data_provenance, shipped_recipe, train_fold

RULE = __doc__.split("RULE, ")[1].split("\n\nRun:")[0].replace("\n", " ")
MARGIN = 0.01  # RULE's point


def same_chip(gpu: str, measured: set[str]) -> list[str]:
    """The measured GPUs (network rows) other than ``gpu`` with its GPU chip and device class."""
    me = get_gpu(gpu)
    return sorted(g for g in measured if g != gpu and get_gpu(g).gpu_chip == me.gpu_chip
                  and get_gpu(g).is_integrated_soc == me.is_integrated_soc)


def on_gpu(samples: list[Sample], gpu: str) -> list[Sample]:
    """``samples`` (network rows) as if another GPU had timed them: the same networks, runtime, precision and batch."""
    return [Sample(dataclasses.replace(s.net, gpu=gpu), None) for s in samples]


def same_chip_answers(net: LayerTimeNet, design: Design, siblings: list[Design], host: HostChoice) -> np.ndarray:
    """``same-chip`` totals of ``design``'s samples: each row's kernel time from the ``siblings``' designs (the same
    networks on each sibling: the same rows in the same order) scaled by the roofline ratio, geometric mean over them,
    combined with this GPU's framework time as the model combines them, plus its per-call time."""
    with torch.no_grad():
        used, _, (_, _, o) = design_layer_times(net, design, host)
        log_k = np.zeros(len(used))
        for sib in siblings:
            if not (np.array_equal(sib.indices, design.indices) and np.array_equal(sib.counts, design.counts)):
                raise ValueError("a sibling's design does not pair row for row with the held-out GPU's")
            _, _, (_, k_sib, _) = design_layer_times(net, sib, HostChoice(False, ()))
            log_k += np.log(k_sib.numpy()) + design.log_base[used] - sib.log_base[used]
    log_k = np.maximum(log_k / len(siblings), design.log_floor[used])  # -inf where a row has no floor
    p = float(net.p.detach())
    t = np.zeros(len(design.x))
    t[used] = np.exp(np.logaddexp(p * log_k, p * np.log(o.numpy())) / p)
    return design.per_sample(t) + predict_design_call(net, design, host)[1]


def logo_drift(out: dict) -> dict[str, float]:
    """Per column, the folds' zero-shot MAPE on all rows minus ``logo.json``'s (the same recipe and steps: what differs
    is the data since that run and the CPU)."""
    logo = json.loads((RESULTS / "logo.json").read_text())["per_gpu"]
    return {col: r["zero-shot"]["all"]["mape"] - logo[gpu]["zero_shot"][col]["mape"]
            for gpu, f in out["folds"].items() for col, r in f["columns"].items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=LOGO_STEPS, help="training steps per fold (default: logo's)")
    ap.add_argument("--gpus", nargs="*", help="only these folds (a smoke run)")
    ap.add_argument("--drift", action="store_true",
                    help="only add to the results file each column's zero-shot MAPE against logo.json's")
    args = ap.parse_args()
    if args.drift:
        path = RESULTS / "sibling_folds.json"
        out = json.loads(path.read_text())
        out["zero_shot_against_logo"] = logo_drift(out)
        path.write_text(json.dumps(out, indent=1))
        print(f"zero-shot MAPE minus logo.json's, per column: {out['zero_shot_against_logo']}")
        return
    torch.set_num_threads(1)
    samples = all_samples()
    measured = {s.gpu for s in samples if s.net is not None}
    folds = [g for g in sorted(measured) if same_chip(g, measured) and (not args.gpus or g in args.gpus)]
    train_design = build_design(samples, prediction_rules=False)
    out: dict = {"rule": RULE, "command": "python scripts/sibling_folds.py", "steps": args.steps,
                 "provenance": data_provenance(samples), "folds": {}}
    for gpu in folds:
        net, held_idx, fold_columns = train_fold(samples, train_design, gpu, shipped_recipe(), args.steps)
        held = [samples[i] for i in held_idx]
        host = host_choice(get_gpu(gpu), fold_columns)
        design = build_design(held)
        siblings = same_chip(gpu, measured)
        answers = {"zero-shot": predict_design(net, design, host),
                   "same-chip": same_chip_answers(net, design, [build_design(on_gpu(held, g)) for g in siblings],
                                                  host)}
        y = np.array([s.ms for s in held])
        kept = np.array([not is_gpu_test(s) for s in held])
        res: dict = {"siblings": siblings, "columns": {}}
        for col in sorted({s.column for s in held}):
            idx = np.array([s.column == col for s in held])
            res["columns"][col] = {name: {"all": accuracy(pred[idx], y[idx]),
                                          "outside_gpu_test": accuracy(pred[idx & kept], y[idx & kept])}
                                   for name, pred in answers.items()}
        out["folds"][gpu] = res
        print(f"{gpu} (from {', '.join(siblings)}): " + "; ".join(
            f"{c.split(':', 1)[1]} zero-shot {r['zero-shot']['all']['mape']:.1%} same-chip {r['same-chip']['all']['mape']:.1%}"
            for c, r in res["columns"].items()), flush=True)
    mean = {name: float(np.mean([r[name]["outside_gpu_test"]["mape"] for f in out["folds"].values()
                                 for r in f["columns"].values()])) for name in ("zero-shot", "same-chip")}
    out["mean_mape_outside_gpu_test"] = mean
    out["adopt_same_chip"] = bool(mean["same-chip"] <= mean["zero-shot"] - MARGIN)
    out["zero_shot_against_logo"] = logo_drift(out)
    print(f"mean MAPE outside GPU_TEST: {mean}; RULE adopts same-chip: {out['adopt_same_chip']}")
    if args.steps == LOGO_STEPS and not args.gpus:
        (RESULTS / "sibling_folds.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    sys.exit(main())
