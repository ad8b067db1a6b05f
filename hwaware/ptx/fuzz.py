"""Random PTX kernels and hostile mutations of real ones, for differential testing of the analyzer
(``tests/test_ptx_fuzz.py`` runs a small budget, ``scripts/fuzz_ptx.py`` a large one).

* :func:`random_kernel` writes a valid kernel from a seed: nested loops whose trip counts come from
  a buffer or a scalar argument, divergent if/else, predicated instructions, shuffles, barriers and
  early exits, with a random launch (partial warps included). The slicer and the reference
  interpreter must agree on every count.
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
    """Emits one kernel; registers are fresh per definition, values live in a pool of integer registers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
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
            kinds += ["if", "if", "loop_buffer", "loop_scalar"]
        if top:
            kinds += ["shfl", "barrier", "exit"]
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
        else:  # early exit of some threads
            p = self.condition()
            self.emit(f"@{p} ret" if rng.random() < 0.5 else f"@{p} exit")


@dataclass
class Generated:
    ptx: str
    launch: dict


def random_kernel(seed: int) -> Generated:
    """A valid PTX kernel and a launch for it, both determined by ``seed``."""
    rng = random.Random(seed)
    w = _Writer(rng)
    w.block(0, True)
    body = "\n".join(w.lines)
    ptx = f"""//
.version 9.0
.target sm_80
.address_size 64

.visible .entry fuzz(
	.param .u64 fuzz_param_0,
	.param .u32 fuzz_param_1,
	.param .u64 fuzz_param_2
)
{{
	.reg .pred %p<{w.p + 1}>;
	.reg .b32 %r<{w.r + 1}>;
	.reg .b64 %rd<{w.rd + 1}>;

	ld.param.u64 %rd1, [fuzz_param_0];
	cvta.to.global.u64 %rd1, %rd1;
	ld.param.u32 %r1, [fuzz_param_1];
	mov.u32 %r2, %tid.x;
	mov.u32 %r3, %ctaid.x;
	mov.u32 %r4, %ntid.x;
	mad.lo.s32 %r5, %r3, %r4, %r2;
	mov.u32 %r6, 0;
	mov.u32 %r7, %laneid;
{body}
	ld.param.u64 %rd2, [fuzz_param_2];
	cvta.to.global.u64 %rd2, %rd2;
	mul.wide.u32 %rd3, %r5, 4;
	add.s64 %rd2, %rd2, %rd3;
	st.global.u32 [%rd2], %r6;
	ret;
}}
"""
    grid, block = rng.randint(1, 3), rng.choice([1, 7, 32, 33, 64, 96, 100])
    lens = np.array([rng.randint(0, 4) for _ in range(64)], dtype=np.int32)
    launch = {"grid": (grid, 1, 1), "block": (block, 1, 1),
              "args": {0: buffer_from_array(lens), 1: rng.randint(0, 50), 2: buffer_from_array(None, grid * block * 4)}}
    return Generated(ptx, launch)


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