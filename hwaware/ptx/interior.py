"""Interior CTAs: CTAs whose every CTA-dependent guard is proved to take, in each thread, one fixed value
throughout the run count alike (issue 10, part 3; TVM's convolutions, whose bound checks compare
``%ctaid.x * K + %tid`` arithmetic with the image size: every CTA away from the image's border passes them all).

Static part (:func:`interior_plan`), on the slice:

* *varying* registers: those a slice instruction derives from %ctaid (through its operands, its guard, or a load
  from memory that some slice store writes with a varying address or value); the others are *invariant*: in two
  CTAs that have followed the same control flow with the same masks, an invariant register holds the same values.
* *key* registers: unguarded side-effect-free single definitions, read by no lane before they are written, that read
  only %ctaid, %nctaid, %ntid, %tid, constants, parameters and key registers: a fixed function of (CTA, thread),
  computed exactly for every lane of the launch (:meth:`~hwaware.ptx.engine.Engine.thread_values`).
* for each guard whose register varies: its *tree*, the single unguarded definitions (add, sub, mul/mad by lo or
  wide, shl/shr by a constant, mov, integer cvt, setp) from the guard back to key and invariant registers. None
  (no interior grouping) when some varying guard has no such tree, when a tracked L1 load's address varies (its
  sectors, so its hits, could differ between CTAs) or when CTAs may communicate (atomics, global or generic stores).

Dynamic part (``hwaware.ptx.analysis._interior_classes``): a representative CTA ``r`` runs, the engine recording
the range of every invariant register where a tree instruction reads it. Each tree is then evaluated on intervals
for every (CTA, thread): key registers exact, invariant ones their recorded range, arithmetic modulo 2^width (an
interval wider than the type, or crossing the type's wrap point where the operation needs the value, is unknown).
A guard is fixed true, fixed false or open per (CTA, thread). A CTA's *signature* (:func:`signatures`): per guard
and thread the fixed value, or "open" and the key values the guard's tree reads. CTAs whose signature equals
``r``'s count as ``r`` does. Without any recorded range every guard that reads an invariant register is open, and
CTAs with equal signatures count alike too (no run needed to form those classes).

Why: by induction over the execution of a CTA ``c`` alongside ``r``. While both have followed the same control
flow with the same masks, every invariant register holds the same values in both, so where a tree instruction reads
one in ``c`` its value lies in the range recorded in ``r``; key registers hold their computed values; so a fixed
guard of ``c`` takes its fixed value, which is ``r``'s, and an open guard computes the same function of the same key
and invariant values as in ``r``; so the next step is the same too. Same control flow and masks: same thread, warp,
guard-false and per-thread counts, and (tracked L1 addresses being invariant) the same L1 sectors and hits.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from hwaware.ptx.parser import Function, Instruction

_THREAD_SPECIALS = {"%ctaid", "%nctaid", "%ntid", "%tid"}
_PURE = {"mov", "cvta", "cvt", "add", "sub", "mul", "mad", "div", "rem", "min", "max", "abs", "neg", "and", "or", "xor",
         "not", "shl", "shr", "setp", "selp", "set", "popc", "clz", "brev", "bfind", "bfe", "prmt", "ld"}
_TREE = {"mov", "cvt", "add", "sub", "mul", "mad", "shl", "shr", "setp"}
_WIDTH = {"u8": 8, "s8": 8, "b8": 8, "u16": 16, "s16": 16, "b16": 16, "u32": 32, "s32": 32, "b32": 32}
MAX_LANES = 1 << 19  # lanes (CTAs x threads) whose key values and guard intervals are computed at once, at most
_BOUND = 1 << 40  # interval ends beyond this are unknown (keeps the int64 arithmetic exact)


@dataclass(frozen=True)
class InteriorPlan:
    keys: tuple[int, ...]  # instructions computing the key registers, in dependency order
    key_regs: frozenset[str]
    guards: tuple[int, ...]  # criterion instructions whose guard register varies
    tree: dict[str, int]  # varying non-key register -> its one definition
    record: dict[int, tuple[str, ...]]  # tree instruction -> invariant registers it reads
    guard_keys: tuple[tuple[str, ...], ...] = ()  # per guard: the key registers its tree reads
    varying: frozenset[str] = frozenset()


def defining_closure(regs: Iterable[str], single_def: Mapping[str, int], du: list[tuple[list[str], list[str]]]
                     ) -> set[str]:
    """``regs`` and, transitively, the registers their single definitions (``single_def``: register -> instruction)
    read, as far as those have single definitions too."""
    out: set[str] = set()
    stack = list(regs)
    while stack:
        r = stack.pop()
        if r in single_def and r not in out:
            out.add(r)
            stack.extend(du[single_def[r]][1])
    return out


def _space(inst: Instruction) -> str:
    for s in ("param", "shared", "global", "local", "const"):
        if s in inst.mods:
            return s
    return "generic"


def _int_type(inst: Instruction) -> str | None:
    t = next((m for m in reversed(inst.mods) if m in _WIDTH or m in ("u64", "s64", "b64", "pred")
              or m.startswith("f") or m.startswith("bf")), None)
    return t if t in _WIDTH else None


def _cta_dim(r: str) -> int | None:
    base, _, dim = r.partition(".")
    return "xyz".index(dim or "x") if base == "%ctaid" else None


def interior_plan(fn: Function, indices: frozenset[int], criterion: frozenset[int], tracked: dict,
                  du: list[tuple[list[str], list[str]]], zero: set[str],
                  vary: tuple[bool, bool, bool] = (True, True, True)) -> InteriorPlan | None:
    """The static part (module docstring); None when it cannot apply. ``vary``: the %ctaid dimensions along which
    the CTAs to compare differ (the others are the slice's free dimensions, at 0 in every CTA that runs)."""

    def cta(u: str) -> bool:
        d = _cta_dim(u)
        return d is not None and vary[d]

    insts = fn.instructions
    if any(insts[i].base in ("atom", "red") or (insts[i].base == "st" and _space(insts[i]) not in
                                                            ("shared", "local")) for i in indices):
        return None
    order = sorted(indices)
    varying: set[str] = set()
    mem = False
    changed = True
    while changed:
        changed = False
        for i in order:
            inst, (defs, uses) = insts[i], du[i]
            reads_cta = any(cta(u) or u in varying for u in uses)
            if inst.base == "st" and reads_cta and not mem:
                mem = changed = True
            loaded = inst.base in ("ld", "ldu") and "param" not in inst.mods and mem
            if (reads_cta or loaded) and not set(defs) <= varying:
                varying.update(defs)
                changed = True
    if any(r in varying or cta(r) for regs in tracked.values() for r in regs):
        return None  # a tracked L1 load whose address varies: its sectors, so its hits, may differ between CTAs
    writes = Counter(r for defs, _ in du for r in defs)
    single = {du[i][0][0]: i for i in order
              if insts[i].guard is None and len(du[i][0]) == 1 and writes[du[i][0][0]] == 1 and du[i][0][0] not in zero
              and all(o.kind not in ("vec", "list", "pair") for o in insts[i].operands)}
    key: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for r, i in single.items():
            inst = insts[i]
            if r not in key and inst.base in _PURE and (inst.base != "ld" or "param" in inst.mods) and \
                    all(u.partition(".")[0] in _THREAD_SPECIALS or u in key for u in du[i][1]):
                key[r], changed = i, True
    guards = tuple(sorted(i for i in criterion if insts[i].guard in varying))
    tree: dict[str, int] = {}
    record: dict[int, set[str]] = {}
    needed_keys: set[str] = set()

    def need(r: str) -> bool:
        if r in key:
            needed_keys.add(r)
            return True
        if r in tree:
            return True
        i = single.get(r)
        if i is None:
            return False
        inst = insts[i]
        if inst.base not in _TREE or _int_type(inst) is None or {"sat", "cc", "hi", "and", "or", "xor"} & set(inst.mods):
            return False
        if inst.base in ("shl", "shr") and inst.operands[2].kind != "imm":
            return False
        if inst.base == "cvt" and not all(m in _WIDTH for m in inst.mods):
            return False  # rounding, saturation, float or 64-bit types
        if any(o.kind not in ("reg", "imm") or o.neg for o in inst.operands):
            return False
        tree[r] = i
        for u in du[i][1]:
            if u in varying:
                if not need(u):
                    return False
            elif u.partition(".")[0] in _THREAD_SPECIALS:
                return False  # read through a key register (a mov) only
            elif u not in key:
                record.setdefault(i, set()).add(u)
            else:
                needed_keys.add(u)
        return True

    if not guards or not all(need(str(insts[i].guard)) for i in guards):
        return None
    closure = defining_closure(needed_keys, key, du)
    program = tuple(sorted(key[r] for r in closure))  # one definition each, read only after it: index order works

    def feeding(r: str, seen: set[str]) -> set[str]:
        if r in key:
            return {r}
        if r in seen or r not in tree:
            return set()
        seen.add(r)
        return set().union(*(feeding(u, seen) for u in du[tree[r]][1]))

    return InteriorPlan(program, frozenset(needed_keys), guards, tree,
                        {i: tuple(sorted(r)) for i, r in record.items()},
                        tuple(tuple(sorted(feeding(str(insts[i].guard), set()))) for i in guards), frozenset(varying))


def signatures(plan: InteriorPlan, fixed: np.ndarray, keys: dict[str, np.ndarray], n: int) -> np.ndarray:
    """[CTAs, bytes]: per guard and thread, its fixed value, or 2 and the key values its tree reads. Two CTAs with
    equal rows take every guard alike at every step: fixed alike, or the same function of the same key and (by
    induction) invariant values."""
    cols = [fixed.reshape(len(fixed), n, -1).transpose(1, 0, 2).reshape(n, -1).astype(np.uint8)]
    for g, regs in enumerate(plan.guard_keys):
        open_ = fixed[g] == 2
        if not open_.any():
            continue
        for r in regs:
            v = keys[r].astype(np.uint64)
            cols.append(np.where(open_, v, np.uint64(0)).reshape(n, -1).view(np.uint8))
    return np.ascontiguousarray(np.concatenate(cols, axis=1))


def classes(sig: np.ndarray) -> list[list[int]]:
    """Rows of ``sig`` grouped by equal contents, in order of first row."""
    found: dict[bytes, list[int]] = {}
    for k, row in enumerate(sig):
        found.setdefault(row.tobytes(), []).append(k)
    return list(found.values())


# -- intervals ------------------------------------------------------------------------------------------------------
class _Iv:
    """Per lane: the value's bits are some x mod 2^width with lo <= x <= hi; ``unknown`` lanes: no claim."""

    __slots__ = ("lo", "hi", "unknown")

    def __init__(self, lo: np.ndarray, hi: np.ndarray, unknown: np.ndarray) -> None:
        self.lo, self.hi = lo, hi
        self.unknown = unknown | (lo < -_BOUND) | (hi > _BOUND)


def _as_type(v: _Iv, t: str) -> _Iv:
    """The interval of the value read as integer type ``t`` (unknown where it crosses the type's wrap point)."""
    w = _WIDTH[t]
    m = 1 << w
    base = (1 << (w - 1)) if t.startswith("s") else 0  # shift so that the type's range is [0, 2^w)
    if v.lo.min() >= -base and v.hi.max() < m - base:  # already in the type's range
        return v
    lo = v.lo + base
    k = np.floor_divide(lo, m)
    lo, hi = lo - k * m - base, v.hi + base - k * m - base
    return _Iv(lo, hi, v.unknown | (hi - lo >= m) | (hi + base >= m))


_CMP = {"eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs"}


def _compare(cmp: str, a: _Iv, b: _Iv) -> np.ndarray:
    """Per lane: 1 fixed true, 0 fixed false, 2 unknown."""
    cmp = {"lo": "lt", "ls": "le", "hi": "gt", "hs": "ge"}.get(cmp, cmp)
    if cmp in ("gt", "ge"):
        a, b, cmp = b, a, {"gt": "lt", "ge": "le"}[cmp]
    if cmp == "lt":
        true, false = a.hi < b.lo, a.lo >= b.hi
    elif cmp == "le":
        true, false = a.hi <= b.lo, a.lo > b.hi
    else:
        same = (a.lo == a.hi) & (b.lo == b.hi) & (a.lo == b.lo)
        apart = (a.hi < b.lo) | (b.hi < a.lo)
        true, false = (same, apart) if cmp == "eq" else (apart, same)
    out = np.where(true, 1, np.where(false, 0, 2)).astype(np.int8)
    out[a.unknown | b.unknown] = 2
    return out


def evaluate_guards(fn: Function, plan: InteriorPlan, keys: dict[str, np.ndarray],
                    ranges: dict[tuple[int, str], tuple[int, int]], lanes: int) -> np.ndarray:
    """[guards, lanes]: each varying guard's value per lane, 1 / 0 fixed, 2 unknown (module docstring)."""
    from hwaware.ptx.engine import _from_bits  # the engine imports the slicer, which imports this module

    insts = fn.instructions
    memo: dict[str, _Iv] = {}
    exact: dict[tuple[str, str], _Iv] = {}
    none = np.zeros(lanes, dtype=bool)

    def operand(i: int, k: int, t: str) -> _Iv:
        o = insts[i].operands[k]
        if o.kind == "imm":
            v = np.full(lanes, int(o.value), dtype=np.int64)  # type: ignore[arg-type]
            return _as_type(_Iv(v, v, none), t)
        r = str(o.value)
        if r in keys:
            if (r, t) not in exact:
                v = _from_bits(keys[r], t).astype(np.int64)
                exact[(r, t)] = _Iv(v, v, none)
            return exact[(r, t)]
        if r in plan.tree:
            return _as_type(value(r), t)
        span = ranges.get((i, r))
        if span is None:  # never read in the representative run: nothing is known
            z = np.zeros(lanes, dtype=np.int64)
            return _Iv(z, z, ~none)
        return _Iv(np.full(lanes, span[0], np.int64), np.full(lanes, span[1], np.int64), none)

    def value(r: str) -> _Iv:
        if r not in memo:
            memo[r] = _transfer(plan.tree[r])
        return memo[r]

    def _transfer(i: int) -> _Iv:
        inst = insts[i]
        op, t = inst.base, _int_type(inst)
        assert t is not None
        if op == "mov":
            return operand(i, 1, t)
        if op == "cvt":  # the source read as its type is the value; the destination keeps it modulo its width
            return operand(i, 1, t)
        a, b = operand(i, 1, t), operand(i, 2, t)
        if op in ("add", "sub"):
            lo, hi = (a.lo + b.lo, a.hi + b.hi) if op == "add" else (a.lo - b.hi, a.hi - b.lo)
            return _Iv(lo, hi, a.unknown | b.unknown)
        if op in ("shl", "shr"):
            k = int(inst.operands[2].value)  # type: ignore[arg-type]
            if k >= 32:
                return _Iv(a.lo, a.hi, ~none)
            if op == "shl":
                return _Iv(a.lo << k, a.hi << k, a.unknown)
            return _Iv(a.lo >> k, a.hi >> k, a.unknown)  # floor division: monotone (a is read as the shift's type)
        if op in ("mul", "mad"):
            if "wide" not in inst.mods and "lo" not in inst.mods:
                return _Iv(a.lo, a.hi, ~none)
            big = np.maximum(np.abs(a.lo), np.abs(a.hi)) * np.maximum(np.abs(b.lo), np.abs(b.hi)) > _BOUND
            with np.errstate(over="ignore"):
                corners = np.stack([a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi])
            lo, hi = corners.min(axis=0), corners.max(axis=0)
            unknown = a.unknown | b.unknown | big
            if "wide" in inst.mods:
                unknown = ~none  # a 64-bit result: not followed
            if op == "mad":
                c = operand(i, 3, t)
                lo, hi, unknown = lo + c.lo, hi + c.hi, unknown | c.unknown
            return _Iv(lo, hi, unknown)
        raise AssertionError(op)

    rows = []
    for i in plan.guards:
        g = str(insts[i].guard)
        if g in keys:
            rows.append(np.asarray(keys[g], dtype=np.int8))
            continue
        d = insts[plan.tree[g]]
        t = _int_type(d)
        cmp = next((m for m in d.mods if m in _CMP), None)
        if d.base != "setp" or cmp is None or len(d.operands) != 3 or t is None:
            rows.append(np.full(lanes, 2, np.int8))
            continue
        rows.append(_compare(cmp, operand(plan.tree[g], 1, t), operand(plan.tree[g], 2, t)))
    return np.stack(rows)
