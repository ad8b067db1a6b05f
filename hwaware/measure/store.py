"""Append-only CSV sample files: every measured row is flushed at once, so a crash or Ctrl-C loses
nothing already measured, and a restarted collection skips the ids it finds. A row cut short by a crash while it was
written is dropped (it is measured again); :func:`exclusive` keeps a second collection off a file while one runs."""
from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from hwaware.errors import HwawareWarning, InvalidArgumentError


class SampleStore:
    """``same``: column values every row of the file must have (where and how it was measured: machine, threads,
    dtype, torch version): a file measured under other settings is refused, where its ids would have counted as done."""

    def __init__(self, path: str | os.PathLike, columns: Iterable[str], same: Mapping[str, object] | None = None
                 ) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.same = {k: str(v) for k, v in (same or {}).items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._done = self._read_ids()

    def _read_ids(self) -> set[str]:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return set()
        data = self.path.read_bytes()
        try:
            reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
            if reader.fieldnames != self.columns:
                raise InvalidArgumentError(f"{self.path} has columns {reader.fieldnames}, expected "
                                           f"{self.columns}; collect into a new file")
            rows = list(reader)
        except UnicodeDecodeError:
            raise InvalidArgumentError(f"{self.path} is not a CSV text file; collect into a new file") from None
        ended = data.endswith((b"\n", b"\r"))  # else a stopped run's last row, appended to, merged with the next
        end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        cut = not ended and bool(rows) and not self._whole(rows[-1], data[end:].decode("utf-8"))
        if cut:
            rows.pop()
        rows = [row for row in rows if row.get("sample_id")]
        other = next((row for row in rows if any(row.get(k) != v for k, v in self.same.items())), None)
        if other is not None:
            was = ", ".join(f"{k}={other.get(k)}" for k, v in self.same.items() if other.get(k) != v)
            now = ", ".join(f"{k}={v}" for k, v in self.same.items() if other.get(k) != v)
            raise InvalidArgumentError(f"{self.path} holds measurements at {was}, this run is at {now}; collect into "
                                       "a new file (--out), or run as that file was measured")
        if cut:  # only a file found to be this store's is changed
            with open(self.path, "rb+") as f:
                f.truncate(end)
            warnings.warn(f"{self.path}: dropped its last row, cut short while it was written (a stopped run); that "
                          "sample is measured again", HwawareWarning, stacklevel=3)
        elif not ended:  # a whole last row (or the header) without its line end: ended, nothing lost
            with open(self.path, "ab") as f:
                f.write(b"\r\n")
        return {row["sample_id"] for row in rows}

    def _whole(self, row: dict[str, Any], line: str) -> bool:
        """Whether the unended last ``line`` is a whole row: every column there (a cut row lacks the last ones), written
        back as it reads (a quoted field cut short is not) and at this run's setting (a cut inside an unquoted last
        value leaves e.g. dtype=float3)."""
        if None in row or None in row.values():
            return False
        text = io.StringIO()
        csv.DictWriter(text, fieldnames=self.columns, lineterminator="").writerow(row)
        return text.getvalue() == line and all(row.get(k) == v for k, v in self.same.items())

    def __contains__(self, sample_id: str) -> bool:
        return sample_id in self._done

    def __len__(self) -> int:
        return len(self._done)

    def append(self, row: dict[str, Any]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.columns)
            if new:
                w.writeheader()
            w.writerow(row)
            f.flush()
            os.fsync(f.fileno())
        self._done.add(str(row["sample_id"]))


@contextlib.contextmanager
def exclusive(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on the sample file ``path`` for a collection: two collections appending to one file
    both measured the same samples, each timed beside the other. A file made here for the lock and left empty is
    removed. Where locks are unavailable (no ``fcntl``; a filesystem without them) none is taken; on a network
    filesystem the lock may hold on one host only."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    made = not path.exists()
    fd = os.open(path, os.O_RDONLY | os.O_CREAT)  # read-only: a finished, read-only file still resumes
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):  # e.g. ENOLCK: no lock to be had, nothing held
                warnings.warn(f"cannot lock {path} ({exc.strerror}): run one collection at a time on it",
                              HwawareWarning, stacklevel=3)
            else:
                raise InvalidArgumentError(f"another collection is writing {path}; wait for it to finish, or "
                                           "collect into another file (--out)") from None
        yield
    finally:
        os.close(fd)
        if made and path.exists() and path.stat().st_size == 0:
            path.unlink()
