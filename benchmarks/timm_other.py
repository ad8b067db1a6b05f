"""The shipped GPU model outside its training domain: timm's networks that are not CNNs (transformers, MLP mixers).

Every GPU model trains on CNN tables only (``scripts/capture_tables.py`` sets aside the timm rows with matmul or
attention layers). Users still ask about ViTs and Swins, so this measures what they get: each such row of the timm
GPU tables (AMP, eager, the row's own batch, mostly 1024), captured at that batch and precision and predicted
through the public API (``hwaware.estimate``, no calibration profile). Rows whose capture fails are counted apart.

Reported per GPU table, and split by whether the estimate carries the "outside the training domain" warning (a
network with matmul layers, which no training network has) or answers without one: MAPE, median ratio predicted /
measured, share within ±10 %, Spearman ρ, the roofline's MAPE, and the 90 % interval's coverage. No figure here
chose or tuned anything.

Writes ``benchmarks/results/timm_other.{json,md}``; resumable (predictions already in the JSON are kept).
Run: ``python benchmarks/timm_other.py`` (2026-12-01: about 10 minutes on one core).
"""
from __future__ import annotations

import json
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

import hwaware
from hwaware.datasets.gpu_tables import load_timm_gpu
from hwaware.datasets.graph_store import GRAPH_DIR, GraphStore
from hwaware.errors import ImplausibleEstimateWarning
from hwaware.evaluation.metrics import accuracy

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
NOT_A_CNN = "not a CNN"  # the reason scripts/capture_tables.py records for the rows it sets aside
DOMAIN = "outside the training domain"


def rows() -> list:
    other = {k for k, why in GraphStore.load(GRAPH_DIR / "timm.json.gz").failed.items() if why.startswith(NOT_A_CNN)}
    return [r for r in load_timm_gpu() if r.arch_id in other]


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
            for part in ("all", "warned" if v["warned"] else "no warning"):
                groups[(v["table"], v["gpu"], part)].append(v)
    out = []
    for (table, gpu, part), vs in sorted(groups.items()):
        y = np.array([v["ms"] for v in vs])
        pred = np.array([v["pred"] for v in vs])
        inside = [v["interval"][0] <= v["ms"] <= v["interval"][1] for v in vs]
        out.append({"table": table, "gpu": gpu, "rows": part, "n": len(vs), "model": accuracy(pred, y),
                    "median_ratio": float(np.median(pred / y)), "roofline": accuracy(np.array([v["roofline"] for v in vs]), y),
                    "interval_coverage": float(np.mean(inside))})
    return out


def markdown(table: list[dict], done: dict[str, dict], n_rows: int) -> str:
    errors = sum("error" in v for v in done.values())
    lines = ["# Outside the training domain: timm's networks that are not CNNs (`python benchmarks/timm_other.py`)", "",
             f"{n_rows} rows of the timm GPU tables (AMP, eager, the row's batch) whose networks have matmul or "
             f"attention layers; {errors} could not be captured. Predicted as `hwaware.estimate` answers, without "
             "calibration. `warned`: the estimate says it is outside the training domain (the network has matmul "
             "layers); `no warning`: it answers without that warning.", "",
             "| table | GPU | rows | n | MAPE | median predicted / measured | within ±10 % | Spearman ρ | roofline MAPE "
             "| interval coverage |", "|---|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        m = t["model"]
        lines.append(f"| {t['table']} | {t['gpu']} | {t['rows']} | {t['n']} | {m['mape']:.1%} | {t['median_ratio']:.2f} "
                     f"| {m['within10']:.0%} | {m['spearman']:.3f} | {t['roofline']['mape']:.1%} "
                     f"| {t['interval_coverage']:.0%} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    torch.set_num_threads(1)
    path = RESULTS / "timm_other.json"
    done = json.loads(path.read_text())["predictions"] if path.is_file() else {}
    todo = [r for r in rows() if _key(r) not in done]
    t0 = time.time()
    n_rows = len(rows())

    def save() -> None:
        path.write_text(json.dumps({"predictions": done, "summary": summary(done)}, separators=(",", ":")))

    predict(todo, done, save)
    save()
    (RESULTS / "timm_other.md").write_text(markdown(summary(done), done, n_rows))
    print(f"wrote {RESULTS / 'timm_other.md'} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
