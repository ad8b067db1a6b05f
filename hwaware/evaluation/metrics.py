"""The accuracy figures every benchmark reports, computed one way."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats


def accuracy(pred: Sequence[float], true: Sequence[float]) -> dict[str, float]:
    """MAPE, share within +-10 %, Kendall tau, Spearman rho and the count of ``pred`` against ``true``."""
    p, t = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    if len(p) != len(t) or len(t) == 0:
        raise ValueError(f"need equal, non-empty prediction and truth vectors, got {len(p)} and {len(t)}")
    rel = np.abs(p - t) / t
    out = {"n": float(len(t)), "mape": float(rel.mean()), "within10": float((rel <= 0.10).mean())}
    if len(t) > 2 and np.ptp(t) > 0 and np.ptp(p) > 0:
        out["kendall"] = float(stats.kendalltau(p, t)[0])
        out["spearman"] = float(stats.spearmanr(p, t)[0])
    else:
        out["kendall"] = out["spearman"] = float("nan")
    return out


def signed_accuracy(pred: Sequence[float], true: Sequence[float]) -> dict[str, float]:
    """:func:`accuracy` and the median of ``pred / true``: which way the predictions err (MAPE says how far only)."""
    p, t = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    return {**accuracy(p, t), "median_ratio": float(np.median(p / t))}


def published_check(pred: Sequence[float], published: Sequence[float], inside: Sequence[bool]) -> dict[str, float]:
    """What a check against published timings reports: n, MAPE, median ``pred / published`` (:func:`signed_accuracy`)
    and the share of the published figures the estimates' intervals hold (``inside``)."""
    f = signed_accuracy(pred, published)
    return {"n": len(published), "mape": f["mape"], "median_ratio": f["median_ratio"],
            "coverage": float(np.mean(np.asarray(inside, dtype=bool)))}


def published_table(groups: dict[str, Sequence[Any]]) -> list[str]:
    """Markdown lines: :func:`published_check`'s figures per named group of rows (each with ``predicted``,
    ``published`` and ``inside``), as the checks against published timings print them."""
    lines = ["| rows | n | MAPE | median predicted / published | interval coverage |", "|---|---|---|---|---|"]
    for name, rows in groups.items():
        f = published_check([r.predicted for r in rows], [r.published for r in rows], [r.inside for r in rows])
        lines.append(f"| {name} | {f['n']} | {100 * f['mape']:.1f}% | x{f['median_ratio']:.2f} | "
                     f"{100 * f['coverage']:.0f}% |")
    return lines


def share_inside(log_residuals: Sequence[float], interval: Sequence[float]) -> float:
    """How much of ``log_residuals`` (log true / predicted) an interval ``(low, high)`` of them holds: its coverage."""
    r, (lo, hi) = np.asarray(log_residuals, dtype=float), interval
    return float(((r >= lo) & (r <= hi)).mean())
