"""Train the CPU ResPerfNet models, choose among declared candidates by a rule fixed here, and report every one.

Everything that decides what ships is declared in this file, before any training:

* Split (:func:`hwaware.evaluation.splits.split_cpu_layers`): layers are grouped by their batch-agnostic
  signature (:func:`~hwaware.evaluation.splits.layer_group`), so a layer and its batch variants are on one
  side. ``CPU_TEST`` holds out 20 % of the groups (never trained on, never chosen on); ``CPU_VAL`` 10 % of the
  rest (each model's best epoch and the choice between candidates). Clean: a layer whose group is a kernel of a
  held-out network (:data:`~hwaware.evaluation.splits.HELD_OUT_NETWORKS`) is in neither train nor val.
* Candidates (:data:`CANDIDATES`) for the exe phase; pre and post are one conditioned model each, shared.
* Rule (:data:`RULE`, :func:`choose`).

Every candidate is evaluated on the same VAL and TEST rows and on the held-out networks (whole-network
calibration fitted on the training-family networks; calibrated and uncalibrated figures), and all of it is
written to ``--results`` (JSON) and ``--report`` (Markdown); the chosen set goes to ``--out`` with a meta.json
that records the rule, the candidates' figures, the code commit, the versions, the thread count, the data hash
and the split. Baselines on the same split (exe phase, per kind): XGBoost, SVR (RBF) and polynomial regression
(degree 2), on log features and log targets with fixed hyper-parameters.

Resumable: each trained step is saved under ``--work/<step>-<digest>/`` (digest of the data hash, split and
settings) and loaded, not retrained, by a later run with the same ones. Seconds per model are in the results
(``history.seconds``).

Run: ``python scripts/train_resperfnet.py`` (1 torch thread; see ``--help``). ``--limit N`` trains on N rows
for a smoke test: write it to a temporary ``--out``, never to the shipped weights.
After training, ``python scripts/fit_network_calibration.py`` chooses the shipped whole-network calibration form
(this script fits and stores the first form, "kernels", for every candidate).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hwaware.datasets.measured import REPO_DATA, load_layer_samples, resolve
from hwaware.estimators.features import device_features
from hwaware.estimators.resperfnet import (PHASES, NetworkCalibration, PhaseModel, ResPerfNetEstimator, _model_key,
                                          load_models, save_models)
from hwaware.evaluation.provenance import provenance as shared_provenance
from hwaware.evaluation.cpu_networks import batch1_networks, fit_calibration, held_out_accuracy
from hwaware.evaluation.splits import CPU_TEST, CPU_VAL, HELD_OUT_FAMILIES, split_cpu_layers
from hwaware.hardware import Platform

ROOT = Path(__file__).resolve().parents[1]
PAPER_TABLE5 = {  # paper 004, Table 5 (TensorFlow, GTX 1080 Ti): MAPE %
    ("conv", "pre"): 1.603, ("conv", "exe"): 11.75, ("conv", "post"): 2.821, ("pool", "pre"): 1.177,
    ("pool", "exe"): 6.221, ("pool", "post"): 1.967, ("dense", "pre"): 6.455, ("dense", "exe"): 4.515,
    ("dense", "post"): 13.86,
}
PAPER_TABLE1 = {"polynomial": 63.57, "svr": 58.74, "xgboost": 29.25, "resperfnet": 11.75}  # conv exe MAPE %, TF

CANDIDATES: dict[str, dict[str, Any]] = {
    "per_kind": {"mode": "per_kind"},  # one exe model per layer kind with >= 40 training rows
    "conditioned": {"mode": "conditioned"},  # one exe model, the kind one-hot in its input
}
RULE = ("lowest exe MAPE on CPU_VAL (all kinds; the same rows for every candidate); the test split, the held-out "
        "networks and the models' size play no part; an exact tie goes to the candidate listed first")
SPLIT = {"groups": "hwaware.evaluation.splits.layer_group (kind, op, shapes without batch, attributes, params)",
         "test": f"CPU_TEST: groups with stable_unit(group, seed={CPU_TEST.seed}) < {CPU_TEST.test_share}",
         "val": f"CPU_VAL: of the rest, stable_unit(group, seed={CPU_VAL.seed}) < {CPU_VAL.test_share}",
         "clean": "groups of a kernel of a held-out network (HELD_OUT_NETWORKS at their default timm input size) "
                  "are in neither train nor val", "held_out_families": list(HELD_OUT_FAMILIES)}


def choose(val_mape: dict[str, float]) -> str:
    """:data:`RULE`: ``min`` keeps the first of equal values, in :data:`CANDIDATES` order."""
    return min(CANDIDATES, key=lambda name: val_mape[name])


def metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    return {"mape": float(np.mean(np.abs(pred - true) / true) * 100), "rmse": float(np.sqrt(np.mean((pred - true) ** 2))),
            "mae": float(np.mean(np.abs(pred - true))), "n": int(len(true))}


def predict_phase(models, samples, phase, dev) -> np.ndarray:
    out = np.zeros(len(samples))
    groups = defaultdict(list)
    for i, s in enumerate(samples):
        groups[_model_key(models, phase, s.layer.kind)].append(i)
    for key, idx in groups.items():
        m = models[(phase, key)]
        out[idx] = m.predict_raw(m.inputs([samples[i].layer for i in idx], dev))
    return out


def per_kind_phase(models, samples, dev) -> dict[str, dict[str, float]]:
    """``"<kind>/<phase>"`` (and ``"all/<phase>"``) -> metrics of ``models`` on ``samples``."""
    out = {}
    for phase in PHASES:
        pred = predict_phase(models, samples, phase, dev)
        true = np.array([getattr(s, f"{phase}_ms") for s in samples])
        for kind in sorted({s.layer.kind.value for s in samples}):
            idx = [i for i, s in enumerate(samples) if s.layer.kind.value == kind]
            out[f"{kind}/{phase}"] = metrics(pred[idx], true[idx])
        out[f"all/{phase}"] = metrics(pred, true)
    return out


def baselines(train, test, dev, threads: int) -> dict[str, dict[str, dict[str, float]]]:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler
    from sklearn.svm import SVR
    from xgboost import XGBRegressor

    def make(name):
        if name == "xgboost":
            return XGBRegressor(n_estimators=400, max_depth=6, learning_rate=0.05, subsample=0.9, n_jobs=threads,
                                random_state=0)
        if name == "svr":
            return make_pipeline(StandardScaler(), SVR(C=10.0, epsilon=0.05, gamma="scale"))
        return make_pipeline(StandardScaler(), PolynomialFeatures(2), Ridge(alpha=1e-3))

    out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for kind in sorted({s.layer.kind for s in test}, key=lambda k: k.value):
        tr = [s for s in train if s.layer.kind is kind]
        te = [s for s in test if s.layer.kind is kind]
        if len(tr) < 40:
            continue
        xtr = np.log1p(PhaseModel.inputs_for([s.layer for s in tr], dev, False))
        xte = np.log1p(PhaseModel.inputs_for([s.layer for s in te], dev, False))
        ytr = np.log(np.array([s.exe_ms for s in tr]))
        yte = np.array([s.exe_ms for s in te])
        for name in ("xgboost", "svr", "polynomial"):
            idx = np.random.default_rng(0).permutation(len(tr))[:4000] if name == "svr" else slice(None)
            model = make(name).fit(xtr[idx], ytr[idx])
            out[name][kind.value] = metrics(np.exp(model.predict(xte)), yte)
    return dict(out)


def provenance(data: Path, threads: int) -> dict[str, Any]:
    """The shared record (:func:`hwaware.evaluation.provenance.provenance`) plus this script's data file."""
    return {**shared_provenance(), "data_file": str(data.relative_to(ROOT)) if data.is_relative_to(ROOT) else str(data),
            "data_sha256": hashlib.sha256(data.read_bytes()).hexdigest(), "torch_threads": threads}


def step(work: Path, name: str, settings: dict[str, Any], train: Callable[[], dict], log: Callable) -> dict:
    """The models of one training step: loaded from ``work`` if a run with the same settings saved them, else
    trained and saved. Always the float16 round trip, so a resumed run evaluates exactly what a fresh one does."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    folder = work / f"{name}-{digest}"
    if not (folder / "meta.json").is_file():
        log(f"training step {name} -> {folder}")
        save_models(train(), folder, {"step": name, "settings": settings})
    else:
        log(f"step {name}: resumed from {folder}")
    return load_models(folder)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO_DATA / "cpu" / "layers.csv"))
    ap.add_argument("--platform", default="cpu")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--phase-rows", type=int, default=4000, help="rows (stratified) for the pre/post models")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: at most N train rows (N/5 val, N/2 test)")
    ap.add_argument("--leaky", action="store_true", help="keep held-out networks' layer groups in train/val "
                                                         "(the old protocol, for the side-by-side comparison)")
    ap.add_argument("--work", default=str(ROOT / "results" / "resperfnet_cpu_steps"))
    ap.add_argument("--out", default=str(ROOT / "hwaware" / "estimators" / "weights" / "resperfnet"))
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "results" / "resperfnet_layers.md"))
    ap.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "resperfnet_cpu.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    log = lambda m: print(m, flush=True)  # noqa: E731
    platform = Platform.resolve(args.platform)
    dev = device_features(platform.device)
    path = resolve(args.data)
    samples = sorted(load_layer_samples(path), key=lambda s: s.sample_id)
    train, val, test = split_cpu_layers(samples, clean=not args.leaky)
    excluded = len(samples) - len(train) - len(val) - len(test)
    if args.limit:
        train, val, test = train[:args.limit], val[:args.limit // 5], test[:args.limit // 2]
    split = {**SPLIT, "clean": SPLIT["clean"] if not args.leaky else "no (--leaky)", "train": len(train),
             "val": len(val), "test": len(test), "excluded": excluded, "limit": args.limit or None}
    log(f"{len(samples)} layer samples from {path.name}: {split['train']} train, {split['val']} val, "
        f"{split['test']} test, {split['excluded']} excluded")
    prov = provenance(path, args.threads)
    settings = {"data_sha256": prov["data_sha256"], "split": split, "epochs": args.epochs,
                "phase_rows": args.phase_rows}
    work = Path(args.work)

    prepost = step(work, "prepost", settings, lambda: ResPerfNetEstimator(
        cache=False, mode="conditioned", epochs=args.epochs, copy_phase_rows=args.phase_rows).fit(
        train, platform, log=log, phases=("pre", "post"), val=val).models_[platform.key], log)
    fitted = {name: {**prepost, **step(work, f"exe-{name}", {**settings, **cfg}, lambda cfg=cfg: ResPerfNetEstimator(
        cache=False, epochs=args.epochs, **cfg).fit(train, platform, log=log, phases=("exe",), val=val)
        .models_[platform.key], log)} for name, cfg in CANDIDATES.items()}

    nets = batch1_networks()
    report: dict[str, Any] = {"rule": RULE, "split": split, "candidates": {}}
    for name, models in fitted.items():
        val_exe = predict_phase(models, val, "exe", dev)
        est = ResPerfNetEstimator(cache=False, **CANDIDATES[name])
        est.models_ = {platform.key: models}
        calibration = fit_calibration(est, platform, nets)
        report["candidates"][name] = {
            "config": CANDIDATES[name], "val_exe_mape": metrics(val_exe, np.array([s.exe_ms for s in val]))["mape"],
            "test": per_kind_phase(models, test, dev), "network_calibration": calibration,
            "held_out_networks": held_out_accuracy(est, platform, nets, NetworkCalibration.from_doc(calibration)),
            "history": {f"{p}/{k}": m.history for (p, k), m in sorted(models.items())}}
        c = report["candidates"][name]
        log(f"{name}: val exe MAPE {c['val_exe_mape']:.2f} %, held-out networks MAPE "
            f"{c['held_out_networks']['calibrated']['mape']:.2%} calibrated, "
            f"{c['held_out_networks']['uncalibrated']['mape']:.2%} uncalibrated")
    chosen = choose({n: c["val_exe_mape"] for n, c in report["candidates"].items()})
    report["chosen"] = chosen
    report["baselines"] = baselines(train, test, dev, args.threads)
    report["provenance"] = prov
    report["command"] = "python scripts/train_resperfnet.py " + " ".join(sys.argv[1:] if argv is None else argv)
    log(f"chosen by the rule: {chosen!r}")

    est = ResPerfNetEstimator(cache=False, epochs=args.epochs, **CANDIDATES[chosen])
    est.models_, est.fit_platform_ = {platform.key: fitted[chosen]}, platform.key
    meta = {"rule": RULE, "chosen": chosen, "split": split, "provenance": prov, "command": report["command"],
            "candidates": {n: {k: c[k] for k in ("config", "val_exe_mape", "held_out_networks")}
                           for n, c in report["candidates"].items()},
            "test_metrics": report["candidates"][chosen]["test"],
            "network_calibration": {**report["candidates"][chosen]["network_calibration"],
                                    "script": "scripts/train_resperfnet.py"},
            "data": {"file": prov["data_file"], "sha256": prov["data_sha256"], "rows": len(samples),
                     "environment": samples[0].env.__dict__}, "epochs": args.epochs}
    log(f"saved {est.save(args.out, meta)}")
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(report, indent=1))
    write_report(Path(args.report), report, path.name)


def write_report(path: Path, report: dict[str, Any], data_name: str) -> None:
    cands, chosen, split = report["candidates"], report["chosen"], report["split"]
    lines = [f"# ResPerfNet layer-level accuracy on this machine's CPU ({data_name})", "",
             f"Written by `{report['command']}` (full figures: the results JSON). Split: {split['test']} test layers "
             f"(whole layer groups, never trained on or chosen on), {split['val']} validation, {split['train']} "
             f"training, {split['excluded']} excluded (clean: {split['clean']}).", "",
             f"Rule, declared before training: {report['rule']}. Shipped mode: **{chosen}**.", "",
             "| candidate | val exe MAPE % | held-out networks MAPE % (calibrated) | (uncalibrated) |",
             "|---|---|---|---|"]
    for name, c in cands.items():
        h = c["held_out_networks"]
        lines.append(f"| {name} | {c['val_exe_mape']:.2f} | {h['calibrated']['mape'] * 100:.2f} | "
                     f"{h['uncalibrated']['mape'] * 100:.2f} |")
    lines += ["", "| kind | phase | " + " | ".join(f"MAPE % ({n})" for n in cands) +
              " | RMSE ms | MAE ms | n | paper Table 5 MAPE % |", "|---|---|" + "---|" * (len(cands) + 4)]
    for key in sorted(cands[chosen]["test"]):
        kind, phase = key.split("/")
        m = cands[chosen]["test"][key]
        lines.append(f"| {kind} | {phase} | " + " | ".join(f"{c['test'][key]['mape']:.2f}" for c in cands.values()) +
                     f" | {m['rmse']:.4f} | {m['mae']:.4f} | {m['n']} | {PAPER_TABLE5.get((kind, phase), '')} |")
    base = report["baselines"]
    lines += ["", "Exe phase, same split: ResPerfNet vs baselines (paper Table 1: conv exe MAPE, TensorFlow on a 1080 Ti: "
              + ", ".join(f"{k} {v} %" for k, v in PAPER_TABLE1.items()) + ")", "",
              "| kind | ResPerfNet (shipped) | XGBoost | SVR (RBF) | polynomial (deg 2) |", "|---|---|---|---|---|"]
    for kind in sorted(base.get("xgboost", {})):
        lines.append(f"| {kind} | {cands[chosen]['test'][f'{kind}/exe']['mape']:.2f} | "
                     + " | ".join(f"{base[b][kind]['mape']:.2f}" for b in ("xgboost", "svr", "polynomial")) + " |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
