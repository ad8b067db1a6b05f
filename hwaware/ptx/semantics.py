"""What each PTX instruction computes, over numpy lane vectors (the subset CNN kernels use:
integer and floating-point arithmetic, comparisons, conversions, moves, loads and stores in every
state space, shuffles, votes and atomics). An instruction outside it raises an error naming it."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hwaware.errors import UnsupportedInstructionError
from hwaware.ptx.engine import _FLOAT, _INT, WARP, instruction_type
from hwaware.ptx.parser import Instruction

if TYPE_CHECKING:
    from hwaware.ptx.engine import Engine, Warp

_WIDEN = {"s16": "s32", "u16": "u32", "s32": "s64", "u32": "u64", "b16": "b32", "b32": "b64"}
_CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
        "ge": np.greater_equal, "lo": np.less, "ls": np.less_equal, "hi": np.greater, "hs": np.greater_equal}


# matrix instructions whose per-thread fragment layout PTX leaves to the implementation (wmma) or whose values no
# counted kernel's control flow has needed: counted, never computed
TENSOR_CORE_OPS = frozenset({"wmma", "mma", "wgmma", "ldmatrix", "stmatrix", "tcgen05"})
_NO_VALUE = frozenset({"bar", "barrier", "membar", "fence", "ret", "exit", "bra", "trap", "nanosleep", "prefetch",
                       "prefetchu", "cp", "discard", "applypriority", "griddepcontrol", "pmevent", "call"})
# control transfers the engine does not follow: refused before counting (a call is inlined first, hwaware.ptx.calls,
# and what remains of it is the counted call instruction, which does nothing here)
UNFOLLOWED = frozenset({"brx"})
# operands (destination first) of the value instructions :func:`execute` runs: another count is malformed
OPERAND_COUNTS: dict[str, tuple[int, ...]] = {
    **{op: (2,) for op in ("mov", "abs", "neg", "not", "cvt", "cvta", "sqrt", "rsqrt", "rcp", "ex2", "lg2", "sin",
                           "cos", "tanh", "popc", "clz", "brev", "bfind", "testp", "ld", "ldu")},
    **{op: (3,) for op in ("add", "sub", "mul", "div", "rem", "min", "max", "and", "or", "xor", "shl", "shr",
                           "copysign")},
    **{op: (3, 4) for op in ("setp", "set")},  # 4: with a predicate combined (setp.lt.and p, a, b, q)
    **{op: (4,) for op in ("mad", "fma", "selp", "bfe", "prmt")}}
PACKED = frozenset({"f16x2", "bf16x2"})  # cvt's packed destinations, which take two sources
# the base opcodes whose first operand :func:`execute` writes (a register, vector, sink or predicate pair)
WRITES_FIRST = frozenset(OPERAND_COUNTS) | {"atom", "shfl", "vote", "activemask"}


def execute(e: Engine, inst: Instruction, w: Warp, mask: np.ndarray, i: int) -> None:
    op = inst.base
    t = instruction_type(inst)
    ops = inst.operands
    R = lambda k, tt=t: e.read(ops[k], tt, w)  # noqa: E731
    W = lambda v, tt=t, k=0: e.write(ops[k], v, tt, w, mask)  # noqa: E731
    if op in ("mov", "cvta"):
        if op == "cvta":
            W(_cvta(e, inst, R(1, "u64")), "u64")
        elif ops[0].kind == "vec" or ops[1].kind == "vec":
            _mov_vector(e, inst, w, mask, t)
        else:
            W(R(1))
    elif op in ("add", "sub"):
        a, b = R(1), R(2)
        if "sat" in inst.mods and t == "s32":
            r = np.clip(a.astype(np.int64) + (b if op == "add" else -b.astype(np.int64)), -2**31, 2**31 - 1)
        else:
            r = a + b if op == "add" else a - b
        W(r)
    elif op == "mul":
        _mul(inst, R(1), R(2), W, t)
    elif op == "mad" or op == "fma":
        if t in _FLOAT:
            W(R(1) * R(2) + R(3))
        elif "wide" in inst.mods:
            wt = _WIDEN[t]
            W(R(1).astype(_INT[wt]) * R(2).astype(_INT[wt]) + R(3, wt), wt)
        elif "hi" in inst.mods:
            W(_mulhi(R(1), R(2), t) + R(3))
        else:
            W(R(1) * R(2) + R(3))
    elif op == "div":
        a, b = R(1), R(2)
        if t in _FLOAT:
            W(a / b)
        else:
            safe = np.where(b == 0, 1, b)
            q = np.trunc(a.astype(np.float64) / safe.astype(np.float64)) if t[0] == "s" else a // safe
            W(np.where(b == 0, -1, q).astype(a.dtype))
    elif op == "rem":
        a, b = R(1), R(2)
        safe = np.where(b == 0, 1, b)
        r = np.fmod(a, safe) if t[0] == "s" else a % safe
        W(np.where(b == 0, a, r))
    elif op in ("min", "max"):
        f = np.minimum if op == "min" else np.maximum
        W(f(R(1), R(2)))
    elif op == "abs":
        W(np.abs(R(1)))
    elif op == "neg":
        W(-R(1))
    elif op in ("and", "or", "xor"):
        if t == "pred":
            f = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}[op]
            W(f(R(1, "pred"), R(2, "pred")), "pred")
        else:
            f = {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}[op]
            W(f(R(1), R(2)))
    elif op == "not":
        W(~R(1, "pred") if t == "pred" else np.invert(R(1)), t)
    elif op in ("shl", "shr"):
        _shift(inst, e, w, W, t)
    elif op == "setp":
        _setp(inst, e, w, mask)
    elif op == "selp":
        W(np.where(R(3, "pred"), R(1), R(2)))
    elif op == "set":
        cmp = inst.mods[0]
        src = inst.mods[-1]
        W(np.where(_compare(cmp, R(1, src), R(2, src), src), -1, 0), inst.mods[-2])
    elif op == "cvt":
        _cvt(inst, e, w, mask)
    elif op in ("sqrt", "rsqrt", "rcp", "ex2", "lg2", "sin", "cos", "tanh"):
        x = R(1)
        f = {"sqrt": np.sqrt, "rsqrt": lambda v: 1 / np.sqrt(v), "rcp": lambda v: 1 / v, "ex2": np.exp2,
             "lg2": np.log2, "sin": np.sin, "cos": np.cos, "tanh": np.tanh}[op]
        W(f(x))
    elif op == "copysign":
        W(np.copysign(R(2), R(1)))
    elif op == "testp":
        kind = inst.mods[0]
        x = R(1, t)
        W({"finite": np.isfinite(x), "infinite": np.isinf(x), "number": ~np.isnan(x), "notanumber": np.isnan(x),
           "normal": np.isfinite(x) & (x != 0), "subnormal": np.zeros(WARP, bool)}[kind], "pred")
    elif op in ("popc", "clz", "brev", "bfind"):
        W(_bitop(op, R(1), t), "u32")
    elif op == "bfe":
        a, pos, ln = R(1), R(2, "u32").astype(np.int64), R(3, "u32").astype(np.int64)
        width = 8 * a.dtype.itemsize
        u = a.astype(np.uint64) & np.uint64((1 << width) - 1)
        r = (u >> pos.astype(np.uint64)) & ((np.uint64(1) << ln.astype(np.uint64)) - np.uint64(1))
        W(r.astype(a.dtype))
    elif op == "prmt":
        W(_prmt(R(1, "b32"), R(2, "b32"), R(3, "b32")), "b32")
    elif op == "ld" or op == "ldu":
        _load(e, inst, w, mask, t, i)
    elif op == "st":
        _store(e, inst, w, mask, t)
    elif op in ("atom", "red"):
        _atomic(e, inst, w, mask, t, i)
    elif op == "shfl":
        _shfl(inst, e, w, mask)
    elif op == "vote":
        _vote(inst, e, w, mask)
    elif op == "activemask":
        W(np.repeat(_ballot(mask), WARP), "b32")
    elif op in _NO_VALUE:
        return  # control and ordering: handled by the engine, or no value
    elif op in TENSOR_CORE_OPS:
        raise UnsupportedInstructionError(
            f"{e._where(inst)}: {inst.opcode} is a tensor-core instruction, whose results the analyzer does not "
            "compute: count the kernel with method 'slice' (the default), which runs only what decides control flow; "
            "a debug build (nvcc -G) passes them through memory the slicer cannot tell from what a branch reads: "
            "compile without -G")
    else:
        raise UnsupportedInstructionError(f"{e._where(inst)}: unsupported instruction {inst.opcode}")


def _mul(inst: Instruction, a: np.ndarray, b: np.ndarray, W, t: str) -> None:
    if t in _FLOAT:
        W(a * b)
    elif "wide" in inst.mods:
        wt = _WIDEN[t]
        W(a.astype(_INT[wt]) * b.astype(_INT[wt]), wt)
    elif "hi" in inst.mods:
        W(_mulhi(a, b, t))
    else:
        W(a * b)


def _mulhi(a: np.ndarray, b: np.ndarray, t: str) -> np.ndarray:
    bits = 8 * a.dtype.itemsize
    if bits <= 32:
        return ((a.astype(np.int64) * b.astype(np.int64)) >> bits).astype(a.dtype)
    prod = [(int(x) * int(y)) >> 64 for x, y in zip(a, b)]
    return np.array([p & ((1 << 64) - 1) for p in prod], dtype=np.uint64).view(a.dtype)


def _shift(inst: Instruction, e: Engine, w: Warp, W, t: str) -> None:
    a = e.read(inst.operands[1], t, w)
    ut = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    if inst.operands[2].kind == "imm":  # the usual case: one shift for every lane, no clamping per lane
        k = int(inst.operands[2].value) & 0xFFFFFFFF  # type: ignore[arg-type]
        bits = 8 * a.dtype.itemsize
        if inst.base == "shl" or not t.startswith("s"):
            u = a.view(ut)
            W((np.zeros_like(u) if k >= bits else (u << ut(k)) if inst.base == "shl" else u >> ut(k)).view(a.dtype))
        else:
            W(a >> a.dtype.type(min(k, bits - 1)))
        return
    n = e.read(inst.operands[2], "u32", w).astype(np.uint64)
    width = np.uint64(8 * a.dtype.itemsize)
    if inst.base == "shl":
        r = np.where(n >= width, np.uint64(0), a.view(ut).astype(np.uint64) << np.minimum(n, width - np.uint64(1)))
        W((r & np.uint64((1 << int(width)) - 1)).astype(ut).view(a.dtype))
    elif t.startswith("s"):
        W(a >> np.minimum(n, width - np.uint64(1)).astype(a.dtype))
    else:
        u = a.view(ut)
        W(np.where(n >= width, 0, u >> np.minimum(n, width - np.uint64(1)).astype(u.dtype)).astype(u.dtype).view(a.dtype))


def _compare(cmp: str, a: np.ndarray, b: np.ndarray, t: str) -> np.ndarray:
    if t in _FLOAT:
        unordered = np.isnan(a) | np.isnan(b)
        if cmp == "num":
            return ~unordered
        if cmp == "nan":
            return unordered
        if cmp.endswith("u") and cmp not in ("equ",) or cmp == "equ":
            return _CMP[cmp[:-1]](a, b) | unordered
        return _CMP[cmp](a, b) & ~unordered
    if cmp in ("lo", "ls", "hi", "hs"):
        a = a.view(np.dtype(f"u{a.dtype.itemsize}"))
        b = b.view(np.dtype(f"u{b.dtype.itemsize}"))
    return _CMP[cmp](a, b)


def _setp(inst: Instruction, e: Engine, w: Warp, mask: np.ndarray) -> None:
    mods = inst.mods
    cmp, t = mods[0], mods[-1]
    r = _compare(cmp, e.read(inst.operands[1], t, w), e.read(inst.operands[2], t, w), t)
    combine = next((m for m in mods[1:-1] if m in ("and", "or", "xor")), None)
    if combine:
        c = e.read(inst.operands[3], "pred", w)
        f = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}[combine]
        r_p, r_q = f(r, c), f(~r, c)
    else:
        r_p, r_q = r, ~r
    dest = inst.operands[0]
    if dest.kind == "pair":
        p, q = dest.value  # type: ignore[misc]
        e.write(p, r_p, "pred", w, mask)
        e.write(q, r_q, "pred", w, mask)
    else:
        e.write(dest, r_p, "pred", w, mask)


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns of float32 values: the upper half, rounded to nearest even."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def _cvt(inst: Instruction, e: Engine, w: Warp, mask: np.ndarray) -> None:
    packed = PACKED & set(inst.mods)
    if packed:  # d = {cvt(a) in the upper half, cvt(b) in the lower}
        if "rn" not in inst.mods:
            raise UnsupportedInstructionError(f"{e._where(inst)}: unsupported instruction {inst.opcode} (only the "
                                              ".rn rounding of packed conversions is modelled)")
        halves = []
        for o in inst.operands[1:]:
            x = e.read(o, "f32", w)
            x = np.maximum(x, np.float32(0)) if "relu" in inst.mods else x
            halves.append((x.astype(np.float16).view(np.uint16) if "f16x2" in packed else bf16_bits(x))
                          .astype(np.uint32))
        e.write(inst.operands[0], (halves[0] << np.uint32(16)) | halves[1], "b32", w, mask)
        return
    types = [m for m in inst.mods if m in _INT or m in _FLOAT]
    dt, st = types[0], types[-1]
    x = e.read(inst.operands[1], st, w)
    rounding = next((m for m in inst.mods if m in ("rn", "rz", "rm", "rp", "rni", "rzi", "rmi", "rpi")), None)
    if dt in _FLOAT:
        r = x.astype(np.float64).astype(_FLOAT[dt])
    elif st in _FLOAT:
        f = x.astype(np.float64)
        f = {"rni": np.rint, "rn": np.rint, "rzi": np.trunc, "rz": np.trunc, "rmi": np.floor, "rm": np.floor,
             "rpi": np.ceil, "rp": np.ceil}.get(rounding or "rzi", np.trunc)(f)
        info = np.iinfo(_INT[dt])
        r = np.clip(np.nan_to_num(f), info.min, info.max).astype(_INT[dt])  # float -> int saturates
    else:
        r = x.astype(_INT[dt])  # integer truncation / sign or zero extension by source type
        if "sat" in inst.mods:
            info = np.iinfo(_INT[dt])
            r = np.clip(x.astype(np.float64), info.min, info.max).astype(_INT[dt])
    if "sat" in inst.mods and dt in _FLOAT:
        r = np.clip(r, 0, 1).astype(_FLOAT[dt])
    e.write(inst.operands[0], r, dt, w, mask)


def _cvta(e: Engine, inst: Instruction, a: np.ndarray) -> np.ndarray:
    from hwaware.ptx.engine import LOCAL_GENERIC, SHARED_GENERIC

    to = "to" in inst.mods
    space = next((m for m in inst.mods if m in ("global", "shared", "local", "const", "param")), "global")
    base = {"shared": SHARED_GENERIC, "local": LOCAL_GENERIC}.get(space, 0)
    a = a.astype(np.int64)
    return (a - base if to else a + base).astype(np.uint64)


def _mov_vector(e: Engine, inst: Instruction, w: Warp, mask: np.ndarray, t: str) -> None:
    d, s = inst.operands[0], inst.operands[1]
    if d.kind == "vec":  # unpack: mov.b64 {%r1, %r2}, %rd1
        parts = d.value  # type: ignore[assignment]
        whole = e.read(s, t, w).astype(np.uint64)
        width = (8 * np.dtype(_INT.get(t, np.uint64)).itemsize) // len(parts)  # type: ignore[arg-type]
        pt = f"b{width}"
        for k, p in enumerate(parts):  # type: ignore[arg-type]
            e.write(p, (whole >> np.uint64(k * width)) & np.uint64((1 << width) - 1), pt, w, mask)
    else:  # pack
        parts = s.value  # type: ignore[assignment]
        width = (8 * np.dtype(_INT.get(t, np.uint64)).itemsize) // len(parts)  # type: ignore[arg-type]
        acc = np.zeros(w.n, np.uint64)
        for k, p in enumerate(parts):  # type: ignore[arg-type]
            acc |= (e.read(p, f"b{width}", w).astype(np.uint64) & np.uint64((1 << width) - 1)) << np.uint64(k * width)
        e.write(d, acc, t, w, mask)


def _vector_count(inst: Instruction) -> int:
    for m in inst.mods:
        if m in ("v2", "v4", "v8"):
            return int(m[1])
    return 1


def _load(e: Engine, inst: Instruction, w: Warp, mask: np.ndarray, t: str, i: int) -> None:
    n = _vector_count(inst)
    dest = inst.operands[0]
    values = e.load(inst, inst.operands[1], t, w, mask, n, i)
    targets = list(dest.value) if dest.kind == "vec" else [dest]  # type: ignore[arg-type]
    for d, v in zip(targets, values):
        e.write(d, v, t, w, mask)


def _store(e: Engine, inst: Instruction, w: Warp, mask: np.ndarray, t: str) -> None:
    src = inst.operands[1]
    items = list(src.value) if src.kind == "vec" else [src]  # type: ignore[arg-type]
    e.store(inst, inst.operands[0], [e.read(x, t, w) for x in items], t, w, mask)


def _atomic(e: Engine, inst: Instruction, w: Warp, mask: np.ndarray, t: str, i: int) -> None:
    red = inst.base == "red"
    addr_op = inst.operands[0 if red else 1]
    val_op = inst.operands[1 if red else 2]
    kind = next((m for m in inst.mods if m in ("add", "min", "max", "exch", "and", "or", "xor", "inc", "dec", "cas")), "")
    vals = e.read(val_op, t, w)
    old_all = np.zeros(w.n, dtype=vals.dtype)
    for lane in np.nonzero(mask)[0]:  # lane order: a deterministic serialisation
        lm = np.zeros(w.n, bool)
        lm[lane] = True
        old = e.load(inst, addr_op, t, w, lm, 1, i)[0]
        new = {"add": old + vals, "min": np.minimum(old, vals), "max": np.maximum(old, vals), "exch": vals,
               "and": np.bitwise_and(old, vals) if t not in _FLOAT else old, "or": np.bitwise_or(old, vals)
               if t not in _FLOAT else old, "xor": np.bitwise_xor(old, vals) if t not in _FLOAT else old}.get(kind)
        if kind == "cas":
            cmpv = e.read(inst.operands[3], t, w)
            new = np.where(old == vals, cmpv, old)
        if new is None:
            raise UnsupportedInstructionError(f"{e._where(inst)}: unsupported atomic {inst.opcode}")
        e.store(inst, addr_op, [new], t, w, lm)
        old_all[lane] = old[lane]
    if not red:
        e.write(inst.operands[0], old_all, t, w, mask)


def _shfl(inst: Instruction, e: Engine, w: Warp, mask: np.ndarray) -> None:
    mode = next(m for m in inst.mods if m in ("up", "down", "bfly", "idx"))
    ops = inst.operands
    a = e.read(ops[1], "b32", w)
    b = e.read(ops[2], "u32", w).astype(np.int64) & 31
    c = e.read(ops[3], "u32", w).astype(np.int64)
    lane = (w.tid % WARP).astype(np.int64)
    cval, segmask = c & 31, (c >> 8) & 31
    max_lane = (lane & segmask) | (cval & ~segmask)
    min_lane = lane & segmask
    if mode == "up":
        j = lane - b
        ok = j >= max_lane
    elif mode == "down":
        j = lane + b
        ok = j <= max_lane
    elif mode == "bfly":
        j = lane ^ b
        ok = j <= max_lane
    else:
        j = min_lane | (b & ~segmask)
        ok = j <= max_lane
    src = np.arange(w.n) - lane + np.where(ok, j, lane).clip(0, WARP - 1)  # the source lane in the same warp
    dest = ops[0]
    if dest.kind == "pair":
        d, p = dest.value  # type: ignore[misc]
        e.write(d, a[src], "b32", w, mask)
        e.write(p, ok, "pred", w, mask)
    else:
        e.write(dest, a[src], "b32", w, mask)


def _vote(inst: Instruction, e: Engine, w: Warp, mask: np.ndarray) -> None:
    mode = next(m for m in inst.mods if m in ("all", "any", "uni", "ballot"))
    p = e.read(inst.operands[1], "pred", w)
    if mode == "ballot":
        e.write(inst.operands[0], np.repeat(_ballot(p & mask), WARP), "b32", w, mask)
        return
    pm, m = (p & mask).reshape(-1, WARP), mask.reshape(-1, WARP)
    every, some = (pm == m).all(axis=1), pm.any(axis=1)
    r = {"all": every, "any": some, "uni": every | ~some}[mode]
    e.write(inst.operands[0], np.repeat(r, WARP), "pred", w, mask)


def _ballot(bits: np.ndarray) -> np.ndarray:
    """One 32-bit lane mask per warp of the group."""
    weights = np.uint64(1) << np.arange(WARP, dtype=np.uint64)
    return (bits.reshape(-1, WARP).astype(np.uint64) * weights).sum(axis=1).astype(np.uint32)


def _bitop(op: str, x: np.ndarray, t: str) -> np.ndarray:  # noqa: ARG001
    width = 8 * x.dtype.itemsize
    u = [int(v) & ((1 << width) - 1) for v in x.view(np.dtype(f"u{x.dtype.itemsize}"))]
    if op == "popc":
        r = [bin(v).count("1") for v in u]
    elif op == "clz":
        r = [width - v.bit_length() for v in u]
    elif op == "brev":
        r = [int(f"{v:0{width}b}"[::-1], 2) for v in u]
    else:
        r = [(v.bit_length() - 1) if v else 0xFFFFFFFF for v in u]
    return np.array(r, dtype=np.uint64).astype(np.uint32)


def _prmt(a: np.ndarray, b: np.ndarray, sel: np.ndarray) -> np.ndarray:
    out = np.zeros(len(a), np.uint32)
    for lane in range(len(a)):
        bytes_ = (int(a[lane]) | (int(b[lane]) << 32)).to_bytes(8, "little")
        s = int(sel[lane])
        r = 0
        for k in range(4):
            nib = (s >> (4 * k)) & 0xF
            byte = bytes_[nib & 7]
            if nib & 8:
                byte = 0xFF if byte & 0x80 else 0
            r |= byte << (8 * k)
        out[lane] = r
    return out


__all__ = ["execute"]
