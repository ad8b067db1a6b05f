"""Control-flow graph of a PTX function: basic blocks, successors, immediate post-dominators
(where a divergent warp reconverges) and natural loops."""
from __future__ import annotations

from dataclasses import dataclass, field

from hwaware.errors import PTXParseError
from hwaware.ptx.parser import Function, Instruction

EXIT = -1  # the virtual exit block
_BRANCH = {"bra", "brx"}
_EXITS = {"ret", "exit", "trap"}
_BARRIERS = {"bar", "barrier"}


@dataclass
class Block:
    index: int
    instructions: list[Instruction]
    first: int  # index of the first instruction in the function's instruction list
    succs: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def terminator(self) -> Instruction | None:
        return self.instructions[-1] if self.instructions else None


@dataclass
class CFG:
    blocks: list[Block]
    label_block: dict[str, int]
    ipdom: dict[int, int]  # block -> immediate post-dominator (EXIT for the virtual exit)
    loops: list[tuple[int, set[int]]]  # (header, body blocks) of each natural loop

    def target(self, inst: Instruction) -> int:
        """The block a branch jumps to (labels were checked when the CFG was built)."""
        return self.label_block[str(inst.operands[-1].value)]


def is_terminator(inst: Instruction) -> bool:
    return inst.base in _BRANCH or inst.base in _EXITS or inst.base in _BARRIERS


def build_cfg(fn: Function, file: str = "<ptx>") -> CFG:
    blocks: list[Block] = []
    label_block: dict[str, int] = {}
    pending: list[str] = []
    current: list[Instruction] = []
    first = 0
    count = 0

    def close() -> None:
        nonlocal current, pending, first
        if current or pending:
            b = Block(len(blocks), current, first, labels=pending)
            for lab in pending:
                label_block[lab] = b.index
            blocks.append(b)
        current, pending, first = [], [], count

    for item in fn.body:
        if isinstance(item, str):
            if current:
                close()
            pending.append(item)
            continue
        current.append(item)
        count += 1
        if is_terminator(item):
            close()
    close()
    for b in blocks:
        t = b.terminator
        nxt = b.index + 1 if b.index + 1 < len(blocks) else EXIT
        if t is None:
            b.succs = [nxt]
        elif t.base in _BRANCH:
            if not t.operands:
                raise PTXParseError(f"{t.opcode} without a target label; write '{t.opcode} LABEL;'", file=file,
                                    line=t.line, column=t.col)
            tgt = label_block.get(str(t.operands[-1].value))
            if tgt is None:
                raise PTXParseError(f"branch to unknown label {t.operands[-1].value!r}", file=file, line=t.line,
                                    column=t.col)
            b.succs = [tgt] if t.guard is None else [tgt, nxt]
        elif t.base in _EXITS:
            b.succs = [EXIT] if t.guard is None else [EXIT, nxt]
        else:
            b.succs = [nxt]
    return CFG(blocks, label_block, _postdominators(blocks), _loops(blocks))


def _postdominators(blocks: list[Block]) -> dict[int, int]:
    nodes = [b.index for b in blocks]
    full = set(nodes) | {EXIT}
    pdom: dict[int, set[int]] = {n: set(full) for n in nodes}
    pdom[EXIT] = {EXIT}
    changed = True
    while changed:
        changed = False
        for b in reversed(blocks):
            succ_sets = [pdom[s] for s in b.succs]
            new = {b.index} | (set.intersection(*succ_sets) if succ_sets else set())
            if new != pdom[b.index]:
                pdom[b.index] = new
                changed = True
    ipdom = {}
    for n in nodes:
        strict = pdom[n] - {n}
        # the immediate post-dominator is the strict post-dominator that all the others post-dominate
        for c in strict:
            if all(o in pdom[c] for o in strict):
                ipdom[n] = c
                break
        else:
            ipdom[n] = EXIT
    return ipdom


def _loops(blocks: list[Block]) -> list[tuple[int, set[int]]]:
    """Natural loops from back edges found by depth-first search (a back edge targets a block on the stack)."""
    preds: dict[int, list[int]] = {b.index: [] for b in blocks}
    for b in blocks:
        for s in b.succs:
            if s != EXIT:
                preds[s].append(b.index)
    loops, state = [], {}
    stack = [(0, iter(blocks[0].succs))] if blocks else []
    state[0] = 1
    while stack:
        node, it = stack[-1]
        for s in it:
            if s == EXIT:
                continue
            if state.get(s) == 1:  # back edge node -> s
                body, work = {s, node}, ([node] if node != s else [])
                while work:
                    x = work.pop()
                    for p in preds[x]:
                        if p not in body:
                            body.add(p)
                            work.append(p)
                loops.append((s, body))
            elif s not in state:
                state[s] = 1
                stack.append((s, iter(blocks[s].succs)))
                break
        else:
            state[node] = 2
            stack.pop()
    return loops
