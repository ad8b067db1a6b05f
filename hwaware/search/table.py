"""A space-wide latency table: every architecture of a finite space, predicted in batches.

Each value equals ``hwaware.latency(space.shell(arch), gpu, input_size=space.input_size(arch))``:
the same graphs (:meth:`ModelSpace.graph`) and the same estimator, only batched
(:meth:`~hwaware.estimators.Estimator.predict_many`) and optionally split over worker processes. NB201's graphs
are assembled from templates, without building a module (:func:`hwaware.zoo.nb201.nb201_graph`).
Graphs are kept in memory only (a whole space would fill the on-disk graph cache).

>>> rows = space_table("nb201", "2080ti", limit=2)
>>> [(i, r[0]) for i, r in enumerate(rows)] == [(0, rows[0][0]), (1, rows[1][0])] and rows[0][1] > 0
True
"""
from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing as mp
from collections.abc import Iterator, Sequence

from hwaware.api import Progress
from hwaware.estimators.base import default_estimator, get_estimator
from hwaware.graph.cache import GraphCache, use_graph_cache
from hwaware.hardware.catalog import Platform
from hwaware.search.spaces import get_space

CHUNK = 256  # architectures per predict_many call: bounded memory, one regressor batch per chunk


def _predict_chunk(job: tuple[str, str, str, Sequence[dict]]) -> list[float]:
    space_name, gpu, estimator, archs = job
    space = get_space(space_name)
    platform = Platform.resolve(gpu)
    with _no_cyclic_gc(), use_graph_cache(_MEMORY):
        graphs = [space.graph(a) for a in archs]
        return [e.total_ms for e in get_estimator(estimator).predict_many(graphs, platform)]


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Cyclic garbage collection paused for one chunk: a chunk allocates ~60,000 acyclic layer records, whose
    allocation triggered collections that took 60 % of the time (NB201, 1,024 archs: 2.5 s with it, 1.0 s without;
    measured 2026-11-30). Reference counting still frees them; the chunk bounds the memory."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_MEMORY = GraphCache(None)


def space_table(space_name: str, gpu: str, *, estimator: str | None = None, workers: int = 1, limit: int | None = None,
                progress: bool | None = None) -> list[tuple[str, float]]:
    """``[(spec, ms)]`` for every architecture of ``space_name`` (first ``limit`` only if given), in
    :meth:`ModelSpace.archs` order; ``workers`` > 1 forks that many processes (one torch thread each)."""
    space = get_space(space_name)
    archs = list(itertools.islice(space.archs(), limit))
    platform = Platform.resolve(gpu)
    name = estimator or default_estimator(platform)
    jobs = [(space_name, gpu, name, archs[i:i + CHUNK]) for i in range(0, len(archs), CHUNK)]
    bar = Progress(len(archs), f"{space_name} on {platform.device.name} [{name}]", enabled=progress)
    ms: list[float] = []
    if workers > 1:
        with mp.get_context("fork").Pool(workers, initializer=_one_thread) as pool:
            for out in pool.imap(_predict_chunk, jobs):
                ms += out
                bar.step(len(out))
    else:
        for job in jobs:
            ms += _predict_chunk(job)
            bar.step(len(job[3]))
    bar.close()
    return [(space.spec(a), t) for a, t in zip(archs, ms)]


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)  # two processes on two cores: no OpenMP threads competing
