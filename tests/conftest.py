from __future__ import annotations

import os
import tempfile

import pytest

# Predictions made by the tests (and their worker processes) go to a throw-away cache, not ~/.cache.
os.environ.setdefault("HWAWARE_CACHE_DIR", tempfile.mkdtemp(prefix="hwaware-test-cache-"))

from hwaware.datasets import data_root, load_timm_benchmark, timm_benchmark_files

# The table whose MAC/param figures the capture tests check against (fvcore counts by timm).
REFERENCE_TABLE = "benchmark-infer-amp-nchw-pt291-cu128-4090.csv"


@pytest.fixture(scope="session")
def shared_data():
    """The shared measurement data; CI has it beside the checkout. Fails (never skips) when missing."""
    return data_root()


@pytest.fixture(scope="session")
def timm_reference(shared_data):
    """(model, img_size) -> published row of the reference timm table."""
    path = next(p for p in timm_benchmark_files(shared_data) if p.name == REFERENCE_TABLE)
    return {(r.model, r.img_size): r for r in load_timm_benchmark(path)}
