"""The graph cache: captured graphs by structural key (:mod:`hwaware.graph.structure`), in an
in-process LRU in front of an on-disk SQLite table, so a NAS loop traces each distinct structure once.

The store is :class:`hwaware.sqlite_store.SqliteStore`, as for the prediction cache: several worker
processes share one file, a corrupt file is moved aside and recreated. Location: ``$HWAWARE_CACHE_DIR/graphs.sqlite``
(default ``~/.cache/hwaware``). ``HWAWARE_CACHE=0`` turns the disk cache off; ``HWAWARE_GRAPH_CACHE=0``
turns graph caching off altogether; ``HWAWARE_GRAPH_CACHE=verify`` re-traces on every hit and raises
on a mismatch (to check that a model's forward depends only on what the key sees).

>>> import tempfile
>>> from hwaware.graph.layer import Graph
>>> cache = GraphCache(tempfile.mkdtemp() + "/g.sqlite")
>>> cache.put("k", Graph("net", [], (1, 3, 8, 8), "fp32", 0, "torch"))
>>> cache.get("k").input_shape
(1, 3, 8, 8)
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from hwaware.graph.layer import Graph, Layer
from hwaware.sqlite_store import SqliteStore, cache_file


def cache_mode() -> str:
    """``on`` (default), ``off`` (``HWAWARE_GRAPH_CACHE=0``) or ``verify``."""
    value = os.environ.get("HWAWARE_GRAPH_CACHE", "1").lower()
    return {"0": "off", "off": "off", "verify": "verify"}.get(value, "on")


def graph_to_bytes(graph: Graph) -> bytes:
    payload = {"name": graph.name, "input_shape": list(graph.input_shape), "precision": graph.precision,
               "total_params": graph.total_params, "source": graph.source, "skipped": dict(graph.skipped),
               "layers": [l.as_dict() for l in graph.layers]}
    return zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 1)


def graph_from_bytes(data: bytes) -> Graph:
    d = json.loads(zlib.decompress(data))
    return Graph(name=d["name"], layers=[Layer.from_dict(l) for l in d["layers"]], input_shape=tuple(d["input_shape"]),
                 precision=d["precision"], total_params=d["total_params"], source=d["source"],
                 skipped=Counter(d["skipped"]))


def copy_graph(graph: Graph, name: str | None = None) -> Graph:
    """A graph sharing the (immutable) layers, with its own layer list and counters."""
    return Graph(name=graph.name if name is None else name, layers=list(graph.layers), input_shape=graph.input_shape,
                 precision=graph.precision, total_params=graph.total_params, source=graph.source,
                 skipped=Counter(graph.skipped))


class GraphCache(SqliteStore[Graph]):
    """``get``/``put`` of graphs by key; see the module docstring. ``path=None``: memory only."""

    def __init__(self, path: str | os.PathLike | None = None, maxsize: int = 2_000) -> None:
        super().__init__(path, "graphs", ("data BLOB",), maxsize)
        self.hits = self.misses = 0

    def get(self, key: str) -> Graph | None:
        with self._lock:
            graph = self._lru.get(key)
            if graph is None and self._db() is not None:
                try:
                    row = self._db().execute("SELECT data FROM graphs WHERE key = ?", (key,)).fetchone()
                except sqlite3.DatabaseError as exc:
                    self._failed(exc)
                    row = None
                if row is not None:
                    graph = graph_from_bytes(row[0])
                    self._remember(key, graph)
            elif graph is not None:
                self._lru.move_to_end(key)
            self.hits += graph is not None
            self.misses += graph is None
            return graph

    def put(self, key: str, graph: Graph) -> None:
        self._put({key: graph}, lambda k, g: (k, graph_to_bytes(g)))

    def clear(self) -> None:
        """Empty the cache and give the disk space back (VACUUM, then truncate the WAL)."""
        self._clear("VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)")


def default_graph_path() -> Path | None:
    return cache_file("graphs.sqlite")


_DEFAULT: GraphCache | None = None
_OVERRIDE: list[GraphCache] = []


def default_graph_cache() -> GraphCache:
    """The process-wide graph cache (on disk under :func:`~hwaware.sqlite_store.cache_dir` unless ``HWAWARE_CACHE=0``),
    or the one :func:`use_graph_cache` installed."""
    global _DEFAULT
    if _OVERRIDE:
        return _OVERRIDE[-1]
    path = default_graph_path()
    if _DEFAULT is None or _DEFAULT.path != path:  # the environment chose another folder
        _DEFAULT = GraphCache(path)
    return _DEFAULT


@contextlib.contextmanager
def use_graph_cache(cache: GraphCache) -> Iterator[GraphCache]:
    """Capture into ``cache`` inside the block, e.g. memory only for a one-off sweep of a whole space.

    >>> with use_graph_cache(GraphCache(None)) as c:
    ...     c is default_graph_cache()
    True
    """
    _OVERRIDE.append(cache)
    try:
        yield cache
    finally:
        _OVERRIDE.pop()
