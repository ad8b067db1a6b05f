"""Choose and fit the whole-network calibration of the shipped ResPerfNet CPU model (see hwaware.estimators.resperfnet).

* Candidates (:data:`hwaware.evaluation.cpu_networks.CALIBRATION_FORMS`): measured - pre - post = sum over kernels
  of a * exe + c [+ d * MB, or d * min(MB, cap)] [+ e * MB ** alpha], by absolute or relative least squares.
* Fit set: the batch-1 timm training families (``data/cpu/networks.csv.gz``) and the seed-0 NAS-space networks
  (``data/cpu/space_networks.csv.gz``, 100 each of NB201, FBNet, OFA-MBv3); since 2026-12-07 also 100 of them at
  batches 4 and 16 (``data/cpu/fit_batches.csv``, below).
* Rule (:data:`RULE`): the lowest leave-one-group-out CV MAPE over the fit set, a group being a timm family or a
  whole NAS space (each space is predicted by a fit that never saw it), among the forms whose fitted coefficients
  make every kernel's overhead non-negative at any size (a > 0 and c, d, e >= 0). The CV part was committed while the
  seed-1 networks were being measured, before any was predicted; the non-negativity condition was added after the
  first run (see :data:`DISCLOSED`); both choices are reported.
* Test sets, never read by the choice and reported for every candidate: the held-out timm families (not clean: their
  figures were seen in earlier rounds and their per-kernel residual while the power forms were designed) and the
  seed-1 NAS-space networks (``data/cpu/space_networks_test.csv.gz``) whose layer multiset is not in the fit set.
  Their measurement noise (relative IQR of the repeated runs) is reported beside.
* Disclosed (:data:`DISCLOSED`): the previous rule (leave-one-family-out CV on the timm training families only, which
  chose "kernels, relative") is replaced after its NAS-space results were seen; its choice is re-fitted the old way
  and reported on the same test sets (``previous_rule``).
* ``scripts/train_resperfnet.py`` stores the "kernels" form with the weights it trains: run this script after it
  (``tests/test_resperfnet.py`` fails until the shipped form is the rule's).

Above batch 1 (protocol written 2026-12-07 and committed before any network below was measured): every fit row above
was at batch 1, and above it the shipped form answered 1.15-1.23x the measured time at batch 8 (``python
benchmarks/cpu_batches.py``, 1145a1b; its aggregate rows are all that was read). One reading, not checked when this was
written: the per-MB term, fitted where kernels move a few MB, grows linearly with the batch, while a kernel whose bytes
exceed the caches streams them from memory in its micro-benchmark too, so a forward pass adds less per MB there.

* Data (:data:`FIT_BATCHES`, :func:`batch_fit_networks`): the 40 timm training networks
  (:data:`~hwaware.evaluation.splits.TRAIN_NETWORKS`) and the first 20 seed-0 architectures of each NAS space (the
  first 20 of each space's 100 fit-set networks) at batches 4 and 16, one torch thread, one round, alone on the
  machine: ``python scripts/fit_network_calibration.py --measure`` into ``data/cpu/fit_batches.csv`` (committed,
  resumable). Not the test's batches 8 and 32: the test asks about batches the fit never saw.
* Candidates: :data:`~hwaware.evaluation.cpu_networks.CALIBRATION_FORMS` with two forms added before the measurement,
  "kernels+capped bytes" and its relative twin: c per kernel + d * min(MB, cap), the cap one of
  :data:`~hwaware.evaluation.cpu_networks.CAPS` chosen by the fit's own least squares (as alpha is); the forms that
  exist are unchanged.
* Fit set: the batch-1 networks above and these rows; :data:`RULE` unchanged (its CV MAPE over every fit row, a
  network's batches in its group's fold).
* Reported: every candidate's CV MAPE per fit batch, the batch-1 test sets as before, and the calibration shipped
  before (fitted on batch-1 rows only) on the same sets; ``python benchmarks/cpu_batches.py`` re-run for batches 8 and
  32 (the previous calibration's figures are 1145a1b's).
* Disclosed: the capped forms were written after ``benchmarks/results/cpu_batches.md`` was seen.

Run: ``python scripts/fit_network_calibration.py``; writes ``network_calibration`` into the weights' meta.json and
``benchmarks/results/cpu_calibration.json``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from hwaware.datasets.measured import REPO_DATA
from hwaware.estimators.resperfnet import NetworkCalibration, ResPerfNetEstimator
from hwaware.evaluation.cpu_networks import (BATCH_FIT_NETWORKS, CALIBRATION_FORMS, SPACE_TEST_NETWORKS, Terms,
                                             batch1_networks, calibration_group, fit_calibration, fit_calibrations,
                                             is_fit_network, network_group, space_networks, space_test_networks)
from hwaware.evaluation.metrics import accuracy
from hwaware.evaluation.provenance import provenance
from hwaware.evaluation.splits import TRAIN_NETWORKS, is_held_out
from hwaware.hardware import Platform
from hwaware.measure.collect import collect_networks
from hwaware.zoo.spaces import get_space

RULE = ("lowest leave-one-group-out CV MAPE over the fit set (timm training families and the seed-0 NAS-space "
        "networks; a group is a timm family or a whole NAS space) among the forms whose overhead c + d * MB + e * MB ** "
        "alpha is >= 0 for a kernel of any size (a > 0 and c, d, e >= 0); first in CALIBRATION_FORMS order on a tie")
FIRST_RULE = ("the same without the non-negativity condition (committed at 09:49 while the seed-1 networks were being "
              "measured, 09:44-09:52, before any was predicted)")
DISCLOSED = ("the first shipped form was 'kernels'; the forms without a power term and a timm-only rule were written "
             "after its results were seen; the power forms, the NAS-space fit set and this rule after the timm-only "
             "rule's choice ('kernels, relative') was seen over-predicting seed-0 NB201 networks 1.6x, and after the "
             "per-kernel residual of the fit set and of the held-out timm families was printed (so the held-out "
             "family figures are not clean; the seed-1 ones are, for the first rule). That rule (FIRST_RULE) was "
             "committed while the seed-1 networks were being measured, before any was predicted. Its choice, "
             "'kernels+bytes^alpha, relative', fitted c = -34.6 us per kernel: every kernel under ~39 KB got a negative "
             "overhead and tiny layers negative times. The non-negativity condition was added after that first run's "
             "test figures were printed (checked at the fit set's kernel sizes), and made a condition on the "
             "coefficients after a review (the same choice). Both rules' choices are reported: first_rule_choice names "
             "the first, whose figures are under candidates.")
PREVIOUS_RULE = {"form": "kernels, relative", "fit_set": "timm training families only",
                 "rule": "lowest leave-one-family-out CV MAPE over the timm training families"}
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "cpu_calibration.json"
BATCH_FIT_MEASURED = REPO_DATA / BATCH_FIT_NETWORKS
BATCH1_CHOICE = "kernels+bytes"  # the rule's choice on the batch-1 fit set, shipped until 2026-12-07 (8c7a174)
FIT_BATCHES = (4, 16)
BATCH_FIT_PER_SPACE, BATCH_FIT_SPACES = 20, ("nb201", "fbnet", "ofa_mbv3")


def batch_fit_networks() -> list[str]:
    """The networks measured at :data:`FIT_BATCHES`: the timm training networks and the first
    :data:`BATCH_FIT_PER_SPACE` seed-0 architectures of each NAS space (the fit set's own draw)."""
    return list(TRAIN_NETWORKS) + [s for space in BATCH_FIT_SPACES
                                   for s in get_space(space).random_specs(BATCH_FIT_PER_SPACE, 0)]


def main() -> None:
    torch.set_num_threads(1)
    prov = provenance()  # as the run starts: a commit made while it fits is not its code
    platform = Platform.resolve("cpu")
    est = ResPerfNetEstimator(cache=False)
    timm_nets, fit_spaces = batch1_networks(), space_networks()
    fit = [(n, g) for n, g in timm_nets + fit_spaces + space_networks(BATCH_FIT_NETWORKS) if is_fit_network(n)]
    tests = {"held_out_families": [(n, g) for n, g in timm_nets if is_held_out(n.model)]}
    test_spaces = space_test_networks(fit)
    for space in sorted({n.family for n, _ in test_spaces}):
        tests[f"{space} (seed 1)"] = [(n, g) for n, g in test_spaces if n.family == space]
    terms = Terms(est, platform, fit)
    fits = fit_calibrations(est, platform, fit, list(CALIBRATION_FORMS), terms)
    all_mb = np.concatenate(terms.kernel_mb)
    cals = {form: NetworkCalibration.from_doc(doc) for form, doc in fits.items()}
    eligible = [f for f in CALIBRATION_FORMS if cals[f].never_negative()]
    chosen = min(eligible, key=lambda f: fits[f]["leave_one_group_out_mape"])
    first_choice = min(CALIBRATION_FORMS, key=lambda f: fits[f]["leave_one_group_out_mape"])
    previous = fit_calibration(est, platform, timm_nets, PREVIOUS_RULE["form"])
    groups = np.array([calibration_group(n) for n, _ in fit])
    added = (terms.y - terms.x[:, 0]) / terms.x[:, 1] * 1e3
    share, batch_of = terms.x[:, 0] / terms.y, np.array([n.batch for n, _ in fit])
    group_of = np.array([network_group(n) for n, _ in fit])
    report = {"rule": RULE, "chosen": chosen, "first_rule": FIRST_RULE, "first_rule_choice": first_choice,
              "command": "python scripts/fit_network_calibration.py",
              "disclosed": DISCLOSED, "provenance": prov,
              "test_networks": {k: len(v) for k, v in tests.items()},
              "test_file": f"data/{SPACE_TEST_NETWORKS}.gz (seed 1; networks whose layer multiset is in the fit set "
                           "dropped)",
              "fit_set_added_us_per_kernel_median": {
                  g: float(np.median(added[groups == g])) for g in ("nb201", "fbnet", "ofa_mbv3")},
              "fit_set_added_us_per_kernel_median_timm": float(np.median(added[~np.isin(groups, ["nb201", "fbnet",
                                                                                                  "ofa_mbv3"])])),
              # what the calibration must bridge, per group and batch: the uncalibrated per-layer sum over the
              # measured time less pre and post, median over the networks
              "fit_set_uncalibrated_share": {
                  f"{g}, batch {b}": float(np.median(share[(group_of == g) & (batch_of == b)]))
                  for g in sorted(set(group_of)) for b in sorted(set(batch_of))},
              # the ground truth's own noise: interquartile range of a network's repeated runs / its median
              "test_relative_iqr": {label: {q: float(np.percentile([n.exe_iqr_ms / n.exe_ms for n, _ in nets], p))
                                            for q, p in (("median", 50), ("p90", 90))} for label, nets in tests.items()},
              "candidates": {}}
    rows = {**{form: (fits[form], cals[form]) for form in fits},
            "previous_rule": (previous, NetworkCalibration.from_doc(previous))}
    # each test set's uncalibrated sums once; Terms.predicted equals the estimator's own path (tests/test_resperfnet.py)
    test_terms = {label: Terms(est, platform, nets) for label, nets in tests.items()}

    def figures(cal: NetworkCalibration) -> dict:
        out = {"least_kernel_overhead_ms": float(cal.kernel_ms(0.0, all_mb).min())}
        return {**out, **{label: accuracy(t.predicted(cal, np.arange(len(t.total))), t.total)
                          for label, t in test_terms.items()}}

    for name, (doc, cal) in rows.items():
        row = {k: doc[k] for k in ("scale", "overhead_ms_per_kernel", "overhead_ms_per_mb", "overhead_ms_per_mb_pow",
                                   "overhead_exponent", "in_sample_mape", "leave_one_group_out_mape")}
        row.update({k: doc[k] for k in ("overhead_mb_cap", "in_sample_mape_by_batch",
                                        "leave_one_group_out_mape_by_batch") if k in doc})
        row.update(figures(cal))
        if name == "previous_rule":
            report["previous_rule"] = {**PREVIOUS_RULE, **row}
        else:
            report["candidates"][name] = row
        by_batch = doc.get("leave_one_group_out_mape_by_batch", {})
        print(f"{name:<32} CV {doc['leave_one_group_out_mape']:5.1f} % ("
              + ", ".join(f"batch {b} {v:.1f} %" for b, v in by_batch.items()) + ")  "
              + "  ".join(f"{label} {row[label]['mape']:.1%}" for label in tests))
    # the calibration shipped before the batch rows, refitted on the batch-1 rows (not read from meta.json, which this
    # run overwrites); its CV as the candidates': each group predicted by a fit on the other groups' batch-1 rows
    rows = np.arange(len(fit))
    shipped_before = terms.solve(BATCH1_CHOICE, rows[batch_of == 1])
    cv = terms.group_cv(BATCH1_CHOICE, groups, batch_of == 1)
    fitted = terms.predicted(shipped_before, rows)
    report["shipped_before"] = {
        "form": BATCH1_CHOICE, **shipped_before.to_doc(), **figures(shipped_before),
        **{key: {int(b): accuracy(pred[batch_of == b], terms.total[batch_of == b])["mape"] * 100
                 for b in sorted(set(batch_of))}
           for key, pred in (("fit_set_mape_by_batch", fitted), ("leave_one_group_out_mape_by_batch", cv))}}
    print("shipped before, fit set (in sample at batch 1) / CV: " + ", ".join(
        f"batch {b} {v:.1f} / {report['shipped_before']['leave_one_group_out_mape_by_batch'][b]:.1f} %"
        for b, v in report["shipped_before"]["fit_set_mape_by_batch"].items()))
    print(f"rule -> {chosen} (first rule: {first_choice})")
    path = est._root() / platform.key / "meta.json"
    meta = json.loads(path.read_text())
    meta["network_calibration"] = {**fits[chosen], "rule": RULE, "script": "scripts/fit_network_calibration.py",
                                   "candidates_cv_mape": {f: c["leave_one_group_out_mape"] for f, c in fits.items()},
                                   "eligible": eligible, "first_rule_choice": first_choice,
                                   "disclosed": DISCLOSED, "results": "benchmarks/results/cpu_calibration.json",
                                   "provenance": report["provenance"]}
    path.write_text(json.dumps(meta, indent=1))
    RESULTS.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:  # alone on the machine; then fit
        collect_networks(BATCH_FIT_MEASURED, batch_fit_networks(), batch_sizes=FIT_BATCHES, threads=1)
    main()
