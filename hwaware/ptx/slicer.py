"""The dynamic code analysis of paper 000/001 (Metz et al.): slice out the instructions that decide
control flow, and execute only those.

Slicing criterion: the guard predicate of every conditional branch, guarded return and guarded
instruction (guards are needed for the guard-true count). The slice is the backward closure over
register definitions (flow-insensitive, so it over-approximates: every definition of a needed
register is kept) plus memory: a load in the slice pulls in every store to the same state space
and the registers those stores read (a conservative memory dependence). Address and bound
computations of slice loads are included through their registers. Loads from global buffers whose
contents were not given make the analysis stop with a "data-dependent" error naming the argument.

Grouping: if the slice never reads ``%ctaid`` and has no atomics, every CTA follows the same
control flow, so one CTA is executed and its counts are multiplied by the number of CTAs.

Kernels with vector loads through L1 (:func:`vector_l1_loads`) also need the addresses of every L1
load (not the loaded values): they decide which vector loads hit in L1, which GPGPU-Sim counts
once per destination register (see :mod:`hwaware.ptx.engine`). Their address computations join the
slice; if they read ``%ctaid``, every CTA is executed.
"""
from __future__ import annotations

from dataclasses import dataclass

from hwaware.ptx.parser import Function, Instruction, Operand

_NO_DEST = {"st", "bar", "barrier", "bra", "brx", "ret", "exit", "trap", "membar", "fence", "red", "prefetch",
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
    uses_ctaid: bool
    has_atomics: bool

    @property
    def ctas_equivalent(self) -> bool:
        return not self.uses_ctaid and not self.has_atomics


UNKNOWN = "*"


def points_to(fn: Function, du: list[tuple[list[str], list[str]]]) -> dict[str, set[str]]:
    """Register -> the pointer parameters / shared arrays its value may be derived from."""
    insts = fn.instructions
    params = {p.name for p in fn.params}
    shared = {v.name for v in fn.variables if v.space == "shared"}
    pts: dict[str, set[str]] = {}
    changed = True
    while changed:
        changed = False
        for inst, (defs, uses) in zip(insts, du):
            if not defs:
                continue
            if inst.base in ("ld", "ldu") and "param" in inst.mods:
                src = {str(inst.operands[1].value)} & params
            elif inst.base in ("ld", "ldu", "atom", "shfl"):
                src = {UNKNOWN}  # a value loaded from memory could be a pointer
            else:
                src = set().union(*(pts.get(u, set()) for u in uses if u != inst.guard))
                src |= {str(o.value) for o in inst.operands[1:] if o.kind == "symbol" and o.value in shared}
            for d in defs:
                if not src <= pts.setdefault(d, set()):
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


def tracked_l1_loads(fn: Function) -> dict[int, tuple[str, ...]]:
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
    pts = points_to(fn, [defs_uses(x) for x in insts])

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


def compute_slice(fn: Function) -> Slice:
    insts = fn.instructions
    du = [defs_uses(x) for x in insts]
    pts = points_to(fn, du)
    definers: dict[str, list[int]] = {}
    for i, (defs, _) in enumerate(du):
        for r in defs:
            definers.setdefault(r, []).append(i)
    writers = [j for j, x in enumerate(insts) if x.base in ("st", "atom", "red")]
    criterion = frozenset(i for i, x in enumerate(insts) if x.guard)
    needed = [str(insts[i].guard) for i in criterion]
    if vector_l1_loads(fn):
        # whether a vector load hits in L1 (and is counted once per destination register) depends on which
        # sectors earlier loads of the same memory fetched: their addresses are needed, not the loaded values
        for i in tracked_l1_loads(fn):
            needed.extend(r for o in insts[i].operands[1:] if o.kind == "addr" for r in _regs(o))
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
    uses_ctaid = any(r.startswith("%ctaid") for i in indices for r in du[i][1])
    has_atomics = any(insts[i].base in ("atom", "red") for i in indices)
    return Slice(frozenset(indices), criterion, uses_ctaid, has_atomics)
