"""Append-only CSV sample files: every measured row is flushed at once, so a crash or Ctrl-C loses
nothing already measured, and a restarted collection skips the ids it finds. A row cut short by a crash while it was
written is dropped (it is measured again); :func:`exclusive` keeps a second collection off a file while one runs."""
from __future__ import annotations

import contextlib
import csv
import os
import warnings
from collections.abc import Iterator
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hwaware.errors import InvalidArgumentError


class SampleStore:
    """``same``: column values every row of the file must have (the machine, threads and dtype it was measured at): a
    file measured under other settings is refused, where its ids would have counted as done."""

    def __init__(self, path: str | os.PathLike, columns: Iterable[str], same: Mapping[str, object] | None = None
                 ) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        self.same = {k: str(v) for k, v in (same or {}).items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_cut_row()
        self._done = self._read_ids()

    def _drop_cut_row(self) -> None:
        """A last line without its newline is a row a crash cut short: appended to, it merged with the next row."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as f:
            data = f.read()
            if data.endswith(b"\n"):
                return
            f.truncate(data.rfind(b"\n") + 1)  # 0 when even the header was cut: the file starts again
        warnings.warn(f"{self.path}: dropped its last row, cut short while it was written (a stopped run); that "
                      "sample is measured again", stacklevel=3)

    def _read_ids(self) -> set[str]:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return set()
        try:
            with open(self.path, newline="") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames != self.columns:
                    raise InvalidArgumentError(f"{self.path} has columns {reader.fieldnames}, expected "
                                               f"{self.columns}; collect into a new file")
                rows = [row for row in reader if row.get("sample_id")]
        except UnicodeDecodeError:
            raise InvalidArgumentError(f"{self.path} is not a CSV text file; collect into a new file") from None
        other = next((row for row in rows if any(row.get(k) != v for k, v in self.same.items())), None)
        if other is not None:
            was = ", ".join(f"{k}={other.get(k)}" for k, v in self.same.items() if other.get(k) != v)
            now = ", ".join(f"{k}={v}" for k, v in self.same.items() if other.get(k) != v)
            raise InvalidArgumentError(f"{self.path} holds measurements at {was}, this run is at {now}; collect into "
                                       "a new file (--out), or run as that file was measured")
        return {row["sample_id"] for row in rows}

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
    """Hold an exclusive lock on the sample file ``path`` (made empty if missing) for a collection: two collections
    appending to one file both measured the same samples, each timed beside the other. Where ``fcntl`` is missing
    (Windows) no lock is taken."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InvalidArgumentError(f"another collection is writing {path}; wait for it to finish, or collect "
                                       "into another file (--out)") from None
        yield
