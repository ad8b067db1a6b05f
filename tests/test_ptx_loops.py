"""Loop iterations run side by side (issue 10, part 3; :mod:`hwaware.ptx.loops`, ``Engine._run_batched``): every
case is checked against full interpretation and against the slicer running the iterations one by one, on loops where
the batching applies and on loops where it must not: a register carried from one iteration to the next (refused
statically), a counter that differs between lanes (refused when the loop is entered), and vector loads whose L1
sectors two iterations share (run side by side, then refused by the sector check and run again one by one)."""
from __future__ import annotations

import pytest

from hwaware.ptx import analyze, buffer_from_array
from hwaware.ptx.analysis import as_launch, prepare
from hwaware.ptx.engine import Engine
from hwaware.ptx.loops import batchable_loops
from hwaware.ptx.slicer import _address_regs, defs_uses, tracked_l1_loads

HEADER = ".version 9.0\n.target sm_80\n.address_size 64\n\n"

# Block of 64 (2 warps). Six iterations; in each, lanes with (counter + tid) & 7 < 3 skip an instruction (a bound
# check on the counter), and every lane loads 8 bytes at SHIFT-scaled counter + 8 * (tid & 3) twice, using the first
# result in between: the second load hits in L1 (counted once per destination register). With SHIFT 6 each
# iteration reads its own 64-byte block; with SHIFT 3 iterations 8 bytes apart share sectors, so whether a load hits
# depends on the iterations before it.
LOOP = HEADER + """.visible .entry lp(
	.param .u64 lp_param_0
)
{
	.reg .pred 	%p<4>;
	.reg .b32 	%r<12>;
	.reg .f32 	%f<8>;
	.reg .b64 	%rd<6>;

	ld.param.u64 	%rd1, [lp_param_0];
	cvta.to.global.u64 	%rd2, %rd1;
	mov.u32 	%r1, %tid.x;
INIT
$L_loop:
	add.s32 	%r3, %r2, %r1;
	and.b32 	%r4, %r3, 7;
	setp.lt.u32 	%p1, %r4, 3;
	@%p1 bra 	$L_skip;
	add.f32 	%f1, %f1, %f2;
$L_skip:
	shl.b32 	%r5, %r2, SHIFT;
	and.b32 	%r6, %r1, 3;
	shl.b32 	%r7, %r6, 3;
	add.s32 	%r8, %r5, %r7;
	cvt.u64.u32 	%rd3, %r8;
	add.s64 	%rd4, %rd2, %rd3;
	ld.global.nc.v2.f32 	{%f3, %f4}, [%rd4];
	add.f32 	%f5, %f3, %f4;
	ld.global.nc.v2.f32 	{%f6, %f7}, [%rd4];
CARRY
	add.s32 	%r2, %r2, 1;
	setp.ne.s32 	%p2, %r2, 6;
	@%p2 bra 	$L_loop;
	ret;

}
"""
ZERO = "\tmov.u32 \t%r2, 0;"
# lanes start the counter at 0 or 1: their trip counts differ
PER_LANE = "\tand.b32 \t%r2, %r1, 1;"
# %r9 accumulates tid over the iterations and a guard reads it: a value carried between iterations
CARRIED = "\tadd.s32 \t%r9, %r9, %r1;\n\tsetp.gt.u32 \t%p3, %r9, 100;\n\t@%p3 add.f32 \t%f1, %f1, %f2;"


def kernel(init: str = ZERO, shift: int = 6, carry: str = "") -> str:
    return LOOP.replace("INIT", init).replace("SHIFT", str(shift)).replace("CARRY", carry)


SPEC = {"grid": (3, 1, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 4096)}}


def fields(r) -> tuple:
    return (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true, r.per_line,
            r.per_thread_min, r.per_thread_mean, r.per_thread_max, r.l1_repeat_warp_instructions, r.l1_repeat_lanes)


def slice_run(ptx: str, batch: bool):
    """The slicer's run of every CTA as one group, with or without batching."""
    p = prepare(ptx)
    return Engine(p.module, p.fn, p.cfg, as_launch(SPEC, p.fn.params), evaluate=set(p.slice.indices), group="grid",
                  batch_loops=batch).run()


def totals(c) -> tuple:
    return (int(c.thread.sum()), int(c.warp.sum()) + int(c.extra_warp.sum()),
            int((c.thread - c.guard_false).sum()) + int(c.extra_lanes.sum()), c.per_thread.tolist())


def batchable(ptx: str) -> dict:
    p = prepare(ptx)
    fn = p.fn
    return batchable_loops(fn, p.cfg, set(p.slice.indices),
                           {i: _address_regs(fn.instructions[i]) for i in tracked_l1_loads(fn)},
                           [defs_uses(x) for x in fn.instructions])


@pytest.mark.parametrize("ptx, static, batched", [
    (kernel(), True, True),  # six iterations side by side
    (kernel(shift=3), True, False),  # shared sectors: batched, refused by the sector check, run one by one
    (kernel(PER_LANE), True, False),  # the counter differs between lanes: refused at the loop's entry
    (kernel(carry=CARRIED), False, False),  # %r9 carried between iterations: never a candidate
])
def test_batched_loops_equal_full_interpretation(ptx, static, batched):
    assert bool(batchable(ptx)) == static
    grouped = analyze(ptx, SPEC)[0]
    assert fields(grouped) == fields(analyze(ptx, SPEC, method="interpret")[0])
    side, one = slice_run(ptx, True), slice_run(ptx, False)
    assert totals(side) == totals(one)
    assert (side.evaluated < one.evaluated) == batched


def test_the_refused_cases_do_depend_on_the_other_iterations():
    """What the refusals guard against is real: with shared sectors the L1 hits of an iteration depend on the ones
    before it (the hit count differs from the disjoint layout), and with lanes starting at different counter values
    the lanes run different numbers of iterations."""
    shared = analyze(kernel(shift=3), SPEC, method="interpret")[0]
    disjoint = analyze(kernel(), SPEC, method="interpret")[0]
    assert shared.l1_repeat_warp_instructions != disjoint.l1_repeat_warp_instructions
    per_lane = analyze(kernel(PER_LANE), SPEC, method="interpret")[0]
    assert per_lane.per_thread_min != per_lane.per_thread_max


def test_the_loop_found_is_the_counted_loop():
    (loop,) = batchable(kernel()).values()
    assert (loop.counter, loop.step, loop.compare, loop.bound, loop.continue_if) == ("%r2", 1, "ne", 6, True)
