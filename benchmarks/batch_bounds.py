"""What resperfnet-gpu 7.5's batch bounds (``ResPerfNetGPUEstimator._batch_bounds``) do to answers on measured rows.

An image never costs more in a larger batch (a runtime could run the batch as smaller ones), so 7.5 caps an answer at
a batch the training never timed the platform around at the cheapest cost per image of the powers of two below it,
while a measured answer stands but for the batch-1 cap. Three forms were built in turn, each after seeing the previous
one's figures below (the library keeps the third; the second is at commit da36944):

1. ``every platform``: the cap everywhere, measured answers too (here: ``batch_span`` patched to None, which leaves
   the measured answers' totals otherwise as they are under PyTorch);
2. ``+ floor``: the shipped cap, and an answer below the smallest batch the training timed the platform at floored at
   that batch's cost per image (its answer taken as fitted); not computed here (the library no longer has it): this
   script at da36944 computed it as its ``shipped`` rows (``git show da36944:benchmarks/results/batch_bounds.md``);
3. ``shipped``: the cap where no row timed the platform around the batch.

On timm's measured rows (RTX 3090 / 4090 / PRO 6000, AMP, batch 32-2048: the only tables timed at batches whose smaller
powers of two no row timed), every row, each network re-batched from the graph store to the row's batch, as users get
it without a calibration profile, against the same model without the bounds (``capped=False``). Rows are training and
held-out ones alike (a fit, not a held-out figure): the point is what the rule does to answers the model was fitted to.
``python benchmarks/gpu_accuracy.py`` evaluates the learned model through designs, without the bounds; under the
shipped form its figures stand for every row of a measured batch.

Run: ``python benchmarks/batch_bounds.py`` (about 3 minutes on 2 cores); writes ``benchmarks/results/batch_bounds.md``.
"""
from __future__ import annotations

import os
import statistics
import time
import warnings
from pathlib import Path
from unittest import mock

os.environ["HWAWARE_CACHE"] = "0"  # before hwaware is imported: every answer computed by this code

from hwaware.datasets.graph_store import load_store  # noqa: E402
from hwaware.estimators import get_estimator  # noqa: E402
from hwaware.estimators.base import _INSTANCES  # noqa: E402
from hwaware.estimators.resperfnet_gpu import ResPerfNetGPUEstimator  # noqa: E402
from hwaware.evaluation.gpu_data import timm_samples  # noqa: E402
from hwaware.evaluation.netregress_fit import stored_graph  # noqa: E402
from hwaware.graph.transform import with_batch  # noqa: E402
from hwaware.hardware import Platform  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "batch_bounds.md"


def _totals(rows: list, store) -> list[tuple[float, float]]:
    """(answer, answer without the batch bounds) per row, from a fresh estimator instance."""
    _INSTANCES.clear()
    est = get_estimator("resperfnet-gpu")
    out = []
    for r in rows:
        g = with_batch(stored_graph(store, r.arch_id), r.batch)
        p = Platform.resolve(r.gpu, precision=r.precision, batch_size=r.batch)
        free = est._answers([g], p, layers=False, capped=False)[0].total_ms
        out.append((est.predict(g, p).total_ms, free))
    return out


def main() -> None:
    start = time.time()
    warnings.simplefilter("ignore")
    store = load_store("timm")
    rows = [s.net for s in timm_samples()]
    gpus = sorted({r.gpu for r in rows})
    lines = ["# resperfnet-gpu's batch bounds on measured rows (`python benchmarks/batch_bounds.py`)", "",
             "timm's tables, every row (training and held-out: what the rule does to fitted answers), as users get "
             "them. `changed`: rows whose answer the bounds move; `ratio`: the smallest and largest answer with the "
             "bounds over the answer without; MAPE on the changed rows with and without.", "",
             "| rule | GPU | rows | changed | ratio min / max | MAPE of the changed rows, with / without |",
             "|---|---|---|---|---|---|"]
    for rule in ("shipped", "every platform"):
        if rule == "shipped":
            got = _totals(rows, store)
        else:
            with mock.patch.object(ResPerfNetGPUEstimator, "batch_span", lambda self, platform: None):
                got = _totals(rows, store)
        for gpu in gpus:
            mine = [(r, a, f) for r, (a, f) in zip(rows, got) if r.gpu == gpu]
            moved = [(r, a, f) for r, a, f in mine if abs(a / f - 1) > 1e-9]
            ratios = [a / f for _, a, f in moved]
            span = f"{min(ratios):.3f} / {max(ratios):.3f}" if moved else "–"
            mape = (f"{statistics.mean(abs(a / r.ms - 1) for r, a, _ in moved):.1%} / "
                    f"{statistics.mean(abs(f / r.ms - 1) for r, _, f in moved):.1%}" if moved else "–")
            lines.append(f"| {rule} | {gpu} | {len(mine)} | {len(moved)} | {span} | {mape} |")
    _INSTANCES.clear()
    version = get_estimator("resperfnet-gpu").version
    lines += ["", f"({time.time() - start:.0f} s; resperfnet-gpu {version})", ""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
