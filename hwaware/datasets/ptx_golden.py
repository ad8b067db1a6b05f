"""Loader for the PTX golden corpus (``shared/ptx-golden``): kernels, launches and GPGPU-Sim counts."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hwaware.datasets.paths import data_root

_DTYPES = {"f32": np.float32, "i32": np.int32, "u32": np.uint32, "f64": np.float64, "i64": np.int64, "u8": np.uint8,
           "f16": np.float16, "i8": np.int8, "i16": np.int16, "u16": np.uint16, "u64": np.uint64}


@dataclass(frozen=True)
class GoldenCase:
    id: str
    kind: str
    kernel: str
    ptx_path: Path
    launch: dict[str, Any]  # for hwaware.ptx.analyze
    thread_instructions: int
    warp_instructions: int
    thread_instructions_guard_true: int
    per_line: dict[int, int]
    control_buffers: tuple[str, ...]  # arguments whose contents decide control flow


def golden_root() -> Path:
    return data_root().parent / "ptx-golden"


def _buffer_contents(arg: dict[str, Any]) -> np.ndarray:
    if arg["dtype"] == "bf16":  # no numpy type: its bit patterns
        from hwaware.ptx.semantics import bf16_bits

        return bf16_bits(_buffer_contents({**arg, "dtype": "f32"}))
    dtype, n = _DTYPES[arg["dtype"]], arg["elements"]
    init = arg.get("init", {"kind": "fill", "value": 0})
    if init["kind"] == "fill":
        return np.full(n, init["value"], dtype=dtype)
    if init["kind"] == "list":
        return np.array(init["values"], dtype=dtype)
    # "formula": a numpy expression in the element index i (corpus format, trusted test data)
    return np.asarray(eval(init["expr"], {"np": np, "__builtins__": {}}, {"i": np.arange(n)})).astype(dtype)  # noqa: S307


def load_golden_cases(root: Path | None = None, *, control_only: bool = False) -> list[GoldenCase]:
    """All cases; with ``control_only`` only buffers marked ``affects_control_flow`` get contents (the rest unknown)."""
    from hwaware.ptx.analysis import buffer_from_array

    root = root or golden_root()
    spec = json.loads((root / "cases.json").read_text())
    cases = []
    for c in spec["cases"]:
        args: dict[str, Any] = {}
        for a in c["args"]:
            if a["kind"] == "scalar":
                args[a["ptx_param"]] = a["value"]
            elif control_only and not a.get("affects_control_flow"):
                args[a["ptx_param"]] = buffer_from_array(None, a["bytes"])
            else:
                args[a["ptx_param"]] = buffer_from_array(_buffer_contents(a))
        launch = {"grid": tuple(c["launch"]["grid"]), "block": tuple(c["launch"]["block"]),
                  "dynamic_shared_mem_bytes": c["launch"]["dynamic_shared_mem_bytes"], "args": args}
        r = c["results"]
        cases.append(GoldenCase(c["id"], c["kind"], c["kernel"], root / c["ptx_file"], launch, r["thread_instructions"],
                                r["warp_instructions"], r["thread_instructions_guard_true"],
                                {int(k): v for k, v in r["per_line_thread_counts"].items()},
                                tuple(a["ptx_param"] for a in c["args"] if a.get("affects_control_flow"))))
    return cases
