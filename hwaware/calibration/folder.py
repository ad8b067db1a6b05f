"""Where saved calibration profiles live, and which exist: without the estimators (and torch) that fitting and
applying a profile need, so that ``hwaware gpus`` lists them without importing torch."""
from __future__ import annotations

import os
from pathlib import Path


def profile_dir() -> Path:
    """Where named profiles live: ``$HWAWARE_PROFILES`` or ``~/.cache/hwaware/profiles``."""
    return Path(os.environ.get("HWAWARE_PROFILES") or Path.home() / ".cache" / "hwaware" / "profiles")


def list_profiles() -> list[str]:
    """Names of the saved profiles (:func:`profile_dir`), sorted: each one a ``gpu=`` (the files are not checked here,
    which takes the profile module and its imports: one that is not a profile is refused in one line when used).

    >>> isinstance(list_profiles(), list)
    True
    """
    folder = profile_dir()
    return sorted(p.stem for p in folder.glob("*.json") if p.is_file()) if folder.is_dir() else []
