"""What resperfnet-gpu 7.5's batch check (``ResPerfNetGPUEstimator._batch_bounds``) does on measured rows, and the
forms tried before it.

An image never costs more in a larger batch (a runtime could run the batch as smaller ones). 7.5 keeps 7.4's cap at
``b`` images one at a time and, where the training never timed the platform around the batch, warns where an image
costs more than ``BATCH_RISE`` x the model's answer at a smaller power of two. Three forms that capped instead were
built in turn, each after seeing the previous one's figures on the rows below, each worse on them:

1. the cap at the cheapest cost per image of every power of two below the batch, on every platform:
   ``git show da36944:benchmarks/results/batch_bounds.md``, its ``every platform`` rows;
2. that cap where no row timed the platform around the batch, and a floor below the smallest batch the training timed
   the platform at, at that batch's cost per image: the same file's ``shipped`` rows;
3. that cap without the floor: ``git show a2122c3:benchmarks/results/batch_bounds.md``, its ``shipped`` rows.

Here, the shipped form on timm's measured rows (RTX 3090 / 4090 / PRO 6000, AMP, batch 32-2048: the only tables timed
at batches whose smaller powers of two no row timed), every row, each network re-batched from the graph store to the
row's batch, as users get it without a calibration profile: how many answers the checks move (the batch-1 cap,
against the model's answer without them, ``checks="none"``) and how many warn. Rows are training and held-out ones
alike (what the rule does to fitted answers, not a held-out figure). ``python benchmarks/gpu_accuracy.py``
evaluates the learned model through designs, without the checks; no answer it scores is moved by them.

Run: ``python benchmarks/batch_bounds.py`` (under a minute on 2 cores); writes ``benchmarks/results/batch_bounds.md``.
"""
from __future__ import annotations

import os
import statistics
import time
import warnings
from pathlib import Path

os.environ["HWAWARE_CACHE"] = "0"  # before hwaware is imported: every answer computed by this code

from hwaware.estimators import get_estimator  # noqa: E402
from hwaware.evaluation.gpu_data import timm_samples  # noqa: E402
from hwaware.evaluation.netregress_fit import row_graph  # noqa: E402
from hwaware.graph.transform import with_batch  # noqa: E402
from hwaware.hardware import Platform  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "batch_bounds.md"


def main() -> None:
    start = time.time()
    warnings.simplefilter("ignore")
    rows = [s.net for s in timm_samples()]
    est = get_estimator("resperfnet-gpu")
    by_gpu: dict[str, list[tuple]] = {}
    for r in rows:
        g = with_batch(row_graph(r), r.batch)
        p = Platform.resolve(r.gpu, precision=r.precision, batch_size=r.batch)
        free = est._answers([g], p, layers=False, checks="none")[0].total_ms
        got = est.predict(g, p)
        rise = any(w.startswith("physically implausible") and "dearer than at batch" in w for w in got.warnings)
        by_gpu.setdefault(r.gpu, []).append((r, got.total_ms, free, rise, est.measured(p)))
    lines = ["# resperfnet-gpu's batch check on measured rows (`python benchmarks/batch_bounds.py`)", "",
             "timm's tables, every row (training and held-out), as users get them. `moved`: answers the checks move "
             "(7.4's batch-1 cap); `outside`: rows at a batch the training did not time the GPU around, where the "
             "check asks the smaller powers of two; `warn`: of those, answers that warn of an image dearer than "
             "BATCH_RISE x at a smaller power of two, with their MAPE beside the other rows'.", "",
             "| GPU | rows | moved | outside | warn | MAPE, warned / other rows |", "|---|---|---|---|---|---|"]
    for gpu, got in sorted(by_gpu.items()):
        moved = sum(abs(a / f - 1) > 1e-9 for _, a, f, _, _ in got)
        outside = sum(not m for *_, m in got)
        warned = [abs(a / r.ms - 1) for r, a, _, w, _ in got if w]
        other = [abs(a / r.ms - 1) for r, a, _, w, _ in got if not w]
        mape = f"{statistics.mean(warned):.1%} / {statistics.mean(other):.1%}" if warned else "–"
        lines.append(f"| {gpu} | {len(got)} | {moved} | {outside} | {len(warned)} | {mape} |")
    lines += ["", f"({time.time() - start:.0f} s; resperfnet-gpu {est.version})", ""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
