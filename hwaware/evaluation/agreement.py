"""How well a measured column agrees with itself: the data's own ceiling on a ranking figure.

HELP timed the same architectures on five desktop GPUs, two of them the same die (TU102: RTX 2080 Ti and TITAN RTX)
and three another (GP102: GTX 1080 Ti, TITAN X (Pascal), TITAN Xp). Where no other GPU ranks a column's
architectures within Spearman ρ :data:`AGREEMENT_RHO` of it, not even a near-identical chip, most of what is left
is the measurement's scatter, not the architectures: OFA batch 1 on the 2080 Ti and the TITAN RTX agree at ρ 0.67
(``python benchmarks/gpu_accuracy.py`` prints every column's best agreement). If two columns were the same truth
plus independent noise, the truth itself would rank one of them at no more than about the square root of their ρ.

A column below the threshold is flagged ``low-agreement`` in the reports. This flag is an evaluation label only: it
does not change a training weight (the data README's caveats do, :func:`hwaware.evaluation.gpu_data.column_weights`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from scipy import stats

AGREEMENT_RHO = 0.97
"""issue 8's held-out ranking target: a column that no other GPU reproduces this well is flagged."""
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
    :mod:`hwaware.evaluation.gpu_data`) that has a same-platform column on another GPU; the others are absent."""
    # per column, architecture -> (platform, ms); the platform carries the row's batch, which a timm table
    # shrinks per row: two rows compare only when everything but the GPU is the same
    by_col: dict[str, dict[str, tuple[tuple, float]]] = {}
    for s in samples:
        r = s.net
        if r is not None:
            by_col.setdefault(s.column, {})[r.arch_id] = ((r.table, r.space, r.runtime, r.precision, r.batch), r.ms)
    out: dict[str, Agreement] = {}
    for col, rows in by_col.items():
        best: Agreement | None = None
        for other, orows in by_col.items():
            common = sorted(a for a in rows.keys() & orows.keys() if rows[a][0] == orows[a][0])
            if other == col or len(common) < MIN_COMMON:
                continue
            rho = float(stats.spearmanr([rows[a][1] for a in common], [orows[a][1] for a in common])[0])
            if best is None or rho > best.rho:
                best = Agreement(rho, other, len(common))
        if best is not None:
            out[col] = best
    return dict(sorted(out.items()))
