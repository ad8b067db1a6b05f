"""CTA grouping (issue 10, part 3): CTAs that differ only along a %ctaid dimension the slicer proves irrelevant are
counted once (:func:`hwaware.ptx.slicer.cta_offsets`). Every case is checked against full interpretation and
against the slicer without grouping, on kernels where the grouping applies and on kernels where it must not: a
CTA-dependent branch, and a CTA-dependent vector-load address whose step is not a multiple of the 32-byte L1
sector (its L1 hits, counted once per destination register, differ between CTAs). CTAs with equal key values
(:func:`hwaware.ptx.slicer.cta_keys`) likewise, including classes of different sizes, and where the key must not
merge CTAs: a register defined twice, one read before its definition, %ctaid read directly."""
from __future__ import annotations

import numpy as np
import pytest

from hwaware.ptx import analyze, buffer_from_array, parse
from hwaware.ptx.analysis import as_launch, prepare
from hwaware.ptx.engine import Engine

HEADER = ".version 9.0\n.target sm_80\n.address_size 64\n\n"

# Block of 2 warps, grid (2, 4). Lanes with ctaid.x * 64 + tid >= 100 skip the loads (a bound check: CTA x = 1
# diverges, x = 0 does not, so x always matters). Lane tid loads 8 bytes at byte 16 * tid + 4 * STEP * ctaid.y, then
# 8 more at +8: the second load hits in L1 when both fall in one 32-byte sector, which depends on ctaid.y unless
# 4 * STEP is a multiple of 32.
KERNEL = HEADER + """.visible .entry grp(
	.param .u64 grp_param_0
)
{
	.reg .pred 	%p<3>;
	.reg .b32 	%r<10>;
	.reg .f32 	%f<7>;
	.reg .b64 	%rd<5>;

	ld.param.u64 	%rd1, [grp_param_0];
	cvta.to.global.u64 	%rd2, %rd1;
	mov.u32 	%r1, %tid.x;
	mov.u32 	%r2, %ctaid.x;
	mov.u32 	%r3, %ctaid.y;
	shl.b32 	%r4, %r2, 6;
	add.s32 	%r5, %r4, %r1;
	setp.lt.u32 	%p1, %r5, 100;
	and.b32 	%r9, %r1, 63;
	shl.b32 	%r6, %r9, 2;
	mul.lo.s32 	%r7, %r3, STEP;
	COMBINE 	%r8, %r7, %r6;
	mul.wide.s32 	%rd3, %r8, 4;
	add.s64 	%rd4, %rd2, %rd3;
	@!%p1 bra 	$L_done;
	ld.global.nc.v2.f32 	{%f1, %f2}, [%rd4];
	add.f32 	%f3, %f1, %f2;
	ld.global.nc.v2.f32 	{%f4, %f5}, [%rd4+8];
BRANCH	add.f32 	%f6, %f4, %f5;
$L_done:
	ret;

}
"""
Y_BRANCH = "\tsetp.eq.s32 \t%p2, %r3, 2;\n\t@%p2 bra \t$L_done;\n"  # CTAs with ctaid.y = 2 skip an instruction


def kernel(step: int, branch: str = "", combine: str = "add.s32") -> str:
    return KERNEL.replace("STEP", str(step)).replace("BRANCH", branch).replace("COMBINE", combine)


def launch(grid_y: int = 4, nbytes: int = 1 << 16) -> dict:
    return {"grid": (2, grid_y, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, nbytes)}}


def fields(r) -> tuple:
    return (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true, r.per_line,
            r.per_thread_min, r.per_thread_mean, r.per_thread_max, r.l1_repeat_warp_instructions, r.l1_repeat_lanes)


def ungrouped_slice(ptx: str, spec: dict) -> tuple[int, int, int]:
    """(thread, warp, guard-true) of the slicer running every CTA (no grouping)."""
    p = prepare(ptx)
    c = Engine(p.module, p.fn, p.cfg, as_launch(spec, p.fn.params), evaluate=set(p.slice.indices), group="grid").run()
    extra_w = 0 if c.extra_warp is None else int(c.extra_warp.sum())
    extra_l = 0 if c.extra_lanes is None else int(c.extra_lanes.sum())
    return int(c.thread.sum()), int(c.warp.sum()) + extra_w, int((c.thread - c.guard_false).sum()) + extra_l


@pytest.mark.parametrize("step, branch, combine, free, executed", [
    (1024, "", "add.s32", (False, True, True), 2),  # y moves the loads by 4 KiB: y is free, 2 of 8 CTAs run
    (1024, "", "or.b32", (False, True, True), 2),  # the same with or: a sum, since tid & 63 << 2 < 1024
    (2, "", "add.s32", (False, False, True), 8),  # y moves them by 8 bytes: the L1 hits differ, every CTA runs
    (1024, Y_BRANCH, "add.s32", (False, False, True), 8),  # a branch on ctaid.y: every CTA runs
])
def test_grouping_equals_full_interpretation(step, branch, combine, free, executed):
    ptx = kernel(step, branch, combine)
    assert prepare(ptx).slice.free_dims == free
    grouped = analyze(ptx, launch())[0]
    ref = analyze(ptx, launch(), method="interpret")[0]
    assert grouped.ctas_executed == executed
    assert fields(grouped) == fields(ref)
    assert (grouped.thread_instructions, grouped.warp_instructions,
            grouped.thread_instructions_guard_true) == ungrouped_slice(ptx, launch())


def test_cta_dependence_changes_the_counts_it_must_not_group():
    """The two must-not cases do count differently per CTA row: grouping them would be wrong."""
    for ptx in (kernel(2), kernel(1024, Y_BRANCH)):
        one_row = analyze(ptx, launch(grid_y=1), method="interpret")[0]
        assert analyze(ptx, launch(), method="interpret")[0].warp_instructions != 4 * one_row.warp_instructions
    assert analyze(kernel(2), launch())[0].l1_repeat_warp_instructions > 0


def test_a_widening_that_would_wrap_refuses_the_grouping():
    """ctaid.y * 2^29 words is exact in 32 bits for y < 4 only: with 8 rows, the engine's wrap check (on the
    representative's values) refuses the grouping and every CTA runs."""
    ptx = kernel(1 << 29)
    assert prepare(ptx).slice.free_dims == (False, True, True)
    assert analyze(ptx, launch(grid_y=4))[0].ctas_executed == 2
    wraps = analyze(ptx, launch(grid_y=8))[0]
    assert wraps.ctas_executed == 16
    assert (wraps.thread_instructions, wraps.warp_instructions,
            wraps.thread_instructions_guard_true) == ungrouped_slice(ptx, launch(grid_y=8))


def test_or_of_overlapping_bits_is_not_a_translation():
    """``or`` is a sum only when the operands have no common one-bit: without the ``and`` that bounds tid, y's
    offset is not proved and y is not grouped (counts still equal)."""
    ptx = kernel(1024, combine="or.b32").replace("and.b32 \t%r9, %r1, 63;", "mov.u32 \t%r9, %r1;")
    assert prepare(ptx).slice.free_dims == (False, False, True)
    assert fields(analyze(ptx, launch())[0]) == fields(analyze(ptx, launch(), method="interpret")[0])


# Lanes with tid < 40 skip the definition of %r8 and keep its initial 0, so %r10 = -1024 * ctaid.y for them and
# 4 for the others: their branch depends on ctaid.y although %r8 - %r7 would not if %r8 were always defined.
LATE = HEADER + """.visible .entry late(
	.param .u64 late_param_0
)
{
	.reg .pred 	%p<3>;
	.reg .b32 	%r<11>;
	.reg .f32 	%f<3>;

	mov.u32 	%r1, %tid.x;
	mov.u32 	%r3, %ctaid.y;
	shl.b32 	%r7, %r3, 10;
	setp.lt.u32 	%p1, %r1, 40;
	@%p1 bra 	$L_skip;
	or.b32 	%r8, %r7, 4;
$L_skip:
	sub.s32 	%r10, %r8, %r7;
	setp.eq.s32 	%p2, %r10, 0;
	@%p2 bra 	$L_done;
	add.f32 	%f1, %f1, %f2;
	add.f32 	%f1, %f1, %f2;
$L_done:
	ret;

}
"""


def test_register_read_before_its_ctaid_dependent_definition():
    """A register is 0 in every CTA until written: the analysis joins that 0 into registers some path reads
    before writing, so the guard on %r8 - %r7 varies with y and y is not grouped."""
    spec = {"grid": (1, 4, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 64)}}
    assert prepare(LATE).slice.free_dims == (True, False, True)
    grouped, ref = analyze(LATE, spec)[0], analyze(LATE, spec, method="interpret")[0]
    assert grouped.ctas_executed == 4
    assert fields(grouped) == fields(ref)


def test_per_thread_statistics_weight_every_group_alike():
    ptx = kernel(1024)
    grouped = analyze(ptx, launch())[0]
    p = prepare(ptx)
    c = Engine(p.module, p.fn, p.cfg, as_launch(launch(), p.fn.params), evaluate=set(p.slice.indices),
               group="grid").run()
    assert (grouped.per_thread_min, grouped.per_thread_max) == (int(c.per_thread.min()), int(c.per_thread.max()))
    assert np.isclose(grouped.per_thread_mean, c.per_thread.mean())


# -- CTAs with equal key values (hwaware.ptx.slicer.cta_keys) ---------------------------------------------------------
# Grid (7, 1, 1), block 64: lanes with (ctaid.x & 3) + tid < 62 run two more instructions, like a pooling window's
# bound check. The key is %r3 = ctaid.x & 3: 4 classes of 2, 2, 2 and 1 CTAs (weights that differ).
POOL = HEADER + """.visible .entry pool(
	.param .u64 pool_param_0
)
{
	.reg .pred 	%p<4>;
	.reg .b32 	%r<12>;
	.reg .f32 	%f<3>;

	mov.u32 	%r1, %tid.x;
	mov.u32 	%r2, %ctaid.x;
	and.b32 	%r3, %r2, 3;
BODY
$L_done:
	ret;

}
"""
WINDOW = """	add.s32 	%r4, %r3, %r1;
	setp.lt.u32 	%p1, %r4, 62;
	@!%p1 bra 	$L_done;
	add.f32 	%f1, %f1, %f2;
	add.f32 	%f1, %f1, %f2;"""
# %r3 = ctaid.x & 3 is read by the first check and redefined as ctaid.x >> 2 before the second: CTAs 1 and 5 agree
# in the first value only, and count differently
TWICE = WINDOW + """
	shr.u32 	%r3, %r2, 2;
	setp.eq.s32 	%p2, %r3, 1;
	@%p2 add.f32 	%f1, %f1, %f2;"""
# In the first pass of the loop %r8 = %r7 + %r9 reads %r9 before its definition (0): CTAs 1 and 2 agree in the
# final %r8 = (ctaid.x & 1) + ((ctaid.x >> 1) & 1) but not in its first-pass value, which a guard reads
LOOP = """	and.b32 	%r7, %r2, 1;
	mov.u32 	%r5, 0;
$L_loop:
	add.s32 	%r8, %r7, %r9;
	setp.eq.s32 	%p1, %r8, 1;
	@%p1 add.f32 	%f1, %f1, %f2;
	shr.u32 	%r10, %r2, 1;
	and.b32 	%r9, %r10, 1;
	add.s32 	%r5, %r5, 1;
	setp.lt.u32 	%p2, %r5, 2;
	@%p2 bra 	$L_loop;"""
# the window check reads %ctaid.x itself, not through a register: no key along x
DIRECT = WINDOW.replace("add.s32 \t%r4, %r3, %r1;", "add.s32 \t%r4, %ctaid.x, %r1;")


def pool(body: str) -> str:
    return POOL.replace("BODY", body)


@pytest.mark.parametrize("body, keys, executed", [
    (WINDOW, ("%r3",), 4),  # 7 CTAs, 4 key values
    (TWICE, ("%r2",), 7),  # %r3 has two definitions: not uniform; the key is %ctaid.x itself
    (LOOP, ("%r10", "%r7"), 7),  # %r9 is read before it is written: neither it nor %r8 is uniform
    (DIRECT, (), 7),  # a non-uniform instruction reads %ctaid.x: no key along x
])
def test_key_grouping_equals_full_interpretation(body, keys, executed):
    ptx = pool(body)
    spec = {"grid": (7, 1, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 64)}}
    grouped, ref = analyze(ptx, spec)[0], analyze(ptx, spec, method="interpret")[0]
    assert fields(grouped) == fields(ref)
    assert (grouped.thread_instructions, grouped.warp_instructions,
            grouped.thread_instructions_guard_true) == ungrouped_slice(ptx, spec)
    assert (prepare(ptx).slice.key.regs, grouped.ctas_executed) == (keys, executed)


def test_key_cases_it_must_not_group_do_count_differently():
    """CTAs the must-not cases above would wrongly merge count differently: merging them would be wrong."""
    def one(ptx: str, x: int) -> int:  # guard-true instructions of CTA x alone
        spec = {"grid": (x + 1, 1, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 64)}}
        before = {"grid": (x, 1, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 64)}}
        return analyze(ptx, spec, method="interpret")[0].thread_instructions_guard_true - \
            analyze(ptx, before, method="interpret")[0].thread_instructions_guard_true
    assert one(pool(WINDOW), 1) != one(pool(WINDOW), 2)  # the window check does depend on ctaid.x & 3
    assert one(pool(TWICE), 1) != one(pool(TWICE), 5)  # same ctaid.x & 3, different ctaid.x >> 2
    assert one(pool(LOOP), 1) != one(pool(LOOP), 2)  # same final %r8, different first-pass %r8


def test_key_and_free_dimension_together():
    """x keyed, y free (no instruction reads it): one CTA per key value and y line."""
    ptx = pool(WINDOW)
    spec = {"grid": (7, 3, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 64)}}
    grouped, ref = analyze(ptx, spec)[0], analyze(ptx, spec, method="interpret")[0]
    assert grouped.ctas_executed == 4
    assert fields(grouped) == fields(ref)


# Interior CTAs (hwaware.ptx.interior): a 1-D convolution. CTA x covers positions 64x + tid; tap k (0 ... 6) reads
# position 64x + tid - 2 + k, skipped outside [0, LIMIT] (one unsigned compare, as TVM's bound checks). Each tap also
# reads a weight pair twice (ADDR: the byte offset; the second load hits in L1 when both fall in one sector).
CONV = HEADER + """.visible .entry conv(
	.param .u64 conv_param_0
)
{
	.reg .pred 	%p<3>;
	.reg .b32 	%r<10>;
	.reg .f32 	%f<6>;
	.reg .b64 	%rd<5>;

	ld.param.u64 	%rd1, [conv_param_0];
	cvta.to.global.u64 	%rd2, %rd1;
	mov.u32 	%r1, %tid.x;
	mov.u32 	%r2, %ctaid.x;
	shl.b32 	%r3, %r2, 6;
	add.s32 	%r4, %r3, %r1;
	add.s32 	%r5, %r4, -2;
	mov.u32 	%r6, 0;
$L_loop:
	add.s32 	%r7, %r5, %r6;
	setp.gt.u32 	%p1, %r7, LIMIT;
	@%p1 bra 	$L_skip;
	add.f32 	%f1, %f1, 0f3F800000;
$L_skip:
	ADDR
	mul.wide.u32 	%rd3, %r8, 1;
	add.s64 	%rd4, %rd2, %rd3;
	ld.global.nc.v2.f32 	{%f2, %f3}, [%rd4];
	add.f32 	%f3, %f2, %f3;
	ld.global.nc.v2.f32 	{%f4, %f5}, [%rd4+8];
	add.s32 	%r6, %r6, 1;
	setp.lt.u32 	%p2, %r6, 7;
	@%p2 bra 	$L_loop;
	ret;

}
"""
WEIGHTS = "shl.b32 \t%r8, %r6, 5;"  # byte 32k: the same sectors in every CTA
BY_CTA = "shl.b32 \t%r9, %r2, 3;\n\tmad.lo.s32 \t%r8, %r6, 32, %r9;"  # byte 32k + 8x: hits depend on x & 3


def conv(addr: str = WEIGHTS, limit: int = 20 * 64 - 1) -> str:
    return CONV.replace("ADDR", addr).replace("LIMIT", str(limit))


def conv_launch(ctas: int = 20) -> dict:
    return {"grid": (ctas, 1, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 1 << 16)}}


@pytest.mark.parametrize("candidates, first", [(16, None), (0, None), (16, 0), (16, 19), (0, 19)])
def test_interior_grouping_equals_full_interpretation(monkeypatch, candidates, first):
    """CTAs 1 ... 18 pass every bound check in every tap: one runs for all 18; CTA 0 (taps left of 0) and CTA 19
    (right of LIMIT) run on their own. ``candidates`` 0: the CTAs the first representative does not cover are told
    apart by their key values alone (no representative's ranges), which must still keep them apart. ``first``: the
    first representative (None: the likely interior one), an edge CTA leaves the interior to the second round."""
    from hwaware.ptx import analysis
    monkeypatch.setattr(analysis, "_CANDIDATES", candidates)
    if first is not None:
        monkeypatch.setattr(analysis, "_central_cta", lambda *a: first)
    ptx = conv()
    assert prepare(ptx).slice.interior is not None
    grouped, ref = analyze(ptx, conv_launch())[0], analyze(ptx, conv_launch(), method="interpret")[0]
    assert fields(grouped) == fields(ref)
    assert (grouped.thread_instructions, grouped.warp_instructions,
            grouped.thread_instructions_guard_true) == ungrouped_slice(ptx, conv_launch())
    assert grouped.ctas_executed == (20 if (candidates, first) == (0, 19) else 3)  # without ranges all differ
    assert ref.l1_repeat_warp_instructions > 0  # the L1 model's hits are part of what is compared


def test_interior_edges_differ_and_must_not_merge():
    """CTA 0 and CTA 19 count differently from the interior and from each other (3 and 10 taps skipped in all): a
    rule that merged either with the interior, or the two together, would be wrong."""
    def one(x: int) -> int:
        a = analyze(conv(), conv_launch(x + 1), method="interpret")[0].thread_instructions
        return a - (analyze(conv(), conv_launch(x), method="interpret")[0].thread_instructions if x else 0)
    counts = [one(x) for x in (0, 1, 18, 19)]
    assert counts[1] == counts[2] and len({counts[0], counts[1], counts[3]}) == 3


def test_interior_with_a_limit_inside_a_cta():
    """LIMIT inside CTA 12: CTAs 13 ... 19 skip every tap (fixed true), 12 is an edge, 1 ... 11 interior."""
    ptx = conv(limit=12 * 64 + 30)
    grouped, ref = analyze(ptx, conv_launch())[0], analyze(ptx, conv_launch(), method="interpret")[0]
    assert fields(grouped) == fields(ref)
    assert grouped.ctas_executed == 4


def test_interior_refused_when_l1_sectors_depend_on_the_cta():
    """The weight pair's address moves 8 bytes per CTA: whether the second load hits depends on ctaid.x & 3, so
    interior CTAs do not count alike; no interior plan, every CTA runs, counts exact."""
    ptx = conv(BY_CTA)
    assert prepare(ptx).slice.interior is None
    grouped, ref = analyze(ptx, conv_launch())[0], analyze(ptx, conv_launch(), method="interpret")[0]
    assert fields(grouped) == fields(ref)
    assert grouped.ctas_executed == 20
    hits = [analyze(ptx, conv_launch(x + 1), method="interpret")[0].l1_repeat_warp_instructions for x in range(1, 5)]
    assert len({b - a for a, b in zip(hits, hits[1:])}) > 1  # interior CTAs' hits do differ


def test_interior_guard_values_on_intervals():
    """The interval rules themselves, on the convolution's bound check ``tid + 64x - 2 + k > LIMIT`` (unsigned):
    a tap range that crosses 0 is unknown (the unsigned compare wraps there), one that does not is fixed; with no
    recorded range for the tap counter every lane is unknown."""
    from hwaware.ptx.interior import evaluate_guards
    p = prepare(conv())
    plan = p.slice.interior
    spec = conv_launch()
    keys = Engine(p.module, p.fn, p.cfg, as_launch(spec, p.fn.params), evaluate=set(p.slice.indices),
                  group="grid").thread_values(plan.keys, sorted(plan.key_regs))
    lanes = 20 * 64
    (tree_add,) = plan.record  # the add reading the tap counter %r6
    g = plan.guards.index(next(i for i in plan.guards if p.fn.instructions[i].base == "bra" and
                               p.fn.instructions[i].guard == "%p1"))

    def fixed(lo: int, hi: int) -> np.ndarray:
        return evaluate_guards(p.fn, plan, keys, {(tree_add, "%r6"): (lo, hi)}, lanes)[g].reshape(20, 64)
    taps = fixed(0, 6)
    assert list(taps[0, :3]) == [2, 2, 0]  # tid 0, 1: position -2 / -1 plus 0 ... 6 crosses 0; tid 2 never does
    assert (taps[1:19] == 0).all() and list(taps[19, -5:]) == [0, 2, 2, 2, 2]  # 1276 + 2 + 6 > 1279 for tid >= 61
    assert list(fixed(3, 6)[0, :2]) == [0, 0]
    assert list(fixed(0, 1)[0, :2]) == [1, 2]  # tid 0: -2 ... -1, always above LIMIT as unsigned; tid 1: -1 ... 0
    none = evaluate_guards(p.fn, plan, keys, {}, lanes)
    assert (none[g] == 2).all()


def test_interior_and_free_dimension_together():
    """ctaid.y moves the weight pair by 4 KiB (a whole number of sectors, through a widening the engine checks for
    wrap-around): y is free, and among the CTAs at y = 0 the interior ones group as before (the wrap check reads a
    register that does not depend on ctaid.x, so the representative's check holds for its whole class)."""
    ptx = conv("mov.u32 \t%r0, %ctaid.y;\n\tshl.b32 \t%r9, %r6, 5;\n\tmad.lo.s32 \t%r8, %r0, 4096, %r9;")
    sl = prepare(ptx).slice
    assert sl.free_dims[1] and sl.wrap_checks and sl.interior is not None
    spec = {**conv_launch(), "grid": (20, 3, 1)}
    grouped, ref = analyze(ptx, spec)[0], analyze(ptx, spec, method="interpret")[0]
    assert fields(grouped) == fields(ref)
    assert grouped.ctas_executed == 3


@pytest.mark.parametrize("first", [0, 100])
def test_interior_on_random_kernels_equals_full_interpretation(first):
    """hwaware.ptx.fuzz's random kernels (grids of 1 ... 3 CTAs there) launched on 16 ... 33 CTAs, where interior
    grouping is tried: every count equals full interpretation. Seed 195 found a double weighting (a second-round
    class whose CTAs all stood for 4 was multiplied by the engine and again by the caller)."""
    import random

    from hwaware.ptx.fuzz import counts_of, random_kernel
    seeds = list(range(first, first + 40)) + ([195] if first == 100 else [])
    for seed in seeds:
        g = random_kernel(seed)
        grid, block = random.Random(seed + 7).choice([16, 20, 33]), g.launch["block"][0]
        lens = np.array([random.Random(seed).randint(0, 4) for _ in range(64)], dtype=np.int32)

        def spec() -> dict:
            return {"grid": (grid, 1, 1), "block": (block, 1, 1), "args": {
                0: buffer_from_array(lens), 1: g.launch["args"][1], 2: buffer_from_array(None, grid * block * 4)}}
        assert counts_of(analyze(g.ptx, spec())[0]) == counts_of(analyze(g.ptx, spec(), method="interpret")[0]), seed


def test_a_parameter_loaded_through_a_cta_dependent_address_is_not_cta_uniform():
    """``ld.param`` named by its symbol reads the same value in every CTA; through a register address that moves with
    ``%ctaid.y`` it need not, so y must not be proved free (the audit found the slicer treating any ``ld.param`` as
    CTA-uniform; the engine refuses such a load today, so no count went wrong)."""
    head = ".version 7.0\n.target sm_70\n.address_size 64\n.visible .entry k(.param .u32 k_param_0)\n{\n"
    body = (".reg .b32 %r<4>;\n.reg .b64 %rd<4>;\n.reg .pred %p<2>;\nmov.u64 %rd1, k_param_0;\nmov.u32 %r1, %ctaid.y;\n"
            "mul.wide.u32 %rd2, %r1, 4;\nadd.s64 %rd3, %rd1, %rd2;\nLOAD\nsetp.eq.u32 %p1, %r2, 0;\n@%p1 bra L;\n"
            "add.u32 %r3, %r2, 1;\nL:\nret;\n}\n")
    through_register = head + body.replace("LOAD", "ld.param.u32 %r2, [%rd3];")
    by_symbol = head + body.replace("LOAD", "ld.param.u32 %r2, [k_param_0];")
    from hwaware.errors import PTXExecutionError
    from hwaware.ptx.cfg import build_cfg
    from hwaware.ptx.slicer import compute_slice

    def free_dims(ptx: str) -> tuple[bool, bool, bool]:  # the slicer alone: prepare() refuses the register address
        fn = parse(ptx).entry()
        return compute_slice(fn, build_cfg(fn, "<ptx>")).free_dims

    assert free_dims(through_register)[1] is False
    assert free_dims(by_symbol)[1] is True and prepare(by_symbol).slice.free_dims[1] is True
    with pytest.raises(PTXExecutionError, match="through a register or numeric address is not supported"):
        prepare(through_register)
