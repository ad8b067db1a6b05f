"""The on-disk caches' common part: one SQLite table by text key behind an in-process LRU.

Several processes (NAS workers) share one file, so SQLite runs in WAL mode with a busy timeout and
each process opens its own connection. The caches only hold recomputable values, so a corrupt file
is moved aside (``<file>.corrupt-<time>``, with its WAL files) and recreated rather than failing.
Location: :func:`cache_dir`, i.e. ``$HWAWARE_CACHE_DIR`` (default ``~/.cache/hwaware``); ``HWAWARE_CACHE=0``
turns the disk caches off. Each file keeps its live rows under ``$HWAWARE_CACHE_MAX_MB`` megabytes (default
:data:`DEFAULT_MAX_MB`, ``inf``: no cap): a write that passes it deletes the oldest-written rows, down to
:data:`TRIM_TO` of the cap (a row written again counts as new; what is deleted is only computed again), and then
checkpoints the WAL, which SQLite keeps at :data:`WAL_LIMIT` at most after a checkpoint, so the database file stays
about the cap's size and its WAL beside it small (``tests/test_cache.py`` checks both at a 20 MB cap). A NAS
loop writes a graph (5-11 KB compressed for resnet50 to vit_base) and the layers' predictions for every new
candidate and platform, so without a cap the files grow with the search.
"""
from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from hwaware.errors import CacheSettingError

V = TypeVar("V")

DEFAULT_MAX_MB = 1024.0  # per file; an assumption: room for ~100,000 captured timm-sized graphs
TRIM_TO = 0.8  # of the cap: a trim frees room for many writes, rather than deleting a few rows at each one
BUSY_MS = 30_000  # how long a writer waits for another process's write
WAL_LIMIT = 8 << 20  # bytes a WAL keeps after a checkpoint (SQLite's default keeps its largest size); an assumption


def cache_limit_bytes() -> float:
    """The cap on each cache file's live rows, from ``$HWAWARE_CACHE_MAX_MB`` (default :data:`DEFAULT_MAX_MB`)."""
    value = os.environ.get("HWAWARE_CACHE_MAX_MB", "").strip()
    try:
        mb = float(value) if value else DEFAULT_MAX_MB
    except ValueError:
        mb = -1.0
    if not mb > 0:  # also NaN
        raise CacheSettingError(f"HWAWARE_CACHE_MAX_MB={value!r} is not a positive number of megabytes; set e.g. "
                                "HWAWARE_CACHE_MAX_MB=1024, 'inf' for no cap, or HWAWARE_CACHE=0 to cache nothing "
                                "on disk")
    return mb * 1e6


def corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Whether ``exc`` says the file is damaged (moved aside then), not that it is busy or locked (left alone: other
    processes are using it)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    return not isinstance(exc, sqlite3.OperationalError)


def cache_dir() -> Path | None:
    """The folder of hwaware's on-disk caches, or None when ``HWAWARE_CACHE=0``."""
    if os.environ.get("HWAWARE_CACHE", "1") == "0":
        return None
    folder = Path(os.environ.get("HWAWARE_CACHE_DIR") or Path.home() / ".cache" / "hwaware")
    if folder.exists() and not folder.is_dir():
        raise CacheSettingError(f"HWAWARE_CACHE_DIR={folder} is a file; point it to a folder, or set "
                                "HWAWARE_CACHE=0 to cache nothing on disk")
    return folder


def cache_file(name: str) -> Path | None:
    """The cache file ``name`` in :func:`cache_dir`, or None when the disk caches are off."""
    folder = cache_dir()
    return folder / name if folder is not None else None


def db_files(path: Path) -> list[Path]:
    """The database and the WAL files SQLite keeps beside it, those that exist."""
    return [p for p in (Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")) if p.exists()]


class SqliteStore(Generic[V]):
    """Table ``table (key TEXT PRIMARY KEY, *columns)`` in the file ``path`` (``None``: memory only),
    with an LRU of at most ``maxsize`` values; subclasses read it under ``_lock`` and write with ``_put``."""

    def __init__(self, path: str | os.PathLike | None, table: str, columns: tuple[str, ...], maxsize: int) -> None:
        self.path = Path(path) if path is not None else None
        self.maxsize = maxsize
        self._table = table
        self._schema = f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, {', '.join(columns)})"
        self._insert = f"INSERT OR REPLACE INTO {table} VALUES ({', '.join('?' * (1 + len(columns)))})"
        self._lru: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()

    def _db(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._conn is None or self._pid != os.getpid():  # a forked worker opens its own connection
            self._pid = os.getpid()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # helper-169: "/proc/nope: No such file or directory; check the paths given"
                raise CacheSettingError(
                    f"cannot create the cache folder {self.path.parent} ({exc.strerror or exc}); point "
                    "HWAWARE_CACHE_DIR to a folder you can write, or set HWAWARE_CACHE=0 to cache nothing on disk"
                ) from None
            try:
                self._conn = self._connect()
            except sqlite3.DatabaseError as exc:
                if not corrupt(exc):  # locked past the busy timeout by another process: no disk cache this time
                    return None
                self._quarantine()
                self._conn = self._connect()
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        cache_limit_bytes()  # a bad cap is said at the first use, not at the first write after a run of cache hits
        conn = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # no fsync per insert: a lost entry is only computed again
        conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")  # a WAL reset after a checkpoint shrinks to this
        conn.execute(self._schema)
        conn.execute(f"SELECT count(*) FROM {self._table} WHERE key = ''").fetchone()  # touch: detects corruption
        return conn

    def _quarantine(self) -> None:
        """Move a corrupt database (and its WAL files) aside."""
        assert self.path is not None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for p in db_files(self.path):
            p.rename(Path(f"{self.path}.corrupt-{stamp}{p.name[len(self.path.name):]}"))

    def _failed(self, exc: sqlite3.DatabaseError) -> None:
        """After a database error: a corrupt file is moved aside (:meth:`_reset`); one another process held locked
        past the busy timeout is left as it is, this operation skipped (its values stay in the LRU; a cache only)."""
        if corrupt(exc):
            self._reset()
        elif self._conn is not None and self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _reset(self) -> None:
        """Self-heal after a database error: drop the connection, move the file aside, start empty."""
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
        self._conn = None
        self._quarantine()

    def _remember(self, key: str, value: V) -> None:
        self._lru[key] = value
        self._lru.move_to_end(key)
        if len(self._lru) > self.maxsize:
            self._lru.popitem(last=False)

    def _put(self, items: dict[str, V], to_row: Callable[[str, V], tuple[object, ...]]) -> None:
        """Remember ``items`` and write them, as ``to_row(key, value)`` (the key, then the columns), in one
        transaction; a database error heals the store, the values stay in the LRU."""
        with self._lock:
            for k, v in items.items():
                self._remember(k, v)
            conn = self._db()
            if conn is None:
                return
            # before BEGIN: an error here leaves no open transaction
            rows, limit = [to_row(k, v) for k, v in items.items()], cache_limit_bytes()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(self._insert, rows)
                trimmed = self._trim(conn, limit)
                conn.execute("COMMIT")
                if trimmed:  # a trim rewrites many pages into the WAL, which SQLite keeps at that size: give it back
                    self._checkpoint(conn)
            except sqlite3.DatabaseError as exc:
                self._failed(exc)

    def _trim(self, conn: sqlite3.Connection, limit: float) -> bool:
        """Inside the writing transaction: if the live pages pass ``limit`` bytes, delete the oldest-written rows (the
        lowest rowids: ``INSERT OR REPLACE`` gives a rewritten row a new one), about so many that the rest fill
        :data:`TRIM_TO` of it (counted on the rowid range, not by a scan under the lock all writers share). Freed
        pages stay in the file and are reused by later writes. Returns whether it deleted."""
        size, pages, free = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_size", "page_count", "freelist_count"))
        used = (pages - free) * size
        if used <= limit:
            return False
        lo, hi = conn.execute(f"SELECT min(rowid), max(rowid) FROM {self._table}").fetchone()
        if lo is None:
            return False
        cut = lo + max(1, math.ceil((hi - lo + 1) * (1.0 - TRIM_TO * limit / used)))
        conn.execute(f"DELETE FROM {self._table} WHERE rowid < ?", (cut,))
        return True

    def __len__(self) -> int:
        conn = self._db()
        if conn is None:
            return len(self._lru)
        return conn.execute(f"SELECT count(*) FROM {self._table}").fetchone()[0]

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        """Checkpoint and truncate the WAL if no other process is reading an older snapshot, without waiting for one
        (a truncating checkpoint waits for readers, which NAS workers always are): if one is, the WAL shrinks to
        :data:`WAL_LIMIT` at its next reset instead."""
        conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.OperationalError:  # busy: the limit applies later
            pass
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")

    def _clear(self, *then: str) -> None:
        """Empty the LRU and the table, then run the statements ``then`` (e.g. ``VACUUM``)."""
        with self._lock:
            self._lru.clear()
            conn = self._db()
            if conn is not None:
                for sql in (f"DELETE FROM {self._table}", *then):
                    conn.execute(sql)
