"""The house stays clean: a package imports only the rooms below it (``../shared/DESIGN.md``'s data flow).

Every ``import`` in the package is read, those inside functions too (a late import is still a dependency).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hwaware

ROOT = Path(hwaware.__file__).parent
# rank of each room: it may import its own and lower-ranked ones. Measurement never imports an estimator (DESIGN.md),
# the catalog and the graph know no estimator, the splits (evaluation) sit above the data they split.
RANKS = {
    "errors": 0, "threads": 0,
    "sqlite_store": 1, "hardware": 1, "registry": 1, "trained": 1,
    "graph": 2,
    "ptx": 3, "runtime": 3, "zoo": 3, "features": 3,
    "datasets": 4, "measure": 4,
    "estimators": 5,
    "calibration": 6,
    "api": 7, "evaluation": 7,
    "ranking": 8, "search": 8,
    "cli": 9, "__init__": 9, "__main__": 10,  # python -m hwaware: the command
}


def _room(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _package(path: Path) -> str:
    return ".".join(("hwaware",) + path.relative_to(ROOT).with_suffix("").parts[:-1])


def _imported_rooms(text: str, package: str) -> set[str]:
    rooms = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            # "from hwaware import api" and "from .. import api" name their rooms in the imported names
            names = [f"{base}.{a.name}" for a in node.names] if base == "hwaware" or not node.module else [base]
        else:
            continue
        rooms |= {n.split(".")[1] for n in names if n.startswith("hwaware.") and n.count(".") >= 1}
    return rooms


MODULES = sorted(p for p in ROOT.rglob("*.py") if "weights" not in p.parts)


def test_every_room_has_a_rank():
    assert {_room(p) for p in MODULES} <= set(RANKS), {_room(p) for p in MODULES} - set(RANKS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_upward_import(path):
    room = _room(path)
    upward = {r for r in _imported_rooms(path.read_text(), _package(path)) - {room} if RANKS.get(r, 99) >= RANKS[room]}
    assert not upward, f"{path.relative_to(ROOT)} ({room}) imports {sorted(upward)} from its level or above"


def test_the_reader_sees_late_and_relative_imports():
    """The check would pass on nothing if the reader missed imports: it must find every kind."""
    text = ("from . import layer\nfrom ..estimators import base\nimport numpy\n\ndef f():\n    import hwaware.api\n"
            "    from hwaware.search.spaces import x\n    from hwaware import ranking\n")
    assert _imported_rooms(text, "hwaware.graph") == {"graph", "estimators", "api", "search", "ranking"}
