"""``analyze``: executed-instruction counts of PTX kernel launches, by slicing (default) or by full
interpretation (the reference the slicer is checked against)."""
from __future__ import annotations

import functools
import math
import numbers
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hwaware.errors import InvalidArgumentError, PTXExecutionError, PTXParseError
from hwaware.ptx.calls import inline_calls
from hwaware.ptx.cfg import build_cfg
from hwaware.ptx.engine import (Buffer, Counts, Engine, GroupingRefused, Launch, check_size, cta_coordinates,
                                kernel_variables, memory_variables)
from hwaware.ptx.interior import MAX_LANES, classes, evaluate_guards, signatures
from hwaware.ptx.parser import Function, Instruction, Module, parse
from hwaware.ptx.semantics import OPERAND_COUNTS, PACKED, UNFOLLOWED, WRITES_FIRST
from hwaware.ptx.slicer import compute_slice

METHODS = ("slice", "interpret")


def category(inst: Instruction) -> str:
    """arithmetic | fp | memory.<space> | control | sync | special (an inlined call's rewritten instruction: that
    of the instruction it stands for)."""
    if inst.counted_as:
        inst = Instruction(inst.counted_as, inst.operands)
    op = inst.base
    if op in ("ld", "ldu", "st", "atom", "red", "prefetch", "cp", "ldmatrix", "stmatrix"):
        space = next((s for s in ("global", "shared", "local", "param", "const") if s in inst.mods), "generic")
        return f"memory.{space}"
    if op in ("bra", "brx", "ret", "exit", "call", "trap"):
        return "control"
    if op in ("bar", "barrier", "membar", "fence"):
        return "sync"
    if op in ("shfl", "vote", "activemask", "match", "redux", "elect", "nanosleep") or (
            op == "mov" and any(str(o.value).startswith("%") and str(o.value).split(".")[0] in
                                ("%tid", "%ntid", "%ctaid", "%nctaid", "%laneid", "%warpid", "%clock", "%clock64")
                                for o in inst.operands[1:] if o.kind == "reg")):
        return "special"
    if any(m in ("f16", "f32", "f64", "bf16", "f16x2", "bf16x2") for m in inst.mods) or op in ("mma", "wmma", "fma"):
        return "fp"
    return "arithmetic"


@dataclass
class KernelCounts:
    """Executed-instruction counts of one launch (GPGPU-Sim's convention; see :mod:`hwaware.ptx.engine`)."""

    kernel: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    thread_instructions: int
    warp_instructions: int
    thread_instructions_guard_true: int
    per_line: dict[int, int]
    per_category: dict[str, int]
    per_thread_min: int
    per_thread_mean: float
    per_thread_max: int
    method: str
    evaluated: int  # warp-level instruction evaluations performed
    slice_size: int  # instructions in the slice (method "slice"), else all
    n_instructions: int
    seconds: float
    ctas_executed: int
    notes: list[str] = field(default_factory=list)
    # included in warp_instructions / thread_instructions_guard_true: the repeated completions of vector loads that
    # hit in L1 (GPGPU-Sim completes them once per destination register; see hwaware.ptx.engine.L1Sectors)
    l1_repeat_warp_instructions: int = 0
    l1_repeat_lanes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Prepared:
    """A kernel ready to run: parsed, its CFG built and its slice computed (cached per text and kernel)."""

    module: Module
    fn: Any
    cfg: Any
    slice: Any


@functools.lru_cache(maxsize=32)
def _parse_text(text: str, file: str) -> Module:
    return parse(text, file)


@functools.lru_cache(maxsize=256)
def _prepare_text(text: str, file: str, kernel: str | None) -> Prepared:
    # a network's PTX module holds every kernel: it is parsed once, not once per kernel
    return _prepare_module(_parse_text(text, file), kernel)


def _prepare_module(module: Module, kernel: str | None) -> Prepared:
    fn, unknown = inline_calls(module, module.entry(kernel))
    _validate(module, fn)
    cfg = build_cfg(fn, module.file)
    sliced = compute_slice(fn, cfg)
    instructions = fn.instructions
    for i in sorted(sliced.indices):  # a branch deciding on what a built-in returned (vprintf's count)
        if any(o.kind == "addr" and o.value in unknown for o in instructions[i].operands):
            raise PTXExecutionError(f"{module.file}:{instructions[i].line}: control flow depends on the value "
                                    "vprintf returns, which is not modelled; do not branch on printf's result")
    return Prepared(module, fn, cfg, sliced)


def _validate(module: Module, fn: Function) -> None:
    """Refuse, before counting and for both methods alike, what the slicer would otherwise count without noticing
    (it never executes an instruction outside its slice): control transfers the engine does not follow, a value
    written to something that is not a register, a name declared nowhere."""
    known = {p.name for p in fn.params} | {v.name for v in (*module.variables, *fn.variables)}  # labels: bra only
    for inst in fn.instructions:
        def bad(message: str) -> PTXParseError:
            return PTXParseError(message, file=module.file, line=inst.line, column=inst.col)
        if inst.base in UNFOLLOWED:
            raise PTXExecutionError(f"{module.file}:{inst.line}: indirect branches ({inst.opcode}) are not supported; "
                                    "rewrite them as direct branches and regenerate the PTX")
        if inst.base in WRITES_FIRST and (not inst.operands or not _destination(inst.operands[0])):
            raise bad(f"{inst.opcode} writes its first operand, which must be a register, not "
                      f"{inst.operands[0] if inst.operands else 'nothing'}")
        # cvt.rn.f16x2.f32 d, a, b packs two conversions
        counts = (3,) if inst.base == "cvt" and PACKED & set(inst.mods) else OPERAND_COUNTS.get(inst.base)
        if counts is not None:
            if len(inst.operands) not in counts:
                raise bad(f"{inst.opcode} takes {' or '.join(map(str, counts))} operands, got {len(inst.operands)}")
            memory = inst.base in ("ld", "ldu")  # the one operand that is an address
            if any((o.kind == "addr") != (memory and k == 1) for k, o in enumerate(inst.operands[1:], 1)):
                raise bad(f"{inst.opcode}: " + ("its source must be an address [...]" if memory else
                                                "an address [...] is not a value operand"))
        # a branch's target: the CFG reports unknown labels; a call's, hwaware.ptx.calls (what remains is a built-in)
        for op in inst.operands if inst.base not in ("bra", "call") else ():
            for o in (op.value if op.kind in ("vec", "pair", "list") else (op,)):  # type: ignore[union-attr]
                name = o.value if o.kind == "symbol" or (o.kind == "addr" and isinstance(o.value, str)
                                                          and not o.value.startswith("%")) else None
                if name is not None and name not in known:
                    raise bad(f"unknown symbol {name!r} (no parameter or variable has this name)")
        if inst.base in ("ld", "ldu") and "param" in inst.mods and len(inst.operands) == 2 and (
                inst.operands[1].value is None or str(inst.operands[1].value).startswith("%")):
            raise PTXExecutionError(f"{module.file}:{inst.line}: {inst.opcode} through a register or numeric address "
                                    "is not supported: load kernel parameters by name ([<kernel>_param_N])")


def _destination(op: Any) -> bool:
    """A register, a sink, or a vector / predicate pair of them."""
    if op.kind in ("vec", "pair"):
        return all(o.kind in ("reg", "sink") for o in op.value)
    return op.kind in ("reg", "sink")


def prepare(ptx: str | Path | Module, kernel: str | None = None) -> Prepared:
    """Parse (once per distinct text: the result is cached by content), build the CFG, slice."""
    if isinstance(ptx, Module):
        return _prepare_module(ptx, kernel)
    if isinstance(ptx, bytes):  # read in binary mode: PTX is ASCII text
        try:
            ptx = ptx.decode()
        except UnicodeDecodeError:
            raise InvalidArgumentError("the PTX bytes are not UTF-8 text; pass the .ptx that nvcc -ptx or NVRTC "
                                       "writes") from None
    if isinstance(ptx, str) and "\n" not in ptx and os.path.isdir(ptx):
        raise InvalidArgumentError(f"{ptx!r} is a folder; pass a .ptx file or the PTX text")
    if isinstance(ptx, Path) or (isinstance(ptx, str) and "\n" not in ptx
                                 and (ptx.endswith(".ptx") or os.path.isfile(ptx))):
        path = Path(ptx)
        if not path.is_file():
            raise InvalidArgumentError(f"no PTX file {str(path)!r}")
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise InvalidArgumentError(f"{str(path)!r} is not a PTX text file (not UTF-8); pass the .ptx that "
                                       "nvcc -ptx or NVRTC writes") from None
        return _prepare_text(text, str(path), kernel)
    return _prepare_text(str(ptx), "<ptx>", kernel)


def _normalise_args(fn_params: Sequence[Any], args: Mapping[str | int, Any],
                    source_names: Mapping[str, str] | None = None, address_size: int = 64) -> dict[str, Any]:
    """Arguments by PTX parameter name. A key is a position (0 or "0"), a PTX name
    (``saxpy_param_2``), its ``param_2`` suffix, or a CUDA source name when the PTX carries debug info."""
    names = [p.name for p in fn_params]
    by_source = {src: ptx for ptx, src in (source_names or {}).items() if ptx in names}
    out: dict[str, Any] = {}
    for key, value in args.items():
        k = str(key)
        if isinstance(key, int) or k.isdigit():
            if not 0 <= int(k) < len(names):
                raise InvalidArgumentError(f"argument index {k} out of range: the kernel has {len(names)} parameters "
                                           f"(0 ... {len(names) - 1})")
            name = names[int(k)]
        elif k in names:
            name = k
        elif k in by_source:
            name = by_source[k]
        else:
            suffix = [n for n in names if n.endswith("_" + k)]
            if len(suffix) != 1:
                known = ", ".join(f"{i}={n}" + (f" ({source_names[n]})" if source_names and n in source_names else "")
                                  for i, n in enumerate(names))
                hint = "" if by_source else "; source names need PTX with debug info (nvcc -G)"
                raise InvalidArgumentError(f"no kernel parameter {k!r}: use a position or a PTX name ({known}){hint}")
            name = suffix[0]
        if name in out:
            raise InvalidArgumentError(f"parameter {name} is given twice (as {k!r} and another name)")
        _check_arg(fn_params[names.index(name)], value, address_size)
        out[name] = value
    return out


def _check_arg(param: Any, value: Any, address_size: int) -> None:
    """A value the parameter can hold: a buffer only where the parameter is as wide as an address (a pointer), and a
    whole number where it is an integer (3.5 for a .u32 was truncated to 3, an array for a scalar read as its address,
    silently)."""
    dtype = param.dtype.lstrip(".")
    if isinstance(value, Buffer):
        if dtype not in (f"u{address_size}", f"s{address_size}", f"b{address_size}"):
            raise InvalidArgumentError(f"parameter {param.name} is a .{dtype} scalar, not a pointer: pass a number, "
                                       "not a buffer or an array")
    elif dtype[0] in "usb" and not (isinstance(value, numbers.Integral)
                                    or (isinstance(value, numbers.Real) and float(value).is_integer())):
        raise InvalidArgumentError(f"parameter {param.name} is a .{dtype} integer: pass a whole number, got {value!r}")


LAUNCH_KEYS = ("grid", "block", "dynamic_shared_mem_bytes", "args")


def _dims(value: Any, what: str) -> tuple[Any, ...]:
    """A launch's grid or block as a tuple of ints: an integer is its x extent (as the CLI's --grid 2); numpy integers
    are integers."""
    if isinstance(value, numbers.Integral):
        value = (value,)
    try:
        return tuple(int(d) if isinstance(d, numbers.Integral) and not isinstance(d, bool) else d for d in value)
    except TypeError:
        raise InvalidArgumentError(f"{what} must be up to three positive integers, e.g. (64, 1, 1), got {value!r}") \
            from None


def as_launch(spec: Launch | Mapping[str, Any], fn_params: Sequence[Any],
              source_names: Mapping[str, str] | None = None, address_size: int = 64,
              variables: Sequence[str] = ()) -> Launch:
    """A validated launch. ``variables``: the module's ``.global``/``.const`` variables (``__device__`` and
    ``__constant__``), whose contents an argument of that name gives (a buffer, or a number for a scalar one)."""
    if isinstance(spec, Launch):
        spec = {"grid": spec.grid, "block": spec.block, "dynamic_shared_mem_bytes": spec.dynamic_shared_mem_bytes,
                "args": spec.args}
    unknown = sorted(set(spec) - set(LAUNCH_KEYS))
    if unknown:  # a misspelt key ("grids", "shared") was a 1x1 launch, silently
        raise InvalidArgumentError(f"unknown launch keys {unknown}; a launch has {', '.join(LAUNCH_KEYS)}")
    grid = _dims(spec.get("grid", (1, 1, 1)), "grid") + (1, 1)
    block = _dims(spec.get("block", (1, 1, 1)), "block") + (1, 1)
    if any(not isinstance(d, int) or d < 1 for d in (*grid[:3], *block[:3])):
        raise InvalidArgumentError(f"grid and block dimensions must be positive integers, got {grid[:3]} / {block[:3]}")
    # CUDA's launch limits: a launch outside them never runs on a GPU
    if any(d > m for d, m in zip(block, (1024, 1024, 64))) or block[0] * block[1] * block[2] > 1024:
        raise InvalidArgumentError(f"block {block[:3]} exceeds CUDA's limits (1024 threads; x, y <= 1024, z <= 64)")
    if grid[0] >= 2**31 or grid[1] > 65535 or grid[2] > 65535:
        raise InvalidArgumentError(f"grid {grid[:3]} exceeds CUDA's limits (x < 2^31, y and z <= 65535)")
    shared = spec.get("dynamic_shared_mem_bytes", 0)
    shared = int(shared) if isinstance(shared, numbers.Integral) and not isinstance(shared, bool) else shared
    if not isinstance(shared, int) or not 0 <= shared <= 1 << 20:
        raise InvalidArgumentError(f"dynamic_shared_mem_bytes must be an integer in 0 ... 1 MiB, got {shared!r}")
    given = spec.get("args", {})
    args = _normalise_args(fn_params, {k: v for k, v in given.items() if k not in variables}, source_names,
                           address_size)
    for k in (k for k in given if k in variables):
        names = [p.name for p in fn_params]
        if k in names or k in (source_names or {}).values() or any(n.endswith("_" + str(k)) for n in names):
            raise InvalidArgumentError(f"{k} names a kernel parameter and a module variable: give the parameter by "
                                       "position or PTX name, the variable by its own")
        value = buffer_from_array(given[k]) if isinstance(given[k], np.ndarray) else given[k]
        if not isinstance(value, Buffer) and not isinstance(value, numbers.Real):
            raise InvalidArgumentError(f"{k}: pass a number or a buffer, not {type(value).__name__}")
        args[k] = value
    # fresh buffers per run: the interpreter writes into them
    args = {k: (Buffer(v.nbytes, None if v.data is None else v.data.copy(), v.param) if isinstance(v, Buffer) else v)
            for k, v in args.items()}
    return Launch(grid[:3], block[:3], shared, args)  # type: ignore[arg-type]


def _module_launch(spec: Launch | Mapping[str, Any], module: Module, fn: Function) -> Launch:
    """:func:`as_launch` for the kernel ``fn`` of ``module`` (its CUDA parameter names and address size)."""
    return as_launch(spec, fn.params, module.source_names, module.address_size,
                     [v.name for v in memory_variables(module)])


def analyze(ptx: str | Path | Module, launches: Launch | Mapping[str, Any] | Sequence[Launch | Mapping[str, Any]], *,
            kernel: str | None = None, method: str = "slice", max_steps: int = 50_000_000) -> list[KernelCounts]:
    """Count the instructions a kernel executes for each launch, without a GPU.

    ``ptx``: PTX text, a path to a ``.ptx`` file, or a parsed module. ``launches``: one or several
    launches, each a :class:`Launch` or a dict ``{"grid": (x, y, z), "block": (x, y, z),
    "dynamic_shared_mem_bytes": n, "args": {name_or_index: value}}``; scalar arguments are numbers,
    pointer arguments :class:`Buffer` objects (with ``data`` when control flow reads them).

    >>> from hwaware.ptx import analyze, Buffer
    >>> src = open("../shared/ptx-golden/ptx/saxpy_gridstride.ptx").read()  # doctest: +SKIP
    """
    if method not in METHODS:
        raise InvalidArgumentError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    prepared = prepare(ptx, kernel)
    module, fn, cfg = prepared.module, prepared.fn, prepared.cfg
    insts = fn.instructions
    sl = prepared.slice if method == "slice" else None
    unset = [v.name for v in kernel_variables(module, fn) if v.init is None and not v.extern]
    specs = [launches] if isinstance(launches, (Launch, Mapping)) else list(launches)
    results = []
    for spec in specs:
        launch = _module_launch(spec, module, fn)
        t0 = time.perf_counter()
        dims = [d for d in range(3) if sl is not None and sl.free_dims[d] and launch.grid[d] > 1]
        lines = math.prod(launch.grid[d] for d in dims)  # CTAs each run CTA stands for along the free dimensions
        check_size(module, fn, launch, launch.ctas // lines, max_steps)  # before listing the CTAs
        plan: dict[int, list[int]] = {1: list(range(launch.ctas))}  # weight -> CTAs that stand for that many
        try:
            if sl is not None:
                plan = _key_classes(prepared, launch, dims)
            # (CTAs, how many CTAs each stands for, their run if already made: counted with those weights)
            interior = False
            todo: list[tuple[list[int], list[int], Counts | None]] = [
                (ctas, [w] * len(ctas), None) for w, ctas in plan.items()]
            if sl is not None and len(plan) == 1 and 1 in plan and len(plan[1]) >= INTERIOR_MIN_CTAS and \
                    _interior_wraps(prepared, dims):
                found = _interior_classes(prepared, spec, launch, plan[1], dims, max_steps)
                todo = found or todo
                interior = found is not None and sum(len(c) for c, _, _ in found) < len(plan[1])
            # one run per class weight (the engine counts every run CTA alike), each on its own buffers
            # a run whose CTAs all stand for as many CTAs is counted plainly and its counts multiplied afterwards
            runs = [(lines * (1 if len(set(weights)) > 1 else weights[0]), ctas, weights, done or Engine(
                module, fn, cfg, launch if len(todo) == 1 else _module_launch(spec, module, fn),
                evaluate=None if sl is None else set(sl.indices), max_steps=max_steps,
                group="warp" if sl is None else "grid", ctas=ctas, weights=weights if len(set(weights)) > 1 else None,
                wrap_checks=sl.wrap_checks if dims else None).run())  # type: ignore[union-attr]
                for ctas, weights, done in todo]
        except GroupingRefused:
            dims, lines, interior = [], 1, False
            launch = _module_launch(spec, module, fn)  # fresh buffers: the first run wrote into them
            runs = [(1, list(range(launch.ctas)), [1] * launch.ctas, Engine(module, fn, cfg, launch, evaluate=set(sl.indices),  # type: ignore[union-attr]
                                                         max_steps=max_steps, group="grid").run())]
        n = len(insts)
        thread, guard_false, warp = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
        extra_warp, extra_lanes = np.zeros(n, np.int64), np.zeros(n, np.int64)
        rows, row_weights, evaluated = [], [], 0
        for weight, ctas, row_weight, c in runs:
            thread += c.thread * weight
            guard_false += c.guard_false * weight
            warp += c.warp * weight
            if c.extra_warp is not None and c.extra_lanes is not None:
                extra_warp += c.extra_warp * weight
                extra_lanes += c.extra_lanes * weight
            rows.append(c.per_thread.reshape(launch.ctas, -1)[ctas])
            row_weights.append(np.asarray(row_weight, np.int64) * lines)
            evaluated += c.evaluated
        executed = sum(len(ctas) for _, ctas, _, _ in runs)
        guard_true = thread - guard_false
        notes = []
        why = [f"differ only in %ctaid.{'/'.join('xyz'[d] for d in dims)}"] if dims else []
        if interior:
            why.append("take every CTA-dependent guard alike (interior CTAs)")
        elif executed * lines < launch.ctas:
            why.append(f"agree in the key registers ({', '.join(sl.key.regs) or 'none'})")  # type: ignore[union-attr]
        if why:
            notes.append(f"CTAs that {' or '.join(why)} count alike: {executed} of {launch.ctas} executed")
        repeat_warp = repeat_lanes = 0
        if extra_warp.any():
            # vector loads that hit in L1: GPGPU-Sim completes them once per destination register
            warp = warp + extra_warp
            guard_true = guard_true + extra_lanes
            repeat_warp, repeat_lanes = int(extra_warp.sum()), int(extra_lanes.sum())
            notes.append(f"{repeat_warp:,} warp instructions are repeated completions of vector loads that hit in L1 "
                         "(GPGPU-Sim completes them once per destination register)")
        defaults = [v for v in unset if v not in launch.args]
        if defaults:
            notes.append(f"module variables without an initializer read as zeros, as PTX initializes them: "
                         f"{', '.join(defaults)}; contents a host sets (cudaMemcpyToSymbol) are given by name "
                         "(args={name: ...}, --arg name=...)")
        if fn.redeclared:
            notes.append(f"registers declared again inside braces ({', '.join(sorted(set(fn.redeclared)))}) are the "
                         "enclosing ones, as GPGPU-Sim reads them (ptxas: new registers; the counts differ only where "
                         "the enclosing value is read after the braces)")
        per_thread = np.concatenate(rows)
        per_row = np.concatenate(row_weights)
        per_line: Counter[int] = Counter()
        per_cat: Counter[str] = Counter()
        for i, inst in enumerate(insts):
            if thread[i]:
                per_line[inst.line] += int(thread[i])
                per_cat[category(inst)] += int(thread[i])
        results.append(KernelCounts(
            kernel=fn.name, grid=launch.grid, block=launch.block, thread_instructions=int(thread.sum()),
            warp_instructions=int(warp.sum()), thread_instructions_guard_true=int(guard_true.sum()),
            per_line=dict(sorted(per_line.items())), per_category=dict(per_cat.most_common()),
            per_thread_min=int(per_thread.min()), per_thread_mean=int(per_thread.sum(axis=1) @ per_row) / (launch.ctas * per_thread.shape[1]),
            per_thread_max=int(per_thread.max()), method=method, evaluated=evaluated,
            slice_size=len(sl.indices) if sl else len(insts), n_instructions=len(insts),
            seconds=time.perf_counter() - t0, ctas_executed=executed,
            notes=notes, l1_repeat_warp_instructions=repeat_warp, l1_repeat_lanes=repeat_lanes))
    return results


def _key_classes(prepared: Prepared, launch: Launch, dims: list[int]) -> dict[int, list[int]]:
    """The CTAs to run: weight -> CTAs each standing for that many (times the free dimensions' lines). The CTAs at 0
    along the free dimensions ``dims``, of which those with equal key values (:func:`~hwaware.ptx.slicer.cta_keys`)
    run once. No key along a dimension that a non-uniform instruction reads directly, nor where a free dimension's
    wrap check is on a uniform instruction (it was checked on the run CTAs' values, which the others do not share)."""
    sl = prepared.slice
    reps = [i for i, c in enumerate(cta_coordinates(launch.grid)) if not any(c[d] for d in dims)]
    key = sl.key
    keyed = {d for d in range(3) if d not in dims and launch.grid[d] > 1}
    if key is None or not keyed or key.reads & keyed or (dims and set(sl.wrap_checks) & key.uniform):
        return {1: reps}
    if not key.regs:
        return {len(reps): reps[:1]}
    engine = Engine(prepared.module, prepared.fn, prepared.cfg, launch, evaluate=set(sl.indices), group="grid",
                    ctas=reps)
    values = engine.uniform_values(key.program, key.regs)
    _, first, counts = np.unique(values, axis=0, return_index=True, return_counts=True)
    plan: dict[int, list[int]] = {}
    for f, n in sorted(zip(first.tolist(), counts.tolist())):
        plan.setdefault(n, []).append(reps[f])
    return plan


def _interior_classes(prepared: Prepared, spec: Launch | Mapping[str, Any], launch: Launch, reps: list[int],
                      dims: list[int], max_steps: int) -> list[tuple[list[int], list[int], Counts | None]] | None:
    """CTAs of ``reps`` (each standing for itself) that count alike by :mod:`hwaware.ptx.interior`: (CTAs to run,
    how many CTAs each stands for, their run if already made). None when the slice has no interior plan.

    A class's representative runs recording the ranges of the invariant registers its guard trees read; the CTAs
    whose signature (:func:`~hwaware.ptx.interior.signatures`) under those ranges equals its own count as it does.
    First a likely interior CTA (its run is kept), then one CTA of each class those ranges suggest for the others
    (at most ``_CANDIDATES``, run together only for their ranges). The CTAs left are grouped by their signature
    without ranges (equal key values wherever a guard is not fixed), which needs no run."""
    sl, fn = prepared.slice, prepared.fn
    plan = sl.interior
    n, size = len(reps), launch.threads_per_cta
    if plan is None or n * size > MAX_LANES:
        return None
    every = Engine(prepared.module, fn, prepared.cfg, launch, evaluate=set(sl.indices), group="grid", ctas=reps)
    keys = every.thread_values(plan.keys, sorted(plan.key_regs))
    left = np.ones(n, dtype=bool)
    out: list[tuple[list[int], list[int], Counts | None]] = []
    final: list[tuple[int, int]] = []  # (CTA, weight) to run together, weighted

    def signature(idx: np.ndarray, ranges: dict) -> np.ndarray:
        """Signatures of the CTAs ``idx`` (of ``reps``) under ``ranges``."""
        sub = {r: v.reshape(n, size)[idx].reshape(-1) for r, v in keys.items()}
        return signatures(plan, evaluate_guards(fn, plan, sub, ranges, len(idx) * size), sub, len(idx))

    if plan.record:  # guard trees read invariant registers: classes need the ranges of their representatives
        candidates, guessed = [_central_cta(keys, n, size)], [1]
        for first in (True, False):
            # the first round runs a likely interior CTA; the second one CTA of each class the first one's ranges
            # suggest among the others, weighted by that class's size (kept if the guess proves right)
            engine = Engine(prepared.module, fn, prepared.cfg, _module_launch(spec, prepared.module, fn),
                            evaluate=set(sl.indices), max_steps=max_steps, group="grid",
                            ctas=[reps[c] for c in candidates], record=plan.record,
                            # the caller multiplies a run whose CTAs all stand for as many CTAs: weights then None
                            weights=None if first or len(set(guessed)) == 1 else guessed,
                            wrap_checks=sl.wrap_checks if dims else None)
            counts = engine.run()
            guess, found = None, []
            for row, c in enumerate(candidates):
                if not left[c]:  # an earlier candidate's class took it: it stands for none (so the guess was wrong)
                    found.append((reps[c], 0))
                    continue
                idx = np.nonzero(left)[0]
                sig = signature(idx, engine.row_ranges(row))
                alike = idx[(sig == sig[np.searchsorted(idx, c)]).all(axis=1)]
                left[alike] = False
                found.append((reps[c], len(alike)))
                guess = (idx, sig) if guess is None else guess
            if first:
                out.append(([found[0][0]], [found[0][1]], counts))
            elif [k for _, k in found] == guessed:
                out.append(([c for c, _ in found], guessed, counts))
            else:
                final += [(c, k) for c, k in found if k]
            if not first or not left.any() or guess is None or not _CANDIDATES:
                break
            groups = classes(guess[1][left[guess[0]]])[:_CANDIDATES]
            candidates = np.nonzero(left)[0][[g[0] for g in groups]].tolist()
            guessed = [len(g) for g in groups]
    if left.any():
        idx = np.nonzero(left)[0]
        final += [(reps[int(idx[group[0]])], len(group)) for group in classes(signature(idx, {}))]
    if final:
        final.sort()
        out.append(([c for c, _ in final], [k for _, k in final], None))
    return out


_CANDIDATES = 16
# fewer CTAs run side by side cost little more than one: the interior classes' extra runs would not pay
INTERIOR_MIN_CTAS = 16


def _interior_wraps(prepared: Prepared, dims: list[int]) -> bool:
    """Whether interior grouping may combine with the free dimensions' grouping ``dims``: every wrap check that
    grouping rests on reads an invariant register (:mod:`hwaware.ptx.interior`), so the check made on a class's
    representative holds for every CTA of the class (same control flow, same values)."""
    sl = prepared.slice
    if not dims or not sl.wrap_checks:
        return True
    if sl.interior is None:
        return False
    insts = prepared.fn.instructions
    read = [insts[i].operands[c.operand] for i, c in sl.wrap_checks.items()]
    return all(o.kind == "reg" and str(o.value) not in sl.interior.varying and not str(o.value).startswith("%ctaid")
               for o in read)


def _central_cta(keys: dict[str, np.ndarray], n: int, size: int) -> int:
    """A CTA likely to be interior (any choice is sound): the one whose key values stay farthest, relative to their
    spread over the launch, from the extremes over the launch."""
    score = np.ones(n)
    for v in keys.values():
        if v.dtype == bool:
            continue
        v = v.astype(np.int64)
        if v.max() < 1 << 32:
            v = v.astype(np.uint32).view(np.int32).astype(np.int64)
        v = v.reshape(n, size)
        lo, hi = v.min(), v.max()
        if hi > lo:
            score = np.minimum(score, np.minimum(v.min(axis=1) - lo, hi - v.max(axis=1)) / (hi - lo))
    return int(np.argmax(score))


def buffer_from_array(array: np.ndarray | None, nbytes: int | None = None) -> Buffer:
    """A pointer argument: contents from ``array`` (any dtype), or unknown contents of ``nbytes``."""
    if array is None:
        if nbytes is None:
            raise InvalidArgumentError("a buffer needs contents or a size in bytes")
        return Buffer(nbytes)
    data = np.ascontiguousarray(array).view(np.uint8).reshape(-1).copy()
    return Buffer(len(data), data)
