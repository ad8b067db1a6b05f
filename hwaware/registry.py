"""The rule of hwaware's name registries (estimators, model spaces), as timm's: a name maps to one class."""
from __future__ import annotations

from typing import Any

from hwaware.errors import InvalidArgumentError


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register(table: dict[str, Any], cls: Any, base: type, decorator: str) -> None:
    """File ``cls`` (a ``base`` subclass with a ``name``) under its name in ``table``. A name another class holds is
    refused: a user's class would otherwise replace a built-in one silently, and every caller of that name would get
    it (or the other way round); the same class again (a re-imported module) is taken."""
    if not (isinstance(cls, type) and issubclass(cls, base) and isinstance(getattr(cls, "name", None), str)):
        raise InvalidArgumentError(f"{decorator} takes a {base.__name__} subclass with a name, got {cls!r}")
    held = table.get(cls.name)
    if held is not None and _qualname(held) != _qualname(cls):
        raise InvalidArgumentError(f"{decorator}: the name {cls.name!r} is taken by {_qualname(held)}; give "
                                   f"{_qualname(cls)} another name")
    table[cls.name] = cls
