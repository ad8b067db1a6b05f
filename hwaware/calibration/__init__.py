"""Calibration profiles: few-shot corrections of a catalog GPU from your own measurements.

Names load on first use: :mod:`hwaware.calibration.folder` (where profiles are saved, which exist) needs no torch,
:mod:`hwaware.calibration.profile` (fitting and applying them) imports the estimators.
"""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"FORMS": "profile", "CALL_FORMS": "profile", "FORMS_BEFORE_CALL": "profile", "Breakdown": "profile",
          "Profile": "profile", "find_profile": "profile", "fit_profile": "profile", "save_profile": "profile",
          "list_profiles": "folder", "profile_dir": "folder", "Measurement": "measurements"}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hwaware.calibration' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hwaware.calibration.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return __all__
