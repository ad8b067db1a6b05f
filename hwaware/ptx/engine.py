"""SIMT execution of a PTX kernel launch with GPGPU-Sim's counting convention.

Warps of 32 consecutive linear thread ids run with an immediate-post-dominator reconvergence stack:
at a divergent branch both paths run one after the other and the warp reconverges at the branch
block's immediate post-dominator; a loop whose trip count differs between lanes issues max-trip
times. Counts: ``thread`` = active lanes per issued warp-instruction, including lanes whose guard
predicate is false; ``guard_true`` excludes those lanes; ``warp`` = issued warp-instructions.

One engine serves two clients: the reference interpreter evaluates every instruction, warp by
warp; the slicer (:mod:`hwaware.ptx.slicer`) evaluates only the instructions that decide control
flow, while every instruction of every visited block is still counted. Lanes are numpy vectors.

Grouping: a *group* is a set of whole warps run as one lane vector under one reconvergence stack.
``group="warp"`` (the reference) runs each warp alone, CTA by CTA, with barriers between warps;
``group="grid"`` runs every warp of the launch as one group. Counts do not change: a warp's lanes
in a group follow exactly the block sequence they follow alone (its part of every stack entry is
its own stack entry, or empty and not counted), warp instructions are counted per warp that has an
active lane, and lockstep execution is a valid interleaving for barriers and shared memory.
Shuffles and votes act within each 32-lane warp of a group. Counting is per block visit: all
instructions of a block share the active mask.

Vector loads that hit in L1 (:class:`L1Sectors`): GPGPU-Sim counts a warp instruction when it
*completes* (``shader_core_ctx::warp_inst_complete`` adds 1 to ``gpgpu_n_tot_w_icount`` and the
guard-true lanes to ``gpu_sim_insn``). A global or local load whose last outstanding access is an
L1 hit completes in ``ldst_unit::L1_latency_queue_cycle``, which calls ``warp_inst_complete``
inside its loop over the load's destination registers, once per register whose pending-write count
reaches zero; the miss path (``ldst_unit::writeback``) completes once. So a ``ld.v2`` / ``ld.v4``
whose every 32-byte sector access hits is counted 2 / 4 times at warp level and in the guard-true
count; thread and per-line counts (``ptx_exec_inst``) are unchanged. Which accesses hit follows the
L1 model of :class:`L1Sectors`.

The reconvergence stack issues what GPGPU-Sim's ``simt_stack::update`` issues. There a divergent
branch turns the top entry into the reconvergence entry (PC = the IPDOM) unless the IPDOM equals the
top's own reconvergence PC, in which case the first path overwrites the top; a path whose next PC
is the reconvergence PC is not pushed (taken lanes of ``@%p bra L`` with L the IPDOM wait in the
reconvergence entry); an entry is popped when its next PC equals its reconvergence PC. The engine
pushes both paths and pops an entry whose PC equals its reconvergence PC before issuing from it:
the same warp instructions with the same masks. Predicated-off lanes are in the mask (thread
count) and out of ``set_not_active``'s ``active_count`` (guard-true count).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hwaware.errors import (DataDependentError, InvalidArgumentError, OutOfBoundsError, PTXExecutionError,
                            StepLimitError, UnsupportedInstructionError)
from hwaware.ptx.cfg import CFG, EXIT
from hwaware.ptx.loops import Loop, batchable_loops
from hwaware.ptx.parser import Function, Instruction, Module, Operand, Variable
from hwaware.ptx.slicer import WrapCheck, _address_regs, function_facts, tracked_l1_loads, vector_l1_loads

WARP = 32
GLOBAL_STRIDE = 1 << 32  # buffer i lives at [(i + 1) << 32, ...)
SHARED_GENERIC = 1 << 48  # generic-address window of shared memory
LOCAL_GENERIC = 1 << 52
MAX_SHARED_BYTES = 1 << 20  # shared memory per CTA: no GPU has more (228 KiB on Hopper); as the launch's dynamic limit
MAX_LOCAL_BYTES = 512 << 10  # local memory per thread: CUDA's limit
MAX_THREADS = 1 << 24  # threads of one launch the interpreter will hold (per-thread counts, lane vectors)

_INT = {"u8": np.uint8, "s8": np.int8, "b8": np.uint8, "u16": np.uint16, "s16": np.int16, "b16": np.uint16,
        "u32": np.uint32, "s32": np.int32, "b32": np.uint32, "u64": np.uint64, "s64": np.int64, "b64": np.uint64}
_FLOAT = {"f32": np.float32, "f64": np.float64, "f16": np.float16}
_TYPES = {**_INT, **_FLOAT, "pred": np.bool_}


_BITS_MASK = {t: (1 << (8 * np.dtype(d).itemsize)) - 1 for t, d in _TYPES.items()}


def _bits_mask(t: str) -> int:
    return _BITS_MASK[t]


class _BatchRefused(Exception):
    """Loop iterations run side by side shared an L1 sector (:meth:`Engine._check_sectors`)."""


BATCH_LANES = 1 << 17  # lanes of one side-by-side run of loop iterations (copies x the group's lanes), at most
_MAX_ROWS = 1 << 24  # CTA rows the L1 model's keys can name (the warp number sits above the 38 sector bits)


class GroupingRefused(Exception):
    """CTAs grouped by :func:`~hwaware.ptx.slicer.cta_offsets` would not count alike (a :class:`WrapCheck`
    failed): the caller runs every CTA instead."""


@dataclass
class Buffer:
    """A kernel's pointer argument: ``nbytes`` of device memory; ``data`` None when its contents are unknown."""

    nbytes: int
    data: np.ndarray | None = None  # uint8 view of the contents
    param: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.nbytes, bool) or not isinstance(self.nbytes, (int, np.integer)) or self.nbytes < 0:
            raise InvalidArgumentError(f"a Buffer's nbytes must be a non-negative integer, got {self.nbytes!r}")

    @property
    def known(self) -> bool:
        return self.data is not None


@dataclass
class Launch:
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    dynamic_shared_mem_bytes: int = 0
    args: dict[str, int | float | Buffer] = field(default_factory=dict)  # by PTX parameter name

    @property
    def threads_per_cta(self) -> int:
        return self.block[0] * self.block[1] * self.block[2]

    @property
    def ctas(self) -> int:
        return self.grid[0] * self.grid[1] * self.grid[2]


@dataclass
class Counts:
    """Counts of one launch, per instruction index of the function."""

    thread: np.ndarray  # int64 [n_instructions]
    guard_false: np.ndarray
    warp: np.ndarray
    per_thread: np.ndarray  # int64 [threads launched]: instructions executed by each thread
    evaluated: int = 0  # warp-level instruction evaluations performed (the interpretation cost)
    steps: int = 0
    # completions beyond the first of vector loads that hit in L1 (see L1Sectors): warp instructions and
    # guard-true lanes that GPGPU-Sim adds to gpgpu_n_tot_w_icount / gpu_sim_insn; None: no such load
    extra_warp: np.ndarray | None = None
    extra_lanes: np.ndarray | None = None


class Group:
    """Whole warps run together: lane i belongs to CTA row ``cta[i]`` with linear thread id ``tid[i]``."""

    __slots__ = ("n", "cta", "tid", "exists", "regs", "preds", "stack", "exited", "done", "local", "count", "l1row",
                 "tag")

    def __init__(self, cta: np.ndarray, tid: np.ndarray, cta_size: int, local_bytes: int) -> None:
        self.n = len(tid)
        self.cta = cta
        self.tid = tid
        self.exists = tid < cta_size  # lanes past the CTA size (a partial last warp) do not exist
        self.regs: dict[str, np.ndarray] = {}
        self.preds: dict[str, np.ndarray] = {}
        self.exited = ~self.exists
        self.stack: list[list] = [[0, self.exists.copy(), EXIT]]
        self.done = False
        self.local = np.zeros((self.n, local_bytes), dtype=np.uint8) if local_bytes else None
        # copies of a group's lanes running loop iterations side by side (Engine._batch): per lane, instructions
        # executed (added to the thread's count afterwards), the CTA row the L1 model sees, the iteration's tag
        self.count: np.ndarray | None = None
        self.l1row: np.ndarray | None = None
        self.tag: np.ndarray | None = None


SECTOR = 32  # bytes: the L1 data cache's sector (GPGPU-Sim's sectored L1, coalescing arch >= 40)
_KEY = 38  # sector keys are < 2**38; the warp or CTA row goes in the bits above
_LOCAL_TAG = 1 << 37  # local-memory sector keys (global ones are < 2**37: buffer index < 1023)


class _KeySet:
    """A set of non-negative int64 keys filled and queried with numpy arrays: an open-addressing hash table
    (linear probing) whose probes run for a whole batch at once, so no per-key Python work (the L1 model's
    cost on TVM's convolutions, millions of keys per launch)."""

    _EMPTY = -1
    _MUL = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the high bits of key x this odd constant

    def __init__(self, bits: int = 12) -> None:
        self._alloc(bits)

    def _alloc(self, bits: int) -> None:
        self.bits = bits
        self.table = np.full(1 << bits, self._EMPTY, dtype=np.int64)
        self.size = 0  # occupied slots, or more (equal keys of one batch are counted once each)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.view(np.uint64) * self._MUL) >> np.uint64(64 - self.bits)).astype(np.int64)

    def clear(self) -> None:
        if self.size:
            self.table.fill(self._EMPTY)
            self.size = 0

    def add(self, keys: np.ndarray) -> None:
        if 2 * (self.size + len(keys)) > len(self.table):  # keep the load below 1/2: short probe sequences
            old = self.array()
            self.size = len(old)
            if 2 * (self.size + len(keys)) > len(self.table):
                self._alloc(max(self.bits + 1, int(2 * (len(old) + len(keys))).bit_length()))
                self._insert(old)
        self._insert(np.ascontiguousarray(keys, dtype=np.int64))

    def _insert(self, keys: np.ndarray) -> None:
        table, mask = self.table, len(self.table) - 1
        pos = self._slots(keys)
        while len(keys):
            free = table[pos] == self._EMPTY
            table[pos[free]] = keys[free]  # equal keys claim the same slot; of different ones, one wins
            placed = table[pos] == keys
            self.size += int(np.count_nonzero(free))
            keys, pos = keys[~placed], (pos[~placed] + 1) & mask

    def array(self) -> np.ndarray:
        return self.table[self.table != self._EMPTY]

    def contains(self, keys: np.ndarray) -> np.ndarray:
        out = np.zeros(len(keys), dtype=bool)
        if not self.size:
            return out
        table, mask = self.table, len(self.table) - 1
        idx = np.arange(len(keys))
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        pos = self._slots(keys)
        while len(idx):
            found = table[pos]
            out[idx[found == keys]] = True
            more = (found != keys) & (found != self._EMPTY)
            idx, keys, pos = idx[more], keys[more], (pos[more] + 1) & mask
        return out


class L1Sectors:
    """Which L1 loads hit: the state behind GPGPU-Sim's once-per-destination-register completion of
    vector loads that hit in L1 (``ldst_unit::L1_latency_queue_cycle``; see the module docstring).

    GPGPU-Sim's configuration the corpus was simulated with (SM86_RTX3070): global loads are cached
    in L1 (``-gpgpu_gmem_skip_L1D 0``; ``.cg`` bypasses it), 32-byte sectors (one access per sector,
    ``memory_coalescing_arch``), no write-allocate (``L:L:m:N:L``: stores neither fill nor need to
    invalidate), L1 flushed between kernels. Local memory is interleaved per 4-byte word across the
    threads (``translate_local_memaddr``): word ``w`` of threads ``8j ... 8j+7`` shares a sector.

    An access hits when its sector is *valid*; a sector that an earlier miss requested but whose fill
    has not returned is not (``HIT_RESERVED`` joins the MSHR and completes through the miss path, once).
    When a fill has returned is a matter of timing, which this model replaces by two facts that hold
    whatever the timing:

    * the warp that issued a load sees its sectors valid once it has issued an instruction reading or
      writing one of the load's destination registers (the scoreboard holds that instruction until
      the last access of the load has returned, and the fill precedes the register write-back);
    * every warp of the CTA sees them valid after the next barrier all its warps pass.

    Sectors another warp fetched in the current barrier interval, or that the warp fetched without
    using the result yet, count as not valid. Not modelled: eviction (the L1 holds at least 28 KB,
    fully associative, LRU), and CTAs sharing an SM's L1 (each CTA has its own: exact while every CTA
    runs on an SM of its own, e.g. up to 46 CTAs on SM86_RTX3070). The state depends only on each
    warp's own instruction order and on barriers, so grouping warps (``group="grid"``) does not change it.
    """

    def __init__(self, engine: "Engine") -> None:
        self.loads = tracked_l1_loads(engine.fn)
        tracked = {r for regs in self.loads.values() for r in regs}
        touch = {}
        for i, (defs, uses) in enumerate(function_facts(engine.fn)[0]):
            regs = frozenset(r for r in (*defs, *uses) if r in tracked)
            if regs:
                touch[i] = regs
        self.touch = touch
        self.relevant = set(self.loads) | set(touch)
        self.sizes = {i: np.dtype(_TYPES[instruction_type(engine.insts[i])]).itemsize * _vector_count(engine.insts[i])
                      for i in self.loads}
        self.warps_per_cta = -(-engine.launch.threads_per_cta // WARP)
        self.pending: dict[str, list[tuple[np.ndarray, list[np.ndarray]]]] = {}  # reg -> [(warp per lane, keys)]
        self.own = _KeySet()  # warp << _KEY | sector: valid for that warp
        self.cta = _KeySet()  # CTA row << _KEY | sector: valid for every warp of the CTA
        self.record: list[tuple[np.ndarray, np.ndarray]] | None = None  # see Engine._batch
        self._warp_of: tuple[Group, np.ndarray] | None = None

    def _warps(self, w: Group) -> np.ndarray:
        """Per lane: the warp's number in the launch (CTA row x warps per CTA + warp in the CTA)."""
        if self._warp_of is None or self._warp_of[0] is not w:
            rows = w.cta if w.l1row is None else w.l1row
            self._warp_of = (w, rows.astype(np.int64) * self.warps_per_cta + w.tid // WARP)
        return self._warp_of[1]

    def step(self, e: "Engine", i: int, inst: Instruction, w: Group, mask: np.ndarray) -> None:
        """Instruction ``i`` issued with ``mask``, before it executes."""
        warp = self._warps(w)
        regs = [r for r in self.touch.get(i, ()) if self.pending.get(r)]
        if regs:  # the scoreboard held this instruction until these registers' loads returned: sectors filled
            issuing = np.zeros(e.l1_rows * self.warps_per_cta, dtype=bool)  # per warp of the launch (and copies)
            issuing[warp[mask]] = True
            done: dict[int, tuple | None] = {}  # a load pending in several of these registers is filled once
            for r in regs:
                kept = []
                for entry in self.pending[r]:
                    if id(entry) not in done:
                        wid, keys = entry
                        sel = issuing[wid]
                        for k in keys:
                            self.own.add((wid[sel] << _KEY) | k[sel])
                        done[id(entry)] = None if sel.all() else (wid[~sel], [k[~sel] for k in keys])
                    if done[id(entry)] is not None:
                        kept.append(done[id(entry)])
                self.pending[r] = kept
        dests = self.loads.get(i)
        if dests is None:
            return
        run = mask & e._guard(inst, w) if inst.guard else mask
        if not run.any():
            return  # no lane accesses memory: no access, one completion
        addr = e._addresses(inst.operands[1], w)
        space = e._space(inst, addr, run)
        lanes = np.nonzero(run)[0]
        size = self.sizes[i]
        a = addr[lanes]
        if space in ("global",):
            first, last = a // SECTOR, (a + size - 1) // SECTOR
            keys = [first & (_LOCAL_TAG - 1)] + ([last & (_LOCAL_TAG - 1)] if (last != first).any() else [])
        elif space in ("local", "local-generic"):
            offs = a - (LOCAL_GENERIC if space == "local-generic" else 0)
            group = (w.tid[lanes] // 8) & 127  # threads 8j ... 8j+7 share the sector of each 4-byte word
            words = [((offs + 4 * k) // 4) & ((1 << 30) - 1) for k in range(max(1, size // 4))]
            keys = [_LOCAL_TAG | (word << 7) | group for word in words]
        else:
            return  # a generic address in shared memory: not an L1 access
        wid = warp[lanes]
        if self.record is not None:  # (CTA, sector) pairs and the iteration copy that accessed them
            rows = w.cta[lanes].astype(np.int64) << _KEY
            tags = np.full(len(lanes), -1, np.int64) if w.tag is None else w.tag[lanes]
            for k in keys:
                self.record.append((rows | k, tags))
        if len(dests) > 1:
            own_keys, cta_keys = wid << _KEY, (wid // self.warps_per_cta) << _KEY
            hit = np.ones(w.n, dtype=bool)
            for k in keys:
                valid = self.own.contains(own_keys | k)
                if not valid.all():  # the CTA-wide set (the larger) only for what the warp's own set lacks
                    valid[~valid] = self.cta.contains((cta_keys | k)[~valid])
                hit[lanes] &= valid
            per_warp = hit.reshape(-1, WARP).all(axis=1) & run.reshape(-1, WARP).any(axis=1)
            if per_warp.any():  # every access of the warp hits: one completion per destination register
                extra = len(dests) - 1
                counts = e.counts
                ww = np.ones(len(per_warp), np.int64) if e.row_weight is None else e.row_weight[w.cta[::WARP]]
                counts.extra_warp[i] += extra * int(ww[per_warp].sum())  # type: ignore[index]
                counts.extra_lanes[i] += extra * int(run.reshape(-1, WARP)[per_warp].sum(axis=1) @ ww[per_warp])  # type: ignore[index]
        entry = (wid, keys)
        for r in dests:
            self.pending.setdefault(r, []).append(entry)

    def barrier(self) -> None:
        """Every warp passed a barrier: what any warp saw valid is valid for all warps of its CTA."""
        low = (1 << _KEY) - 1
        own = self.own.array()
        self.cta.add(((own >> _KEY) // self.warps_per_cta) << _KEY | (own & low))
        self.own.clear()

    def reset(self) -> None:
        """A CTA finished (reference interpreter: the next one has its own L1)."""
        self.pending.clear()
        self.own.clear()
        self.cta.clear()


class Engine:
    """Runs one launch of ``fn``; ``evaluate`` is the set of instruction indices to compute (None: all)."""

    def __init__(self, module: Module, fn: Function, cfg: CFG, launch: Launch, *, evaluate: set[int] | None = None,
                 max_steps: int = 50_000_000, group: str = "warp", ctas: Sequence[int] | None = None,
                 wrap_checks: dict[int, WrapCheck] | None = None, batch_loops: bool = True,
                 record: dict[int, tuple[str, ...]] | None = None, weights: Sequence[int] | None = None) -> None:
        self.module, self.fn, self.cfg, self.launch = module, fn, cfg, launch
        self.insts = fn.instructions
        self.index = {id(inst): i for i, inst in enumerate(self.insts)}
        self.evaluate = evaluate
        self.max_steps = max_steps
        check_size(module, fn, launch, launch.ctas if ctas is None else len(ctas), max_steps)
        coordinates = cta_coordinates(launch.grid)
        # the CTAs to run (linear ids; each may stand for others, see hwaware.ptx.analysis), by default all
        self.cta_ids = list(range(launch.ctas)) if ctas is None else list(ctas)
        self.cta_xyz = np.array([coordinates[i] for i in self.cta_ids], dtype=np.int64).reshape(-1, 3)
        self.cta_global = np.array(self.cta_ids, dtype=np.int64)
        self.group = group
        from hwaware.ptx.semantics import execute  # semantics imports this module

        self._semantics = execute
        self._wrap_checks = wrap_checks or {}
        self._full: np.ndarray | None = None  # the active mask while it holds every lane of the group
        # instruction index -> registers whose range of values (read as the instruction's type, over the lanes that
        # execute it) :attr:`ranges` collects, for :mod:`hwaware.ptx.interior`
        self._record = record or {}
        # per CTA to run, how many CTAs it stands for: thread, warp, guard-false and L1 counts are multiplied by it
        # (per-thread counts are not: the caller weights those rows)
        self.row_weight = None if weights is None else np.asarray(weights, dtype=np.int64)
        self.ranges: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
        # loops whose iterations run side by side (:meth:`_batch`): the slicer's runs of the whole launch as one group
        self.batch_loops = batch_loops and group == "grid" and evaluate is not None
        self.block_size = [len(b.instructions) for b in cfg.blocks]
        self.block_first = [b.first for b in cfg.blocks]
        self._layout_memory()

    def _start(self) -> None:
        """What only a run needs (not :meth:`uniform_values`): the L1 model, the per-block work lists, the counts."""
        self.l1 = L1Sectors(self) if vector_l1_loads(self.fn) else None
        l1 = self.l1.relevant if self.l1 else set()
        # per block, in program order: (index, instruction, evaluate it?, guarded?, L1 state?) for the instructions
        # that are evaluated, guarded or touch the L1 state; a guard is read just before its own instruction, since
        # a later instruction of the same block may redefine the predicate
        evaluate, checks = self.evaluate, self._wrap_checks
        self.ranges = {}
        self.block_ops = [[(i, x, evaluate is None or i in evaluate, x.guard is not None, i in l1, checks.get(i),
                            self._record.get(i))
                           for i, x in ((self.index[id(x)], x) for x in b.instructions)
                           if x.guard is not None or evaluate is None or i in evaluate or i in l1] for b in self.cfg.blocks]
        n, launch = len(self.insts), self.launch
        self.counts = Counts(np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64),
                             np.zeros(launch.ctas * launch.threads_per_cta, np.int64))
        if self.l1:
            self.counts.extra_warp, self.counts.extra_lanes = np.zeros(n, np.int64), np.zeros(n, np.int64)
        self.l1_rows = len(self.cta_ids)  # CTA rows the L1 model knows, the iteration copies' included
        self._tags = 0  # iteration copies run so far
        self._batch: Loop | None = None  # the loop whose iterations are running side by side
        self._loop_regs: dict[int, set[str]] = {}  # loop header -> the registers its body reads or writes
        self.loops: dict[int, Loop] = {}
        if self.batch_loops:
            du = function_facts(self.fn)[0]
            # a store to global memory or an atomic would have to be undone to run the launch again without batching
            if not any(x.base in ("atom", "red") or (x.base == "st" and not {"shared", "local"} & set(x.mods))
                       for i, x in enumerate(self.insts) if i in evaluate):  # type: ignore[operator]
                addresses = {i: _address_regs(self.insts[i]) for i in (self.l1.loads if self.l1 else {})}
                self.loops = batchable_loops(self.fn, self.cfg, evaluate, addresses, du)  # type: ignore[arg-type]
            if self.loops and self.l1:
                self.l1.record = []

    # -- memory layout -------------------------------------------------------------------------------------------------
    def _layout_memory(self) -> None:
        self.shared_offsets: dict[str, int] = {}
        offset = 0
        dynamic = []
        for v in [*self.module.variables, *self.fn.variables]:
            if v.space != "shared":
                continue
            if v.count == 0 or v.extern:
                dynamic.append(v)
                continue
            align = max(v.align, 4)
            offset = -(-offset // align) * align
            self.shared_offsets[v.name] = offset
            offset += v.nbytes
        offset = -(-offset // 16) * 16
        for v in dynamic:
            self.shared_offsets[v.name] = offset
        self.shared_bytes = offset + self.launch.dynamic_shared_mem_bytes
        self.local_offsets: dict[str, int] = {}
        loc = 0
        for v in self.fn.variables:
            if v.space == "local":
                self.local_offsets[v.name] = loc
                loc += v.nbytes
        self.local_bytes = loc
        where = f"{self.module.file}:{self.fn.line}: kernel {self.fn.name}"
        if self.shared_bytes > MAX_SHARED_BYTES:
            raise PTXExecutionError(f"{where} declares {self.shared_bytes:,} bytes of shared memory per CTA, over the "
                                    f"analyzer's {MAX_SHARED_BYTES:,} (no GPU has more than 228 KiB); check the .shared "
                                    "declarations")
        if self.local_bytes > MAX_LOCAL_BYTES:
            raise PTXExecutionError(f"{where} declares {self.local_bytes:,} bytes of local memory per thread, more than "
                                    f"CUDA allows ({MAX_LOCAL_BYTES:,}); check the .local declarations")
        self.buffers: list[Buffer] = []
        self.params: dict[str, int | float] = {}
        for p in self.fn.params:
            if p.name not in self.launch.args:
                raise PTXExecutionError(f"{self.module.file}:{self.fn.line}: kernel {self.fn.name}: no value for "
                                        f"parameter {p.name}; pass it by position or name "
                                        f"(given: {', '.join(self.launch.args) or 'none'})")
            a = self.launch.args[p.name]
            if isinstance(a, Buffer):
                a.param = a.param or p.name
                self.buffers.append(a)
                self.params[p.name] = len(self.buffers) * GLOBAL_STRIDE
            else:
                self.params[p.name] = a
        self.param_types = {p.name: p.dtype.lstrip(".") for p in self.fn.params}
        # the module's .global/.const variables the kernel names: buffers after the arguments', holding an argument's
        # contents of their name (what a host's cudaMemcpyToSymbol sets), else their initializer's, zeros past it
        # (PTX's default); an extern one's (defined in another module) are unknown
        self.variables: dict[str, int] = {}
        for v in kernel_variables(self.module, self.fn):
            given = self.launch.args.get(v.name)
            if isinstance(given, Buffer):
                if given.nbytes < v.nbytes:
                    raise InvalidArgumentError(f"{v.name} holds {v.nbytes:,} bytes; the buffer given has "
                                               f"{given.nbytes:,}: pass all of them")
                buf = given
            elif not v.count:
                raise InvalidArgumentError(f"{v.name} is an array of unknown size defined in another module: pass "
                                           f"its contents by its name (args={{{v.name!r}: buffer}}, --arg "
                                           f"{v.name}=file.npy)")
            elif given is not None and v.count > 1:
                raise InvalidArgumentError(f"{v.name} is an array of {v.nbytes:,} bytes: pass its contents as a buffer "
                                           f"(--arg {v.name}=file.npy), not a number")
            else:
                buf = Buffer(v.nbytes, None if v.extern and given is None else variable_bytes(
                    v, None if given is None else (str(given),)))
            buf.param = buf.param or v.name
            self.buffers.append(buf)
            self.variables[v.name] = len(self.buffers) * GLOBAL_STRIDE

    # -- running ----------------------------------------------------------------------------------------------------------
    def run(self) -> Counts:
        self._start()
        with np.errstate(all="ignore"):  # PTX arithmetic wraps, divides by zero, overflows floats: no warnings
            try:
                return self._run()
            except _BatchRefused:  # two iterations run side by side shared an L1 sector: run them one by one
                self.batch_loops = False
                self._start()
                return self._run()

    def _run(self) -> Counts:
        size = self.launch.threads_per_cta
        padded = -(-size // WARP) * WARP
        self.shared = np.zeros((len(self.cta_ids), self.shared_bytes), dtype=np.uint8)
        if self.group == "grid":
            rows = np.repeat(np.arange(len(self.cta_ids)), padded)
            tids = np.tile(np.arange(padded), len(self.cta_ids))
            g = Group(rows, tids, size, self.local_bytes)
            while self._run_group(g) == "barrier":
                if self.l1:  # every warp of the launch is in the group: it is alone at the barrier
                    self.l1.barrier()
            if self._tags and self.l1 and self.l1.record:
                self._check_sectors(self.l1.record)
            return self.counts
        for row in range(len(self.cta_ids)):
            warps = [Group(np.full(WARP, row), np.arange(w * WARP, (w + 1) * WARP), size, self.local_bytes)
                     for w in range(padded // WARP)]
            self._run_cta(warps)
            if self.l1:
                self.l1.reset()
        return self.counts

    def uniform_values(self, program: Sequence[int], regs: Sequence[str]) -> np.ndarray:
        """Per CTA to run, the bits of ``regs`` after ``program``: instructions that read only %ctaid, %nctaid,
        %ntid, constants and parameters (:class:`~hwaware.ptx.slicer.CtaKey`), run by one lane per CTA."""
        n = len(self.cta_ids)
        w = Group(np.arange(n), np.zeros(n, dtype=np.int64), 1, 0)
        everyone = np.ones(n, dtype=bool)
        self._full = everyone
        with np.errstate(all="ignore"):
            for i in program:
                self._execute(self.insts[i], w, everyone, i)
        return np.stack([w.preds[r].astype(np.uint64) if r in w.preds else w.regs[r] for r in regs], axis=1)

    def _run_cta(self, warps: list[Group]) -> None:
        waiting: set[int] = set()
        while True:
            progressed = False
            for i, w in enumerate(warps):
                if w.done or i in waiting:
                    continue
                if self._run_group(w) == "barrier":
                    waiting.add(i)
                progressed = True
            live = [i for i, w in enumerate(warps) if not w.done]
            if not live:
                return
            if set(live) <= waiting:  # every live warp reached the barrier: release them
                waiting.clear()
                if self.l1:
                    self.l1.barrier()
            elif not progressed:
                raise PTXExecutionError(f"{self.module.file}:{self.fn.line}: kernel {self.fn.name}: warps wait at a "
                                        "barrier that others never reach")

    def _run_group(self, w: Group) -> str:
        """Run ``w`` until it finishes or reaches a barrier."""
        c = self.counts
        size_cta = self.launch.threads_per_cta
        thread_index = self.cta_global[w.cta] * size_cta + w.tid  # valid where the lane exists
        lw = None if self.row_weight is None else self.row_weight[w.cta]  # per lane: its CTA's weight
        while w.stack:
            top = w.stack[-1]
            pc, rpc = top[0], top[2]
            if pc == rpc or pc == EXIT:
                w.stack.pop()
                continue
            mask = top[1] & ~w.exited
            if not mask.any():
                w.stack.pop()
                continue
            loop = self.loops.get(pc) if self._batch is None else None
            if loop is not None and rpc not in loop.body and self._run_batched(w, top, mask, loop):
                continue
            active = int(mask.sum())
            self._full = mask if active == w.n else None  # writes under it replace whole registers
            if lw is not None:
                active = int(lw[mask].sum())
            size = self.block_size[pc]
            c.steps += size
            if c.steps > self.max_steps:
                inst = self.cfg.blocks[pc].instructions[0]
                raise StepLimitError(f"{self.module.file}:{inst.line}: stopped after {self.max_steps:,} warp instructions "
                                     f"(kernel {self.fn.name}); a runaway loop, or raise max_steps")
            first = self.block_first[pc]
            c.thread[first:first + size] += active
            if lw is None:
                c.warp[first:first + size] += int(mask.reshape(-1, WARP).any(axis=1).sum()) if w.n > WARP else 1
            else:
                c.warp[first:first + size] += int(lw[::WARP][mask.reshape(-1, WARP).any(axis=1)].sum())
            if w.count is None:
                c.per_thread[thread_index[mask]] += size
            else:
                w.count[mask] += size
            for i, inst, run, guarded, l1, check, record in self.block_ops[pc]:
                if l1:
                    self.l1.step(self, i, inst, w, mask)  # type: ignore[union-attr]
                if guarded:
                    off = mask & ~self._guard(inst, w)
                    c.guard_false[i] += int(off.sum()) if lw is None else int(lw[off].sum())
                if run:
                    if check:
                        self._check_wrap(check, inst, w, mask)
                    if record:
                        self._note_ranges(i, inst, record, w, mask)
                    c.evaluated += 1
                    self._execute(inst, w, mask, i)
            block = self.cfg.blocks[pc]
            term = block.terminator
            nxt = pc + 1 if pc + 1 < len(self.cfg.blocks) else EXIT
            if term is None:
                top[0] = nxt
                continue
            base_op = term.base
            if base_op in ("bra", "brx"):
                if self._batch is not None and pc == self._batch.latch:
                    top[0] = self._batch.exit  # each copy runs one iteration
                    continue
                target = self.cfg.target(term)
                if term.guard is None:
                    top[0] = target
                    continue
                g = self._guard(term, w)
                taken, fall = mask & g, mask & ~g
                if not fall.any():
                    top[0] = target
                elif not taken.any():
                    top[0] = nxt
                else:  # divergence: reconverge at the immediate post-dominator
                    r = self.cfg.ipdom[pc]
                    top[0] = r
                    w.stack.append([nxt, fall, r])
                    w.stack.append([target, taken, r])
                continue
            if base_op in ("ret", "exit", "trap"):
                leaving = mask if term.guard is None else mask & self._guard(term, w)
                w.exited |= leaving
                top[0] = nxt
                continue
            if base_op in ("bar", "barrier"):
                top[0] = nxt
                return "barrier"
            top[0] = nxt
        w.done = True
        return "done"

    def _run_batched(self, w: Group, top: list, mask: np.ndarray, loop: Loop) -> bool:
        """Run every iteration of ``loop`` (entered by ``w``'s top entry, at its header, with ``mask``) as copies of
        the group's lanes side by side, copy k starting with the counter's value at iteration k and leaving at the
        latch (:mod:`hwaware.ptx.loops` says why they count as the iterations one after the other do); False, having
        run nothing, when a condition fails: the counter differs between active lanes, fewer than two iterations,
        the L1 model has a load pending whose register the body reads, or too many copies for the L1 keys.

        Counts: block visits add to the shared counts as usual; per-thread counts go to each copy's lane and are summed
        into its thread. L1: each copy is a CTA of its own (its own sectors, warps and barriers), so the copies cannot
        see each other's sectors; the hits equal the one-by-one hits when no sector is accessed in two iterations, or
        in an iteration and outside the loop, of the same CTA, which :meth:`_check_sectors` verifies at the end (else
        the launch runs again without batching)."""
        c0 = self.read(Operand("reg", loop.counter), loop.add_type, w)[mask]
        if len(c0) == 0 or (c0 != c0[0]).any():
            return False
        start = np.array([c0[0]], dtype=c0.dtype)
        # the counter at the latch's setp of iteration k (after its increment), read as the setp's type
        limit = 1 << 16
        k = np.arange(1, limit + 1, dtype=np.uint64)
        bits = _to_bits(start, loop.add_type) + k * np.uint64(loop.step & ((1 << 64) - 1))
        value = _from_bits(bits, loop.compare_type)
        bound = _const(loop.bound, loop.compare_type, 1)
        from hwaware.ptx.semantics import _compare  # semantics imports this module

        goes_on = _compare(loop.compare, value, bound, loop.compare_type) == loop.continue_if
        stops = np.nonzero(~goes_on)[0]
        if not len(stops) or stops[0] == 0:
            return False  # more iterations than the limit, or just one
        trips = int(stops[0]) + 1
        if self.l1 is not None:
            touched = {r for i in loop.touched for r in self.l1.touch.get(i, ())}
            if any(self.l1.pending.get(r) for r in touched):
                return False
        rows = len(self.cta_ids)
        if (self.l1_rows + trips * rows) * -(-self.launch.threads_per_cta // WARP) >= _MAX_ROWS:
            return False
        counter_bits = _to_bits(np.concatenate([start, _from_bits(bits[:trips - 1], loop.add_type)]), loop.add_type)
        n, per = w.n, max(1, BATCH_LANES // w.n)
        size = self.launch.threads_per_cta
        thread_index = self.cta_global[w.cta] * size + w.tid
        # only the registers the body reads or writes are copied: the copies never leave the body (its latch is the
        # loop's one exit), and the others keep their values
        regs = self._loop_regs.get(loop.header)
        if regs is None:
            du = function_facts(self.fn)[0]
            regs = self._loop_regs[loop.header] = {r for i in loop.touched for part in du[i] for r in part}
        self._batch = loop
        try:
            for first in range(0, trips, per):
                copies = min(per, trips - first)
                g = Group(np.tile(w.cta, copies), np.tile(w.tid, copies), size, 0)
                g.exited = np.tile(w.exited, copies)
                g.local = None if w.local is None else np.tile(w.local, (copies, 1))
                g.regs = {r: np.tile(v, copies) for r, v in w.regs.items() if r in regs}
                g.preds = {r: np.tile(v, copies) for r, v in w.preds.items() if r in regs}
                g.regs[loop.counter] = np.repeat(counter_bits[first:first + copies], n)
                g.stack = [[loop.header, np.tile(mask, copies), loop.exit]]
                g.count = np.zeros(g.n, np.int64)
                g.l1row = self.l1_rows + np.repeat(np.arange(copies), n) * rows + g.cta
                g.tag = np.repeat(np.arange(self._tags, self._tags + copies), n)
                self.l1_rows += copies * rows
                self._tags += copies
                while self._run_group(g) == "barrier":
                    if self.l1:
                        self.l1.barrier()
                count = g.count.reshape(copies, n).sum(axis=0)
                self.counts.per_thread[thread_index[w.exists]] += count[w.exists]
            last = slice((copies - 1) * n, copies * n)  # the last iteration's values are the loop's
            w.regs = {**w.regs, **{r: v[last].copy() for r, v in g.regs.items()}}
            w.preds = {**w.preds, **{r: v[last].copy() for r, v in g.preds.items()}}
        finally:
            self._batch = None
        if self.l1 is not None:  # the copies' loads pending in a register: their sectors are the copies' own
            real = rows * self.l1.warps_per_cta
            self.l1.pending = {r: [e for e in entries if not len(e[0]) or e[0].max() < real]
                               for r, entries in self.l1.pending.items()}
        top[0] = loop.exit
        return True

    def _check_sectors(self, record: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Refuse the side-by-side runs of :meth:`_run_batched` if some CTA accessed an L1 sector (through a tracked
        load) in two of them, or in one and outside every one (tag -1)."""
        keys = np.concatenate([k for k, _ in record])
        tags = np.concatenate([t for _, t in record])
        # sorted by key alone: a key with two tags has two of its (adjacent) entries with different tags, in any order
        order = np.argsort(keys, kind="stable")  # timsort: the records come in sorted runs
        keys, tags = keys[order], tags[order]
        same = keys[1:] == keys[:-1]
        if (same & (tags[1:] != tags[:-1])).any():
            raise _BatchRefused()

    def _note_ranges(self, i: int, inst: Instruction, regs: tuple[str, ...], w: Group, mask: np.ndarray) -> None:
        """Widen, per CTA row, the recorded range of each of ``regs`` as instruction ``i`` reads it (as its type),
        over the lanes executing it."""
        run = mask & self._guard(inst, w) if inst.guard else mask
        if not run.any():
            return
        t = instruction_type(inst)
        rows = w.cta[run]
        for r in regs:
            v = self.read(Operand("reg", r), t, w)[run].astype(np.int64)
            span = self.ranges.get((i, r))
            if span is None:
                n = len(self.cta_ids)
                span = self.ranges[(i, r)] = (np.full(n, np.iinfo(np.int64).max), np.full(n, np.iinfo(np.int64).min))
            np.minimum.at(span[0], rows, v)
            np.maximum.at(span[1], rows, v)

    def row_ranges(self, row: int) -> dict[tuple[int, str], tuple[int, int]]:
        """The ranges :meth:`_note_ranges` recorded for one CTA row (reads it never made: absent)."""
        return {k: (int(lo[row]), int(hi[row])) for k, (lo, hi) in self.ranges.items() if lo[row] <= hi[row]}

    def thread_values(self, program: Sequence[int], regs: Sequence[str]) -> dict[str, np.ndarray]:
        """Per lane of every CTA to run (CTA-major, then linear thread id), the bits (predicates: bools) of ``regs``
        after ``program``: instructions that read only %ctaid, %nctaid, %ntid, %tid, constants and parameters."""
        n, size = len(self.cta_ids), self.launch.threads_per_cta
        w = Group(np.repeat(np.arange(n), size), np.tile(np.arange(size), n), size, 0)
        everyone = np.ones(w.n, dtype=bool)
        self._full = everyone
        with np.errstate(all="ignore"):
            for i in program:
                self._execute(self.insts[i], w, everyone, i)
        return {r: w.preds[r] if r in w.preds else w.regs.get(r, np.zeros(w.n, np.uint64)) for r in regs}

    def _check_wrap(self, check: WrapCheck, inst: Instruction, w: Group, mask: np.ndarray) -> None:
        """The CTAs this run stands for (those further along the grouped dimensions) widen values that differ from
        this CTA's by the check's offsets; refuse the grouping if one of those values wraps around (:class:`WrapCheck`)."""
        run = mask & self._guard(inst, w) if inst.guard else mask
        if not run.any():
            return
        v = self.read(inst.operands[check.operand], f"{'s' if check.signed else 'u'}{check.width}", w)[run]
        spans = [k * (g - 1) for k, g in zip(check.offset, self.launch.grid)]
        low, high = int(v.min()) + sum(min(0, s) for s in spans), int(v.max()) + sum(max(0, s) for s in spans)
        bound = 1 << (check.width - 1 if check.signed else check.width)
        if low < (-bound if check.signed else 0) or high >= bound:
            raise GroupingRefused(f"{self._where(inst)}: a grouped CTA's {inst.operands[check.operand]} wraps around")

    # -- operand access --------------------------------------------------------------------------------------------------
    def _guard(self, inst: Instruction, w: Group) -> np.ndarray:
        g = w.preds.get(inst.guard or "")
        if g is None:
            g = np.zeros(w.n, dtype=bool)
        return ~g if inst.guard_neg else g

    def _special(self, name: str, w: Group) -> np.ndarray:
        base, _, dim = name.partition(".")
        axis = "xyz".index(dim) if dim else 0
        l = self.launch
        n = w.n
        if base == "%tid":
            bx, by, _ = l.block
            t = w.tid
            return [t % bx, (t // bx) % by, t // (bx * by)][axis].astype(np.int64)
        if base == "%ntid":
            return np.full(n, l.block[axis], dtype=np.int64)
        if base == "%ctaid":
            return self.cta_xyz[w.cta, axis]
        if base == "%nctaid":
            return np.full(n, l.grid[axis], dtype=np.int64)
        if base == "%laneid":
            return (w.tid % WARP).astype(np.int64)
        if base == "%warpid":
            return (w.tid // WARP).astype(np.int64)
        if base == "%nwarpid":
            return np.full(n, -(-l.threads_per_cta // WARP), dtype=np.int64)
        if base == "%dynamic_smem_size":
            return np.full(n, l.dynamic_shared_mem_bytes, dtype=np.int64)
        if base.startswith("%lanemask"):
            lane = (w.tid % WARP).astype(np.uint64)
            one = np.uint64(1)
            eq = one << lane
            return {"%lanemask_eq": eq, "%lanemask_lt": eq - one, "%lanemask_le": (eq << one) - one,
                    "%lanemask_gt": ~((eq << one) - one) & np.uint64(0xFFFFFFFF),
                    "%lanemask_ge": ~(eq - one) & np.uint64(0xFFFFFFFF)}[base].astype(np.int64)
        if base in ("%clock", "%clock64", "%globaltimer"):
            return np.zeros(n, dtype=np.int64)
        raise PTXExecutionError(f"unsupported special register {name}")

    def read(self, op: Operand, t: str, w: Group) -> np.ndarray:
        """Operand value as a numpy array of type ``t`` (one element per lane)."""
        if op.kind == "reg":
            name = str(op.value)
            if t == "pred":
                v = w.preds.get(name)
                v = np.zeros(w.n, dtype=bool) if v is None else v
                return ~v if op.neg else v
            bits = w.regs.get(name)  # a special register is never written: looked up only when no register is
            if bits is None:
                if name.partition(".")[0] in _SPECIALS:
                    return self._special(name, w).astype(_TYPES[t])
                bits = np.zeros(w.n, dtype=np.uint64)
            v = _from_bits(bits, t)
            return -v if op.neg else v
        if op.kind == "imm":
            return _const(int(op.value), t, w.n)  # type: ignore[arg-type]
        if op.kind == "float":
            text = str(op.value)
            if text[1] in "fF":
                f = np.array([int(text[2:], 16)], dtype=np.uint32).view(np.float32)[0]
            else:
                f = np.array([int(text[2:], 16)], dtype=np.uint64).view(np.float64)[0]
            v = np.full(w.n, f, dtype=_TYPES[t] if t in _FLOAT else np.float64)
            return -v if op.neg else v
        if op.kind == "symbol":
            return _const(self._symbol_address(str(op.value)), t, w.n)
        raise PTXExecutionError(f"cannot read operand {op}")

    def _symbol_address(self, name: str) -> int:
        if name in self.shared_offsets:
            return self.shared_offsets[name]
        if name in self.local_offsets:
            return self.local_offsets[name]
        if name in self.params:
            return int(self.params[name])
        if name in self.variables:
            return self.variables[name]
        declared = next((v for v in (*self.module.variables, *self.fn.variables) if v.name == name), None)
        if declared is not None:  # declared, but in a state space the interpreter gives no addresses
            raise UnsupportedInstructionError(f"the address of {name} (.{declared.space}) is not supported")
        raise PTXExecutionError(f"unknown symbol {name}")

    def write(self, op: Operand, value: np.ndarray, t: str, w: Group, mask: np.ndarray) -> None:
        if op.kind == "sink":
            return
        if op.kind != "reg":
            raise PTXExecutionError(f"cannot write to operand {op}")
        name = str(op.value)
        full = mask is self._full  # every lane of the group is active: nothing to keep
        if t == "pred":
            old = w.preds.get(name)
            new = np.asarray(value, dtype=bool)
            w.preds[name] = new.copy() if old is None or full else np.where(mask, new, old)
            return
        bits = _to_bits(np.asarray(value), t)
        if full:
            w.regs[name] = bits if bits.base is None and bits.shape == (w.n,) else np.broadcast_to(bits, (w.n,)).copy()
            return
        old = w.regs.get(name)
        w.regs[name] = np.where(mask, bits, np.uint64(0) if old is None else old)

    # -- memory ---------------------------------------------------------------------------------------------------------
    def _addresses(self, op: Operand, w: Group) -> np.ndarray:
        if op.value is None:
            return np.full(w.n, op.offset, dtype=np.int64)
        name = str(op.value)
        if name.startswith("%"):
            base = self.read(Operand("reg", name), "u64", w).astype(np.int64)
        else:
            base = np.full(w.n, self._symbol_address(name), dtype=np.int64)
        return base + op.offset

    def _space(self, inst: Instruction, addr: np.ndarray, mask: np.ndarray) -> str:
        for s in ("param", "shared", "global", "local", "const"):
            if s in inst.mods:
                return s
        a = int(addr[mask][0]) if mask.any() else 0  # generic addressing
        if SHARED_GENERIC <= a < SHARED_GENERIC + (1 << 32):
            return "shared-generic"
        if LOCAL_GENERIC <= a < LOCAL_GENERIC + (1 << 32):
            return "local-generic"
        return "global"

    def load(self, inst: Instruction, op: Operand, t: str, w: Group, mask: np.ndarray, n: int, i: int) -> list[np.ndarray]:
        size = np.dtype(_TYPES[t]).itemsize
        if "param" in inst.mods:
            name = str(op.value)
            if name not in self.params:
                raise PTXExecutionError(f"{self._where(inst)}: unknown parameter {name}")
            v = self.params[name]
            return [np.full(w.n, v, _TYPES[t]) if t in _FLOAT else _const(v, t, w.n)]
        out = [np.zeros(w.n, dtype=_TYPES[t]) for _ in range(n)]
        lanes = np.nonzero(mask)[0]
        if not len(lanes):
            return out
        addr = self._addresses(op, w)
        raw = np.zeros((w.n, size * n), dtype=np.uint8)
        for mem, rows, offs, sel in self._memory(self._space(inst, addr, mask), addr, lanes, size * n, inst, w, False):
            idx = offs[:, None] + np.arange(size * n)
            raw[sel] = mem[idx] if rows is None else mem[rows[:, None], idx]
        for k in range(n):
            out[k] = raw[:, k * size:(k + 1) * size].copy().view(_TYPES[t]).reshape(w.n)
        return out

    def store(self, inst: Instruction, op: Operand, values: list[np.ndarray], t: str, w: Group, mask: np.ndarray) -> None:
        lanes = np.nonzero(mask)[0]
        if not len(lanes):
            return
        addr = self._addresses(op, w)
        raw = np.concatenate([np.asarray(v).astype(_TYPES[t]).reshape(w.n, 1).view(np.uint8) for v in values], axis=1)
        for mem, rows, offs, sel in self._memory(self._space(inst, addr, mask), addr, lanes, raw.shape[1], inst, w, True):
            idx = offs[:, None] + np.arange(raw.shape[1])
            if rows is None:
                mem[idx] = raw[sel]
            else:
                mem[rows[:, None], idx] = raw[sel]

    def _memory(self, space: str, addr: np.ndarray, lanes: np.ndarray, nbytes: int, inst: Instruction, w: Group,
                writing: bool) -> list[tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]]:
        """(memory, per-lane rows or None, per-lane byte offsets, lanes) pieces covering ``lanes``."""
        a = addr[lanes]
        if space in ("shared", "shared-generic"):
            offs = a - (SHARED_GENERIC if space == "shared-generic" else 0)
            self._bounds(offs, nbytes, self.shared_bytes, inst, "shared memory")
            return [(self.shared, w.cta[lanes], offs, lanes)]
        if space in ("local", "local-generic"):
            offs = a - (LOCAL_GENERIC if space == "local-generic" else 0)
            self._bounds(offs, nbytes, self.local_bytes, inst, "local memory")
            return [(w.local, lanes, offs, lanes)]  # type: ignore[list-item]
        idx = (a >> 32) - 1
        pieces = []
        for b in np.unique(idx):
            if not 0 <= b < len(self.buffers):
                raise OutOfBoundsError(f"{self._where(inst)}: global address outside every argument buffer")
            buf = self.buffers[int(b)]
            sel = lanes[idx == b]
            offs = a[idx == b] & (GLOBAL_STRIDE - 1)
            self._bounds(offs, nbytes, buf.nbytes, inst, f"buffer {buf.param}")
            if buf.data is None:
                if not writing and self.evaluate is not None:
                    raise DataDependentError(
                        f"{self._where(inst)}: control flow depends on the contents of buffer {buf.param!r}, which "
                        f"were not given; pass them (e.g. --arg {buf.param}=file.npy) for an exact count",
                        param=buf.param, location=self._where(inst))
                buf.data = np.zeros(buf.nbytes, dtype=np.uint8)  # reference interpreter: unknown contents read as 0
            pieces.append((buf.data, None, offs, sel))
        return pieces

    def _bounds(self, offs: np.ndarray, nbytes: int, limit: int, inst: Instruction, what: str) -> None:
        if ((offs < 0) | (offs + nbytes > limit)).any():
            raise OutOfBoundsError(f"{self._where(inst)}: access out of bounds of {what} ({limit} bytes)")

    def _where(self, inst: Instruction) -> str:
        return f"{self.module.file}:{inst.line}:{inst.col}"

    # -- semantics ----------------------------------------------------------------------------------------------------
    def _execute(self, inst: Instruction, w: Group, mask: np.ndarray, i: int) -> None:
        if inst.guard:
            mask = mask & self._guard(inst, w)
        if not mask.any():
            return
        try:
            self._semantics(self, inst, w, mask, i)
        except PTXExecutionError as exc:
            if str(exc).startswith(self._where(inst)):
                raise
            kind = type(exc) if type(exc) in (UnsupportedInstructionError, OutOfBoundsError) else PTXExecutionError
            raise kind(f"{self._where(inst)}: {exc}") from exc  # operand-level errors lack the place
        except Exception as exc:  # report where, never a bare numpy traceback
            raise PTXExecutionError(f"{self._where(inst)}: cannot execute {inst}: {type(exc).__name__}: {exc}") from exc


_INTEGER = re.compile(r"-?(0[xX][0-9a-fA-F]+|\d+)U?")
_NUMBER = re.compile(rf"{_INTEGER.pattern}|-?\d+(\.\d*)?([eE][+-]?\d+)?|0[fFdD][0-9a-fA-F]+")


def memory_variables(module: Module) -> list[Variable]:
    """The module's variables in global memory (``.global``: ``__device__``; ``.const``: ``__constant__``)."""
    return [v for v in module.variables if v.space in ("global", "const")]


def kernel_variables(module: Module, fn: Function) -> list[Variable]:
    """:func:`memory_variables` that the kernel's instructions name (none scanned for when the module has none)."""
    candidates = memory_variables(module)
    if not candidates:
        return []
    named = {str(o.value) for inst in fn.instructions for o in inst.operands if o.kind in ("symbol", "addr")}
    return [v for v in candidates if v.name in named]


def variable_bytes(v: Variable, items: tuple[str, ...] | None = None) -> np.ndarray:
    """The bytes of module variable ``v`` from ``items`` (numbers as PTX writes them: ``5``, ``-3``, ``0x1F``,
    ``0f40000000``, ``1.5E3``; default its initializer); elements past them are zero, as PTX initializes ``.global``
    and ``.const`` variables. An address (``generic(x)``) is refused: the analyzer does not place them."""
    items = (v.init if items is None else items) or ()
    size, t = v.nbytes // v.count, v.dtype.lstrip(".")
    out = np.zeros(v.nbytes, np.uint8)
    for k, text in enumerate(items[:v.count]):
        if not _NUMBER.fullmatch(text):
            raise InvalidArgumentError(f"{v.name} is initialized with {text}, an address, which the analyzer does not "
                                       f"place: pass its contents by its name (--arg {v.name}=file.npy)")
        if text[:2] in ("0f", "0F", "0d", "0D"):  # a float's bits: as that float, in the variable's type
            single = text[1] in "fF"
            raw = np.array([int(text[2:], 16)], np.uint32 if single else np.uint64)
            number, integral = float(raw.view(np.float32 if single else np.float64)[0]), False
        else:
            integral = _INTEGER.fullmatch(text) is not None
            number = int(text.rstrip("U"), 16 if text.lstrip("-")[:2] in ("0x", "0X") else 10) if integral else \
                float(text)
        if t[0] == "f":
            out[k * size:(k + 1) * size] = np.array([number], _FLOAT[t]).view(np.uint8)
        elif integral or float(number).is_integer():
            out[k * size:(k + 1) * size] = np.frombuffer((int(number) & ((1 << 8 * size) - 1)).to_bytes(
                size, "little"), np.uint8)
        else:
            raise InvalidArgumentError(f"{v.name} is a .{t} variable: pass a whole number, got {text}")
    return out


_SPECIALS = {"%tid", "%ntid", "%ctaid", "%nctaid", "%laneid", "%warpid", "%nwarpid", "%smid", "%nsmid", "%gridid",
             "%lanemask_eq", "%lanemask_le", "%lanemask_lt", "%lanemask_ge", "%lanemask_gt", "%clock", "%clock64",
             "%globaltimer", "%dynamic_smem_size", "%total_smem_size"}


def check_size(module: Module, fn: Function, launch: Launch, ctas: int, max_steps: int) -> None:
    """Refuse a launch that cannot finish within the step budget running ``ctas`` of its CTAs, or whose threads do
    not fit in memory, before allocating anything per CTA."""
    warps = ctas * -(-launch.threads_per_cta // WARP)
    where = f"{module.file}:{fn.line}: kernel {fn.name}"
    if warps > max_steps:
        raise StepLimitError(f"{where}: {warps:,} warps cannot finish within max_steps={max_steps:,} "
                             "(every warp issues at least one instruction); raise max_steps")
    threads = launch.ctas * launch.threads_per_cta
    if threads > MAX_THREADS:
        raise StepLimitError(f"{where}: {threads:,} threads exceed the interpreter's limit of "
                             f"{MAX_THREADS:,}; count a smaller grid and scale the counts")


def cta_coordinates(grid: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    """(x, y, z) of every CTA, by linear id."""
    gx, gy, gz = grid
    return [(x, y, z) for z in range(gz) for y in range(gy) for x in range(gx)]


def _const(value: int | float, t: str, n: int) -> np.ndarray:
    if t in _FLOAT:
        return np.full(n, value, dtype=_TYPES[t])
    if t == "pred":
        return np.full(n, bool(value))
    return np.full(n, int(value) & _bits_mask(t), dtype=_UNSIGNED_OF[t]).view(_TYPES[t])


_UNSIGNED_OF = {"u8": np.uint8, "s8": np.uint8, "b8": np.uint8, "u16": np.uint16, "s16": np.uint16, "b16": np.uint16,
                "u32": np.uint32, "s32": np.uint32, "b32": np.uint32, "u64": np.uint64, "s64": np.uint64,
                "b64": np.uint64}


def _from_bits(bits: np.ndarray, t: str) -> np.ndarray:
    if t in ("u64", "b64"):
        return bits
    if t == "s64":
        return bits.view(np.int64)
    if t == "f64":
        return bits.view(np.float64)
    if t == "f32":
        return (bits & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32)
    if t == "f16":
        return (bits & np.uint64(0xFFFF)).astype(np.uint16).view(np.float16)
    return bits.astype(_UNSIGNED_OF[t]).view(_TYPES[t])  # an unsigned narrowing cast keeps the low bits


def _to_bits(v: np.ndarray, t: str) -> np.ndarray:
    if t in _FLOAT:
        arr = v.astype(_TYPES[t])
        return arr.view({"f32": np.uint32, "f64": np.uint64, "f16": np.uint16}[t]).astype(np.uint64)
    if t == "pred":
        return v.astype(np.uint64)
    arr = v.astype(_TYPES[t]) if v.dtype != _TYPES[t] else v
    return arr.view(_UNSIGNED_OF[t]).astype(np.uint64)


def _vector_count(inst: Instruction) -> int:
    return next((int(m[1]) for m in inst.mods if m in ("v2", "v4", "v8")), 1)


def instruction_type(inst: Instruction) -> str:
    """The operation type: the last type-like modifier (``add.s32`` -> s32)."""
    for m in reversed(inst.mods):
        if m in _TYPES:
            return m
    return "b32"

