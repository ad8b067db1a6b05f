"""The per-layer prediction cache: an in-process LRU in front of an on-disk SQLite table
(:class:`hwaware.sqlite_store.SqliteStore`: shared by processes, a corrupt file moved aside and recreated).

Keys are ``(estimator, version, platform key, layer signature)`` (``resperfnet-gpu``'s also a hash of what its
predictions read of the GPU's spec, :func:`hwaware.hardware.catalog.spec_digest`, the batch and the host); values
three numbers per layer: the phase times (pre, exe, post) of the CPU estimator, (host share, ms, floor: 1 where
the kernel time is the GEMM peak floor, 2 the DRAM floor (from version 8.1), else 0) of ``resperfnet-gpu``, whose keys
say so, and from version 8.2 a fourth, its floor's ms (0: none), in the table's ``extra`` column (empty for three).
Location: ``$HWAWARE_CACHE_DIR/predictions.sqlite`` (default ``~/.cache/hwaware``); ``HWAWARE_CACHE=0``
turns the disk cache off; ``$HWAWARE_CACHE_MAX_MB`` caps it (:mod:`hwaware.sqlite_store`); ``hwaware cache info``
shows it and the graph cache, ``hwaware cache clear`` empties both.
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwaware.graph.cache import GraphCache, default_graph_path
from hwaware.sqlite_store import SqliteStore, cache_file, db_files

Phases = tuple[float, ...]  # three numbers, or four (see the module docstring)
TABLE = "layer_predictions"  # since 8.2, with the fourth column; before it "predictions", which ``clear`` drops


def default_cache_path() -> Path | None:
    return cache_file("predictions.sqlite")


class PredictionCache(SqliteStore[Phases]):
    """``get_many``/``put_many`` of phase times by key; see the module docstring."""

    def __init__(self, path: str | os.PathLike | None = None, maxsize: int = 200_000) -> None:
        super().__init__(path, TABLE, ("pre REAL", "exe REAL", "post REAL", "extra REAL"), maxsize)

    def __reduce__(self) -> tuple[type, tuple[Path | None, int]]:
        # the same file, opened anew (a connection and a lock do not copy): pickle, and the deepcopy of clone()
        return type(self), (self.path, self.maxsize)

    def get_many(self, keys: Iterable[str]) -> dict[str, Phases]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, Phases] = {}
        with self._lock:
            for k in keys:
                if k in self._lru:
                    self._lru.move_to_end(k)
                    found[k] = self._lru[k]
            missing = [k for k in keys if k not in found]
            if missing and self._db() is not None:
                for rows in self._query(missing):
                    for key, *values in rows:
                        value = tuple(values[:3] if values[3] is None else values)
                        found[key] = value
                        self._remember(key, value)
        return found

    def _query(self, keys: list[str]) -> Iterable[list[tuple[str, float, float, float]]]:
        conn = self._db()
        if conn is None:  # locked by another process past the busy timeout: misses this time
            return
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            sql = f"SELECT key, pre, exe, post, extra FROM {TABLE} WHERE key IN ({','.join('?' * len(chunk))})"
            try:
                yield conn.execute(sql, chunk).fetchall()
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
                return

    def put_many(self, items: dict[str, Phases]) -> None:
        if items:
            self._put(items, lambda k, v: (k, *v, *[None] * (4 - len(v))))

    def clear(self) -> None:
        """Empty the cache and give the disk space back (the table before 8.2 dropped, VACUUM, then truncate the
        WAL)."""
        self._clear("DROP TABLE IF EXISTS predictions", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass(frozen=True)
class CacheInfo:
    """An on-disk cache: its file (``None``: disk cache off), entries (``what`` they are), and bytes with the WAL
    files."""

    path: Path | None
    entries: int
    bytes: int
    what: str = "cached layer predictions"

    def describe(self) -> str:
        if self.path is None:
            return "the disk cache is off (HWAWARE_CACHE=0)"
        return f"{self.path}: {self.entries} {self.what}, {self.bytes:,} bytes on disk"


def _store(path: str | os.PathLike | None, graphs: bool) -> tuple[Path | None, type[SqliteStore[Any]], str]:
    where = Path(path) if path is not None else default_graph_path() if graphs else default_cache_path()
    return (where, GraphCache, "captured graphs") if graphs else (where, PredictionCache, "cached layer predictions")


def cache_info(path: str | os.PathLike | None = None, *, graphs: bool = False) -> CacheInfo:
    """What the prediction cache (``graphs``: the graph cache, :mod:`hwaware.graph.cache`) at ``path`` (default: in
    :func:`~hwaware.sqlite_store.cache_dir`) holds; a missing file is an empty cache."""
    where, store, what = _store(path, graphs)
    if where is None:
        return CacheInfo(None, 0, 0, what)
    entries = len(store(where)) if where.exists() else 0
    return CacheInfo(where, entries, sum(p.stat().st_size for p in db_files(where)), what)


def clear_cache(path: str | os.PathLike | None = None, *, graphs: bool = False) -> None:
    """Empty the prediction cache (``graphs``: the graph cache) at ``path`` (default: in
    :func:`~hwaware.sqlite_store.cache_dir`) and give the space back. Safe while other processes use it: they see an
    empty table, not a missing file."""
    where, store, _ = _store(path, graphs)
    if where is not None and where.exists():
        store(where).clear()
