"""The dynamic code analysis of paper 000/001 (Metz et al.): slice out the instructions that decide
control flow, and execute only those.

Slicing criterion: the guard predicate of every conditional branch, guarded return and guarded
instruction (guards are needed for the guard-true count). The slice is the backward closure over
register definitions (flow-insensitive, so it over-approximates: every definition of a needed
register is kept) plus memory: a load in the slice pulls in every store to the same state space
and the registers those stores read (a conservative memory dependence). Address and bound
computations of slice loads are included through their registers. Loads from global buffers whose
contents were not given make the analysis stop with a "data-dependent" error naming the argument.

Kernels with vector loads through L1 (:func:`vector_l1_loads`) also need the addresses of every L1
load (not the loaded values): they decide which vector loads hit in L1, which GPGPU-Sim counts
once per destination register (see :mod:`hwaware.ptx.engine`). Their address computations join the
slice.

Grouping (:func:`cta_offsets`): CTAs that differ only along a ``%ctaid`` dimension that no guard
depends on, and that moves every tracked L1 address by one multiple of the 32-byte sector, count
alike; one CTA per line along such dimensions is executed and its counts multiplied (TVM's
convolutions: ``%ctaid.y`` picks output channels, i.e. only where the weight tile is read). A slice
without ``%ctaid`` is the case of all three dimensions. Along the other dimensions, CTAs whose key registers
(:func:`cta_keys`: the CTA-uniform values through which alone ``%ctaid`` reaches the rest of the slice) hold equal
values count alike: one CTA per key value runs, weighted by how many CTAs share it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hwaware.ptx.cfg import CFG, EXIT, build_cfg
from hwaware.ptx.interior import InteriorPlan, defining_closure, interior_plan
from hwaware.ptx.parser import Function, Instruction, Operand

_NO_DEST = {"st", "bar", "barrier", "bra", "brx", "ret", "exit", "trap", "membar", "fence", "red", "prefetch", "call",
            "prefetchu", "cp", "nanosleep", "discard", "pmevent", "griddepcontrol"}


def _regs(op: Operand) -> list[str]:
    if op.kind == "reg":
        return [str(op.value)]
    if op.kind == "addr":
        return [str(op.value)] if op.value is not None and str(op.value).startswith("%") else []
    if op.kind in ("vec", "pair", "list"):
        return [r for x in op.value for r in _regs(x)]  # type: ignore[union-attr]
    return []


def defs_uses(inst: Instruction) -> tuple[list[str], list[str]]:
    """Registers an instruction writes and reads (the guard counts as read)."""
    ops = inst.operands
    uses = [inst.guard] if inst.guard else []
    if inst.base in _NO_DEST or not ops:
        return [], uses + [r for o in ops for r in _regs(o)]
    dest = ops[0]
    defs = [str(x.value) for x in (dest.value if dest.kind in ("vec", "pair") else [dest])  # type: ignore[union-attr]
            if x.kind == "reg"]
    uses += [r for o in ops[1:] for r in _regs(o)]
    if inst.base in ("atom",):
        uses += _regs(ops[1])
    return defs, uses


def _space(inst: Instruction) -> str:
    for s in ("param", "shared", "global", "local", "const"):
        if s in inst.mods:
            return s
    return "generic"


@dataclass(frozen=True)
class Slice:
    indices: frozenset[int]  # instruction indices in the slice
    criterion: frozenset[int]
    # per %ctaid dimension: CTAs that differ only along it count the same (:func:`cta_offsets`)
    free_dims: tuple[bool, bool, bool]
    wrap_checks: dict[int, "WrapCheck"]  # instruction index -> what the engine checks for that claim
    key: "CtaKey | None" = None  # CTAs whose key registers agree count the same (:func:`cta_keys`); None: no key
    interior: "InteriorPlan | None" = None  # CTAs whose guards are fixed alike count the same (hwaware.ptx.interior)


UNKNOWN = "*"


def points_to(fn: Function, du: list[tuple[list[str], list[str]]]) -> dict[str, set[str]]:
    """Register -> the pointer parameters / shared arrays its value may be derived from."""
    insts = fn.instructions
    params = {p.name for p in fn.params}
    shared = {v.name for v in fn.variables if v.space == "shared"}
    pts: dict[str, set[str]] = {}
    # per defining instruction: its registers, the origins it adds itself, the registers whose origins it passes on
    rules: list[tuple[list[str], set[str], tuple[str, ...]]] = []
    for inst, (defs, uses) in zip(insts, du):
        if not defs:
            continue
        for d in defs:
            pts.setdefault(d, set())
        if inst.base in ("ld", "ldu") and "param" in inst.mods:
            rules.append((defs, {str(inst.operands[1].value)} & params, ()))
        elif inst.base in ("ld", "ldu", "atom", "shfl"):
            rules.append((defs, {UNKNOWN}, ()))  # a value loaded from memory could be a pointer
        else:
            own = {str(o.value) for o in inst.operands[1:] if o.kind == "symbol" and o.value in shared} if shared \
                else set()
            rules.append((defs, own, tuple(u for u in uses if u != inst.guard)))
    changed = True
    while changed:
        changed = False
        for defs, own, passed in rules:
            src = set(own)
            for u in passed:
                got = pts.get(u)
                if got:
                    src |= got
            if not src:
                continue
            for d in defs:
                if not src <= pts[d]:
                    pts[d] |= src
                    changed = True
    return pts


def _address_origins(inst: Instruction, pts: dict[str, set[str]]) -> set[str]:
    op = next((o for o in inst.operands if o.kind == "addr"), None)
    if op is None or op.value is None:
        return {UNKNOWN}
    name = str(op.value)
    origins = pts.get(name, set()) if name.startswith("%") else {name}
    return origins or {UNKNOWN}


def _may_alias(a: set[str], b: set[str]) -> bool:
    return UNKNOWN in a or UNKNOWN in b or bool(a & b)


def _address_regs(inst: Instruction) -> list[str]:
    return [r for o in inst.operands[1:] if o.kind == "addr" for r in _regs(o)]


def l1_loads(fn: Function) -> dict[int, tuple[str, ...]]:
    """Instruction index -> distinct destination registers of every load GPGPU-Sim sends through the L1
    data cache: ``ld``/``ldu`` of global, local or generic memory (a generic address may resolve to
    either), except ``.cg`` (``CACHE_GLOBAL``: bypasses L1, ``ldst_unit::memory_cycle``)."""
    out: dict[int, tuple[str, ...]] = {}
    for i, inst in enumerate(fn.instructions):
        if inst.base in ("ld", "ldu") and _space(inst) in ("global", "local", "generic") and "cg" not in inst.mods \
                and inst.operands:
            out[i] = tuple(dict.fromkeys(defs_uses(inst)[0]))
    return out


def vector_l1_loads(fn: Function) -> bool:
    """Whether some L1 load has several destination registers (the case :class:`~hwaware.ptx.engine.L1Sectors`
    counts: it completes once per register when it hits)."""
    return any(len(regs) > 1 for regs in l1_loads(fn).values())


_TRACKED: dict[int, tuple[Function, dict[int, tuple[str, ...]]]] = {}  # id(fn) -> (fn, its tracked loads)
_FACTS: dict[int, tuple[Function, list, dict]] = {}  # id(fn) -> (fn, its defs_uses, its points_to)


def function_facts(fn: Function) -> tuple[list[tuple[list[str], list[str]]], dict[str, set[str]]]:
    """:func:`defs_uses` of every instruction and :func:`points_to`, computed once per function object (the slice,
    the tracked loads and every engine run ask for them). Callers must not modify them."""
    hit = _FACTS.get(id(fn))
    if hit is None or hit[0] is not fn:
        if len(_FACTS) > 1024:
            _FACTS.clear()
        du = [defs_uses(x) for x in fn.instructions]
        hit = _FACTS[id(fn)] = (fn, du, points_to(fn, du))
    return hit[1], hit[2]


def tracked_l1_loads(fn: Function) -> dict[int, tuple[str, ...]]:
    """:func:`_tracked_l1_loads`, computed once per function object (every engine run and the slice ask for it)."""
    hit = _TRACKED.get(id(fn))
    if hit is None or hit[0] is not fn:
        if len(_TRACKED) > 1024:
            _TRACKED.clear()
        hit = _TRACKED[id(fn)] = (fn, _tracked_l1_loads(fn))
    return dict(hit[1])


def _tracked_l1_loads(fn: Function) -> dict[int, tuple[str, ...]]:
    """The L1 loads (:func:`l1_loads`) whose sectors a vector load can hit: the vector loads, and the loads that may
    read the same memory (same state space, or generic; pointer roots that may alias by :func:`points_to`). The
    others fetch sectors no vector load asks about, so neither the engine's L1 model nor the slice needs them (on
    TVM's convolutions: the input-tile loads, most of a kernel's loads). Empty when no load is a vector load.

    Sound for the engine's memory (each pointer parameter its own region, even when one buffer is passed twice); a
    launch that passes one device buffer as two parameters aliases them on a GPU, which no count here models. The
    tracked loads' addresses join the slice: a kernel whose such addresses depend on loaded data needs that data
    (:class:`~hwaware.ptx.engine.DataDependentError` names it)."""
    loads = l1_loads(fn)
    vectors = [i for i, regs in loads.items() if len(regs) > 1]
    if not vectors:
        return {}
    insts = fn.instructions
    _, pts = function_facts(fn)

    def roots(i: int) -> set[str]:
        addr = insts[i].operands[1]
        found: set[str] = set()
        for r in _regs(addr):
            found |= pts.get(r) or {UNKNOWN}  # a register of unknown origin may point anywhere
        if addr.kind == "addr" and addr.value is not None and not str(addr.value).startswith("%"):
            found.add(str(addr.value))  # a symbol (a param or variable) addressed directly
        return found or {UNKNOWN}

    def same_space(i: int, j: int) -> bool:
        a, b = _space(insts[i]), _space(insts[j])
        return a == b or "generic" in (a, b)

    vec_roots = {v: roots(v) for v in vectors}
    return {i: regs for i, regs in loads.items()
            if i in vec_roots or any(same_space(i, v) and _may_alias(roots(i), r) for v, r in vec_roots.items())}


def compute_slice(fn: Function, cfg: CFG | None = None) -> Slice:
    insts = fn.instructions
    du, pts = function_facts(fn)
    definers: dict[str, list[int]] = {}
    for i, (defs, _) in enumerate(du):
        for r in defs:
            definers.setdefault(r, []).append(i)
    writers = [j for j, x in enumerate(insts) if x.base in ("st", "atom", "red")]
    criterion = frozenset(i for i, x in enumerate(insts) if x.guard)
    needed = [str(insts[i].guard) for i in criterion]
    tracked = tracked_l1_loads(fn)
    if tracked:
        # whether a vector load hits in L1 (and is counted once per destination register) depends on which
        # sectors earlier loads of the same memory fetched: their addresses are needed, not the loaded values
        for i in tracked:
            needed.extend(_address_regs(insts[i]))
    seen_regs: set[str] = set()
    indices: set[int] = set()

    def add(i: int) -> None:
        if i not in indices:
            indices.add(i)
            needed.extend(du[i][1])

    while needed:
        r = needed.pop()
        if r in seen_regs:
            continue
        seen_regs.add(r)
        for i in definers.get(r, []):
            add(i)
            inst = insts[i]
            space = _space(inst)
            if inst.base in ("ld", "ldu", "atom") and space not in ("param", "const"):
                origins = _address_origins(inst, pts)
                for j in writers:  # whatever a store may have written is what the load may read
                    if (space == "generic" or _space(insts[j]) in (space, "generic")) and \
                            _may_alias(origins, _address_origins(insts[j], pts)):
                        add(j)
    sliced = frozenset(indices)
    addresses = {i: _address_regs(insts[i]) for i in tracked}
    zero = _may_be_uninitialised(fn, cfg or build_cfg(fn), set(sliced), addresses, du)
    free, checks = cta_offsets(fn, sliced, criterion, addresses, du, zero)
    return Slice(sliced, criterion, free, checks, cta_keys(fn, sliced, criterion, addresses, du, zero),
                 interior_plan(fn, sliced, criterion, addresses, du, zero, tuple(not f for f in free)))


# -- CTAs that count the same --------------------------------------------------------------------------------------------
Offset = tuple  # per %ctaid dimension: k such that value in CTA c = value in CTA r + k * (c - r) (mod 2^width); None: no k
_ZERO: Offset = (0, 0, 0)
_INT_WIDTH = {"u8": 8, "s8": 8, "b8": 8, "u16": 16, "s16": 16, "b16": 16, "u32": 32, "s32": 32, "b32": 32,
              "u64": 64, "s64": 64, "b64": 64}
_FLOATS = {"f16", "f16x2", "bf16", "bf16x2", "f32", "f64", "tf32"}


@dataclass(frozen=True)
class WrapCheck:
    """A widening (``mul.wide``, ``mad.wide``, integer ``cvt``) of operand ``operand``, whose offset between CTAs
    (``offset``, for the grouped dimensions) is exact modulo 2^``width`` only: the engine checks on the CTAs it runs
    that the other CTAs' values stay in range (no wrap-around), else the grouping is refused."""

    operand: int
    width: int
    signed: bool
    offset: Offset


def _generic(*offs: Offset) -> Offset:
    """An operation that is not a translation: a dimension stays 0 only if no input varies along it."""
    return tuple(0 if all(o[d] == 0 for o in offs) else None for d in range(3))


def _combine(a: Offset, b: Offset, scale: int = 1) -> Offset:
    return tuple(None if x is None or y is None else x + scale * y for x, y in zip(a, b))


def _scale(a: Offset, m: int) -> Offset:
    return tuple(None if x is None else x * m for x in a)


def _join(a: Offset, b: Offset) -> Offset:
    return tuple(x if x == y else None for x, y in zip(a, b))


def _ctz(v: int, width: int) -> int:
    v &= (1 << width) - 1
    return width if v == 0 else (v & -v).bit_length() - 1


def _may_be_uninitialised(fn: Function, cfg: CFG, evaluated: set[int], extra_uses: dict[int, list[str]],
                          du: list[tuple[list[str], list[str]]]) -> set[str]:
    """Registers some lane may read before any evaluated instruction of its path wrote them (a lane's register
    starts at 0 in every CTA): a forward must-analysis of definitions by unguarded evaluated instructions."""
    index = {id(x): i for i, x in enumerate(fn.instructions)}
    preds: dict[int, list[int]] = {b.index: [] for b in cfg.blocks}
    for b in cfg.blocks:
        for s in b.succs:
            if s != EXIT:
                preds[s].append(b.index)
    every = {r for defs, _ in du for r in defs}
    out = {b.index: set(every) for b in cfg.blocks}

    def walk(b: int, defined: set[str], found: set[str] | None) -> set[str]:
        defined = set(defined)
        for x in cfg.blocks[b].instructions:
            i = index[id(x)]
            if found is not None:
                uses = (du[i][1] if i in evaluated else []) + extra_uses.get(i, [])
                found.update(r for r in uses if r in every and r not in defined)
            if i in evaluated and x.guard is None:
                defined.update(du[i][0])
        return defined

    def entry(b: int) -> set[str]:
        return set.intersection(*(out[p] for p in preds[b])) if preds[b] and b else set()

    changed = True
    while changed:
        changed = False
        for b in cfg.blocks:
            new = walk(b.index, entry(b.index), None)
            if new != out[b.index]:
                out[b.index], changed = new, True
    found: set[str] = set()
    for b in cfg.blocks:
        walk(b.index, entry(b.index), found)
    return found


def _transfer(inst: Instruction, ops: list[tuple[Offset, tuple[int, int | None]]],
              mem: Offset) -> tuple[Offset, tuple[int, int | None], WrapCheck | None]:
    """(offset, known bits, wrap check) of what ``inst`` writes, from its source operands' ``ops``."""
    op, mods = inst.base, inst.mods
    types = [m for m in mods if m in _INT_WIDTH or m in _FLOATS]
    offs, tzs, masks = [v[0] for v in ops], [v[1][0] for v in ops], [v[1][1] for v in ops]
    unknown: tuple[int, int | None] = (0, None)
    if op in ("ld", "ldu"):
        # a kernel parameter named by its symbol is the same in every CTA; through a register address it may not be
        by_symbol = "param" in mods and len(inst.operands) > 1 and inst.operands[1].kind == "addr" and \
            inst.operands[1].value is not None and not str(inst.operands[1].value).startswith("%")
        return (_ZERO if by_symbol else _generic(*offs, mem)), unknown, None
    if not types or any(t in _FLOATS for t in types) or {"sat", "cc", "hi"} & set(mods) or \
            inst.operands[0].kind != "reg" or any(o.kind in ("vec", "list") for o in inst.operands[1:]):
        return _generic(*offs), unknown, None
    t = types[-1]
    width, signed = _INT_WIDTH[t], t.startswith("s")
    full = (1 << width) - 1
    imm = [int(o.value) if o.kind == "imm" else None for o in inst.operands[1:]]  # type: ignore[arg-type]
    known = all(m is not None for m in masks)
    ones = [((1 << 64) - (1 << tz)) if m is None else m for tz, m in zip(tzs, masks)]  # bits that may be one
    if op in ("mov", "cvta"):
        return offs[0], (ops[0][1] if op == "mov" else unknown), None
    if op == "cvt":
        dw = _INT_WIDTH[types[0]]
        if dw <= width:
            return offs[0], (min(tzs[0], dw), None if masks[0] is None else masks[0] & ((1 << dw) - 1)), None
        keep = masks[0] is not None and (not signed or masks[0] < 1 << (width - 1))
        return offs[0], (tzs[0], masks[0] if keep else None), WrapCheck(1, width, signed, offs[0])
    if op in ("add", "sub", "or", "xor"):
        disjoint = ones[0] & ones[1] == 0
        tz = min(tzs[:2])
        mask = masks[0] | masks[1] if known and (disjoint or op != "add") else None  # type: ignore[operator]
        if op == "sub":
            return _combine(offs[0], offs[1], -1), (tz, None), None
        if op == "add" or disjoint:  # or / xor of operands without common one-bits is their sum
            return _combine(offs[0], offs[1]), (tz, mask), None
        return _generic(*offs), (tz, mask), None
    if op == "and":
        mask = masks[0] & masks[1] if known else (masks[0] if masks[0] is not None else masks[1])  # type: ignore[operator]
        return _generic(*offs), (max(tzs[:2]), mask), None
    if op in ("shl", "shr") and imm[1] is not None and 0 <= imm[1] < width:  # wider shifts give 0 (or the sign)
        k = imm[1]
        if op == "shl":
            return _scale(offs[0], 1 << k), (min(tzs[0] + k, 64), None if masks[0] is None else (masks[0] << k) & full), None
        keep = masks[0] is not None and (not signed or masks[0] < 1 << (width - 1))
        return _generic(offs[0]), (max(tzs[0] - k, 0), masks[0] >> k if keep else None), None  # type: ignore[operator]
    if op in ("mul", "mad") and ("lo" in mods or "wide" in mods):
        tz = min(tzs[0] + tzs[1], 64)
        if imm[0] is None and imm[1] is None:
            return _generic(*offs), (tz if op == "mul" else min(tz, tzs[2]), None), None
        src = 0 if imm[1] is not None else 1
        product = _scale(offs[src], imm[1 - src])  # type: ignore[arg-type]
        check = WrapCheck(src + 1, width, signed, offs[src]) if "wide" in mods else None
        if op == "mul":
            return product, (tz, None), check
        return _combine(product, offs[2]), (min(tz, tzs[2]), None), check
    return _generic(*offs), unknown, None


def cta_offsets(fn: Function, indices: frozenset[int], criterion: frozenset[int], tracked: dict[int, list[str]],
                du: list[tuple[list[str], list[str]]], zero: set[str]) -> tuple[tuple[bool, bool, bool], dict[int, WrapCheck]]:
    """Along which %ctaid dimensions CTAs count the same, and the wrap-around checks that claim rests on.

    An abstract interpretation of the slice: per register, the constant offset between its value in two CTAs per
    unit of each %ctaid dimension (exact modulo 2^width through add, sub, shl, multiplication by a constant, and
    ``or`` / ``xor`` of operands without common one-bits, which known-bits tracking proves), else none. CTAs that
    differ only along dimension d follow the same control flow with the same masks if no guard varies along d, and
    their vector loads hit in L1 alike if every tracked L1 load's address moves by one multiple of the 32-byte
    sector along d (the sector sets of each CTA are translates). Loads from memory that a slice store writes with a
    varying address or value vary. Atomics make CTAs interact: no dimension then. ``tracked``: the tracked loads'
    address registers; ``zero``: registers some lane may read before writing them (:func:`_may_be_uninitialised`)."""
    insts = fn.instructions
    off: dict[str, Offset] = {r: _ZERO for r in zero}
    bits: dict[str, tuple[int, int | None]] = {r: (64, 0) for r in zero}  # (trailing zero bits, may-be-one mask)
    checks: dict[int, WrapCheck] = {}
    order = sorted(indices)
    written = {r for i in order for r in du[i][0]}

    def value(o: Operand) -> tuple[Offset, tuple[int, int | None]] | None:
        """(offset, known bits) of a source operand; None while a register written in the slice has none yet."""
        if o.kind == "imm":
            v = int(o.value)  # type: ignore[arg-type]
            return _ZERO, (_ctz(v, 64), v if v >= 0 else None)
        if o.kind in ("vec", "list", "pair"):
            parts = [value(x) for x in o.value]  # type: ignore[union-attr]
            return None if None in parts else (_generic(*(p[0] for p in parts)), (0, None))  # type: ignore[index]
        name = str(o.value) if o.kind in ("reg", "addr") and o.value is not None else ""
        if name.startswith("%ctaid"):
            d = "xyz".index(name.partition(".")[2] or "x")
            return tuple(int(k == d) for k in range(3)), (0, None)
        if name not in written:  # symbols, float immediates, other special registers, never-written registers (0)
            return _ZERO, (0, None)
        if name not in off:
            return None
        if o.neg:
            return _scale(off[name], -1), (0, None)
        return off[name], bits[name]

    def dirty() -> Offset:
        """Per dimension: 0 when every store of the slice writes the same place and value in every CTA."""
        stores = [value(o) for i in order if insts[i].base in ("st", "atom", "red") for o in insts[i].operands]
        return _generic(*(v[0] for v in stores if v is not None))

    changed = True
    while changed:
        changed = False
        mem = dirty()
        checks.clear()
        waiting = []
        for i in order:
            inst = insts[i]
            defs, _ = du[i]
            if not defs:
                continue
            ops = [value(o) for o in inst.operands[1:]]
            guard = value(Operand("reg", inst.guard)) if inst.guard else (_ZERO, (0, None))
            if guard is None or None in ops:
                waiting.append(i)
                continue
            o_new, b_new, check = _transfer(inst, ops, mem)  # type: ignore[arg-type]
            # a definition under a guard that varies along d: whether it happens varies
            o_new = tuple(None if g != 0 else k for k, g in zip(o_new, guard[0]))
            if check is not None:
                checks[i] = check
            for r in defs:
                old_o, old_b = off.get(r), bits.get(r)
                jo = o_new if old_o is None else _join(old_o, o_new)
                jb = b_new if old_b is None else (min(old_b[0], b_new[0]),
                                                  None if old_b[1] is None or b_new[1] is None else old_b[1] | b_new[1])
                if jo != old_o or jb != old_b:
                    off[r], bits[r], changed = jo, jb, True
        if not changed and waiting:  # operands that never got an offset: nothing is proved of these registers
            for r in (r for i in waiting for r in du[i][0]):
                off[r], bits[r] = (None, None, None), (0, None)
            changed = True

    guards = [value(Operand("reg", insts[i].guard)) for i in criterion]
    free = [all(g is not None and g[0][d] == 0 for g in guards) for d in range(3)]
    moves = [value(o) for i in tracked for o in insts[i].operands[1:] if o.kind == "addr"]
    for d in range(3):
        steps = {None if m is None else m[0][d] for m in moves}
        free[d] = free[d] and len(steps) <= 1 and None not in steps and all(s % 32 == 0 for s in steps)
    if any(insts[i].base in ("atom", "red") for i in indices):
        free = [False, False, False]
    grouped = {i: WrapCheck(c.operand, c.width, c.signed, tuple(k if free[d] else 0 for d, k in enumerate(c.offset)))
               for i, c in checks.items()}
    return (free[0], free[1], free[2]), {i: c for i, c in grouped.items() if any(c.offset)}


# -- CTAs with equal key values ---------------------------------------------------------------------------------------
# side-effect-free instructions whose value is a function of their operands alone (ld: of a parameter only)
_PURE = {"mov", "cvta", "cvt", "add", "sub", "mul", "mad", "div", "rem", "min", "max", "abs", "neg", "and", "or", "xor",
         "not", "shl", "shr", "setp", "selp", "set", "popc", "clz", "brev", "bfind", "bfe", "prmt", "ld"}
_CTA_UNIFORM = {"%ctaid", "%nctaid", "%ntid"}  # special registers that are the same in every thread of a CTA


@dataclass(frozen=True)
class CtaKey:
    """CTAs in which the registers ``regs`` hold the same values count the same (:func:`cta_keys`)."""

    program: tuple[int, ...]  # instructions computing ``regs`` from %ctaid, constants and parameters, in order
    regs: tuple[str, ...]
    uniform: frozenset[int]  # every CTA-uniform instruction (those not covered by the claim)
    reads: frozenset[int]  # %ctaid dimensions other instructions read directly: no key along them


def cta_keys(fn: Function, indices: frozenset[int], criterion: frozenset[int], tracked: dict[int, list[str]],
             du: list[tuple[list[str], list[str]]], zero: set[str]) -> CtaKey | None:
    """The registers through which alone the CTA index reaches control flow and the tracked L1 addresses.

    A *uniform* instruction is an unguarded side-effect-free instruction of the slice, the only definition of its
    one register, which no lane reads before it is written (not in ``zero``), reading only %ctaid, %nctaid, %ntid,
    constants, parameters and uniform registers: its register holds the same function of the CTA index wherever it
    is read. The key is the set of uniform registers read by the other slice instructions, the guards and the
    tracked loads' addresses (``tracked``). Two CTAs whose key registers agree and whose %ctaid agrees along the
    dimensions in ``reads`` run the non-uniform instructions on the same values (induction over the execution: same
    operands, same masks, same shared-memory contents), so they follow the same control flow and fetch the same L1
    sectors. None when CTAs may communicate through global memory (atomics, global or generic stores in the slice).
    Exact values, no reasoning about ranges: on TVM's pooling kernels the key is the pooling window's position
    (``%ctaid.x & 31`` and ``(%ctaid.x & 992) >> 5``), shared by every channel."""
    insts = fn.instructions
    if any(insts[i].base in ("atom", "red") or (insts[i].base == "st" and _space(insts[i]) not in ("shared", "local"))
           for i in indices):
        return None
    writes = Counter(r for defs, _ in du for r in defs)
    candidates = sorted(
        i for i in indices
        if insts[i].guard is None and insts[i].base in _PURE and (insts[i].base != "ld" or "param" in insts[i].mods)
        and len(du[i][0]) == 1 and writes[du[i][0][0]] == 1 and du[i][0][0] not in zero
        and all(o.kind not in ("vec", "list", "pair") for o in insts[i].operands))
    uniform: dict[str, int] = {}  # register -> its uniform instruction; insertion order is a dependency order
    changed = True
    while changed:
        changed = False
        for i in candidates:
            r = du[i][0][0]
            if r not in uniform and all(u.partition(".")[0] in _CTA_UNIFORM or u in uniform for u in du[i][1]):
                uniform[r], changed = i, True
    inside = set(uniform.values())
    read = {r for i in indices - inside for r in du[i][1]} | {str(insts[i].guard) for i in criterion}
    read |= {r for regs in tracked.values() for r in regs}
    keys = sorted(r for r in read if r in uniform)
    needed = defining_closure(keys, uniform, du)
    dims = frozenset("xyz".index(r.partition(".")[2] or "x") for r in read if r.partition(".")[0] == "%ctaid")
    return CtaKey(tuple(i for r, i in uniform.items() if r in needed), tuple(keys), frozenset(inside), dims)
