"""pytorch-image-models ``results/`` benchmark tables (Apache-2.0), one row per (model, image size).

File names encode the run: ``benchmark-infer-<precision>-<layout>-pt<torch>-<cuda|cpu>-<device>[-dynamo].csv``.
Column order differs between files; ``pt210`` files store the batch size as a float and have a
few empty cells, which load as ``None``. GPU rows are throughput at a large batch, CPU rows batch 1.
"""
from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hwaware.datasets.paths import DataNotFoundError, data_root

_NAME = re.compile(r"benchmark-infer-(?P<precision>[a-z0-9_]+)-(?P<layout>nchw|nhwc)-pt(?P<torch>\d+)-"
                   r"(?P<backend>cu\d+|cpu)-(?P<device>.+?)(?P<dynamo>-dynamo)?\.csv$")


@dataclass(frozen=True)
class TimmBenchmarkRow:
    model: str
    img_size: int
    batch_size: int | None
    step_time_ms: float | None  # per batch
    samples_per_sec: float | None
    param_count_m: float | None  # millions, 2 decimals
    gmacs: float | None  # per image, 2 decimals (fvcore)
    macts_m: float | None  # activations, millions
    device: str
    precision: str
    layout: str
    torch_version: str
    compiled: bool
    file: str


def _float(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    v = float(text)
    return None if math.isnan(v) else v


def timm_benchmark_files(root: Path | None = None) -> list[Path]:
    folder = (root or data_root()) / "wholenet" / "timm"
    files = sorted(p for p in folder.glob("benchmark-infer-*.csv") if _NAME.search(p.name))
    if not files:
        raise DataNotFoundError(f"no timm benchmark tables in {folder}")
    return files


def load_timm_benchmark(path: Path | str) -> Iterator[TimmBenchmarkRow]:
    """Rows of one table; toy ``test_*`` models are skipped."""
    path = Path(path)
    m = _NAME.search(path.name)
    if not m:
        raise ValueError(f"{path.name} is not a timm benchmark table name")
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["model"].startswith("test_"):
                continue
            batch = _float(row.get("infer_batch_size"))
            yield TimmBenchmarkRow(
                model=row["model"], img_size=int(float(row["infer_img_size"])),
                batch_size=int(batch) if batch is not None else None,
                step_time_ms=_float(row.get("infer_step_time")), samples_per_sec=_float(row.get("infer_samples_per_sec")),
                param_count_m=_float(row.get("param_count")), gmacs=_float(row.get("infer_gmacs")),
                macts_m=_float(row.get("infer_macts")), device=m["device"], precision=m["precision"],
                layout=m["layout"], torch_version=m["torch"], compiled=bool(m["dynamo"]), file=path.name)
