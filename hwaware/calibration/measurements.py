"""Reading a device's whole-network measurements for calibration: ``hwaware collect networks`` CSVs or a plain table.

Accepted columns (a header row is required):

* ``hwaware collect networks`` output: ``model``, ``img_size``, ``batch``, ``pre_ms``, ``exe_ms``, ``post_ms`` …
  (the latency is pre + exe + post);
* a plain table: ``model`` and ``ms``, optionally ``batch`` (default 1) and ``input`` (``3x224x224``; default the
  model's timm config); any other column is refused (a precision or input size read as nothing would calibrate
  other settings than the rows meant).

Column names are read in any case. A model given as a relative ``.onnx`` path is read from the working folder, else
from the measurements file's folder.
"""
from __future__ import annotations

import csv
import gzip
import math
import re
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hwaware.datasets.measured import open_csv
from hwaware.errors import ImplausibleEstimateWarning, InvalidArgumentError, positive_number
from hwaware.hardware.catalog import CPUSpec, Platform
from hwaware.measure.collect import SETTING_COLUMNS  # what `hwaware collect networks` records of where it measured


PLAIN_COLUMNS = ("model", "ms", "batch", "input")


# words of a column name that means an input size ("input_size", "img_size", "resolution")
SIZE_WORDS = {"size", "img", "image", "res", "resolution", "shape", "height", "width"}


@dataclass(frozen=True)
class Measurement:
    model: str
    ms: float
    batch: int = 1
    input_size: str | None = None
    setting: tuple[tuple[str, str], ...] = ()  # a collected row's SETTING_COLUMNS: where it was measured
    line: int | None = field(default=None, compare=False)  # a CSV row's line in its file, for messages


def check_setting(rows: Sequence[Measurement], platform: Platform) -> None:
    """Refuse collected rows measured elsewhere than ``platform`` says: one setting for all, eager PyTorch, on the CPU
    for a CPU target and on a CUDA GPU for a GPU, in the precision's dtype; warn of a CPU target's other thread count.
    A plain table's rows have no setting and pass."""
    settings = {m.setting for m in rows if m.setting}
    if not settings:
        return
    if len(settings) > 1:
        raise InvalidArgumentError("the measurements were collected under different settings ("
                                   + "; ".join(", ".join(f"{k}={v}" for k, v in s) for s in sorted(settings))
                                   + "); calibrate one setting at a time")
    s = dict(settings.pop())
    where = f"{s.get('device')} ({s.get('device_name')}, threads={s.get('threads')}, dtype={s.get('dtype')})"
    target = platform.device
    cpu = isinstance(target, CPUSpec)
    dtype = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}.get(platform.precision)
    threads = getattr(target, "threads", None)
    why = next((reason for failed, reason in (
        (platform.runtime != "pytorch", "`hwaware collect networks` times eager PyTorch, not TensorRT"),
        (dtype is None, "`hwaware collect networks` does not time autocast"),
        (cpu and s.get("device") != "cpu", f"{target.name} is this CPU target"),
        (not cpu and s.get("device") != "cuda", f"{target.name} is a GPU"),
        (s.get("dtype") != dtype, f"precision {platform.precision} runs {dtype}")) if failed), "")
    if why:
        raise InvalidArgumentError(f"the measurements were collected on {where}, and {why}: calibrate the platform "
                                   "they were measured on, or measure on the one you calibrate")
    if cpu and s.get("threads") != str(threads):  # a profile may scale to another thread count, layer by layer doubtful
        warnings.warn(f"the measurements were collected at threads={s.get('threads')}, and {target.name} predicts "
                      f"{threads} thread(s): the profile scales one-thread layer times to them (collect with --threads "
                      f"{threads} for a profile of the target as trained)", ImplausibleEstimateWarning, stacklevel=3)


def read_measurements(path: str | Path) -> list[Measurement]:
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError(f"no measurement file at {path}; write one with `hwaware collect networks` "
                                   "or as a CSV with columns model,ms")
    try:  # utf-8-sig: spreadsheets save a byte-order mark before the header
        with open_csv(path, "utf-8-sig") as f:
            # '#' lines are comments (one above the header was read as the header, helper-130); blank lines are
            # skipped; each record keeps its line in the file, for the messages
            kept = [(i, line) for i, line in enumerate(f.read().splitlines(keepends=True), start=1)
                    if line.strip() and not line.lstrip().startswith("#")]
            records = list(csv.DictReader((line for _, line in kept), skipinitialspace=True))  # 'model, ms' by hand
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InvalidArgumentError(f"{path} is not a whole gzip file ({exc}); gunzip it or save it again") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidArgumentError(f"{path} is not a UTF-8 CSV ({exc}); save it as CSV with columns model,ms") from exc
    lines = [i for i, _ in kept[1:]]
    for n, r in zip(lines, records):
        if None in r:  # csv puts the fields beyond the header's under None
            spec = any(":{" in v for k, v in r.items() if k is not None and v)  # an architecture holds commas
            raise InvalidArgumentError(f"{path} row {n} has more fields than the header; " + (
                'a search-space architecture holds commas: put it in double quotes ("nb201:{""arch"": ...}"), as '
                "Python's csv module writes it" if spec else "a decimal comma? Write 12.5, not 12,5"))
    # column names in any case ('Model,MS' from a spreadsheet)
    rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in r.items()} for r in records]
    if not rows:
        raise InvalidArgumentError(f"{path} has no rows; it needs a header and one row per measured network")
    cols = set(rows[0])
    collected = {"pre_ms", "exe_ms", "post_ms", "model"} <= cols
    if not collected and not {"model", "ms"} <= cols:
        other = next((sep for sep in (";", "\t") if any(sep in c for c in cols)), None)
        raise InvalidArgumentError(f"{path}: columns {sorted(cols)} are neither `hwaware collect networks` "
                                   "output nor model,ms[,batch,input]"
                                   + (f" (separated by {other!r}? separate them by commas)" if other else ""))
    missing = [c for c in SETTING_COLUMNS if c not in cols]
    if collected and len(missing) < len(SETTING_COLUMNS) and missing:  # a setting checked on part of itself misleads
        raise InvalidArgumentError(f"{path}: a `hwaware collect networks` file without its column(s) {missing}, which "
                                   f"say where it was measured; keep {', '.join(SETTING_COLUMNS)} as written, or "
                                   "write a plain model,ms table")
    unknown = [] if collected else sorted(cols - {*PLAIN_COLUMNS, ""})  # "": a trailing comma
    if unknown:  # a column read as nothing would calibrate at other settings than the user meant, silently
        sizes = [c for c in unknown if set(re.split(r"[^a-z]+", c.lower())) & SIZE_WORDS]
        hint = ("precision, runtime and GPU are the calibration's (--precision, --runtime, --gpu): one file per "
                "platform" if set(unknown) & {"precision", "runtime", "gpu", "device"}
                else f"an input size goes in 'input', e.g. 3x224x224, not {sizes[0]!r}" if sizes
                else "remove those columns or rename them")
        raise InvalidArgumentError(f"{path}: unknown columns {unknown}; a plain table has {','.join(PLAIN_COLUMNS)} "
                                   f"({hint})")
    out = []
    for n, r in zip(lines, rows):
        r["model"] = _beside(r.get("model", ""), path)
        try:
            if collected:
                size = r.get("img_size")  # a side or CxHxW, as an input_size reads both
                phases = {k: float(r[k]) for k in ("pre_ms", "exe_ms", "post_ms")}
                bad = [k for k, v in phases.items() if not (math.isfinite(v) and v >= 0)]  # a sum may hide one
                if bad:
                    raise InvalidArgumentError(f"{path} row {n} ({r['model']}): {bad[0]} {r[bad[0]]} is no time; "
                                               "each phase is a finite number of milliseconds, at least 0")
                out.append(Measurement(r["model"], sum(phases.values()), int(r.get("batch") or 1), size or None,
                                       tuple((k, r[k]) for k in SETTING_COLUMNS if k in r), line=n))
            else:
                out.append(Measurement(r["model"], float(r["ms"]), int(r.get("batch") or 1), r.get("input") or None,
                                       line=n))
        except ValueError as exc:
            raise InvalidArgumentError(f"{path} row {n}: {exc}; latencies are numbers in ms, batch an integer") from exc
        check_latency(out[-1], f"{path} row {n}")
    return out


def _beside(model: str, path: Path) -> str:
    """``model``, or where it names an ONNX file by a relative path that is not in the working folder but beside the
    measurements file, that file (a table written next to its models, read from elsewhere)."""
    if not model.lower().endswith(".onnx") or Path(model).is_absolute() or Path(model).exists():
        return model
    there = path.parent / model
    return str(there) if there.exists() else model


def check_latency(m: Measurement, where: str) -> None:
    """Refuse, as ``where``, a row whose latency is no positive, finite number of milliseconds ('nan' and 'inf'
    parse as floats)."""
    if not positive_number(m.ms):
        raise InvalidArgumentError(f"{where} ({m.model}): a latency must be a positive, finite number of milliseconds, "
                                   f"got {m.ms!r}")
