"""Fit the whole-network calibration of the shipped ResPerfNet CPU model (see hwaware.estimators.resperfnet):
measured = a * (sum of predicted per-layer exe) + c * (kernels) + pre + post, least squares over the
*training-family* networks of ``data/cpu/networks.csv.gz`` (held-out families are not read).

Run: ``python scripts/fit_network_calibration.py``; writes ``network_calibration`` into meta.json.
"""
from __future__ import annotations

import json

import numpy as np

from hwaware.datasets.measured import load_network_samples
from hwaware.datasets.splits import is_held_out
from hwaware.estimators.resperfnet import ResPerfNetEstimator
from hwaware.graph import capture
from hwaware.hardware import Platform


def main() -> None:
    platform = Platform.resolve("cpu")
    est = ResPerfNetEstimator(cache=False)
    rows, names = [], []
    for n in load_network_samples():
        if n.batch != 1 or is_held_out(n.model):
            continue
        g = capture(n.model, input_size=(3, n.img_size, n.img_size))
        times = est.layer_phases(g.layers, platform)
        kernels = [i for i, l in enumerate(g.layers) if l.kind.launches_kernel]
        exe = sum(times[i][1] for i in kernels)
        rows.append((exe, len(kernels), n.total_ms - times[kernels[0]][0] - times[kernels[-1]][2]))
        names.append(n.model)
    x = np.array([[e, k] for e, k, _ in rows])
    y = np.array([t for _, _, t in rows])
    (a, c), *_ = np.linalg.lstsq(x, y, rcond=None)
    pred = x @ np.array([a, c])
    mape = float(np.mean(np.abs(pred - y) / y) * 100)
    print(f"fitted on {len(rows)} training-family networks: scale {a:.4f}, {c * 1e3:.2f} us per kernel "
          f"(in-sample MAPE {mape:.2f} %)")
    path = est._root() / platform.key / "meta.json"
    meta = json.loads(path.read_text())
    meta["network_calibration"] = {"scale": float(a), "overhead_ms_per_kernel": float(c), "networks": names,
                                   "in_sample_mape": mape, "script": "scripts/fit_network_calibration.py",
                                   "data": "data/cpu/networks.csv.gz (training families only)"}
    path.write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
