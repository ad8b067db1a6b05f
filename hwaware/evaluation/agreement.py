"""How well a measured column's ranking is shared by the other GPUs that timed the same architectures.

HELP timed the same architectures on five desktop GPUs, two of them the same die (TU102: RTX 2080 Ti and TITAN RTX)
and three another (GP102: GTX 1080 Ti, TITAN X (Pascal), TITAN Xp). A column's *best agreement* is its highest
Spearman ρ against another GPU's column of the same table and batch. Where no other GPU, not even the same chip,
ranks the architectures within ρ :data:`AGREEMENT_RHO` of a column, the column's ranking is its own: measurement
scatter, or its machine's own host costs (HELP timed each GPU on its own machine). The data cannot separate the
two, and it is not a bound on a predictor: the model ranks OFA batch 1 on the TITAN RTX at ρ 0.89 against a best
agreement of 0.72, so part of that column's ranking is real and learnable. (OFA batch 1 on the 2080 Ti and the
TITAN RTX agree at ρ 0.69; ``python benchmarks/gpu_accuracy.py`` prints every column's best agreement.)

A column below the threshold is labelled ``low-agreement`` in the reports, which give every figure with and without
the label: it was defined on 2026-11-30 after the held-out figures were known, and its threshold is the held-out ρ
target. It is an evaluation label only: no training weight reads it (the data README's caveats do,
:func:`hwaware.evaluation.gpu_data.column_weights`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from scipy import stats

AGREEMENT_RHO = 0.97
"""issue 8's held-out ranking target (chosen after the held-out figures were seen): a column whose ranking no other GPU
shares this well is labelled."""
MIN_COMMON = 10  # fewer shared architectures say nothing about a ranking


class Agreement(NamedTuple):
    """A column's best Spearman ρ against another GPU's column of the same table, space, runtime, precision and batch,
    on the architectures both measured, and that column."""

    rho: float
    partner: str
    n: int

    @property
    def low(self) -> bool:
        return self.rho < AGREEMENT_RHO


def cross_gpu_agreement(samples: Sequence[Any]) -> dict[str, Agreement]:
    """:class:`Agreement` of every network column of ``samples`` (``Sample`` objects of
    :mod:`hwaware.evaluation.gpu_data`) that has a same-platform column on another GPU with at least
    :data:`MIN_COMMON` architectures in common; the others (timm's tables, whose batches differ per row) are absent."""
    # per column, its GPU and architecture -> (platform, ms); the platform carries the row's batch, which a timm table
    # shrinks per row: two rows compare only when everything but the GPU is the same
    by_col: dict[str, tuple[str, dict[str, tuple[tuple, float]]]] = {}
    for s in samples:
        r = s.net
        if r is not None:
            by_col.setdefault(s.column, (r.gpu, {}))[1][r.arch_id] = ((r.table, r.space, r.runtime, r.precision,
                                                                      r.batch), r.ms)
    out: dict[str, Agreement] = {}
    for col, (gpu, rows) in by_col.items():
        best: Agreement | None = None
        for other, (ogpu, orows) in by_col.items():
            common = sorted(a for a in rows.keys() & orows.keys() if rows[a][0] == orows[a][0])
            if ogpu == gpu or len(common) < MIN_COMMON:
                continue
            x, y = [rows[a][1] for a in common], [orows[a][1] for a in common]
            if len(set(x)) < 2 or len(set(y)) < 2:  # a constant column ranks nothing
                continue
            rho = float(stats.spearmanr(x, y)[0])
            if best is None or rho > best.rho:
                best = Agreement(rho, other, len(common))
        if best is not None:
            out[col] = best
    return dict(sorted(out.items()))
