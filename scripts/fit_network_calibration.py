"""Choose and fit the whole-network calibration of the shipped ResPerfNet CPU model (see hwaware.estimators.resperfnet).

* Candidates (:data:`hwaware.evaluation.cpu_networks.CALIBRATION_FORMS`): measured - pre - post = a * sum exe +
  c * kernels, with or without + d * MB moved, by absolute or relative least squares.
* Rule (:data:`RULE`): the lowest leave-one-family-out CV MAPE over the *training-family* batch-1 networks of
  ``data/cpu/networks.csv.gz``; the held-out families and the NAS-space networks (``data/cpu/space_networks.csv.gz``)
  play no part in the choice. They are reported for every candidate afterwards (``benchmarks/results/cpu_calibration.json``).
* Disclosed (:data:`DISCLOSED`): the bytes term, the relative weighting and this rule were written after the first
  shipped form ("kernels", kept as a candidate and reported) was seen over-predicting the NAS-space networks
  1.4-2.6x and scoring 16.8 % on the held-out families. The rule reads only timm training families.
* ``scripts/train_resperfnet.py`` stores the "kernels" form with the weights it trains: run this script after it
  (``tests/test_resperfnet.py`` fails until the shipped form is the rule's).

Run: ``python scripts/fit_network_calibration.py``; writes ``network_calibration`` into the weights' meta.json.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from hwaware.estimators.resperfnet import ResPerfNetEstimator
from hwaware.evaluation.cpu_networks import (CALIBRATION_FORMS, as_calibration, batch1_networks, fit_calibration,
                                             space_networks, totals)
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.provenance import provenance
from hwaware.evaluation.splits import is_held_out
from hwaware.hardware import Platform

RULE = ("lowest leave-one-family-out CV MAPE over the training-family networks (held-out families and NAS-space "
        "networks never read); first in CALIBRATION_FORMS order on a tie")
DISCLOSED = ("'kernels' was the first shipped form; the other forms and this rule were written after its results on "
             "the held-out families (16.8 %) and the NAS spaces were seen, so the held-out figure of the chosen form is "
             "not a clean held-out figure")
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "cpu_calibration.json"


def main() -> None:
    torch.set_num_threads(1)
    platform = Platform.resolve("cpu")
    est = ResPerfNetEstimator(cache=False)
    nets = batch1_networks()
    fits = {form: fit_calibration(est, platform, nets, form) for form in CALIBRATION_FORMS}
    chosen = min(CALIBRATION_FORMS, key=lambda f: fits[f]["leave_one_family_out_mape"])
    held = [(n, g) for n, g in nets if is_held_out(n.model)]
    spaces = space_networks()
    report = {"rule": RULE, "chosen": chosen, "command": "python scripts/fit_network_calibration.py",
              "previously_shipped": "kernels", "disclosed": DISCLOSED, "provenance": provenance(), "candidates": {}}
    for form, cal in fits.items():
        row = {k: cal[k] for k in ("scale", "overhead_ms_per_kernel", "overhead_ms_per_mb", "in_sample_mape",
                                   "leave_one_family_out_mape")}
        row["held_out_families"] = accuracy(totals(est, platform, held, as_calibration(cal)),
                                            [n.total_ms for n, _ in held])
        pred = totals(est, platform, spaces, as_calibration(cal))
        for space in sorted({n.family for n, _ in spaces}):
            idx = [i for i, (n, _) in enumerate(spaces) if n.family == space]
            row[space] = accuracy(pred[idx], [spaces[i][0].total_ms for i in idx])
        report["candidates"][form] = row
        print(f"{form:<26} CV {cal['leave_one_family_out_mape']:5.1f} %  held-out {row['held_out_families']['mape']:.1%}  "
              + "  ".join(f"{s} {row[s]['mape']:.1%}" for s in sorted({n.family for n, _ in spaces})))
    print(f"rule -> {chosen}")
    path = est._root() / platform.key / "meta.json"
    meta = json.loads(path.read_text())
    meta["network_calibration"] = {**fits[chosen], "rule": RULE, "script": "scripts/fit_network_calibration.py",
                                   "candidates_cv_mape": {f: c["leave_one_family_out_mape"] for f, c in fits.items()},
                                   "disclosed": DISCLOSED, "previously_shipped": "kernels",
                                   "results": "benchmarks/results/cpu_calibration.json", "provenance": provenance()}
    path.write_text(json.dumps(meta, indent=1))
    RESULTS.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
