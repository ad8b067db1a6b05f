"""Train paper 003's whole-network regressors (netregress-{ols,mlp,svr,rf,xgb}), one model per measured platform.

Declared before any fit (and written to meta.json as declared):

* **Candidates**: the five families of paper 003 (OLS, MLP, SVR, RF, XGBoost) on :data:`FEATURES`, each with the grid
  :data:`GRIDS` (``hwaware/evaluation/netregress_fit.py``). Target log(ms); features log1p.
* **Platforms**: every measured table column (GPU, runtime, precision, batch): HELP NB201/FBNet/OFA columns, timm
  GPU tables at their most common batch, torch2trt's Jetson columns.
* **Split**: the GPU splits of :mod:`hwaware.evaluation.splits` — ``GPU_TEST`` groups are never trained or chosen
  on; everything else (train + val of ``split_gpu_samples``) trains, and torch2trt's Jetson rows always train (the
  data README: calibrate on them, never report accuracy on them; ``splits.gpu_part``), so the Jetson platforms have
  no test figure. The scored test networks of each platform are listed in the results (``test_networks``), so
  that tests re-score the same networks however the graph stores grow.
  At most ``--cap`` training networks per platform, taken in stable-hash order (2 shared cores).
* **Selection rule**: per platform and family, lowest grouped ``--folds``-fold CV MAPE (GroupKFold by
  :func:`gpu_sample_group`: HELP layer multiset, timm family, torchvision family); the winner is refitted on all
  training rows of the platform. Every candidate's CV MAPE is reported; test figures are never used to choose.
* **Paper-003 exploration spaces** (Table V): on each timm GPU, NIS / NCV / NCA (``splits.PAPER003_SPLITS``); the same
  grid search on the split's training side, the chosen model scored on its test side.

Writes ``hwaware/estimators/weights/netregress/`` (``<family>.json``, ``rf/``, ``xgb/``, ``meta.json``) and
``benchmarks/results/netregress.json`` + ``.md``.

Run: ``OMP_NUM_THREADS=1 nice -n 15 python scripts/train_netregress.py`` (``--cap 300`` for a quicker run).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from hwaware.estimators.netregress import FAMILIES, FEATURES, WEIGHTS_DIR, platform_key
from hwaware.evaluation.gpu_data import Sample
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.provenance import provenance
from hwaware.evaluation.netregress_fit import (CV_SEED, GRIDS, SEED, FeatureCache, Search, cap_rows, grid_search,
                                               measured_rows, modal_batch)
from hwaware.evaluation.splits import (GPU_TEST, GPU_VAL, PAPER003_GROUPS, PAPER003_SPLITS, check_disjoint,
                                       gpu_sample_group, split_gpu_samples)

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "hwaware" / "estimators" / "weights" / WEIGHTS_DIR
RESULTS = ROOT / "benchmarks" / "results"
TEST_CAP = 1000  # test networks scored per platform (stable-hash order), to bound feature extraction time


def group(r) -> str:
    return gpu_sample_group(Sample(r, None))


def slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")


def score(search: Search, x: np.ndarray, y_ms: np.ndarray) -> dict:
    t0 = time.perf_counter()
    pred = np.exp(search.best.predict(x))
    per_net = (time.perf_counter() - t0) / max(len(x), 1)
    out = accuracy(pred, y_ms)
    out["predict_us_per_network"] = 1e6 * per_net
    return out


def run_searches(x: np.ndarray, y_ms: np.ndarray, groups: list[str], folds: int) -> dict[str, Search]:
    return {f: grid_search(f, x, np.log(y_ms), groups, n_splits=folds) for f in FAMILIES}


def search_record(s: Search) -> dict:
    return {"cv_mape": s.cv_mape, "selected": s.best.params, "candidates": s.candidates,
            "grid_seconds": s.grid_seconds, "fit_seconds": s.fit_seconds, "residual_q05_q95": list(s.residual_q)}


def rows_id(rows: list) -> list:
    return [(r.space, r.arch_id, r.ms) for r in rows]


def candidate_figures(results: dict) -> dict:
    """Every candidate family's CV and test MAPE per platform, and its test MAPE per paper-003 split (meta.json carries
    the candidates' figures; the results file adds the fits, grids and networks)."""
    mape = lambda fam, k: fam[k]["mape"] if k in fam else None  # noqa: E731
    return {"platforms": {key: {f: {"cv_mape": fam["cv_mape"], "test_mape": mape(fam, "test")}
                                for f, fam in rec["families"].items()} for key, rec in results["platforms"].items()},
            "paper003": {gpu: {name: {f: fam["test"]["mape"] for f, fam in out["families"].items()}
                               for name, out in splits.items()} for gpu, splits in results["paper003"].items()}}


def split_definition(cap: int) -> dict:
    """Every seed and share that decides which rows train, are tested, and fall in which CV fold."""
    desc = lambda sp: {"class": type(sp).__name__, "seed": sp.seed, "test_share": sp.test_share}  # noqa: E731
    return {"gpu_test": {**desc(GPU_TEST), "rule": "GPU_TEST groups held out (split_gpu_samples: train + val train; "
                                                   "torch2trt's Jetson rows always train)"},
            "gpu_val": desc(GPU_VAL), "groups": "hwaware.evaluation.splits.gpu_sample_group",
            "paper003": {name: desc(sp) for name, sp in PAPER003_SPLITS.items()},
            "cv": {"class": "GroupKFold", "seed": CV_SEED}, "cap": {"per_platform": cap, "stable_hash_seed": SEED + 7},
            "test_cap": TEST_CAP}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cap", type=int, default=400, help="training networks per platform (stable-hash sample)")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--only", default="", help="train only platforms whose key contains this text")
    ap.add_argument("--no-splits", action="store_true", help="skip the NIS/NCV/NCA runs")
    args = ap.parse_args()
    np.random.seed(0)

    t_start = time.perf_counter()
    prov = provenance("sklearn", "xgboost")  # the code as the run starts: a commit made while it trains is not its code
    rows = measured_rows()
    train_s, val_s, test_s = split_gpu_samples([Sample(r, None) for r in rows])
    train_rows, test_rows = [s.net for s in train_s + val_s], [s.net for s in test_s]
    check_disjoint([group(r) for r in train_rows if r.table != "torch2trt"], [group(r) for r in test_rows])
    columns = sorted({platform_key(r.gpu, r.runtime, r.precision, r.batch) for r in train_rows})
    columns = [c for c in columns if args.only in c]
    feats = FeatureCache()
    docs: dict[str, dict] = {f: {} for f in FAMILIES}
    results: dict[str, dict] = {"platforms": {}, "paper003": {}}
    digest = hashlib.blake2b(digest_size=16)
    for n, key in enumerate(columns, 1):
        tr = cap_rows([r for r in train_rows if platform_key(r.gpu, r.runtime, r.precision, r.batch) == key],
                      args.cap)
        te = cap_rows([r for r in test_rows if platform_key(r.gpu, r.runtime, r.precision, r.batch) == key],
                      TEST_CAP)
        t0 = time.perf_counter()
        x, y = feats.matrix(tr), np.array([r.ms for r in tr])
        feat_seconds = time.perf_counter() - t0
        digest.update(json.dumps([key, rows_id(tr), rows_id(te)]).encode())  # every row a figure reads
        digest.update(x.tobytes())
        searches = run_searches(x, y, [group(r) for r in tr], args.folds)
        rec = {"n_train": len(tr), "n_test": len(te), "test_networks": [r.arch_id for r in te],
               "spaces": sorted({r.space for r in tr}),
               "flags": sorted({r.flag for r in tr if r.flag}), "feature_seconds": feat_seconds, "families": {}}
        xt, yt = (feats.matrix(te), np.array([r.ms for r in te])) if te else (None, None)
        for f, s in searches.items():
            fam = search_record(s)
            fam["fit"] = score(s, x, y)
            if xt is not None and len(te) >= 3:
                fam["test"] = score(s, xt, yt)
            rec["families"][f] = fam
            doc = dict(s.best.doc, cv_mape=s.cv_mape, cv_folds=args.folds, n_train=len(tr),
                       residual_q05=s.residual_q[0], residual_q95=s.residual_q[1], params=s.best.params,
                       log_ms_range=[float(np.log(y).min()), float(np.log(y).max())],
                       feature_range=[x.min(axis=0).tolist(), x.max(axis=0).tolist()])  # (the domain check's)
            if s.best.booster_json is not None:
                path = WEIGHTS / f / f"{slug(key)}.json.gz"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(gzip.compress(s.best.booster_json, mtime=0))
                doc["file"] = f"{f}/{path.name}"
            docs[f][key] = doc
        results["platforms"][key] = rec
        best = min(rec["families"].items(), key=lambda kv: kv[1]["cv_mape"])
        test_txt = f", test MAPE {100 * best[1]['test']['mape']:.1f} %" if "test" in best[1] else ""
        print(f"[{n}/{len(columns)}] {key}: {len(tr)} train / {len(te)} test; best CV {best[0]} "
              f"{100 * best[1]['cv_mape']:.1f} %{test_txt} ({time.perf_counter() - t0:.0f} s)", flush=True)

    if not args.no_splits:
        timm = [r for r in rows if r.space == "timm"]
        for gpu in sorted({r.gpu for r in timm}):
            g_rows = [r for r in timm if r.gpu == gpu]
            for name, splitter in PAPER003_SPLITS.items():
                tr_i, te_i = splitter.split(g_rows)
                tr, te = [g_rows[i] for i in tr_i], [g_rows[i] for i in te_i]
                check_disjoint([PAPER003_GROUPS[name](r) for r in tr], [PAPER003_GROUPS[name](r) for r in te])
                tr = cap_rows(tr, args.cap)
                digest.update(json.dumps([gpu, name, rows_id(tr), rows_id(te)]).encode())
                t0 = time.perf_counter()
                x, y = feats.matrix(tr), np.array([r.ms for r in tr])
                xt, yt = feats.matrix(te), np.array([r.ms for r in te])
                searches = run_searches(x, y, [group(r) for r in tr], args.folds)
                out = {"n_train": len(tr), "n_test": len(te), "test_networks": [r.arch_id for r in te],
                       "batch": modal_batch(g_rows), "families": {}}
                for f, s in searches.items():
                    fam = search_record(s)
                    fam["test"] = score(s, xt, yt)
                    out["families"][f] = fam
                results["paper003"].setdefault(gpu, {})[name] = out
                print(f"{gpu} {name}: {len(tr)} train / {len(te)} test; test MAPE "
                      + ", ".join(f"{f} {100 * v['test']['mape']:.1f} %" for f, v in out["families"].items())
                      + f" ({time.perf_counter() - t0:.0f} s)", flush=True)

    meta = {
        "estimators": [f"netregress-{f}" for f in FAMILIES], "features": list(FEATURES),
        "feature_transform": "log1p; standardised (train mean/std) for ols, mlp, svr", "target": "log(ms)",
        "grid": GRIDS, "selection": f"lowest grouped {args.folds}-fold CV MAPE per platform and family; refit on all",
        "split": split_definition(args.cap), "cap_train_per_platform": args.cap, "test_cap_per_platform": TEST_CAP,
        "data_hash": digest.hexdigest(), "platforms": columns, **prov, "n_jobs": 1,
        "command": " ".join(["python", *sys.argv]), "seconds": time.perf_counter() - t_start,
        "figures_file": "benchmarks/results/netregress.json", "figures": candidate_figures(results),
    }
    if not args.only:  # a partial run must not overwrite the shipped set
        WEIGHTS.mkdir(parents=True, exist_ok=True)
        for f in FAMILIES:
            (WEIGHTS / f"{f}.json").write_text(json.dumps({"features": list(FEATURES), "platforms": docs[f]}))
        (WEIGHTS / "meta.json").write_text(json.dumps(meta, indent=1))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_name = "netregress" if not args.only else f"netregress-{slug(args.only)}"
    (RESULTS / f"{out_name}.json").write_text(json.dumps({"meta": meta, **results}, indent=1))
    (RESULTS / f"{out_name}.md").write_text(table_v(results))
    print(table_v(results))


PAPER_TABLE_V = {  # Bouzidi et al. Table V, MAPE on Jetson AGX Xavier / TX2 (Keras + TF 1.14, fp32, batch 1)
    "ols": {"NIS": (24.43, 26.32), "NCV": (20.81, 22.95), "NCA": (19.30, 20.32)},
    "mlp": {"NIS": (13.04, 15.78), "NCV": (9.23, 9.65), "NCA": (13.34, 16.31)},
    "svr": {"NIS": (13.30, 13.84), "NCV": (7.67, 8.37), "NCA": (15.00, 16.72)},
    "rf": {"NIS": (11.19, 11.07), "NCV": (10.55, 8.95), "NCA": (13.11, 15.22)},
    "xgb": {"NIS": (8.75, 10.95), "NCV": (8.12, 9.11), "NCA": (12.29, 14.73)},
}


def table_v(results: dict) -> str:
    """Bouzidi Table V layout: test MAPE per family and exploration space, ours per timm GPU beside the paper's."""
    gpus = sorted(results["paper003"])
    head = ["family", "space", *[f"ours: {g}" for g in gpus], "paper: AGX", "paper: TX2"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for f in FAMILIES:
        for sp in PAPER003_SPLITS:
            cells = []
            for g in gpus:
                v = results["paper003"][g].get(sp, {}).get("families", {}).get(f)
                cells.append(f"{100 * v['test']['mape']:.1f} % (n={int(v['test']['n'])})" if v else "–")
            agx, tx2 = PAPER_TABLE_V[f][sp]
            lines.append(f"| {f} | {sp} | " + " | ".join(cells) + f" | {agx:.2f} % | {tx2:.2f} % |")
    lines += ["", "| family | training s (mean) | grid search s (mean) | candidates | prediction µs/network (model only) |",
              "|---|---|---|---|---|"]
    for f in FAMILIES:
        recs = [v["families"][f] for g in gpus for v in results["paper003"][g].values()]
        mean = lambda k: float(np.mean([r[k] for r in recs]))  # noqa: E731
        lat = float(np.mean([r["test"]["predict_us_per_network"] for r in recs]))
        lines.append(f"| {f} | {mean('fit_seconds'):.3f} | {mean('grid_seconds'):.2f} | {len(GRIDS[f])} | {lat:.2f} |")
    lines.append("")
    lines.append("Ours: timm AMP tables (eager PyTorch, batch = the table's most common, 1024 or 2048), per-batch ms; "
                 "NIS/NCV/NCA from timm families and image sizes (hwaware.evaluation.splits.PAPER003_SPLITS). Paper: "
                 "Keras/TF 1.14 fp32 batch 1 on Jetson AGX Xavier and TX2, its own CNN zoo, NCA = random synthetic "
                 "CNNs. Different devices, data and targets: read the rows side by side, not as a contest.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
