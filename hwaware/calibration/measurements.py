"""Reading a device's whole-network measurements for calibration: ``hwaware collect networks`` CSVs or a plain table.

Accepted columns (a header row is required):

* ``hwaware collect networks`` output: ``model``, ``img_size``, ``batch``, ``pre_ms``, ``exe_ms``, ``post_ms`` …
  (the latency is pre + exe + post);
* a plain table: ``model`` and ``ms``, optionally ``batch`` (default 1) and ``input`` (``3x224x224``; default the
  model's timm config); any other column is refused (a precision or input size read as nothing would calibrate
  other settings than the rows meant).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from hwaware.errors import InvalidArgumentError


PLAIN_COLUMNS = ("model", "ms", "batch", "input")


@dataclass(frozen=True)
class Measurement:
    model: str
    ms: float
    batch: int = 1
    input_size: str | None = None


def read_measurements(path: str | Path) -> list[Measurement]:
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError(f"no measurement file at {path}; write one with `hwaware collect networks` "
                                   "or as a CSV with columns model,ms")
    try:  # utf-8-sig: spreadsheets save a byte-order mark before the header
        with open(path, newline="", encoding="utf-8-sig") as f:
            records = list(csv.DictReader(f, skipinitialspace=True))  # 'model, ms' as written by hand
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidArgumentError(f"{path} is not a UTF-8 CSV ({exc}); save it as CSV with columns model,ms") from exc
    for n, r in enumerate(records, start=2):
        if None in r:  # csv puts the fields beyond the header's under None
            raise InvalidArgumentError(f"{path} row {n} has more fields than the header; a decimal comma? "
                                       "Write 12.5, not 12,5")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in records]
    if not rows:
        raise InvalidArgumentError(f"{path} has no rows; it needs a header and one row per measured network")
    cols = set(rows[0])
    collected = {"pre_ms", "exe_ms", "post_ms", "model"} <= cols
    if not collected and not {"model", "ms"} <= cols:
        raise InvalidArgumentError(f"{path}: columns {sorted(cols)} are neither `hwaware collect networks` "
                                   "output nor model,ms[,batch,input]")
    unknown = [] if collected else sorted(cols - {*PLAIN_COLUMNS, ""})  # "": a trailing comma
    if unknown:  # a column read as nothing would calibrate at other settings than the user meant, silently
        hint = ("precision, runtime and GPU are the calibration's (--precision, --runtime, --gpu): one file per "
                "platform" if set(unknown) & {"precision", "runtime", "gpu", "device"}
                else "an input size goes in 'input', e.g. 3x224x224")
        raise InvalidArgumentError(f"{path}: unknown columns {unknown}; a plain table has {','.join(PLAIN_COLUMNS)} "
                                   f"({hint})")
    out = []
    for n, r in enumerate(rows, start=2):
        try:
            if collected:
                size = r.get("img_size")
                out.append(Measurement(r["model"], float(r["pre_ms"]) + float(r["exe_ms"]) + float(r["post_ms"]),
                                       int(r.get("batch") or 1), f"3x{size}x{size}" if size else None))
            else:
                out.append(Measurement(r["model"], float(r["ms"]), int(r.get("batch") or 1), r.get("input") or None))
        except ValueError as exc:
            raise InvalidArgumentError(f"{path} row {n}: {exc}; latencies are numbers in ms, batch an integer") from exc
        if not math.isfinite(out[-1].ms) or out[-1].ms <= 0:  # 'nan' and 'inf' parse as floats
            raise InvalidArgumentError(f"{path} row {n} ({out[-1].model}): a latency must be a positive, finite "
                                       f"number of milliseconds, got {out[-1].ms}")
    return out
