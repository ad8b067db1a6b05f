"""Random PTX kernels and hostile mutations of real ones, for differential testing of the analyzer
(``tests/test_ptx_fuzz.py`` runs a small budget, ``scripts/fuzz_ptx.py`` a large one).

* :func:`random_kernel` writes a valid kernel from a seed: nested loops whose trip counts come from
  a buffer or a scalar argument, divergent if/else, predicated instructions, shuffles, barriers and
  early exits, with a random launch (partial warps included). The slicer and the reference
  interpreter must agree on every count.
* :func:`random_grid_kernel` does the same for 1-D, 2-D and 3-D grids of up to 64 CTAs with the code shapes the
  slicer's shortcuts are for (bound checks on ``%ctaid.x * K + %tid.x``, guards on ``%ctaid.x/y`` and on keys,
  ``ld.global.nc.v2/v4`` loads, canonical counted loops); :func:`shortcuts_fired` says which shortcuts an input took.
* :func:`mutate` damages corpus PTX (truncation, flipped tokens, deleted labels, unknown
  instructions) and :func:`hostile_launch` the launch (absurd sizes, missing parameters). Every such
  input must count or raise a :class:`~hwaware.errors.PTXError`; :func:`check` says which.

Everything is driven by ``random.Random(seed)``: a seed reproduces its input in any process.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

import numpy as np

from hwaware.errors import (DataDependentError, InvalidArgumentError, OutOfBoundsError, PTXError, StepLimitError,
                            UnsupportedInstructionError)
from hwaware.ptx.analysis import KernelCounts, analyze, buffer_from_array

_CMP = ("lt", "le", "gt", "ge", "eq", "ne")


class _Writer:
    """Emits one kernel; registers are fresh per definition, values live in a pool of integer registers. ``calls``:
    statements may call :func:`_helper`'s device function and open brace scopes of their own registers (inline
    asm's); ``buffer``: loops may read their trip counts from the lengths buffer (``%rd1``)."""

    def __init__(self, rng: random.Random, calls: bool = False, buffer: bool = True) -> None:
        self.rng = rng
        self.calls, self.buffer = calls, buffer
        self.lines: list[str] = []
        self.r = 10  # %r1 ... %r9 are the prologue's
        self.p = 0
        self.rd = 10
        self.label = 0
        self.pool = ["%r2", "%r5", "%r7"]  # tid.x, global id, lane id

    def reg(self) -> str:
        self.r += 1
        return f"%r{self.r}"

    def pred(self) -> str:
        self.p += 1
        return f"%p{self.p}"

    def lab(self) -> str:
        self.label += 1
        return f"$L_{self.label}"

    def emit(self, text: str) -> None:
        self.lines.append(text if text.endswith(":") else f"\t{text};")

    def value(self) -> str:
        return self.rng.choice(self.pool)

    def condition(self) -> str:
        p, a = self.pred(), self.value()
        b = self.value() if self.rng.random() < 0.4 else str(self.rng.randint(0, 40))
        self.emit(f"setp.{self.rng.choice(_CMP)}.s32 {p}, {a}, {b}")
        return p

    def block(self, depth: int, top: bool) -> None:
        for _ in range(self.rng.randint(1, 4)):
            self.statement(depth, top)

    def statement(self, depth: int, top: bool) -> None:
        rng = self.rng
        kinds = ["arith", "arith", "pred", "accumulate"]
        if depth < 3:
            kinds += ["if", "if", "loop_buffer", "loop_scalar"] if self.buffer else ["if", "if", "loop_scalar"]
        if top:
            kinds += ["shfl", "barrier", "exit"]
        if self.calls:
            kinds += ["call", "call", "scope"]
        kind = rng.choice(kinds)
        if kind == "arith":
            d = self.reg()
            op = rng.choice(["add.s32", "sub.s32", "mul.lo.s32", "and.b32", "xor.b32", "shr.u32", "rem.u32", "min.s32"])
            b = self.value() if rng.random() < 0.5 else str(rng.randint(1, 9))
            if op == "rem.u32":
                b = str(rng.randint(1, 9))  # a register divisor could be 0
            self.emit(f"{op} {d}, {self.value()}, {b}")
            self.pool.append(d)
        elif kind == "pred":
            p = self.condition()
            neg = "!" if rng.random() < 0.5 else ""
            self.emit(f"@{neg}{p} add.s32 %r6, %r6, {rng.randint(1, 5)}")
        elif kind == "accumulate":
            self.emit(f"add.s32 %r6, %r6, {self.value()}")
            self.pool.append("%r6")
        elif kind == "if":
            p, other, end = self.condition(), self.lab(), self.lab()
            self.emit(f"@{p} bra {other}")
            self.block(depth + 1, False)
            if rng.random() < 0.6:  # if / else
                self.emit(f"bra.uni {end}")
                self.emit(f"{other}:")
                self.block(depth + 1, False)
                self.emit(f"{end}:")
            else:
                self.emit(f"{other}:")
        elif kind in ("loop_buffer", "loop_scalar"):
            trips, i, head, done = self.reg(), self.reg(), self.lab(), self.lab()
            if kind == "loop_buffer":  # data-dependent: trips = lens[value % 64]
                idx, rd = self.reg(), f"%rd{self.rd + 1}"
                self.rd += 2
                self.emit(f"and.b32 {idx}, {self.value()}, 63")
                self.emit(f"mul.wide.u32 {rd}, {idx}, 4")
                self.emit(f"add.s64 %rd{self.rd}, %rd1, {rd}")
                self.emit(f"ld.global.u32 {trips}, [%rd{self.rd}]")
            else:
                self.emit(f"rem.u32 {trips}, %r1, {rng.randint(2, 6)}")
            self.emit(f"mov.u32 {i}, 0")
            self.pool.append(i)
            self.emit(f"{head}:")
            p = self.pred()
            self.emit(f"setp.ge.s32 {p}, {i}, {trips}")
            self.emit(f"@{p} bra {done}")
            self.block(depth + 1, False)
            self.emit(f"add.s32 {i}, {i}, 1")
            self.emit(f"bra.uni {head}")
            self.emit(f"{done}:")
        elif kind == "shfl":
            d = self.reg()
            self.emit(f"shfl.sync.{rng.choice(['bfly', 'down', 'up', 'idx'])}.b32 {d}, {self.value()}, "
                      f"{rng.randint(0, 31)}, 31, -1")
            self.pool.append(d)
        elif kind == "barrier":
            self.emit("bar.sync 0")
        elif kind == "call":  # nvcc's call sequence
            d, a = self.reg(), self.value()
            self.lines.append("\t{")
            for line in (".param .b32 param0", f"st.param.b32 [param0+0], {a}", ".param .b32 retval0",
                         "call.uni (retval0), helper, (param0)", f"ld.param.b32 {d}, [retval0+0]"):
                self.emit(line)
            self.lines.append("\t}")
            self.pool.append(d)
        elif kind == "scope":  # inline asm: registers and a label of its own, named as every such block names them
            self.lines.append("\t{")
            for line in (".reg .b32 t0, t1", ".reg .pred q", f"add.s32 t0, {self.value()}, 1",
                         f"setp.gt.s32 q, t0, {rng.randint(0, 40)}", "@q bra SKIP", "mov.b32 t1, t0",
                         "add.s32 %r6, %r6, t1"):
                self.emit(line)
            self.lines += ["SKIP:", "\t}"]
        else:  # early exit of some threads
            p = self.condition()
            self.emit(f"@{p} ret" if rng.random() < 0.5 else f"@{p} exit")


@dataclass
class Generated:
    ptx: str
    launch: dict


_STORE = ("\tld.param.u64 %rd2, [fuzz_param_2];\n\tcvta.to.global.u64 %rd2, %rd2;\n\tmul.wide.u32 %rd3, {index}, 4;\n"
          "\tadd.s64 %rd2, %rd2, %rd3;\n\tst.global.u32 [%rd2], %r6;\n")


def _kernel_text(w: _Writer, body: str, tail: str, *, grid: bool, prelude: str = "") -> str:
    """The ``fuzz`` entry around ``body``: parameters (a lengths buffer, a scalar, an output buffer, and for a grid
    kernel a buffer the vector loads read), registers as ``w`` used them, the prologue (tid, ctaid, global thread
    index, lane; for a grid kernel also ctaid.y/z and the linear CTA id) and ``tail`` before ``ret``."""
    params = ["fuzz_param_0", "fuzz_param_1", "fuzz_param_2", *(["fuzz_param_3"] if grid else [])]
    types = [".u64", ".u32", ".u64", ".u64"]
    regs = [f".pred %p<{w.p + 1}>", f".b32 %r<{w.r + 1}>", *([f".f32 %f<{w.f + 1}>"] if grid else []),  # type: ignore[attr-defined]
            f".b64 %rd<{w.rd + 1}>"]
    prologue = ["ld.param.u64 %rd1, [fuzz_param_0];", "cvta.to.global.u64 %rd1, %rd1;", "ld.param.u32 %r1, [fuzz_param_1];",
                *(["ld.param.u64 %rd4, [fuzz_param_3];", "cvta.to.global.u64 %rd4, %rd4;"] if grid else []),
                "mov.u32 %r2, %tid.x;", "mov.u32 %r3, %ctaid.x;", "mov.u32 %r4, %ntid.x;",
                "mad.lo.s32 %r5, %r3, %r4, %r2;", "mov.u32 %r6, 0;", "mov.u32 %r7, %laneid;",
                *(["mov.u32 %r8, %ctaid.y;", "mov.u32 %r9, %ctaid.z;", "mov.u32 %r10, %nctaid.x;",
                   "mad.lo.s32 %r10, %r8, %r10, %r3;", "mad.lo.s32 %r10, %r10, %r4, %r2;"] if grid else [])]
    return ("//\n.version 9.0\n.target sm_80\n.address_size 64\n\n" + prelude + ".visible .entry fuzz(\n"
            + ",\n".join(f"\t.param {t} {p}" for t, p in zip(types, params)) + "\n)\n{\n"
            + "".join(f"\t.reg {r};\n" for r in regs) + "\n" + "".join(f"\t{line}\n" for line in prologue)
            + f"{body}\n{tail}\tret;\n}}\n")


def random_kernel(seed: int) -> Generated:
    """A valid PTX kernel and a launch for it, both determined by ``seed``."""
    rng = random.Random(seed)
    w = _Writer(rng)
    w.block(0, True)
    return _generated(rng, _kernel_text(w, "\n".join(w.lines), _STORE.format(index="%r5"), grid=False))


def random_call_kernel(seed: int) -> Generated:
    """As :func:`random_kernel`, with calls of a random device function (a divergent early exit to its one ``ret``,
    its own labels and registers) and sibling brace blocks with registers and a label of one name: what
    :mod:`hwaware.ptx.calls` inlines and the parser scopes."""
    rng = random.Random(seed)
    helper = _helper(rng)
    w = _Writer(rng, calls=True)
    w.block(0, True)
    return _generated(rng, _kernel_text(w, "\n".join(w.lines), _STORE.format(index="%r5"), grid=False,
                                        prelude=helper))


def _helper(rng: random.Random) -> str:
    """``helper(x)``: a random body over x and %tid.x accumulated in %r6, returned; half of them skip to the return
    where a condition holds (one ``ret``, as nvcc writes: GPGPU-Sim cannot run a guarded one that splits a warp)."""
    h = _Writer(rng, buffer=False)
    h.pool = ["%r1", "%r2"]
    h.block(1, False)
    if rng.random() < 0.5:
        p, out = h.condition(), h.lab()
        h.emit(f"@{p} bra {out}")
        h.block(1, False)
        h.emit(f"{out}:")
    return (".func (.param .b32 func_retval0) helper(\n\t.param .b32 helper_param_0\n)\n{\n"
            f"\t.reg .pred %p<{h.p + 1}>;\n\t.reg .b32 %r<{h.r + 1}>;\n"
            "\tld.param.u32 %r1, [helper_param_0];\n\tmov.u32 %r2, %tid.x;\n\tmov.u32 %r6, %r1;\n"
            + "\n".join(h.lines) + "\n\tst.param.b32 [func_retval0+0], %r6;\n\tret;\n}\n")


def _generated(rng: random.Random, ptx: str) -> Generated:
    """``ptx`` with a random launch: 1-3 CTAs, partial warps included, random trip counts in the lengths buffer."""
    grid, block = rng.randint(1, 3), rng.choice([1, 7, 32, 33, 64, 96, 100])
    lens = np.array([rng.randint(0, 4) for _ in range(64)], dtype=np.int32)
    launch = {"grid": (grid, 1, 1), "block": (block, 1, 1),
              "args": {0: buffer_from_array(lens), 1: rng.randint(0, 50), 2: buffer_from_array(None, grid * block * 4)}}
    return Generated(ptx, launch)


class _GridWriter(_Writer):
    """Emits a kernel for a multi-dimensional grid that reaches the analyzer's shortcuts: bound checks on
    ``%ctaid.x * K + %tid.x`` (interior CTAs), guards on ``%ctaid.x`` / ``%ctaid.y`` and on keys such as
    ``%ctaid.x & 3`` (key grouping), ``ld.global.nc.v2/v4`` loads from computed addresses, some moved per CTA (the L1
    sector rule), and canonical counted loops (loop batching), with or without a value carried between iterations.
    ``%ctaid.y`` / ``%ctaid.z`` are read by some kernels only, so other kernels leave those dimensions free."""

    def __init__(self, rng: random.Random, ctas_x: int, block: int) -> None:
        super().__init__(rng)
        self.pool = ["%r2", "%r7", "%r1"]  # tid.x, lane id, the scalar argument: the same in every CTA
        self.cta = ["%r3", "%r5", "%r8", "%r9"]  # ctaid.x, global id, ctaid.y, ctaid.z
        # what the kernel leans to: interior CTAs (bound checks only), key grouping (windows), counted loops, any
        self.theme = rng.choice(["mixed", "mixed", "interior", "keys", "loops"])
        self.mix = self.theme == "mixed" and rng.random() < 0.4  # whether arithmetic may read CTA-dependent values
        self.counters: list[str] = []  # the enclosing counted loops' counters, outermost first
        self.f = 0
        self.ctas_x, self.threads = ctas_x, block

    def freg(self) -> str:
        self.f += 1
        return f"%f{self.f}"

    def rd_reg(self) -> str:
        self.rd += 1
        return f"%rd{self.rd}"

    def value(self) -> str:
        if self.mix and self.rng.random() < 0.3:
            return self.rng.choice(self.cta)
        return self.rng.choice(self.pool)

    def statement(self, depth: int, top: bool, in_loop: bool = False) -> None:
        rng = self.rng
        kinds = ["arith", "pred", "ncload", "ncload"]
        if depth < 3:  # the kinds with a body, weighted by the kernel's theme
            kinds += {"mixed": ["bound", "bound", "window", "cta_guard", "if", "counted", "counted", "loop_scalar"],
                      "interior": ["bound", "bound", "bound", "if", "counted", "counted"],
                      "keys": ["window", "window", "window", "if", "counted"],
                      "loops": ["counted", "counted", "counted", "bound", "if"]}[self.theme]
        if top and not in_loop:
            kinds += ["barrier", "exit"]
        kind = rng.choice(kinds)
        if kind == "counted" and len(self.counters) == 2:  # two nested counted loops at most (addresses)
            kind = "if"
        if kind == "arith":
            self._arith()
        elif kind == "pred":
            p = self.condition()
            self.emit(f"@{'!' if rng.random() < 0.5 else ''}{p} add.s32 %r6, %r6, {rng.randint(1, 5)}")
        elif kind == "barrier":
            self.emit("bar.sync 0")
        elif kind == "exit":
            p = self.condition()
            self.emit(f"@{p} ret" if rng.random() < 0.5 else f"@{p} exit")
        elif kind == "if":
            p, other = self.condition(), self.lab()
            self.emit(f"@{p} bra {other}")
            self.block(depth + 1, False, in_loop)
            self.emit(f"{other}:")
        elif kind == "loop_scalar":  # lanes' trip counts from the scalar argument: not a counted loop
            trips, i, head, done = self.reg(), self.reg(), self.lab(), self.lab()
            self.emit(f"rem.u32 {trips}, %r1, {rng.randint(2, 4)}")
            self.emit(f"mov.u32 {i}, 0")
            self.emit(f"{head}:")
            p = self.pred()
            self.emit(f"setp.ge.s32 {p}, {i}, {trips}")
            self.emit(f"@{p} bra {done}")
            self.block(depth + 1, False, in_loop)
            self.emit(f"add.s32 {i}, {i}, 1")
            self.emit(f"bra.uni {head}")
            self.emit(f"{done}:")
        elif kind == "bound":  # TVM's bound check: ctaid.x * K + tid.x + c against a limit, unsigned
            t, u, skip = self.reg(), self.reg(), self.lab()
            k = rng.choice([self.threads, self.threads, 32, 64])
            self.emit(f"mad.lo.s32 {t}, %r3, {k}, %r2")
            if rng.random() < 0.5:  # plus a loop counter or a lane value: a range the interior rule records
                self.emit(f"add.s32 {u}, {t}, {self.pool[-1] if rng.random() < 0.6 else self.value()}")
            else:
                self.emit(f"add.s32 {u}, {t}, {rng.choice([0, -2, 3])}")
            limit = max(0, k * self.ctas_x - rng.randint(1, 40))
            p = self.pred()
            self.emit(f"setp.gt.u32 {p}, {u}, {limit}")
            self.emit(f"@{p} bra {skip}")
            self.block(depth + 1, False, in_loop)
            self.emit(f"{skip}:")
        elif kind == "window":  # a key of the CTA: ctaid.x & 3 or ctaid.x >> 1, plus tid, against a limit
            k, t, skip = self.reg(), self.reg(), self.lab()
            src = rng.choice(["%r3", "%r3", "%r8"])
            self.emit(rng.choice([f"and.b32 {k}, {src}, {rng.choice([1, 3, 7])}", f"shr.u32 {k}, {src}, 1"]))
            self.emit(f"add.s32 {t}, {k}, %r2")
            p = self.pred()
            self.emit(f"setp.lt.u32 {p}, {t}, {self.threads - rng.randint(1, 8)}")
            self.emit(f"@!{p} bra {skip}")
            self.block(depth + 1, False, in_loop)
            self.emit(f"{skip}:")
        elif kind == "cta_guard":  # a branch on the CTA's x or y coordinate
            p, skip = self.pred(), self.lab()
            self.emit(f"setp.{rng.choice(_CMP)}.s32 {p}, {rng.choice(['%r3', '%r8'])}, {rng.randint(0, 3)}")
            self.emit(f"@{p} bra {skip}")
            self.block(depth + 1, False, in_loop)
            self.emit(f"{skip}:")
        elif kind == "ncload":  # a vector load from a computed address, then maybe one in the same or next sector
            width = rng.choice([2, 4])
            size = 4 * width
            idx, off, byte = self.reg(), self.reg(), self.reg()
            self.emit(f"and.b32 {idx}, {self.value()}, 63")
            self.emit(f"mul.lo.s32 {off}, {idx}, {size}")
            cta = "" if self.theme == "interior" else rng.choice(["", "", "%r3", "%r8", "%r9"])
            if self.counters and (self.theme == "loops" or rng.random() < 0.8):
                # a block of its own per iteration of every enclosing counted loop (or, stride 8, a shared one)
                stride = 1024 if self.theme == "loops" else rng.choice([1024, 1024, 8])
                for c in reversed(self.counters):
                    self.emit(f"mad.lo.s32 {byte}, {c}, {stride}, {off}")
                    off, stride = byte, stride * 24  # counters stay below 24
            elif cta:  # moved per CTA: by whole sectors (the CTAs count alike) or not
                self.emit(f"mad.lo.s32 {byte}, {cta}, {rng.choice([8, 16, 32, 1024])}, {off}")
            else:
                self.emit(f"mov.u32 {byte}, {off}")
            wide, addr = self.rd_reg(), self.rd_reg()
            self.emit(f"cvt.u64.u32 {wide}, {byte}")
            self.emit(f"add.s64 {addr}, %rd4, {wide}")
            regs = [self.freg() for _ in range(width)]
            self.emit(f"ld.global.nc.v{width}.f32 {{{', '.join(regs)}}}, [{addr}]")
            if rng.random() < 0.7:
                again = [self.freg() for _ in range(width)]
                plus = rng.choice([0, size, 32])
                self.emit(f"ld.global.nc.v{width}.f32 {{{', '.join(again)}}}, [{addr}{f'+{plus}' if plus else ''}]")
        else:  # a canonical counted loop: latch add c, c, STEP; setp.CMP p, c, BOUND; @p bra header
            c, p, head = self.reg(), self.pred(), self.lab()
            start, step, trips = rng.randint(0, 3), rng.randint(1, 3), rng.randint(2, 6)
            cmp = rng.choice(["ne", "lt", "le"])
            bound = start + step * trips if cmp != "le" else start + step * (trips - 1)
            self.emit(f"mov.u32 {c}, {start}")
            self.emit(f"{head}:")
            saved = list(self.pool)
            self.pool.append(c)
            self.counters.append(c)
            self.block(depth + 1, False, True)
            self.counters.pop()
            if rng.random() < 0.3:  # a value carried between iterations, read by a guard
                acc, q = self.reg(), self.pred()
                self.emit(f"add.s32 {acc}, {acc}, {rng.choice(['%r2', c])}")
                self.emit(f"setp.gt.u32 {q}, {acc}, {rng.randint(2, 20)}")
                self.emit(f"@{q} add.s32 %r6, %r6, 1")
            self.pool = saved
            self.emit(f"add.s32 {c}, {c}, {step}")
            self.emit(f"setp.{cmp}.s32 {p}, {c}, {bound}")
            self.emit(f"@{p} bra {head}")

    def _arith(self) -> None:
        d = self.reg()
        op = self.rng.choice(["add.s32", "sub.s32", "mul.lo.s32", "shl.b32", "and.b32"])
        b = str(self.rng.randint(1, 5))
        self.emit(f"{op} {d}, {self.value()}, {b}")
        self.pool.append(d)

    def block(self, depth: int, top: bool, in_loop: bool = False) -> None:  # type: ignore[override]
        for _ in range(self.rng.randint(1, 3)):
            self.statement(depth, top, in_loop)


_GRIDS = ((16, 1, 1), (20, 1, 1), (33, 1, 1), (40, 1, 1), (4, 4, 1), (8, 2, 1), (2, 8, 1), (16, 2, 1), (3, 5, 2),
          (2, 2, 4), (4, 2, 3), (1, 4, 4), (20, 3, 1), (2, 3, 1))


def random_grid_kernel(seed: int) -> Generated:
    """A valid PTX kernel for a 1-D, 2-D or 3-D grid of 2 ... 64 CTAs and a launch for it, both determined by
    ``seed``: the analyzer's shortcuts (free %ctaid dimensions, key and interior CTA grouping, the L1 sector rule for
    vector loads, loop batching) apply to many of them (:func:`shortcuts_fired`)."""
    rng = random.Random(seed)
    grid = rng.choice(_GRIDS)
    block = rng.choice([32, 33, 64, 64, 96])
    w = _GridWriter(rng, grid[0], block)
    if w.theme == "interior":  # enough CTAs along x for interior grouping
        grid = rng.choice([(16, 1, 1), (20, 1, 1), (33, 1, 1), (40, 1, 1), (20, 3, 1), (16, 2, 2)])
        w.ctas_x = grid[0]
    w.block(0, True)
    store = rng.random() < 0.5
    ptx = _kernel_text(w, "\n".join(w.lines), _STORE.format(index="%r10") if store else "", grid=True)
    ctas = grid[0] * grid[1] * grid[2]
    lens = np.array([rng.randint(0, 4) for _ in range(64)], dtype=np.int32)
    launch = {"grid": grid, "block": (block, 1, 1),
              "args": {0: buffer_from_array(lens), 1: rng.randint(0, 50), 2: buffer_from_array(None, ctas * block * 4),
                       3: buffer_from_array(None, 1 << 20)}}
    return Generated(ptx, launch)


SHORTCUTS = ("free_dims", "keys", "interior", "l1", "batch")


def shortcuts_fired(ptx: str, launch: dict) -> set[str]:
    """Which of the analyzer's shortcuts the slicer takes on this input: ``"free_dims"`` (CTAs that differ only in a
    %ctaid dimension the slice never reads counted once), ``"keys"`` (CTAs with equal key values), ``"interior"``
    (interior CTAs), ``"l1"`` (vector loads that hit in L1 counted once per destination register) and ``"batch"``
    (loop iterations run side by side: fewer evaluations than running them one by one). Raises what analyze raises."""
    from hwaware.ptx.analysis import _module_launch, prepare
    from hwaware.ptx.engine import Engine

    r = analyze(ptx, launch, max_steps=200_000)[0]
    fired = set()
    notes = " ".join(r.notes)
    if "differ only in %ctaid" in notes:
        fired.add("free_dims")
    if "agree in the key registers" in notes:
        fired.add("keys")
    if "interior CTAs" in notes:
        fired.add("interior")
    if r.l1_repeat_warp_instructions:
        fired.add("l1")
    p = prepare(ptx)
    evaluated = [Engine(p.module, p.fn, p.cfg, _module_launch(launch, p.module, p.fn), evaluate=set(p.slice.indices),
                        max_steps=200_000, group="grid", batch_loops=batch).run().evaluated for batch in (True, False)]
    if evaluated[0] < evaluated[1]:
        fired.add("batch")
    return fired


def counts_of(r: KernelCounts) -> tuple:
    """Every count the two methods must agree on."""
    return (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true, r.per_line, r.per_category,
            r.per_thread_min, r.per_thread_max, round(r.per_thread_mean, 9))


# -- mutation fuzzing ----------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"[%$]?[\w.]+|[^\s\w]")
_UNKNOWN = ("frobnicate.u32 %r1, %r1;", "tex.2d.v4.f32.f32 {%f1, %f2, %f3, %f4}, [t, {%f1, %f1}];",
            "mov.u32 %r1, %nosuchreg;", "ld.global.u32 %r1, [nosuchsymbol];", "bra $L__nowhere;", "@%p1 bra;")


def mutate(text: str, rng: random.Random) -> tuple[str, str]:
    """One random damage to ``text``: (mutated text, what was done)."""
    lines = text.split("\n")
    kind = rng.choice(["truncate", "flip", "flip", "delete_label", "unknown", "delete_line", "duplicate_line"])
    if kind == "truncate":
        cut = rng.randrange(len(text))
        return text[:cut], f"truncate at {cut}"
    if kind == "flip":  # replace one token by another token of the same file
        tokens = list(_TOKEN.finditer(text))
        a, b = rng.choice(tokens), rng.choice(tokens)
        return text[:a.start()] + b.group() + text[a.end():], f"token {a.group()!r}@{a.start()} -> {b.group()!r}"
    if kind == "delete_label":
        labels = [i for i, line in enumerate(lines) if re.match(r"^\$?\w+:\s*$", line)]
        if labels:
            i = rng.choice(labels)
            return "\n".join(lines[:i] + lines[i + 1:]), f"delete label line {i + 1}"
    if kind == "unknown":
        i = rng.randrange(len(lines))
        inst = rng.choice(_UNKNOWN)
        return "\n".join(lines[:i] + ["\t" + inst] + lines[i:]), f"insert {inst!r} at line {i + 1}"
    i = rng.randrange(len(lines))
    if kind == "duplicate_line":
        return "\n".join(lines[:i + 1] + lines[i:]), f"duplicate line {i + 1}"
    return "\n".join(lines[:i] + lines[i + 1:]), f"delete line {i + 1}"


def hostile_launch(launch: dict, rng: random.Random) -> tuple[dict, str]:
    """The launch with one hostile change: absurd or zero sizes, a missing or unknown argument."""
    launch = {**launch, "args": dict(launch.get("args", {}))}
    kind = rng.choice(["huge_grid", "huge_block", "zero", "missing", "unknown_arg", "negative_shared"])
    if kind == "huge_grid":
        launch["grid"] = (rng.choice([2**31 - 1, 65536 * 4096, 10**7]), rng.choice([1, 65535]), 1)
    elif kind == "huge_block":
        launch["block"] = (rng.choice([1025, 4096, 2**20]), 1, 1)
    elif kind == "zero":
        launch["grid"] = (0, 1, 1)
    elif kind == "missing" and launch["args"]:
        launch["args"].pop(rng.choice(list(launch["args"])))
    elif kind == "unknown_arg":
        launch["args"]["no_such_param"] = 1
    else:
        launch["dynamic_shared_mem_bytes"] = -16
    return launch, kind


_LOCATED = re.compile(r"^\S+:\d+(:\d+)?: ")


def _rejected(exc: Exception) -> str:
    """A clean rejection names where (``file:line[:col]: ``) on one line; anything else is a finding."""
    text = str(exc)
    if isinstance(exc, PTXError) and _LOCATED.match(text) and "\n" not in text:
        return "error"
    raise AssertionError(f"badly reported {type(exc).__name__}: {text!r}") from exc


def check(ptx: str, launch: dict, kernel: str | None = None, max_steps: int = 200_000) -> str:
    """Run both methods: ``"counted"`` (they agree), ``"error"`` (both refuse with a located one-line PTXError, or
    one of them for a reason the other need not share, see below) or ``"invalid launch"`` (InvalidArgumentError from
    launch validation); anything else raises, and so does a slicer/interpreter disagreement (a silently wrong count),
    including one method counting what the other refuses for any other reason."""
    results: list = []
    for method in ("slice", "interpret"):
        try:
            results.append(analyze(ptx, launch, kernel=kernel, method=method, max_steps=max_steps)[0])
        except InvalidArgumentError as exc:
            if "\n" in str(exc):
                raise AssertionError(f"multi-line message: {exc!r}") from exc
            return "invalid launch"
        except PTXError as exc:
            _rejected(exc)
            results.append(exc)
    s, i = results
    if isinstance(s, Exception) or isinstance(i, Exception):
        if isinstance(s, Exception) == isinstance(i, Exception) or _one_sided_ok(s, i):
            return "error"
        raise AssertionError(f"slicer {_outcome(s)} but interpreter {_outcome(i)}")
    if counts_of(s) != counts_of(i):
        raise AssertionError(f"slicer {counts_of(s)[:3]} != interpreter {counts_of(i)[:3]}")
    return "counted"


def _one_sided_ok(s: object, i: object) -> bool:
    """Refusals one method may make alone: the step budget (the methods step differently), the slicer's
    data-dependent limits (the interpreter has the data), and what the interpreter finds only by executing an
    instruction outside the slice: an access outside the buffers, or an instruction it has no semantics for (the
    slicer only counts it; control transfers it cannot follow are refused by both up front)."""
    if isinstance(s, Exception):
        return isinstance(s, (StepLimitError, DataDependentError))
    return isinstance(i, (StepLimitError, OutOfBoundsError, UnsupportedInstructionError))


def _outcome(r: object) -> str:
    return f"raised {type(r).__name__}: {r}" if isinstance(r, Exception) else f"counted {counts_of(r)[:3]}"