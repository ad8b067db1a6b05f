"""Graph capture vs timm's published MAC and parameter counts (an independent truth).

For every model of a timm benchmark table that hwaware classifies as a CNN (at least one conv,
no activation x activation matmul or attention), capture the graph at the table's image size and
compare per-image MACs with ``infer_gmacs`` and parameters with ``param_count``.

timm computes ``infer_gmacs`` with fvcore, which adds batch/layer-norm and upsampling terms to the
conv/linear MACs; both hwaware counts are compared: ``Graph.fvcore_macs`` (same convention) and
``Graph.macs`` (conv/dense/matmul MACs only, the usual definition; expected a little lower).

timm publishes both rounded to 2 decimals (GMACs, M params), so a count is also accepted when it
rounds to the published figure; the strict 5 % figure is reported separately.

Run: ``python benchmarks/macs_vs_timm.py [--table NAME] [--limit N] [--out results/macs_vs_timm.csv]``
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from hwaware.datasets import load_timm_benchmark, timm_benchmark_files
from hwaware.graph import LayerKind, capture

DEFAULT_TABLE = "benchmark-infer-amp-nchw-pt291-cu128-4090.csv"


def is_cnn(graph) -> bool:
    kinds = {l.kind for l in graph.layers}
    return bool(kinds & {LayerKind.CONV, LayerKind.DEPTHWISE_CONV}) and not kinds & {LayerKind.MATMUL, LayerKind.ATTENTION}


def agrees(ours: float, published: float, tol: float = 0.05) -> bool:
    """Within ``tol`` relative, or equal after rounding to the published 2 decimals."""
    return abs(ours - published) <= tol * published or round(ours, 2) == published


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default=DEFAULT_TABLE)
    ap.add_argument("--limit", type=int, default=0, help="stop after N CNNs (0: all)")
    ap.add_argument("--out", default="results/macs_vs_timm.csv")
    args = ap.parse_args()
    table = next(p for p in timm_benchmark_files() if p.name == args.table)
    rows = {(r.model, r.img_size): r for r in load_timm_benchmark(table) if r.gmacs and r.param_count_m}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results, failures, not_cnn = [], [], 0
    t0 = time.time()
    for (model, size), row in sorted(rows.items()):
        try:
            g = capture(model, input_size=(3, size, size))
        except Exception as exc:  # reported, never hidden
            failures.append((model, f"{type(exc).__name__}: {str(exc)[:120]}"))
            continue
        if not is_cnn(g):
            not_cnn += 1
            continue
        gmacs = g.fvcore_macs / 1e9
        plain = g.macs / 1e9
        params_m = g.total_params / 1e6
        results.append(dict(model=model, img_size=size, gmacs=round(gmacs, 4), timm_gmacs=row.gmacs,
                            rel_err=round((gmacs - row.gmacs) / row.gmacs, 4), macs_ok=agrees(gmacs, row.gmacs),
                            macs_ok_strict=abs(gmacs - row.gmacs) <= 0.05 * row.gmacs,
                            plain_gmacs=round(plain, 4), plain_ok=agrees(plain, row.gmacs),
                            params_m=round(params_m, 4), timm_params_m=row.param_count_m,
                            params_ok=round(params_m, 2) == row.param_count_m))
        if args.limit and len(results) >= args.limit:
            break
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(results[0]))
        w.writeheader()
        w.writerows(results)
    n = len(results)
    ok = sum(r["macs_ok"] for r in results)
    strict = sum(r["macs_ok_strict"] for r in results)
    pok = sum(r["params_ok"] for r in results)
    errs = sorted(abs(r["rel_err"]) for r in results)
    print(f"table {table.name}: {len(rows)} models, {n} CNNs compared, {not_cnn} not CNNs, {len(failures)} failed to capture "
          f"({time.time() - t0:.0f} s)")
    plain_ok = sum(r["plain_ok"] for r in results)
    print(f"fvcore-convention MACs within 5% (or equal at timm's 2-decimal rounding): {ok}/{n} = {ok / n:.1%}")
    print(f"plain conv/dense MACs within 5% (or equal at rounding): {plain_ok}/{n} = {plain_ok / n:.1%}")
    print(f"MACs within 5% strictly: {strict}/{n} = {strict / n:.1%}; median |rel err| {errs[n // 2]:.2%}, "
          f"95th pct {errs[int(0.95 * n)]:.2%}")
    print(f"params equal at 2 decimals (M): {pok}/{n} = {pok / n:.1%}")
    for r in sorted(results, key=lambda r: -abs(r["rel_err"]))[:10]:
        if not r["macs_ok"]:
            print(f"  MAC mismatch {r['model']}@{r['img_size']}: ours {r['gmacs']:.3f} vs timm {r['timm_gmacs']}")
    for r in results:
        if not r["params_ok"]:
            print(f"  param mismatch {r['model']}: ours {r['params_m']:.3f} M vs timm {r['timm_params_m']}")
    for model, why in failures:
        print(f"  capture failed {model}: {why}")
    print(f"per-model rows: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
