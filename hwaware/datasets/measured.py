"""Loader for the samples ``hwaware collect`` writes (layers and whole networks, three phases).

The CPU dataset measured for hwaware lives in the repository under ``data/cpu/`` (``layers.csv.gz``,
``networks.csv.gz``); plain ``.csv`` files written by a running collection load the same way.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hwaware.datasets.paths import DataNotFoundError
from hwaware.graph.layer import Layer
from hwaware.graph.sources import parse_input_size

REPO_DATA = Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class Environment:
    device: str
    device_name: str
    torch_version: str
    threads: int
    dtype: str


@dataclass(frozen=True)
class PhaseSample:
    """Three measured phases (medians, ms), the spread of exe, and where they were measured."""

    pre_ms: float
    exe_ms: float
    post_ms: float
    exe_iqr_ms: float
    repeats: int
    env: Environment

    @property
    def total_ms(self) -> float:
        return self.pre_ms + self.exe_ms + self.post_ms


@dataclass(frozen=True)
class LayerSample(PhaseSample):
    sample_id: str
    source: str  # "random" or the timm model the layer was sampled from
    layer: Layer


@dataclass(frozen=True)
class NetworkSample(PhaseSample):
    model: str
    family: str
    input_size: tuple[int, ...]  # C x H x W, from the file's img_size (its side, or CxHxW where not a square RGB image)
    batch: int


def open_csv(path: Path, encoding: str = "utf-8") -> IO[str]:
    """``path`` opened for ``csv`` reading, gunzipped where it ends in ``.gz``."""
    return (gzip.open if path.suffix == ".gz" else open)(path, "rt", newline="", encoding=encoding)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise DataNotFoundError(f"no measured samples at {path}; run `hwaware collect` (see the README)")
    with open_csv(path) as f:
        return list(csv.DictReader(io.StringIO(f.read())))


def _phases(r: dict[str, str]) -> dict[str, object]:
    return {"pre_ms": float(r["pre_ms"]), "exe_ms": float(r["exe_ms"]), "post_ms": float(r["post_ms"]),
            "exe_iqr_ms": float(r["exe_iqr_ms"]), "repeats": int(r["repeats"]),
            "env": Environment(r["device"], r["device_name"], r["torch_version"], int(r["threads"]), r["dtype"])}


def resolve(path: str | Path) -> Path:
    """``path`` itself, or its ``.gz`` sibling when only that exists."""
    path = Path(path)
    if not path.exists() and path.with_suffix(path.suffix + ".gz").exists():
        return path.with_suffix(path.suffix + ".gz")
    return path


def load_layer_samples(path: str | Path = REPO_DATA / "cpu" / "layers.csv") -> list[LayerSample]:
    return [LayerSample(sample_id=r["sample_id"], source=r["source"], layer=Layer.from_dict(json.loads(r["layer_json"])),
                        **_phases(r)) for r in _rows(resolve(path))]


def load_network_samples(path: str | Path = REPO_DATA / "cpu" / "networks.csv") -> list[NetworkSample]:
    return [NetworkSample(model=r["model"], family=r["family"], input_size=parse_input_size(r["img_size"]),
                          batch=int(r["batch"]), **_phases(r)) for r in _rows(resolve(path))]
