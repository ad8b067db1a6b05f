"""A space-wide latency table: every architecture of a finite space, predicted in batches.

Each row's ``ms``, ``interval_ms`` and ``warnings`` equal the total, interval and warnings of
``hwaware.estimate(space.shell(arch), gpu,
input_size=space.input_size(arch), ...)`` with the same batch size, precision and runtime, ``gpu`` a catalog GPU or
a calibration profile: the same graphs (:meth:`ModelSpace.graph`), estimator, profile correction and warnings (each
raised once), only batched (:meth:`~hwaware.estimators.Estimator.predict_many`) and optionally split over worker
processes. NB201's graphs are assembled from templates, without building a module
(:func:`hwaware.zoo.nb201.nb201_graph`).
Graphs are kept in memory only (a whole space would fill the on-disk graph cache).

>>> rows = space_table("nb201", "2080ti", limit=2)
>>> rows[0].ms > 0 and rows[0].interval_ms[0] < rows[0].ms < rows[0].interval_ms[1]
True
"""
from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing as mp
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from hwaware.api import Progress, graphs_estimates, resolve
from hwaware.calibration.profile import Profile
from hwaware.graph.cache import GraphCache, use_graph_cache
from hwaware.hardware.catalog import Platform
from hwaware.zoo.spaces import get_space

_Answer = tuple[float, tuple[float, float] | None, tuple[str, ...]]  # a prediction's ms, interval and warnings
CHUNK = 256  # architectures per predict_many call: bounded memory, one regressor batch per chunk


class SpaceRow(NamedTuple):
    """One architecture of a space table: its spec (``"nb201:{...}"``), predicted ms, and the estimate's interval
    (low, high) ms, None where the estimator gives none, and its warnings (:attr:`hwaware.Estimate.warnings`: the
    table's one line per kind names no architecture, helper-139). (Until 2026-12-05 a row was the pair (spec, ms):
    code that unpacks two values now reads ``row.spec, row.ms``.)"""

    spec: str
    ms: float
    interval_ms: tuple[float, float] | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Job:
    """One chunk of a table: the request as :func:`hwaware.api.resolve` returned it, resolved once by the caller."""

    space: str
    platform: Platform
    profile: Profile | None
    estimator: str
    archs: Sequence[dict]


def _predict_chunk(job: _Job) -> tuple[list[_Answer], list[tuple[type[Warning], str]]]:
    """The chunk's (ms, interval, warnings), and the warnings its predictions raised (a worker process's own would
    print once per worker and escape the caller's filters: the caller re-raises them)."""
    space, platform = get_space(job.space), job.platform
    with _no_cyclic_gc(), use_graph_cache(_MEMORY), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graphs = [space.graph(a, batch_size=platform.batch_size, precision=platform.precision) for a in job.archs]
        answers = [(e.total_ms, e.interval_ms, e.warnings)
                   for e in graphs_estimates(graphs, platform, job.profile, job.estimator)]
    return answers, [(w.category, str(w.message)) for w in caught]


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


def space_table(space_name: str, gpu: str, *, batch_size: int = 1, precision: str | None = None,
                runtime: str | None = None, estimator: str | None = None, workers: int = 1, limit: int | None = None,
                progress: bool | None = None) -> list[SpaceRow]:
    """A :class:`SpaceRow` (spec, ms, interval) for every architecture of ``space_name`` (first ``limit`` only if
    given), in :meth:`ModelSpace.archs` order; ``gpu``, ``batch_size``, ``precision``, ``runtime`` and ``estimator``
    as in :func:`hwaware.latency`; ``workers`` > 1 forks that many processes (one torch thread each)."""
    space = get_space(space_name)
    platform, profile, name = resolve(gpu, precision=precision, runtime=runtime, batch_size=batch_size,
                                      estimator=estimator)
    archs = list(itertools.islice(space.archs(), limit))
    jobs = [_Job(space_name, platform, profile, name, archs[i:i + CHUNK]) for i in range(0, len(archs), CHUNK)]
    bar = Progress(len(archs), f"{space_name} on {platform.device.name} [{name}]", enabled=progress)
    answers: list[_Answer] = []
    raised: dict[tuple[type[Warning], str], None] = {}
    with contextlib.ExitStack() as stack:
        pool = (stack.enter_context(mp.get_context("fork").Pool(workers, initializer=_one_thread)) if workers > 1
                else None)
        for out, caught in (pool.imap(_predict_chunk, jobs) if pool else map(_predict_chunk, jobs)):
            answers += out
            raised.update(dict.fromkeys(caught))
            bar.step(len(out))
    bar.close()
    for category, message in raised:
        warnings.warn(message, category, stacklevel=2)
    return [SpaceRow(space.spec(a), *answer) for a, answer in zip(archs, answers)]


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)  # two processes on two cores: no OpenMP threads competing
