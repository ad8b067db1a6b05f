"""The per-layer prediction cache: an in-process LRU in front of an on-disk SQLite table.

Keys are ``(estimator, version, platform key, layer signature)``; values the three phase times.
SQLite runs in WAL mode with a busy timeout, so several processes (NAS workers) read and write one
file at once; a corrupt file is moved aside and recreated rather than failing a prediction.
Location: ``$HWAWARE_CACHE_DIR/predictions.sqlite`` (default ``~/.cache/hwaware``); ``HWAWARE_CACHE=0``
turns the disk cache off; ``hwaware cache info`` shows it and ``hwaware cache clear`` empties it.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

Phases = tuple[float, float, float]
_SCHEMA = "CREATE TABLE IF NOT EXISTS predictions (key TEXT PRIMARY KEY, pre REAL, exe REAL, post REAL)"


def default_cache_path() -> Path | None:
    if os.environ.get("HWAWARE_CACHE", "1") == "0":
        return None
    root = Path(os.environ.get("HWAWARE_CACHE_DIR") or Path.home() / ".cache" / "hwaware")
    return root / "predictions.sqlite"


def _files(path: Path) -> list[Path]:
    """The database and the WAL files SQLite keeps beside it, those that exist."""
    return [p for p in (Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")) if p.exists()]


class PredictionCache:
    """``get_many``/``put_many`` of phase times by key; see the module docstring."""

    def __init__(self, path: str | os.PathLike | None = None, maxsize: int = 200_000) -> None:
        self.path = Path(path) if path is not None else None
        self.maxsize = maxsize
        self._lru: OrderedDict[str, Phases] = OrderedDict()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()

    def _db(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._conn is None or self._pid != os.getpid():  # a forked worker opens its own connection
            self._pid = os.getpid()
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect()
        except sqlite3.DatabaseError:
            self._quarantine()
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(_SCHEMA)
        conn.execute("SELECT count(*) FROM predictions WHERE key = ''").fetchone()  # touch: detects corruption
        return conn

    def _quarantine(self) -> None:
        """Move a corrupt database (and its WAL files) aside; the cache only holds recomputable values."""
        assert self.path is not None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for p in _files(self.path):
            p.rename(Path(f"{self.path}.corrupt-{stamp}{p.name[len(self.path.name):]}"))

    def _remember(self, key: str, value: Phases) -> None:
        self._lru[key] = value
        self._lru.move_to_end(key)
        if len(self._lru) > self.maxsize:
            self._lru.popitem(last=False)

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
                    for key, pre, exe, post in rows:
                        found[key] = (pre, exe, post)
                        self._remember(key, (pre, exe, post))
        return found

    def _query(self, keys: list[str]) -> Iterable[list[tuple[str, float, float, float]]]:
        conn = self._db()
        assert conn is not None
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            sql = f"SELECT key, pre, exe, post FROM predictions WHERE key IN ({','.join('?' * len(chunk))})"
            try:
                yield conn.execute(sql, chunk).fetchall()
            except sqlite3.DatabaseError:
                self._reset()
                return

    def put_many(self, items: dict[str, Phases]) -> None:
        if not items:
            return
        with self._lock:
            for k, v in items.items():
                self._remember(k, v)
            conn = self._db()
            if conn is None:
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT OR REPLACE INTO predictions VALUES (?, ?, ?, ?)",
                                 [(k, *v) for k, v in items.items()])
                conn.execute("COMMIT")
            except sqlite3.DatabaseError:
                self._reset()

    def _reset(self) -> None:
        """Self-heal after a database error: drop the connection, move the file aside, start empty."""
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
        self._conn = None
        self._quarantine()

    def clear(self) -> None:
        """Empty the cache and give the disk space back (VACUUM, then truncate the WAL)."""
        with self._lock:
            self._lru.clear()
            conn = self._db()
            if conn is not None:
                conn.execute("DELETE FROM predictions")
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def __len__(self) -> int:
        conn = self._db()
        if conn is None:
            return len(self._lru)
        return conn.execute("SELECT count(*) FROM predictions").fetchone()[0]


@dataclass(frozen=True)
class CacheInfo:
    """The on-disk cache: its file (``None``: disk cache off), entries, and bytes with the WAL files."""

    path: Path | None
    entries: int
    bytes: int

    def describe(self) -> str:
        if self.path is None:
            return "the disk cache is off (HWAWARE_CACHE=0)"
        return f"{self.path}: {self.entries} cached layer predictions, {self.bytes:,} bytes on disk"


def cache_info(path: str | os.PathLike | None = None) -> CacheInfo:
    """What the cache at ``path`` (default :func:`default_cache_path`) holds; a missing file is an empty cache."""
    where = Path(path) if path is not None else default_cache_path()
    if where is None:
        return CacheInfo(None, 0, 0)
    entries = len(PredictionCache(where)) if where.exists() else 0
    return CacheInfo(where, entries, sum(p.stat().st_size for p in _files(where)))


def clear_cache(path: str | os.PathLike | None = None) -> None:
    """Empty the cache at ``path`` (default :func:`default_cache_path`) and give the space back. Safe while
    other processes use it: they see an empty table, not a missing file."""
    where = Path(path) if path is not None else default_cache_path()
    if where is None or not where.exists():
        return
    PredictionCache(where).clear()
