"""Re-fit the whole-network calibration of the shipped ResPerfNet CPU model (see hwaware.estimators.resperfnet):
measured = a * (sum of predicted per-layer exe) + c * (kernels) + pre + post, least squares over the
*training-family* batch-1 networks of ``data/cpu/networks.csv.gz`` (held-out families are not read).
``scripts/train_resperfnet.py`` fits it the same way (:func:`hwaware.evaluation.cpu_networks.fit_calibration`);
this script is for weights that were trained without it.

Run: ``python scripts/fit_network_calibration.py``; writes ``network_calibration`` into meta.json.
"""
from __future__ import annotations

import json

import torch

from hwaware.estimators.resperfnet import ResPerfNetEstimator
from hwaware.evaluation.cpu_networks import batch1_networks, fit_calibration
from hwaware.hardware import Platform


def main() -> None:
    torch.set_num_threads(1)
    platform = Platform.resolve("cpu")
    est = ResPerfNetEstimator(cache=False)
    cal = fit_calibration(est, platform, batch1_networks())
    print(f"fitted on {len(cal['networks'])} training-family networks: scale {cal['scale']:.4f}, "
          f"{cal['overhead_ms_per_kernel'] * 1e3:.2f} us per kernel (in-sample MAPE {cal['in_sample_mape']:.2f} %)")
    path = est._root() / platform.key / "meta.json"
    meta = json.loads(path.read_text())
    meta["network_calibration"] = {**cal, "script": "scripts/fit_network_calibration.py"}
    path.write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
