"""What a trained model or a results file records about how it was made: code, libraries, threads, data files."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (``cpuinfo``'s ``model name`` line; else what :func:`platform.processor` says, possibly
    empty, as on arm64 Linux: :func:`provenance` records the machine type beside it)."""
    with contextlib.suppress(OSError):
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def provenance(*extra_modules: str) -> dict:
    """The commit, the tracked files that differ from it, library versions (numpy, torch, timm and
    ``extra_modules``), thread settings, the CPU, and the hashes of the committed graph stores.

    The CPU: torch and MKL pick kernels by vendor and instruction set, so the same code, data and one thread can train
    other weights on another CPU (``scripts/train_gpu.py main`` on an AVX2 AMD EPYC did not give the shipped weights).

    >>> sorted(provenance())[:3]
    ['code_commit', 'cpu', 'graph_stores_sha256']
    """
    import importlib

    import numpy as np
    import torch

    from hwaware.datasets.graph_store import GRAPH_DIR

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    versions = {"numpy": np.__version__, "torch": torch.__version__}
    for name in ("timm", *extra_modules):
        versions[name] = importlib.import_module(name).__version__
    return {"code_commit": git("rev-parse", "HEAD").strip(),
            # porcelain lines are "XY path": the two status letters and a space come off, nothing else; a rename is
            # its two paths (else one line "old -> new")
            "uncommitted_files": sorted(line[3:] for line in git("status", "--porcelain", "--untracked-files=no",
                                                                 "--no-renames").splitlines()),
            "graph_stores_sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
                                    for p in sorted(GRAPH_DIR.glob("*.json.gz"))},
            "python": platform.python_version(), "versions": versions,
            "threads": {"torch": torch.get_num_threads(), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
            "cpu": {"model": cpu_model(), "machine": platform.machine(),
                    "torch_capability": torch.backends.cpu.get_cpu_capability()}}


def write_results(folder: Path, name: str, results: dict, text: str) -> None:
    """A benchmark's results: ``name.json`` (``results``, as the tests read them back) and ``name.md`` (``text``) in
    ``folder``, and ``text`` printed."""
    (folder / f"{name}.json").write_text(json.dumps(results, indent=1))
    (folder / f"{name}.md").write_text(text)
    print(text)
