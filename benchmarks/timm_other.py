"""The shipped GPU model outside its training domain: timm's networks that are not CNNs (transformers; the MLP
mixers, without matmul or attention layers, are training rows).

Every GPU model trains on CNN tables only (``scripts/capture_tables.py`` sets aside the timm rows with matmul or
attention layers). Users still ask about ViTs and Swins, so this measures what they get: each such row of the timm
GPU tables (AMP, eager, the row's own batch, mostly 1024), captured at that batch and precision and predicted
through the public API (``hwaware.estimate``, no calibration profile). Rows whose capture fails are counted apart.

Reported per GPU table: the share of rows whose estimate carries the "outside the training domain" warning (a
network with matmul layers, which no training network has; resperfnet-gpu then times its kernels at their roofline
and its launches as elementwise ones), MAPE, median ratio predicted / measured, share within ±10 %, Spearman ρ, the
roofline estimator's MAPE, and the 90 % interval's coverage. No figure here chose or tuned anything; the rule was
written after this script's first run (commit 4ff0d9f), whose figures the README reports beside these.

Writes ``benchmarks/results/timm_other.{json,md}``. Run: ``python benchmarks/timm_other.py`` (2026-12-01: about 5
minutes on one core); ``--resume`` keeps the predictions already in the JSON (an interrupted run) if they are of the
same weights, otherwise every row is predicted again with the code and weights at hand.
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

import hwaware
from hwaware.errors import ImplausibleEstimateWarning
from hwaware.estimators.base import get_estimator
from hwaware.evaluation.gpu_data import timm_other_rows
from hwaware.evaluation.metrics import accuracy

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
DOMAIN = "outside the training domain"


def predict(todo: list, done: dict[str, dict], save) -> None:
    """Predict each row not in ``done`` (key: table|gpu|arch|batch) through the public API, saving as it goes."""
    by_graph = defaultdict(list)
    for r in todo:
        by_graph[(r.arch["model"], tuple(r.arch["input_size"]), r.batch)].append(r)
    for n, ((model, size, batch), group) in enumerate(by_graph.items()):
        try:
            graph = hwaware.capture(model, batch_size=batch, input_size=size, precision="amp")
        except hwaware.HwawareError as exc:
            for r in group:
                done[_key(r)] = {"error": str(exc).splitlines()[0][:200]}
            continue
        for r in group:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ImplausibleEstimateWarning)  # recorded from the estimate instead
                est = hwaware.estimate(graph, r.gpu, batch_size=batch, precision="amp")
                roof = hwaware.estimate(graph, r.gpu, batch_size=batch, precision="amp", estimator="roofline")
            done[_key(r)] = {"table": r.table, "gpu": r.gpu, "arch": r.arch_id, "batch": batch, "ms": r.ms,
                             "pred": est.total_ms, "roofline": roof.total_ms, "interval": list(est.interval_ms),
                             "warned": any(w.startswith(DOMAIN) for w in est.warnings)}
        if n % 20 == 19:
            save()
            print(f"{n + 1}/{len(by_graph)} graphs", flush=True)


def _key(r) -> str:
    return f"{r.table}|{r.gpu}|{r.arch_id}|{r.batch}"


def summary(done: dict[str, dict]) -> list[dict]:
    groups = defaultdict(list)
    for v in done.values():
        if "error" not in v:
            groups[(v["table"], v["gpu"])].append(v)
    out = []
    for (table, gpu), vs in sorted(groups.items()):
        y = np.array([v["ms"] for v in vs])
        pred = np.array([v["pred"] for v in vs])
        inside = [v["interval"][0] <= v["ms"] <= v["interval"][1] for v in vs]
        out.append({"table": table, "gpu": gpu, "warned": float(np.mean([v["warned"] for v in vs])), "n": len(vs),
                    "model": accuracy(pred, y),
                    "median_ratio": float(np.median(pred / y)), "roofline": accuracy(np.array([v["roofline"] for v in vs]), y),
                    "interval_coverage": float(np.mean(inside))})
    return out


def markdown(table: list[dict], done: dict[str, dict], n_rows: int) -> str:
    errors = sum("error" in v for v in done.values())
    lines = ["# Outside the training domain: timm's networks that are not CNNs (`python benchmarks/timm_other.py`)", "",
             f"{n_rows} rows of the timm GPU tables (AMP, eager, the row's batch) whose networks have matmul or "
             f"attention layers; {errors} could not be captured. Predicted as `hwaware.estimate` answers, without "
             "calibration. `warned`: the share of rows whose estimate says it is outside the training domain (the "
             "network has matmul layers). `interval coverage`: of the interval the estimate carries, which from "
             "2026-12-05 contains the outside-domain interval made from these very rows (`python scripts/train_gpu.py "
             "outside`), so it is in-sample; that stage's held-out coverages are in "
             "`benchmarks/results/gpu/outside_interval.json`.", "",
             "| table | GPU | n | warned | MAPE | median predicted / measured | within ±10 % | Spearman ρ | roofline MAPE "
             "| roofline ρ | interval coverage |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        m = t["model"]
        lines.append(f"| {t['table']} | {t['gpu']} | {t['n']} | {t['warned']:.0%} | {m['mape']:.1%} | {t['median_ratio']:.2f} "
                     f"| {m['within10']:.0%} | {m['spearman']:.3f} | {t['roofline']['mape']:.1%} | {t['roofline']['spearman']:.3f} "
                     f"| {t['interval_coverage']:.0%} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resume", action="store_true", help="keep the predictions already in the JSON")
    args = ap.parse_args()
    torch.set_num_threads(1)
    path = RESULTS / "timm_other.json"
    est = get_estimator("resperfnet-gpu")
    est._loaded()
    model = {"estimator": est.name, "version": est.version, "weights_id": est.weights_id_}
    before = json.loads(path.read_text()) if args.resume and path.is_file() else {}
    done = before["predictions"] if before.get("model") == model else {}  # another model's are predicted again
    rows = timm_other_rows()
    todo = [r for r in rows if _key(r) not in done]
    t0 = time.time()
    n_rows = len(rows)

    def save() -> None:  # the weights the predictions are of: the outside-domain interval is made from them
        path.write_text(json.dumps({"model": model, "predictions": done, "summary": summary(done)},
                                   separators=(",", ":")))

    predict(todo, done, save)
    save()
    (RESULTS / "timm_other.md").write_text(markdown(summary(done), done, n_rows))
    print(f"wrote {RESULTS / 'timm_other.md'} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
