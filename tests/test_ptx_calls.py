"""Device-function calls (hwaware.ptx.calls) and names declared inside braces (inline asm, call sequences).

Each PTX text below has the shape nvcc 13 writes (``nvcc -O3 -arch=compute_80 -ptx``): a ``__noinline__`` function's
call sequence, cuda_fp16.h's inline asm (``{.reg .f16 low,high; mov.b32 {low,high},%r7; ...}``), printf's ``vprintf``
and assert's ``__assertfail``. Expected counts are worked out by hand in each test's comments.
"""
from __future__ import annotations

import numpy as np
import pytest

from hwaware.errors import PTXExecutionError, PTXParseError
from hwaware.ptx import analyze, format_module, parse
from hwaware.ptx.analysis import buffer_from_array
from hwaware.ptx.fuzz import check

HEAD = ".version 9.0\n.target sm_80\n.address_size 64\n"
ONE_WARP = {"grid": (1, 1, 1), "block": (32, 1, 1), "args": {0: buffer_from_array(None, 128)}}

# twice(x) = x > 10 ? x : 2x, two returns; the kernel branches on its result
CALL = HEAD + """
.func (.param .b32 func_retval0) twice(
\t.param .b32 twice_param_0
)
{
\t.reg .pred %p<2>;
\t.reg .b32 %r<3>;
\tld.param.u32 %r1, [twice_param_0];
\tsetp.gt.s32 %p1, %r1, 10;
\t@%p1 bra $L_big;
\tadd.s32 %r2, %r1, %r1;
\tst.param.b32 [func_retval0+0], %r2;
\tret;
$L_big:
\tst.param.b32 [func_retval0+0], %r1;
\tret;
}
.visible .entry k(
\t.param .u64 k_param_0
)
{
\t.reg .pred %p<2>;
\t.reg .b32 %r<4>;
\t.reg .b64 %rd<3>;
\tld.param.u64 %rd1, [k_param_0];
\tcvta.to.global.u64 %rd2, %rd1;
\tmov.u32 %r1, %tid.x;
\t{ // callseq 0, 0
\t.reg .b32 temp_param_reg;
\t.param .b32 param0;
\tst.param.b32 [param0+0], %r1;
\t.param .b32 retval0;
\tcall.uni (retval0),
\ttwice,
\t(
\tparam0
\t);
\tld.param.b32 %r2, [retval0+0];
\t} // callseq 0
\tsetp.lt.s32 %p1, %r2, 16;
\t@%p1 bra $L_end;
\tadd.s32 %r3, %r2, 1;
$L_end:
\tret;
}
"""


@pytest.mark.parametrize("method", ["slice", "interpret"])
def test_a_call_counts_its_sequence_and_the_callee_as_gpgpu_sim_executes_them(method):
    # per thread: ld.param, cvta, mov, st.param, call, then the callee's ld.param, setp, bra = 8; the callee's
    # branch: add, st.param, ret (tid <= 10: 3) or st.param, ret (2); ld.param of the result, setp, bra = 3; the add
    # where twice(tid) >= 16 (tid 8-10 and 16-31); ret. tid 0-7: 15, 8-10: 16, 11-15: 14, 16-31: 15 -> 478.
    # Warp instructions: 8 + 3 + 2 (both sides of the callee's branch) + 3 + 1 (add) + 1 (ret) = 18
    c = analyze(CALL, ONE_WARP, kernel="k", method=method)[0]
    assert (c.thread_instructions, c.warp_instructions) == (478, 18)
    # the parameter accesses stay memory.param, the call and the callee's rets control: 5 x 32 of each
    assert c.per_category["memory.param"] == 160 and c.per_category["control"] == 160
    assert check(CALL, ONE_WARP, "k") == "counted"


def test_a_module_with_calls_prints_and_parses_back_to_the_same_counts():
    again = format_module(parse(CALL))
    assert ".func (.param .b32 func_retval0) twice(" in again
    assert analyze(again, ONE_WARP, kernel="k")[0].thread_instructions == 478


def test_calls_nest_and_each_call_site_has_its_own_registers_and_labels():
    # k calls outer, which calls twice twice: twice(twice(tid)); the sites' labels and registers must not collide
    outer = (".func (.param .b32 func_retval0) outer(\n\t.param .b32 outer_param_0\n)\n{\n\t.reg .b32 %r<4>;\n"
             "\tld.param.u32 %r1, [outer_param_0];\n"
             "\t{\n\t.param .b32 param0;\n\tst.param.b32 [param0+0], %r1;\n\t.param .b32 retval0;\n"
             "\tcall.uni (retval0), twice, (param0);\n\tld.param.b32 %r2, [retval0+0];\n\t}\n"
             "\t{\n\t.param .b32 param0;\n\tst.param.b32 [param0+0], %r2;\n\t.param .b32 retval0;\n"
             "\tcall.uni (retval0), twice, (param0);\n\tld.param.b32 %r3, [retval0+0];\n\t}\n"
             "\tst.param.b32 [func_retval0+0], %r3;\n\tret;\n}\n")
    ptx = CALL.replace(".visible .entry k(", outer + ".visible .entry k(").replace(
        "call.uni (retval0),\n\ttwice,", "call.uni (retval0),\n\touter,")
    # per thread: k's 5 before the call; outer's 9 (ld.param, and per call st.param, call, ld.param, then st.param,
    # ret); twice(t) 6 where t <= 10 else 5, then twice of that; k's ld.param, setp, bra, the add where the result
    # is >= 16, ret. t 0-3: 30, 4-5: 31, 6-7: 29, 8-10: 30, 11-15: 28, 16-31: 29 -> 934. Warp instructions:
    # 5 + 9 + 8 + 8 (each twice takes both sides) + 5 = 35
    for method in ("slice", "interpret"):
        c = analyze(ptx, ONE_WARP, kernel="k", method=method)[0]
        assert (c.thread_instructions, c.warp_instructions) == (934, 35)
    assert check(ptx, ONE_WARP, "k") == "counted"


RECURSIVE = HEAD + """
.func (.param .b32 func_retval0) f(
\t.param .b32 f_param_0
)
{
\t.reg .b32 %r<3>;
\tld.param.u32 %r1, [f_param_0];
\t{
\t.param .b32 param0;
\tst.param.b32 [param0+0], %r1;
\t.param .b32 retval0;
\tcall.uni (retval0), f, (param0);
\tld.param.b32 %r2, [retval0+0];
\t}
\tst.param.b32 [func_retval0+0], %r2;
\tret;
}
.visible .entry k()
{
\t.reg .b32 %r<3>;
\tmov.u32 %r1, %tid.x;
\t{
\t.param .b32 param0;
\tst.param.b32 [param0+0], %r1;
\t.param .b32 retval0;
\tcall.uni (retval0), f, (param0);
\tld.param.b32 %r2, [retval0+0];
\t}
\tret;
}
"""


GUARDED_RET = CALL.replace("\tst.param.b32 [func_retval0+0], %r2;\n\tret;",
                           "\tst.param.b32 [func_retval0+0], %r2;\n\t@%p1 ret;\n\tret;")
# nvcc's indirect call through a function pointer: a .callprototype inside the call's braces
INDIRECT = HEAD + """
.func (.param .b32 func_retval0) f(
\t.param .b32 f_param_0
)
{
\t.reg .b32 %r<2>;
\tld.param.u32 %r1, [f_param_0];
\tst.param.b32 [func_retval0+0], %r1;
\tret;
}
.visible .entry k()
{
\t.reg .b32 %r<3>;
\t.reg .b64 %rd<2>;
\tmov.u64 %rd1, f;
\tmov.u32 %r1, 1;
\t{ // callseq 0, 0
\t.reg .b32 temp_param_reg;
\t.param .b32 param0;
\tst.param.b32 [param0+0], %r1;
\t.param .b32 retval0;
\tprototype_0 : .callprototype (.param .b32 _) _ (.param .b32 _);
\tcall (retval0),
\t%rd1,
\t(
\tparam0
\t)
\t, prototype_0;
\tld.param.b32 %r2, [retval0+0];
\t} // callseq 0
\tret;
}
"""


@pytest.mark.parametrize("ptx, message", [
    (RECURSIVE, r"f is called recursively .* inline it \(__forceinline__\) or rewrite it as a loop"),
    (GUARDED_RET, r"a guarded ret in twice, which GPGPU-Sim cannot run where it splits a warp; return once at the end"),
    (INDIRECT, r"indirect calls \(call through a register\) are not supported"),
    (HEAD + ".extern .func __assertfail(\n\t.param .b64 __assertfail_param_0\n)\n;\n.visible .entry k()\n{\n"
     "\t.reg .b64 %rd<2>;\n\tmov.u64 %rd1, 0;\n\t{\n\t.param .b64 param0;\n\tst.param.b64 [param0+0], %rd1;\n"
     "\tcall.uni __assertfail, (param0);\n\t}\n\tret;\n}\n",
     r"call.uni __assertfail: its body is not in the PTX \(an external function\); compile with -DNDEBUG"),
])
def test_calls_that_cannot_be_inlined_are_refused_in_one_line_by_both_methods(ptx, message):
    for method in ("slice", "interpret"):
        with pytest.raises(PTXExecutionError, match=message) as info:
            analyze(ptx, {"grid": 1, "block": 32}, kernel="k", method=method)
        assert "\n" not in str(info.value)


def test_a_vector_load_of_a_call_result_goes_through_the_l1_model():
    """GPGPU-Sim keeps call parameters in the thread's local stack frame and sends them through L1
    (param_space_local), where a vector load that hits completes once per register: a two-word result read back
    with ld.param.v2 is an L1 load of the engine's model (helper-172: it was kept out)."""
    from hwaware.ptx.analysis import prepare
    from hwaware.ptx.slicer import l1_loads

    ptx = (CALL.replace(".func (.param .b32 func_retval0) twice(", ".func (.param .align 8 .b8 func_retval0[8]) twice(")
           .replace("\tst.param.b32 [func_retval0+0], %r2;", "\tst.param.b32 [func_retval0+0], %r2;\n"
                    "\tst.param.b32 [func_retval0+4], %r2;")
           .replace("\tst.param.b32 [func_retval0+0], %r1;", "\tst.param.b32 [func_retval0+0], %r1;\n"
                    "\tst.param.b32 [func_retval0+4], %r1;")
           .replace("\t.param .b32 retval0;", "\t.param .align 8 .b8 retval0[8];")
           .replace("\tld.param.b32 %r2, [retval0+0];", "\tld.param.v2.b32 {%r2, %r3}, [retval0+0];"))
    fn = prepare(ptx, "k").fn
    vector = [i for i, x in enumerate(fn.instructions) if x.counted_as == "ld.param.v2.b32"]
    assert len(vector) == 1 and vector[0] in l1_loads(fn)
    assert check(ptx, ONE_WARP, "k") == "counted"


def _printf(branch_on_result: bool) -> str:
    tail = "\tsetp.lt.s32 %p1, %r2, 0;\n\t@%p1 bra $L_end;\n\tadd.s32 %r1, %r1, 1;\n$L_end:\n" if branch_on_result else ""
    return HEAD + (".extern .func (.param .b32 func_retval0) vprintf(\n\t.param .b64 vprintf_param_0,\n"
                   "\t.param .b64 vprintf_param_1\n)\n;\n.visible .entry k()\n{\n\t.reg .pred %p<2>;\n"
                   "\t.reg .b32 %r<3>;\n\t.reg .b64 %rd<2>;\n\tmov.u32 %r1, %tid.x;\n\tmov.u64 %rd1, 0;\n\t{\n"
                   "\t.param .b64 param0;\n\tst.param.b64 [param0+0], %rd1;\n\t.param .b64 param1;\n"
                   "\tst.param.b64 [param1+0], %rd1;\n\t.param .b32 retval0;\n"
                   "\tcall.uni (retval0), vprintf, (param0, param1);\n\tld.param.b32 %r2, [retval0+0];\n\t}\n"
                   + tail + "\tret;\n}\n")


def test_printf_is_gpgpu_sims_built_in_and_a_branch_on_its_result_is_refused():
    # mov, mov, st.param x2, call (vprintf has no body: GPGPU-Sim runs it natively), ld.param, ret = 7 per thread
    for method in ("slice", "interpret"):
        assert analyze(_printf(False), {"grid": 1, "block": 32}, kernel="k", method=method)[0].warp_instructions == 7
    with pytest.raises(PTXExecutionError, match="depends on the value vprintf returns"):
        analyze(_printf(True), {"grid": 1, "block": 32}, kernel="k")


# cuda_fp16.h's __half22float2, as nvcc writes it: inline asm declaring registers named low and high inside braces,
# in two sibling blocks
HALF = HEAD + """
.visible .entry k(
\t.param .u64 k_param_0
)
{
\t.reg .pred %p<2>;
\t.reg .b32 %r<8>;
\t.reg .f32 %f<3>;
\t.reg .b64 %rd<4>;
\tld.param.u64 %rd1, [k_param_0];
\tcvta.to.global.u64 %rd2, %rd1;
\tmov.u32 %r1, %tid.x;
\tmul.wide.u32 %rd3, %r1, 4;
\tadd.s64 %rd2, %rd2, %rd3;
\tld.global.u32 %r7, [%rd2];
\t// begin inline asm
\t{.reg .f16 low,high;
  mov.b32 {low,high},%r7;
  cvt.f32.f16 %f1, low;}
\t// end inline asm
\t// begin inline asm
\t{.reg .f16 low,high;
  mov.b32 {low,high},%r7;
  cvt.f32.f16 %f2, high;}
\t// end inline asm
\tsetp.gt.f32 %p1, %f1, %f2;
\t@%p1 bra $L_end;
\tcvt.rn.f16x2.f32 %r2, %f1, %f2;
\tst.global.u32 [%rd2], %r2;
$L_end:
\tsetp.lt.u32 %p1, %r1, 16;
\t@%p1 bra $L_out;
\tadd.s32 %r3, %r1, 1;
$L_out:
\tret;
}
"""


@pytest.mark.parametrize("method", ["slice", "interpret"])
def test_registers_declared_in_inline_asm_braces_are_their_own(method):
    halves = np.zeros((32, 2), np.float16)
    halves[:, 0] = np.arange(32)  # low half: tid
    halves[:, 1] = 8  # high half
    launch = {"grid": 1, "block": 32, "args": {0: buffer_from_array(halves)}}
    c = analyze(HALF, launch, kernel="k", method=method)[0]
    # 6 + 2 + 2 (the asm blocks' instructions) + setp, bra = 12 for every thread; low > high (tid 9-31) skips the
    # cvt and st (tid 0-8: +2); setp, bra; the add for tid >= 16; ret
    assert c.thread_instructions == 32 * 12 + 9 * 2 + 32 * 2 + 16 + 32 == 514
    assert check(HALF, launch, "k") == "counted"


@pytest.mark.parametrize("method", ["slice", "interpret"])
def test_a_register_declared_again_inside_braces_is_the_enclosing_one_as_gpgpu_sim_reads_it(method):
    """GPGPU-Sim skips a declaration of a name an enclosing scope holds (ptxas makes a new register); nvcc's
    __syncthreads_or declares %p1 and %p2 again inside braces. Here the block's %r1 = 0 is the kernel's %r1, so the
    add that reads it after the block runs for no thread: 514 - 16 + 32 (the block's mov) = 530, and a note says so."""
    ptx = HALF.replace("cvt.f32.f16 %f2, high;}", "cvt.f32.f16 %f2, high;\n  .reg .b32 %r1;\n  mov.b32 %r1, 0;}")
    halves = np.zeros((32, 2), np.float16)
    halves[:, 0], halves[:, 1] = np.arange(32), 8
    c = analyze(ptx, {"grid": 1, "block": 32, "args": {0: buffer_from_array(halves)}}, kernel="k", method=method)[0]
    assert c.thread_instructions == 530
    assert any(n.startswith("registers declared again inside braces (%r1) are the enclosing ones") for n in c.notes)


# two sibling blocks, each with its own label DONE (CUTLASS-style inline asm): each branch goes to its block's label
LABELS = HEAD + """
.visible .entry k()
{
\t.reg .b32 %r<3>;
\tmov.u32 %r1, %tid.x;
\t{ .reg .pred p;
\tsetp.lt.u32 p, %r1, 16;
\t@p bra DONE;
\tadd.s32 %r2, %r1, 1;
DONE:
\t}
\t{ .reg .pred p;
\tsetp.lt.u32 p, %r1, 8;
\t@p bra DONE;
\tadd.s32 %r2, %r2, 1;
DONE:
\t}
\tret;
}
"""


@pytest.mark.parametrize("method", ["slice", "interpret"])
def test_labels_declared_inside_braces_are_their_own(method):
    # mov, 2 + 2 (setp, bra of each block), ret = 6 per thread; the first add for tid >= 16, the second for tid >= 8
    # (both branches taken to the last DONE would skip the second block for tid < 16: 192)
    assert analyze(LABELS, {"grid": 1, "block": 32}, kernel="k", method=method)[0].thread_instructions == 232
    assert analyze(format_module(parse(LABELS)), {"grid": 1, "block": 32}, kernel="k")[0].thread_instructions == 232


# a .local variable declared in a brace block is the block's own: it shadows the kernel's n, which sets the loop count
SHADOW = HEAD + """
.visible .entry k()
{
	.reg .pred %p<2>;
	.reg .b32 %r<4>;
	.local .align 4 .b32 n[1];
	mov.u32 %r1, 7;
	st.local.u32 [n], %r1;
	{ .local .align 4 .b32 n[1];
	mov.u32 %r2, 1;
	st.local.u32 [n], %r2;
	}
	ld.local.u32 %r3, [n];
$L_loop:
	sub.s32 %r3, %r3, 1;
	setp.gt.s32 %p1, %r3, 0;
	@%p1 bra $L_loop;
	ret;
}
"""


@pytest.mark.parametrize("method", ["slice", "interpret"])
def test_a_variable_declared_inside_braces_is_the_blocks_own(method):
    # mov, st, mov, st, ld = 5; the kernel's n = 7 turns the loop 7 times (3 each); ret: 27 per thread (one variable
    # for both declarations, the block's store would leave 1 turn: 9)
    assert analyze(SHADOW, {"grid": 1, "block": 32}, kernel="k", method=method)[0].thread_instructions == 32 * 27
    assert analyze(format_module(parse(SHADOW)), {"grid": 1, "block": 32}, kernel="k")[0].thread_instructions == 864


def test_a_variable_declared_twice_in_one_scope_is_refused():
    for where in ("\t.local .align 4 .b32 n[1];\n\tmov.u32 %r1", "\t{ .local .align 4 .b32 n[1];\n"):
        twice = SHADOW.replace(where, where.replace(".local", ".local .b32 n;\n\t.local", 1), 1)
        with pytest.raises(PTXParseError, match=r"^<ptx>:\d+:\d+: n is declared twice in k; rename one$"):
            parse(twice)
    block = "\t{ .local .align 4 .b32 n[1];\n"
    register_first = block.replace(".local .align 4 .b32 n[1];", ".reg .b32 n;\n\t.local .b32 n;")
    for clash in (block + "\t.reg .b32 n;\n", register_first):
        with pytest.raises(PTXParseError, match=r"^<ptx>:\d+:\d+: n is declared twice in k; rename one$"):
            parse(SHADOW.replace(block, clash))


def test_a_register_in_an_inner_block_shadows_an_enclosing_blocks_variable():
    """A block's variable sat in the renames a register's declaration consults, so an inner block's register of its
    name was taken for the variable: 'mov.u32 writes its first operand, which must be a register' (helper-175)."""
    inner = "\t{ .local .align 4 .b32 n[1];\n\t{ .reg .b32 n;\n\tmov.u32 n, 3;\n\t}\n"
    ptx = SHADOW.replace("\t{ .local .align 4 .b32 n[1];\n", inner)
    assert analyze(ptx, {"grid": 1, "block": 32}, kernel="k")[0].thread_instructions == 32 * 28


def test_an_unterminated_call_prototype_is_one_line_not_a_hang():
    with pytest.raises(PTXParseError, match=r"^<ptx>:\d+:\d+: unterminated prototype_0 declaration$"):
        parse(INDIRECT[:INDIRECT.index("prototype_0 :") + 40])


def test_a_label_defined_twice_in_one_scope_is_refused():
    second = "\t{ .reg .pred p;\n\tsetp.lt.u32 p, %r1, 8;"
    outer = LABELS.replace(second, "DONE:\n" + second)
    assert analyze(outer, {"grid": 1, "block": 32}, kernel="k")[0].thread_instructions == 232  # the outer one apart
    with pytest.raises(PTXParseError, match=r"^<ptx>:\d+:\d+: label \$L_end is defined twice in k; rename one$"):
        parse(CALL.replace("$L_end:\n\tret;", "$L_end:\n$L_end:\n\tret;"))
    with pytest.raises(PTXParseError, match=r"^<ptx>:\d+:\d+: label DONE is defined twice in k; rename one$"):
        parse(LABELS.replace("DONE:\n\t}\n\t{", "DONE:\nDONE:\n\t}\n\t{"))


def test_a_tensor_core_instruction_is_counted_by_the_slicer_and_refused_with_the_fix_by_the_interpreter():
    """wmma's per-thread fragment layout is the implementation's: its results are never computed. The slicer counts a
    kernel whose wmma decides no branch (ld.param, cvta, wmma.load, ret: 4 per thread); the interpreter, and the slicer
    of an nvcc -G build (fragments through local memory), said only "unsupported instruction" (probe of 2026-12-08)."""
    ptx = HEAD + (".visible .entry k(.param .u64 k_param_0)\n{\n\t.reg .b32 %r<10>;\n\t.reg .b64 %rd<3>;\n"
                  "\tld.param.u64 %rd1, [k_param_0];\n\tcvta.to.global.u64 %rd2, %rd1;\n"
                  "\twmma.load.a.sync.aligned.row.m16n16k16.global.f16 {%r1, %r2, %r3, %r4, %r5, %r6, %r7, %r8}, "
                  "[%rd2], 16;\n\tret;\n}\n")
    launch = {"grid": 1, "block": 32, "args": {0: buffer_from_array(np.zeros(256, np.float16))}}
    assert analyze(ptx, launch, kernel="k")[0].thread_instructions == 32 * 4
    with pytest.raises(PTXExecutionError, match=r"wmma\.load\.a\S* is a tensor-core instruction, .* method 'slice' "
                                                r"\(the default\).*: compile without -G$"):
        analyze(ptx, launch, kernel="k", method="interpret")


def test_cvt_packs_two_floats_into_f16x2():
    ptx = HEAD + (".visible .entry k()\n{\n\t.reg .pred %p<2>;\n\t.reg .b32 %r<3>;\n"
                  "\t.reg .f32 %f<3>;\n\tmov.f32 %f1, 0f3F800000;\n\tmov.f32 %f2, 0f40000000;\n"
                  "\tcvt.rn.f16x2.f32 %r1, %f1, %f2;\n\tsetp.eq.u32 %p1, %r1, 1006649344;\n\t@%p1 bra $L_end;\n"
                  "\tadd.s32 %r2, %r1, 1;\n$L_end:\n\tret;\n}\n")
    # {f16(1.0) = 0x3C00 high, f16(2.0) = 0x4000 low} = 0x3C004000 = 1006649344: the branch skips the add
    assert analyze(ptx, {"grid": 1, "block": 32}, kernel="k", method="interpret")[0].warp_instructions == 6
    # bf16: {0x3F80, 0x4000}; .relu of f16: {f16(max(-1, 0)) = 0, 0x4000}
    for cvt, packed, first in (("cvt.rn.bf16x2.f32", 0x3F804000, "0f3F800000"),
                               ("cvt.rn.relu.f16x2.f32", 0x00004000, "0fBF800000")):
        other = ptx.replace("cvt.rn.f16x2.f32", cvt).replace("1006649344", str(packed)).replace(
            "mov.f32 %f1, 0f3F800000", f"mov.f32 %f1, {first}")
        assert analyze(other, {"grid": 1, "block": 32}, kernel="k", method="interpret")[0].warp_instructions == 6


def test_nvrtc_output_with_a_noinline_function_and_half_intrinsics_counts():
    """What a user's CUDA compiles to (NVRTC, as the ptx extra installs it): a __noinline__ function called twice per
    thread and cuda_fp16.h's inline asm; both methods agree, the callee's lines are counted, each call once per
    thread that reaches it (100 of the 128 launched)."""
    from hwaware.ptx.compile import CompilerMissingError, nvrtc_compile
    src = r'''
#include <cuda_fp16.h>
__device__ __noinline__ float act(int kind, float v) {
  switch (kind) { case 0: return v > 0 ? v : 0; case 1: return v / (1 + __expf(-v)); default: return v; }
}
extern "C" __global__ void k(half2* x, const int* kinds, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x; if (i >= n) return;
  float2 f = __half22float2(x[i]);
  f.x = act(kinds[i % 4], f.x); f.y = act(kinds[(i + 1) % 4], f.y);
  x[i] = __float22half2_rn(f);
}
'''
    try:
        ptx = nvrtc_compile(src, arch="sm_80")
    except CompilerMissingError:
        pytest.skip("NVRTC (the ptx extra) is not installed")
    assert ptx.count("call.uni") == 2 and ".reg .f16 low" in ptx
    launch = {"grid": 2, "block": 64, "args": {0: buffer_from_array(None, 400),
                                               1: buffer_from_array(np.array([0, 1, 2, 3], np.int32)), 2: 100}}
    assert check(ptx, launch, "k") == "counted"
    c = analyze(ptx, launch, kernel="k")[0]
    lines = ptx.splitlines()
    calls = [n for n, line in enumerate(lines, 1) if "call.uni" in line]
    assert [c.per_line[n] for n in calls] == [100, 100]
    func_start = next(n for n, line in enumerate(lines, 1) if line.startswith(".func"))
    entry_start = next(n for n, line in enumerate(lines, 1) if ".entry" in line)
    assert sum(v for n, v in c.per_line.items() if func_start < n < entry_start) >= 2 * 100 * 4  # the callee's body



# a __constant__ loop bound the host sets and an initialized __device__ threshold (2.0f)
VARIABLES = HEAD + """
.const .align 4 .u32 c_taps;
.global .align 4 .f32 g_thr = 0f40000000;
.visible .entry k()
{
\t.reg .pred %p<3>;
\t.reg .b32 %r<5>;
\t.reg .f32 %f<3>;
\tmov.u32 %r1, %tid.x;
\tld.const.u32 %r2, [c_taps];
\tmov.u32 %r3, 0;
$L_loop:
\tsetp.ge.u32 %p1, %r3, %r2;
\t@%p1 bra $L_done;
\tadd.s32 %r3, %r3, 1;
\tbra.uni $L_loop;
$L_done:
\tld.global.f32 %f1, [g_thr];
\tcvt.rn.f32.u32 %f2, %r1;
\tsetp.lt.f32 %p2, %f2, %f1;
\t@%p2 bra $L_end;
\tadd.s32 %r4, %r1, 1;
$L_end:
\tret;
}
"""


@pytest.mark.parametrize("method", ["slice", "interpret"])
def test_module_variables_hold_their_initializer_zeros_or_what_the_host_sets(method):
    """__device__ and __constant__ variables (module .global/.const) live in global memory: their initializer's
    contents, zeros where there is none (as PTX initializes them), or what an argument of their name gives (the
    host's cudaMemcpyToSymbol). Per thread: 3 + 4 per loop trip + 2 + 4 + ret = 10 + 4 x c_taps, and the add where
    tid >= g_thr (2.0): 30 threads."""
    one_warp = {"grid": 1, "block": 32}
    c = analyze(VARIABLES, one_warp, kernel="k", method=method)[0]
    assert c.thread_instructions == 32 * 10 + 30
    assert any(n.startswith("module variables without an initializer read as zeros, as PTX initializes them: "
                            "c_taps;") for n in c.notes)
    for taps in (3, 3.0, buffer_from_array(np.array([3], np.uint32))):
        given = analyze(VARIABLES, {**one_warp, "args": {"c_taps": taps}}, kernel="k", method=method)[0]
        assert given.thread_instructions == 32 * 22 + 30
    again = format_module(parse(VARIABLES))
    assert "= 0f40000000;" in again and analyze(again, one_warp, kernel="k")[0].thread_instructions == 350


def test_the_fuzzers_shortcut_report_takes_module_variables_as_analyze_does():
    """shortcuts_fired launched the kernel without the module's variables, refusing an argument of a variable's name
    that analyze takes (until 2026-12-08). Four CTAs that differ only in %ctaid, which the kernel never reads."""
    from hwaware.ptx.fuzz import shortcuts_fired

    assert shortcuts_fired(VARIABLES, {"grid": 4, "block": 32, "args": {"c_taps": 40}}) == {"free_dims"}


def test_a_module_variable_given_wrongly_is_refused_in_one_line():
    from hwaware.errors import InvalidArgumentError
    from hwaware.ptx.engine import variable_bytes
    from hwaware.ptx.parser import Variable

    with pytest.raises(InvalidArgumentError, match=r"^c_taps is a \.u32 variable: pass a whole number, got 2\.5$"):
        analyze(VARIABLES, {"grid": 1, "block": 32, "args": {"c_taps": 2.5}}, kernel="k")
    with pytest.raises(InvalidArgumentError, match=r"^g_thr holds 4 bytes; the buffer given has 2: pass all of them$"):
        analyze(VARIABLES, {"grid": 1, "block": 32, "args": {"g_thr": buffer_from_array(None, 2)}}, kernel="k")
    table = Variable("global", "t", ".s16", 4, init=("1", "-2", "0x7FFF"))  # the fourth element zero
    assert variable_bytes(table).view(np.int16).tolist() == [1, -2, 32767, 0]


def test_module_variable_initializers_parse_as_nvcc_and_ptxas_write_them():
    """helper-174: a scalar initializer of two tokens (-3) stopped the parse of every kernel in the module; a vector
    variable was sized as one lane; 1.5E3 read as zeros; an unsized array sized by its initializer was refused."""
    from hwaware.ptx.engine import variable_bytes

    text = HEAD + (".global .align 4 .s32 neg = -3;\n.global .align 4 .f32 big = 1.5E3;\n"
                   ".global .align 16 .v4 .u32 lanes = {1, 2, 3, 4};\n.global .align 2 .s16 grid[2][2] = {{1, -2}, "
                   "{0x7FFF, 4}};\n.const .align 4 .u32 sized[] = {5, 6, 7};\n"
                   ".global .align 8 .f64 half = 0f3F000000;\n"
                   ".visible .entry k()\n{\n\tret;\n}\n")
    got = {v.name: variable_bytes(v) for v in parse(text).variables}
    assert got["neg"].view(np.int32).tolist() == [-3] and got["big"].view(np.float32).tolist() == [1500.0]
    assert got["lanes"].view(np.uint32).tolist() == [1, 2, 3, 4] and got["sized"].view(np.uint32).tolist() == [5, 6, 7]
    assert got["grid"].view(np.int16).tolist() == [1, -2, 32767, 4] and got["half"].view(np.float64).tolist() == [0.5]
    assert analyze(format_module(parse(text)), {"grid": 1, "block": 32}, kernel="k")[0].warp_instructions == 1


@pytest.mark.parametrize("variables, args, message", [
    # an address nvcc writes for `__device__ int *p = &x;`: not placed, refused where the kernel reads it
    (".global .align 4 .u32 x;\n.global .align 8 .u64 p = generic(x);\n", {},
     r"^p is initialized with generic\(x\), an address, which the analyzer does not place: pass its contents"),
    (".global .align 4 .b8 p[8];\n", {"p": 3}, r"^p is an array of 8 bytes: pass its contents as a buffer"),
    (".global .align 8 .u64 p;\n", {"p": 2.5}, r"^p is a \.u64 variable: pass a whole number, got 2\.5$"),
    (".global .align 8 .u64 p;\n", {"p": "3"}, r"^p: pass a number or a buffer, not str$"),
    (".extern .global .align 8 .b8 p[];\n", {}, r"^p is an array of unknown size defined in another module: pass"),
])
def test_module_variables_that_cannot_be_read_are_refused_in_one_line(variables, args, message):
    from hwaware.errors import InvalidArgumentError

    text = HEAD + variables + ".visible .entry k()\n{\n\t.reg .b64 %rd<2>;\n\tld.global.u64 %rd1, [p];\n\tret;\n}\n"
    with pytest.raises(InvalidArgumentError, match=message):
        analyze(text, {"grid": 1, "block": 32, "args": args}, kernel="k")


def test_a_name_of_both_a_parameter_and_a_module_variable_is_refused():
    from hwaware.errors import InvalidArgumentError

    text = HEAD + (".global .align 4 .u32 n;\n.visible .entry k(\n\t.param .u32 k_param_n\n)\n{\n\t.reg .b32 %r<3>;\n"
                   "\tld.global.u32 %r1, [n];\n\tld.param.u32 %r2, [k_param_n];\n\tret;\n}\n")
    with pytest.raises(InvalidArgumentError, match=r"^n names a kernel parameter and a module variable"):
        analyze(text, {"grid": 1, "block": 32, "args": {0: 1, "n": 3}}, kernel="k")
