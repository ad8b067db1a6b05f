"""Search throughput with 1 vs 2 worker processes on one Optuna study (SQLite storage), and a check
that no trial is lost or duplicated. Workers share hwaware's on-disk prediction cache.

Run: ``python benchmarks/search_workers.py [--trials 40] [--space nb201] [--gpu cpu]``
(``--storage postgresql+psycopg2://...`` to use a PostgreSQL server instead.)
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import optuna

from hwaware.search.run import SearchConfig, run_search


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--space", default="nb201")
    ap.add_argument("--gpu", default="cpu")
    ap.add_argument("--storage", default=None)
    args = ap.parse_args()
    os.environ.setdefault("HWAWARE_CACHE_DIR", tempfile.mkdtemp(prefix="hwaware-bench-cache-"))
    with tempfile.TemporaryDirectory() as d:
        for workers in (1, 2):
            storage = args.storage or f"sqlite:///{d}/study.db"
            name = f"throughput-{workers}-{os.getpid()}"
            cfg = SearchConfig(space=args.space, gpu=args.gpu, budget_ms=6.0, trials=args.trials, proxy="synflow",
                               storage=storage, study_name=name, workers=workers, seed=0)
            t = time.perf_counter()
            study = run_search(cfg)
            elapsed = time.perf_counter() - t
            numbers = sorted(tr.number for tr in study.trials)
            intact = numbers == list(range(args.trials))
            print(f"{workers} worker(s): {len(study.trials)} trials in {elapsed:.1f} s = {len(study.trials) / elapsed:.2f} "
                  f"trials/s; trial numbers 0..{args.trials - 1} each exactly once: {intact}")
            optuna.delete_study(study_name=name, storage=storage)


if __name__ == "__main__":
    main()
