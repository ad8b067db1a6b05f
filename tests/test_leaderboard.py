"""Pieces of benchmarks/leaderboard.py that can break quietly: the nn-Meter-style peer and the summary table."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from hwaware.datasets.gpu_tables import load_help
from hwaware.datasets.graph_store import load_store


@pytest.fixture(scope="module")
def lb():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "leaderboard.py"
    spec = importlib.util.spec_from_file_location("leaderboard", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_nnmeter_peer_fits_and_predicts_positive(lb):
    from hwaware.hardware import get_gpu

    store = load_store("nb201")
    rows = [r for r in load_help("nb201") if r.gpu == "TITAN Xp" and r.batch == 32 and r.arch_id in store.nets][:40]
    graphs = [lb.batched(r) for r in rows]
    peer = lb.NnMeterRF()
    peer.fit_column(graphs[:30], [r.ms for r in rows[:30]], get_gpu("TITAN Xp"))
    pred = peer.predict(graphs[30:], get_gpu("TITAN Xp"))
    assert pred.shape == (10,) and np.all(np.isfinite(pred)) and np.all(pred > 0)
    assert np.all(peer.costs >= 0)  # NNLS: no negative per-kernel cost


def test_summary_means_per_method(lb):
    rows = [lb.row("a", {"n": 3, "mape": 0.1, "within10": 0.5, "kendall": 0.8, "spearman": 0.9}, 0.001, 1.0, space="x"),
            lb.row("a", {"n": 3, "mape": 0.3, "within10": 0.1, "kendall": 0.6, "spearman": 0.7}, 0.003, 3.0, space="x"),
            lb.row("b", {"n": 3, "mape": 0.05, "within10": 1.0, "kendall": 1.0, "spearman": 1.0}, None, None, space="x")]
    s = lb.summarise(rows, "space")
    assert [r["method"] for r in s] == ["b", "a"]  # best MAPE first
    assert s[1]["mape"] == pytest.approx(0.2) and s[1]["columns"] == 2 and s[0]["train_seconds"] is None
    assert "| b | x | 1 | 5.0 % |" in lb.table(rows, "space", "t")
