"""Why a 10-shot calibration helps or hurts on one held-out GPU: every profile form on the same shots.

Retrains the leave-one-GPU-out fold of ``GPU`` exactly as ``scripts/train_gpu.py logo`` does (the shipped recipe,
same steps), then for each of its columns prints the zero-shot error on the evaluated rows and, for each form the
profile can take (:data:`hwaware.calibration.FORMS`: the per-call ones too, from 2026-12-06), its
leave-one-out error on the 10 shots (what :func:`hwaware.calibration.fit_profile`'s rule compares) and its error on
the evaluated rows, with the networks on each side. Beside the zero-shot error, the same with the estimator's
TensorRT bounds (:func:`hwaware.evaluation.gpu_data.engine_bounded`), which the leave-one-GPU-out stage's figures
leave out, on every row of the column. Diagnostic only: nothing is chosen from it.

With ``--parts``, first each held-out network's measured and predicted time and what the prediction sums: its
kernels' times, their framework (host-side) times, their roofline times and the per-call time
(``benchmarks/results/gpu/ten_shot_forms_agx_xavier_parts.txt``, at 1e412f2, before the per-call column: held out,
the AGX Xavier's TensorRT networks are answered with almost no framework time, which the Nano's TensorRT rows, whose
slow kernels hide it, cannot teach). ``--call-runtime read|eager`` retrains the fold with that choice of
CALL_RUNTIME_RULE (``scripts/train_gpu.py``; ``..._parts_call_runtime_{read,eager}.txt``).

Run: ``python scripts/ten_shot_forms.py "Jetson AGX Xavier"`` (one fold: a few minutes on one core).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from hwaware.calibration import FORMS
from hwaware.errors import InvalidArgumentError
from hwaware.estimators.resperfnet_gpu import (Design, HostChoice, design_layer_times, design_parts, host_choice,
                                              predict_design)
from hwaware.evaluation.gpu_data import build_design, engine_bounded, ten_shot_profile
from hwaware.evaluation.splits import ten_shots
from hwaware.hardware.catalog import get_gpu
from train_gpu import CALL_RUNTIMES, LOGO_STEPS, all_samples, data_provenance, shipped_recipe, train_fold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gpu", help="a GPU with network measurements, as the data names it (e.g. 'Jetson AGX Xavier')")
    ap.add_argument("--parts", action="store_true",
                    help="first, each network's kernel, framework and roofline sums and its per-call time")
    ap.add_argument("--call-runtime", choices=sorted(CALL_RUNTIMES),
                    help="the per-call head's runtime flags, CALL_RUNTIME_RULE's choices (default: the shipped "
                         "recipe's)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    samples = all_samples()
    if not any(s.gpu == args.gpu and s.net is not None for s in samples):
        raise SystemExit(f"no network measurements of {args.gpu!r}; one of: "
                         f"{sorted({s.gpu for s in samples if s.net is not None})}")
    prov = data_provenance(samples)  # what the output is of: the data, code, CPU and threads
    print(f"# data sha256 {prov['data_sha256'][:16]}, commit {prov['code_commit'][:7]}"
          f"{' with uncommitted files' if prov['uncommitted_files'] else ''}, {prov['cpu']['model']} "
          f"{prov['cpu']['torch_capability']}, torch threads {prov['threads']['torch']}", flush=True)
    cfg = shipped_recipe()
    if args.call_runtime:
        cfg["call_runtime"] = CALL_RUNTIMES[args.call_runtime]
    print(f"# recipe {cfg}", flush=True)
    design = build_design(samples)
    net, held_idx, fold_columns = train_fold(samples, build_design(samples, prediction_rules=False), args.gpu, cfg,
                                             LOGO_STEPS)
    held = [samples[i] for i in held_idx]
    hd = design.subset(held_idx)
    host = host_choice(get_gpu(args.gpu), fold_columns)  # as train_gpu.py logo
    pred = predict_design(net, hd, host)
    bounded = engine_bounded(net, held, pred, fold_columns)
    parts = design_parts(net, hd, host)
    y = np.array([s.ms for s in held])
    if args.parts:
        print_parts(net, hd, host, held, pred, parts.call_ms)
    mape = lambda p, idx: float(np.mean(np.abs(p / y[idx] - 1)))  # noqa: E731
    for col in sorted({s.column for s in held}):
        idx = [i for i, s in enumerate(held) if s.column == col]
        shots, rest = (np.array(idx)[k].tolist() for k in ten_shots([held[i] for i in idx]))
        bound = (f", with the TensorRT bounds {mape(bounded[idx], idx):.1%} "
                 f"({int(np.sum(bounded[idx] != pred[idx]))} rows moved)" if "|tensorrt|" in col else "")
        evaluated = f"on the {len(rest)} evaluated rows {mape(pred[rest], rest):.1%}; " if rest else ""
        print(f"{col}: zero-shot MAPE {evaluated}on all {len(idx)} rows {mape(pred[idx], idx):.1%}{bound}")
        print(f"  shots: {[held[i].net.arch_id for i in shots]}\n  evaluated: {[held[i].net.arch_id for i in rest]}")
        if not rest:
            continue
        for form in FORMS:
            try:
                prof, cal, _ = ten_shot_profile(args.gpu, col, parts, y, hd, shots, rest, (form,))
            except InvalidArgumentError as e:  # this form alone: the profile refuses a fit this far off
                print(f"  {form:20s} refused: {e}")
                continue
            print(f"  {form:20s} leave-one-out on the shots {prof.loo_mape:6.1%}  evaluated {mape(cal, rest):6.1%}"
                  f"  {prof.describe()}")


def print_parts(net, design: Design, host: HostChoice, held: list, pred: np.ndarray, call: np.ndarray) -> None:
    """Per held-out network: measured and predicted ms, the sums over its kernels of their kernel, framework and
    roofline times, and its per-call time (``call``)."""
    with torch.no_grad():
        used, _, (_, k, o) = design_layer_times(net, design, host)
    rows = np.zeros((3, len(design.x)))
    rows[:, used] = k.numpy(), o.numpy(), np.exp(design.log_base[used])
    kernel, framework, roofline = (design.per_sample(r) for r in rows)
    print("runtime    network                     measured ms  predicted ms  ratio | kernels  framework  roofline  "
          "per call")
    for i in sorted(range(len(held)), key=lambda i: (held[i].column, held[i].net.arch_id)):
        s = held[i]
        print(f"{s.column.split('|')[1]:10s} {s.net.arch_id:28s} {s.ms:10.2f} {pred[i]:12.2f}  x{pred[i] / s.ms:4.2f} | "
              f"{kernel[i]:7.2f} {framework[i]:10.2f} {roofline[i]:9.2f} {call[i]:9.3f}")


if __name__ == "__main__":
    main()
