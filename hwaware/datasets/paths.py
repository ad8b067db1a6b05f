from __future__ import annotations

import os
from pathlib import Path

from hwaware.errors import HwawareError


class DataNotFoundError(HwawareError, FileNotFoundError):
    """The shared measurement data folder is not where hwaware looked."""


def data_root() -> Path:
    """The shared data folder: ``$HWAWARE_DATA`` if set, else the first ``shared/data`` found
    walking up from this package (a checkout sits beside ``shared/``)."""
    env = os.environ.get("HWAWARE_DATA")
    if env:
        root = Path(env)
        if not (root / "README.md").is_file():
            raise DataNotFoundError(f"HWAWARE_DATA={env!r} is not the shared data folder (no README.md there)")
        return root
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "data"
        if (candidate / "README.md").is_file():
            return candidate
    raise DataNotFoundError("cannot find the shared data folder (shared/data beside the repository); "
                            "set HWAWARE_DATA=/path/to/shared/data")
