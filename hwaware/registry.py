"""The rule of hwaware's name registries (estimators, model spaces), as timm's ``register_model``: a name maps to one
class, and a class registered under a name another class holds replaces it with a warning."""
from __future__ import annotations

import warnings
from typing import Any

from hwaware.errors import HwawareWarning, InvalidArgumentError


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register(table: dict[str, Any], cls: Any, base: type, decorator: str) -> None:
    """File ``cls`` (a ``base`` subclass with a ``name``) under its name in ``table``. Replacing another class warns
    (until 2026-12-06 it did so silently: a user's space named ``resnet`` became every caller's, helper-130); the same
    class again (a re-imported module, a re-run notebook cell) is taken quietly."""
    if not (isinstance(cls, type) and issubclass(cls, base) and isinstance(getattr(cls, "name", None), str)):
        raise InvalidArgumentError(f"{decorator} takes a {base.__name__} subclass with a name, got {cls!r}")
    held = table.get(cls.name)
    if held is not None and _qualname(held) != _qualname(cls):
        warnings.warn(f"{decorator}: {_qualname(cls)} replaces {_qualname(held)} as {cls.name!r} for every caller "
                      "in this process; give it another name to keep both", HwawareWarning, stacklevel=3)
    table[cls.name] = cls
