"""Counted loops whose iterations the engine may run side by side (:meth:`hwaware.ptx.engine.Engine` batches them).

TVM's convolutions spend their counting time in the reduction loop: every iteration evaluates the same bound checks
on a new value of the loop counter, one lane vector at a time. When nothing but the counter carries a value from
one iteration of the slice to the next, the iterations are independent given the counter: the engine runs T of them
as T copies of the group's lanes (copy k starting with the counter's value at iteration k) and stops each copy at
the latch. This module decides statically which loops qualify (:func:`batchable_loops`); what depends on values
(a counter that is the same in every active lane, the trip count, L1 sectors no two iterations share) the engine
checks when it runs them.

A loop qualifies when

* it is a natural loop with one latch, whose ``@%p bra HEADER`` is its only exit (no other edge leaves the body, no
  ``ret``/``exit``), entered only through its header;
* its counter ``c`` has one evaluated definition in the body, ``add c, c, S`` (S an immediate), unguarded, in the
  latch, and the latch's predicate has one, ``setp.CMP p, c, K`` (K an immediate), after it: the trip count follows
  from the counter's value at entry;
* no register other than ``c`` is read in the body (by an evaluated instruction, a guard, or a tracked L1 load's
  address) where an evaluated definition of the body may not have written it earlier in the same iteration (a
  must-definition analysis from the header): such a register would carry a value between iterations;
* every register the body defines and an instruction outside it reads is written on every path of every iteration
  (the last iteration's value is then the value after the loop);
* the body evaluates no store, atomic or reduction (shared and local memory are the group's; a copy must not see
  another's writes).
"""
from __future__ import annotations

from dataclasses import dataclass

from hwaware.ptx.cfg import CFG, EXIT
from hwaware.ptx.parser import Function

_INT = {"s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64", "b8", "b16", "b32", "b64"}
_CMPS = {"eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs"}


@dataclass(frozen=True)
class Loop:
    header: int  # block indices
    body: frozenset[int]
    latch: int
    exit: int  # the latch's fall-through block, outside the body
    counter: str
    step: int
    add_type: str
    compare: str  # setp comparison
    compare_type: str
    bound: int
    continue_if: bool  # the latch branches back when the predicate equals this
    touched: frozenset[int]  # instruction indices of the body


def batchable_loops(fn: Function, cfg: CFG, evaluate: set[int], extra_uses: dict[int, list[str]],
                    du: list[tuple[list[str], list[str]]]) -> dict[int, Loop]:
    """Header block -> :class:`Loop`, for the loops of ``cfg`` that qualify (see the module docstring).
    ``evaluate``: the evaluated instructions; ``extra_uses``: registers read without being evaluated (the tracked L1
    loads' addresses); ``du``: definitions and uses per instruction (:func:`hwaware.ptx.slicer.defs_uses`)."""
    insts = fn.instructions
    index = {id(x): i for i, x in enumerate(insts)}
    blocks = cfg.blocks
    preds: dict[int, list[int]] = {b.index: [] for b in blocks}
    for b in blocks:
        for s in b.succs:
            if s != EXIT:
                preds[s].append(b.index)

    def ids(b: int) -> list[int]:
        return [index[id(x)] for x in blocks[b].instructions]

    def reads(i: int) -> list[str]:
        inst = insts[i]
        found = list(du[i][1]) if i in evaluate else ([str(inst.guard)] if inst.guard else [])
        return found + list(extra_uses.get(i, ()))

    out: dict[int, Loop] = {}
    for header, body in cfg.loops:
        latches = [b for b in body if header in blocks[b].succs]
        if len(latches) != 1 or header in out:
            continue
        latch = latches[0]
        term = blocks[latch].terminator
        exit_block = latch + 1
        if term is None or term.base != "bra" or term.guard is None or cfg.target(term) != header \
                or exit_block in body or exit_block >= len(blocks):
            continue
        if any(s not in body for b in body if b != latch for s in blocks[b].succs) \
                or any(p not in body for b in body if b != header for p in preds[b]):
            continue  # another exit, an exit from the kernel, or another entry
        members = sorted(i for b in body for i in ids(b))
        if any(insts[i].base in ("st", "atom", "red", "call", "brx") for i in members if i in evaluate):
            continue
        defs: dict[str, list[int]] = {}
        for i in members:
            if i in evaluate:
                for r in du[i][0]:
                    defs.setdefault(r, []).append(i)
        latch_ids = ids(latch)
        p = str(term.guard)
        setps = defs.get(p, [])
        if len(setps) != 1 or setps[0] not in latch_ids:
            continue
        sp = insts[setps[0]]
        sp_types = [m for m in sp.mods if m in _INT]
        if sp.base != "setp" or sp.guard or len(sp.operands) != 3 or sp.operands[0].kind != "reg" \
                or sp.operands[1].kind != "reg" or sp.operands[2].kind != "imm" or sp.mods[0] not in _CMPS \
                or len(sp_types) != 1 or len(sp.mods) != 2:
            continue
        counter = str(sp.operands[1].value)
        adds = defs.get(counter, [])
        if len(adds) != 1 or adds[0] not in latch_ids or latch_ids.index(adds[0]) > latch_ids.index(setps[0]):
            continue
        ad = insts[adds[0]]
        ad_types = [m for m in ad.mods if m in _INT]
        if ad.base != "add" or ad.guard or len(ad.operands) != 3 or list(ad.mods) != ad_types or len(ad_types) != 1 \
                or [o.kind for o in ad.operands] != ["reg", "reg", "imm"] or str(ad.operands[0].value) != counter \
                or str(ad.operands[1].value) != counter or ad.operands[1].neg \
                or int(ad_types[0][1:]) != int(sp_types[0][1:]):
            continue
        # must-definitions from the header (unguarded evaluated definitions), over the body without the back edge
        every = set(defs)
        must_in: dict[int, set[str]] = {b: (set() if b == header else set(every)) for b in body}
        must_out: dict[int, set[str]] = {b: set(every) for b in body}
        order = sorted(body)
        changed = True
        while changed:
            changed = False
            for b in order:
                if b != header:
                    must_in[b] = set.intersection(*(must_out[q] for q in preds[b]))
                got = set(must_in[b])
                for i in ids(b):
                    if i in evaluate and insts[i].guard is None:
                        got.update(du[i][0])
                if got != must_out[b]:
                    must_out[b], changed = got, True
        carried = False
        for b in order:
            got = set(must_in[b])
            for i in ids(b):
                if any(r in every and r not in got and r != counter for r in reads(i)):
                    carried = True
                if i in evaluate and insts[i].guard is None:
                    got.update(du[i][0])
        inside = set(members)
        live_out = {r for i in range(len(insts)) if i not in inside for r in reads(i)} & every
        if carried or not live_out <= must_out[latch]:
            continue
        out[header] = Loop(header, frozenset(body), latch, exit_block, counter, int(ad.operands[2].value),  # type: ignore[arg-type]
                           ad_types[0], sp.mods[0], sp_types[0], int(sp.operands[2].value),  # type: ignore[arg-type]
                           not term.guard_neg, frozenset(members))
    return out
