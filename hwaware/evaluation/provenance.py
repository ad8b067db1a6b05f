"""What a trained model or a results file records about how it was made: code, libraries, threads, data files."""
from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def provenance(*extra_modules: str) -> dict:
    """The commit, the tracked files that differ from it, library versions (numpy, torch, timm and
    ``extra_modules``), thread settings, and the hashes of the committed graph stores.

    >>> sorted(provenance())[:3]
    ['code_commit', 'graph_stores_sha256', 'python']
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
            # porcelain lines are "XY path": the two status letters and a space come off, nothing else
            "uncommitted_files": sorted(line[3:] for line in
                                        git("status", "--porcelain", "--untracked-files=no").splitlines()),
            "graph_stores_sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
                                    for p in sorted(GRAPH_DIR.glob("*.json.gz"))},
            "python": platform.python_version(), "versions": versions,
            "threads": {"torch": torch.get_num_threads(), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}}
