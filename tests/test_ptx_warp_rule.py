"""GPGPU-Sim's warp-level counts of vector loads that hit in L1 (issue 10, part 1).

The rule. GPGPU-Sim counts a warp instruction when it completes: ``shader_core_ctx::warp_inst_complete``
adds 1 to ``m_num_sim_winsn`` (printed as ``gpgpu_n_tot_w_icount``, our warp count) and
``inst.active_count()`` (the guard-true lanes: ``ptx_exec_inst`` removed the predicated-off ones with
``set_not_active``) to ``gpu_sim_insn`` (our guard-true count). A global/local load through the L1 has
``m_pending_writes[warp][reg] += n_accesses`` for each destination register (``ldst_unit::issue``).
Misses complete in ``ldst_unit::writeback``, which sets ``insn_completed`` in its loop over the
registers and calls ``warp_inst_complete`` once after it. Hits complete in
``ldst_unit::L1_latency_queue_cycle``, which calls ``m_core->warp_inst_complete(mf_next->get_inst())``
*inside* ``for (r = 0; r < MAX_OUTPUT_VALUES; r++)``, once for every register whose count reaches 0.
So a ``ld.v2`` (``ld.v4``) whose accesses all hit is counted 2 (4) times in the warp and guard-true
counts; the thread and per-line counts (``ptx_exec_inst``, functional) see it once. The SIMT stack
(``simt_stack::update``) needs no correction: the engine issues the same warp instructions with the same
masks (a taken branch to its own reconvergence point included: its lanes wait in the reconvergence entry).

Which accesses hit: 32-byte sectors (``memory_coalescing_arch``, coalescing arch 86), global loads cached
(``-gpgpu_gmem_skip_L1D 0``), ``.cg`` bypasses L1 (``CACHE_GLOBAL``), an access to a sector whose fill
is still outstanding joins the MSHR (``HIT_RESERVED``) and completes through the miss path. A warp's
load has returned when the warp issues an instruction that reads or writes its destination registers
(scoreboard); other warps see the sectors after the next barrier (:class:`hwaware.ptx.engine.L1Sectors`).

On the TVM fused conv2d + bias + ReLU kernel of the issue (sm_80, stride 2, padding 1, one (8, 16, 1)
block) this is exactly GPGPU-Sim's difference: 16 warp instructions and 448 guard-true lanes (with nvcc's
PTX: 8,554 warp and 261,228 guard-true instructions, as GPGPU-Sim counted).
"""
from __future__ import annotations

import re

import pytest

from hwaware.ptx import analyze, buffer_from_array

METHODS = ["interpret", "slice"]

HEADER = ".version 9.0\n.target sm_80\n.address_size 64\n\n"

# Every case of the rule, straight-line code, one CTA of 2 warps (64 threads, 16 bytes each of w[0:1024]:
# lanes 2j and 2j+1 share a 32-byte sector). Instructions are numbered in the comments.
L1_CASES = HEADER + """.visible .entry l1_cases(
	.param .u64 l1_cases_param_0
)
{
	.reg .pred 	%p<2>;
	.reg .b32 	%r<3>;
	.reg .f32 	%f<21>;
	.reg .b64 	%rd<7>;

	ld.param.u64 	%rd1, [l1_cases_param_0];
	cvta.to.global.u64 	%rd2, %rd1;
	mov.u32 	%r1, %tid.x;
	mul.wide.u32 	%rd3, %r1, 16;
	add.s64 	%rd4, %rd2, %rd3;
	xor.b32 	%r2, %r1, 32;
	mul.wide.u32 	%rd5, %r2, 16;
	add.s64 	%rd6, %rd2, %rd5;
	setp.lt.u32 	%p1, %r1, 8;
	ld.global.nc.v2.f32 	{%f1, %f2}, [%rd4];
	ld.global.nc.v2.f32 	{%f3, %f4}, [%rd4+8];
	add.f32 	%f5, %f1, %f2;
	ld.global.nc.v4.f32 	{%f6, %f7, %f8, %f9}, [%rd4];
	ld.global.cg.v2.f32 	{%f10, %f11}, [%rd4];
	@%p1 ld.global.nc.v2.f32 	{%f12, %f13}, [%rd4+8];
	ld.global.nc.f32 	%f14, [%rd4+1024];
	add.f32 	%f15, %f14, %f5;
	ld.global.nc.v2.f32 	{%f16, %f17}, [%rd4+1032];
	bar.sync 	0;
	ld.global.nc.v2.f32 	{%f18, %f19}, [%rd6];
	add.f32 	%f20, %f18, %f19;
	ret;

}
"""
# 1-9 prologue (%rd4 = own 16 bytes, %rd6 = the other warp's, %p1 = tid < 8), then per warp:
# 10 ld.v2 [own]        first access to these sectors: miss                          -> 1 completion
# 11 ld.v2 [own+8]      same sectors, 10 still in flight (nothing used %f1/%f2 yet)  -> 1 (HIT_RESERVED)
# 12 add %f1, %f2       the scoreboard waits for 10: its sectors are filled
# 13 ld.v4 [own]        every access hits                                            -> 4 completions: +3
# 14 ld.cg.v2 [own]     .cg bypasses L1                                              -> 1
# 15 @p ld.v2 [own+8]   warp 0: lanes 0-7 run and hit -> 2 completions of 8 lanes: +1 warp, +8 lanes;
#                       warp 1: no lane runs, no access -> 1 completion of 0 lanes
# 16 ld.f32 [own+1024]  scalar: one destination register, 1 completion (it fetches its sectors)
# 17 add %f14           waits for 16
# 18 ld.v2 [own+1032]   the sectors 16 fetched                                       -> 2: +1
# 19 bar.sync           the other warp's filled sectors become valid for this warp
# 20 ld.v2 [other]      the sectors the other warp's 10 fetched (used at its 12)     -> 2: +1
# 21 add, 22 ret
# thread = 22 instructions x 64 threads = 1408; warp = 22 x 2 = 44, + 3 x 2 (13) + 1 (15) + 2 (18) + 2 (20) = 55
# guard-false: 15 is guarded, 24 lanes of warp 0 and 32 of warp 1 are off: 56
# guard-true = 1408 - 56 + 3 x 64 (13) + 8 (15) + 64 (18) + 64 (20) = 1680
L1_CASES_COUNTS = (1408, 55, 1680)
L1_CASES_REPEATS = (11, 328)


@pytest.mark.parametrize("method", METHODS)
def test_every_case_of_the_vector_load_rule(method):
    launch = {"grid": (1, 1, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 2048)}}
    r = analyze(L1_CASES, launch, method=method)[0]
    assert (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true) == L1_CASES_COUNTS
    assert (r.l1_repeat_warp_instructions, r.l1_repeat_lanes) == L1_CASES_REPEATS
    assert any("vector loads that hit in L1" in n for n in r.notes)
    assert set(r.per_line.values()) == {64}  # thread and per-line counts see every load once


# The shape, by hand: one CTA of 2 warps stages a padded input tile and a weight tile into shared
# memory in two groups separated by bar.sync. In each group three guarded branches (the padding checks)
# jump to the same label L, which is their immediate post-dominator; the weights are loaded twice with
# ld.v2 from the same sectors (w + 8t: 8 bytes per thread, lanes 4j ... 4j+3 share a sector), the second
# time after st.shared used the first: a hit.
PAD_STAGE = HEADER + """.visible .entry pad_stage(
	.param .u64 pad_stage_param_0,
	.param .u64 pad_stage_param_1
)
{
	.reg .pred 	%p<7>;
	.reg .b32 	%r<10>;
	.reg .f32 	%f<11>;
	.reg .b64 	%rd<9>;
	.shared .align 16 .b8 tile[256];
	.shared .align 16 .b8 wt[1024];

	ld.param.u64 	%rd1, [pad_stage_param_0];
	ld.param.u64 	%rd2, [pad_stage_param_1];
	cvta.to.global.u64 	%rd3, %rd1;
	cvta.to.global.u64 	%rd4, %rd2;
	mov.u32 	%r1, %tid.x;
	mul.wide.u32 	%rd5, %r1, 4;
	add.s64 	%rd6, %rd3, %rd5;
	mul.wide.u32 	%rd7, %r1, 8;
	add.s64 	%rd8, %rd4, %rd7;
	and.b32 	%r2, %r1, 7;
	and.b32 	%r3, %r1, 3;
	mov.u32 	%r4, tile;
	shl.b32 	%r5, %r1, 2;
	add.s32 	%r6, %r4, %r5;
	mov.u32 	%r7, wt;
	shl.b32 	%r8, %r1, 3;
	add.s32 	%r9, %r7, %r8;
	mov.f32 	%f1, 0f00000000;
	setp.eq.u32 	%p1, %r2, 0;
	@%p1 bra 	$L__G1;
	setp.eq.u32 	%p2, %r2, 7;
	@%p2 bra 	$L__G1;
	setp.ge.u32 	%p3, %r1, 60;
	@%p3 bra 	$L__G1;
	ld.global.nc.f32 	%f1, [%rd6];
$L__G1:
	st.shared.f32 	[%r6], %f1;
	ld.global.nc.v2.f32 	{%f2, %f3}, [%rd8];
	st.shared.v2.f32 	[%r9], {%f2, %f3};
	ld.global.nc.v2.f32 	{%f4, %f5}, [%rd8];
	st.shared.v2.f32 	[%r9+512], {%f4, %f5};
	bar.sync 	0;
	mov.f32 	%f6, 0f00000000;
	setp.ge.u32 	%p4, %r1, 48;
	@%p4 bra 	$L__G2;
	setp.eq.u32 	%p5, %r3, 1;
	@%p5 bra 	$L__G2;
	setp.lt.u32 	%p6, %r1, 2;
	@%p6 bra 	$L__G2;
	ld.global.nc.f32 	%f6, [%rd6];
$L__G2:
	st.shared.f32 	[%r6], %f6;
	ld.global.nc.v2.f32 	{%f7, %f8}, [%rd8+512];
	st.shared.v2.f32 	[%r9], {%f7, %f8};
	ld.global.nc.v2.f32 	{%f9, %f10}, [%rd8+512];
	st.shared.v2.f32 	[%r9+512], {%f9, %f10};
	bar.sync 	0;
	ret;

}
"""
# Blocks of a group: B0 = mov, setp, @bra (3); B1 = setp, @bra (2); B2 = setp, @bra (2); B3 = ld (1);
# L = st, ld.v2, st.v2, ld.v2, st.v2, bar (6). The prologue is 17 instructions, ret 1.
# A lane taken at check 1 runs 3 + 6 = 9, at check 2 11, at check 3 13, an interior lane 14 per group.
# Group 1, checks t%8 == 0, t%8 == 7, t >= 60:
#   warp 0: 4 + 4 + 0 taken, 24 interior: 36 + 44 + 336 = 416; warp 1: 4 + 4 + 3 (60, 61, 62), 21: 36+44+39+294 = 413
# Group 2, checks t >= 48, t%4 == 1, t < 2:
#   warp 0: 0 + 8 + 1 (t = 0), 23 interior: 88 + 13 + 322 = 423; warp 1: 16 + 4 + 0, 12: 144 + 44 + 168 = 356
# thread = 64 x (17 + 1) + 829 + 779 = 2760.
# Warp level (IPDOM reconvergence at L): every warp issues B0 B1 B2 B3 L of both groups (some lane reaches each):
#   per warp 17 + 14 + 14 + 1 = 46, two warps 92; the second ld.v2 of each group hits: +1 per warp and group = 96.
# Guard-false (lanes in a branch's mask that fall through): group 1: warp 0 28 + 24 + 24, warp 1 28 + 24 + 21;
#   group 2: warp 0 32 + 24 + 23, warp 1 16 + 12 + 12; total 268.
# guard-true = 2760 - 268 + 4 hits x 32 lanes = 2620.
PAD_STAGE_COUNTS = (2760, 96, 2620)


@pytest.mark.parametrize("method", METHODS)
def test_padding_checks_and_vector_loads_by_hand(method):
    launch = {"grid": (1, 1, 1), "block": (64, 1, 1),
              "args": {0: buffer_from_array(None, 256), 1: buffer_from_array(None, 1024)}}
    r = analyze(PAD_STAGE, launch, method=method)[0]
    assert (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true) == PAD_STAGE_COUNTS
    assert (r.l1_repeat_warp_instructions, r.l1_repeat_lanes) == (4, 128)
    lines = PAD_STAGE.splitlines()
    line = {text.strip(): n + 1 for n, text in enumerate(lines)}
    # the chain of group 1: every lane reaches check 1, 56 check 2, 48 check 3, 45 the load; all reconverge at L
    assert [r.per_line[line[x]] for x in ("@%p1 bra \t$L__G1;", "@%p2 bra \t$L__G1;", "@%p3 bra \t$L__G1;")] \
        == [64, 56, 48]
    assert r.per_line[line["ld.global.nc.f32 \t%f1, [%rd6];"]] == 45
    assert r.per_line[line["st.shared.f32 \t[%r6], %f1;"]] == 64
    # the vector loads count once per thread whatever their completions
    assert r.per_line[line["ld.global.nc.v2.f32 \t{%f4, %f5}, [%rd8];"]] == 64


# Validity that needs the scoreboard or a barrier, over several CTAs and partial warps, with the loads in divergent
# paths and a loop: the slicer (lock-step over the whole launch) and the reference interpreter (warp by warp) agree.
DIVERGENT = HEADER + """.visible .entry divergent_vec(
	.param .u64 divergent_vec_param_0,
	.param .u32 divergent_vec_param_1
)
{
	.reg .pred 	%p<4>;
	.reg .b32 	%r<8>;
	.reg .f32 	%f<12>;
	.reg .b64 	%rd<6>;

	ld.param.u64 	%rd1, [divergent_vec_param_0];
	ld.param.u32 	%r1, [divergent_vec_param_1];
	cvta.to.global.u64 	%rd2, %rd1;
	mov.u32 	%r2, %tid.x;
	and.b32 	%r3, %r2, 15;
	mul.wide.u32 	%rd3, %r3, 16;
	add.s64 	%rd4, %rd2, %rd3;
	mov.f32 	%f1, 0f00000000;
	mov.u32 	%r4, 0;
	and.b32 	%r5, %r2, 3;
	add.u32 	%r6, %r5, %r1;
	setp.lt.u32 	%p1, %r2, 40;
$L__loop:
	@%p1 bra 	$L__a;
	ld.global.nc.v4.f32 	{%f2, %f3, %f4, %f5}, [%rd4];
	add.f32 	%f1, %f1, %f2;
	bra.uni 	$L__join;
$L__a:
	ld.global.nc.v2.f32 	{%f6, %f7}, [%rd4+8];
$L__join:
	add.f32 	%f1, %f1, %f6;
	add.u32 	%r4, %r4, 1;
	setp.lt.u32 	%p3, %r4, %r6;
	@%p3 bra 	$L__loop;
	bar.sync 	0;
	ld.global.nc.v2.f32 	{%f8, %f9}, [%rd4];
	ret;

}
"""


@pytest.mark.parametrize("block,grid,trips", [(64, 1, 2), (48, 3, 1), (96, 2, 3), (40, 2, 2)])
def test_slicer_equals_interpreter_with_vector_loads(block, grid, trips):
    launch = {"grid": (grid, 1, 1), "block": (block, 1, 1), "args": {0: buffer_from_array(None, 256), 1: trips}}
    i = analyze(DIVERGENT, launch, method="interpret")[0]
    s = analyze(DIVERGENT, launch, method="slice")[0]
    assert (s.thread_instructions, s.warp_instructions, s.thread_instructions_guard_true, s.per_line) == \
        (i.thread_instructions, i.warp_instructions, i.thread_instructions_guard_true, i.per_line)
    assert (s.l1_repeat_warp_instructions, s.l1_repeat_lanes) == (i.l1_repeat_warp_instructions, i.l1_repeat_lanes)
    assert i.l1_repeat_warp_instructions > 0


def test_kernels_without_vector_loads_are_unchanged():
    """The corpus has no vector load through L1 (its exactness is tested in test_ptx.py): nothing is repeated."""
    from hwaware.datasets.ptx_golden import load_golden_cases

    from hwaware.ptx import parse
    from hwaware.ptx.slicer import vector_l1_loads

    for c in load_golden_cases():
        assert not any(vector_l1_loads(fn) for fn in parse(c.ptx_path.read_text()).functions), c.id


def _conv_bias_relu():
    """Conv2d(8, 16, 3, stride 2, padding 1) + bias + ReLU: the issue's layer (c2 of the golden corpus's CNN)."""
    import torch

    class ConvBiasRelu(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)

        def forward(self, x):
            return torch.relu(self.conv(x))

    return ConvBiasRelu()


@pytest.fixture(scope="module")
def conv_layer():
    pytest.importorskip("tvm", reason="optional extra hwaware[ptx] not installed")
    from hwaware.ptx.compile import compile_network

    net = compile_network(_conv_bias_relu(), (8, 8, 8), arch="sm_80")
    (launch,) = [l for l in net.launches if "conv2d" in l.kernel]
    args = {k: buffer_from_array(None, n) for k, n in launch.args.items()}
    return net, launch, {"grid": launch.grid, "block": launch.block, "args": args}


def test_tvm_fused_conv_bias_relu_stride2(conv_layer):
    """The issue's kernel through the compile path (torch.export -> TVM -> NVRTC) on (1, 8, 8, 8), one (8, 16, 1)
    block. Structure: groups of three guarded branches to one label (the padding checks of the staging loop)
    separated by bar.sync, and ld.v2 weight loads.

    Derivation of the repeats: only warp 0 (tid.y < 4) stages weights, 16 rows of 72 floats, 64 bytes of each
    row per iteration of the 5-iteration loop as 4 ld.v2 (lanes 2r and 2r+1 read row r's two sectors). The
    first ld.v2 of an iteration touches new sectors (miss); st.shared uses its registers before the next, so
    the other three hit: 3 repeats per iteration, of 32 lanes in iterations 1-4 and 16 in the last (8 of the
    72 floats are left: the odd lanes are off). The bias (16 floats) is read after the loop by 16 lanes as two
    ld.v2 of the same sectors with an add between: the second hits. 4 x 3 + 3 + 1 = 16 warp instructions,
    4 x 3 x 32 + 3 x 16 + 16 = 448 lanes."""
    net, launch, spec = conv_layer
    assert (launch.grid, launch.block) == ((1, 1, 1), (8, 16, 1))
    body = net.ptx[net.ptx.index(f".entry {launch.kernel}"):]
    body = body[:body.index("\n}\n")]
    branches = re.findall(r"@%p\d+ bra\s+(\S+);", body)
    chains = [b for k, b in enumerate(branches[:-2]) if branches[k + 1] == b == branches[k + 2]]
    assert len(chains) >= 4 and "bar.sync" in body and "ld.global.nc.v2.f32" in body
    results = [analyze(net.ptx, spec, kernel=launch.kernel, method=m)[0] for m in METHODS]
    for r in results:
        assert (r.l1_repeat_warp_instructions, r.l1_repeat_lanes) == (16, 448)
    i, s = results
    assert (s.thread_instructions, s.warp_instructions, s.thread_instructions_guard_true, s.per_line) == \
        (i.thread_instructions, i.warp_instructions, i.thread_instructions_guard_true, i.per_line)


def test_nvcc_ptx_of_the_layer_counts_as_gpgpu_sim(conv_layer, tmp_path):
    """With the corpus's compiler (nvcc 13.0, -O3 -arch=compute_80) the layer's PTX is the kernel the issue
    measured: GPGPU-Sim counted 264,676 thread, 8,554 warp and 261,228 guard-true instructions."""
    import shutil
    import subprocess

    nvcc = shutil.which("nvcc")
    if nvcc is None or "release 13.0" not in subprocess.run([nvcc, "--version"], capture_output=True,
                                                            text=True).stdout:
        pytest.skip("nvcc 13.0 (the golden corpus's compiler) not installed")
    net, launch, spec = conv_layer
    (tmp_path / "k.cu").write_text(net.cuda_source)
    subprocess.run([nvcc, "-O3", "-arch=compute_80", "-ptx", str(tmp_path / "k.cu"), "-o", str(tmp_path / "k.ptx")],
                   check=True, capture_output=True)
    for method in METHODS:
        r = analyze(tmp_path / "k.ptx", spec, kernel=launch.kernel, method=method)[0]
        assert (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true) == \
            (264_676, 8_554, 261_228)
        assert (r.l1_repeat_warp_instructions, r.l1_repeat_lanes) == (16, 448)  # 8,538 and 260,780 without them


# Two buffers: vector loads read param_0 only. The scalar load of param_0 is tracked (the first vector load, after
# the add used it, hits its sectors: +1 per warp; the second reads new sectors: a miss); the scalar load of param_1
# fetches sectors no vector load reads: not tracked. 2 CTAs x 2 warps: 4 repeats of 32 lanes.
TWO_BUFFERS = HEADER + """.visible .entry two_buffers(
	.param .u64 two_buffers_param_0,
	.param .u64 two_buffers_param_1
)
{
	.reg .b32 	%r<2>;
	.reg .f32 	%f<9>;
	.reg .b64 	%rd<8>;

	ld.param.u64 	%rd1, [two_buffers_param_0];
	ld.param.u64 	%rd2, [two_buffers_param_1];
	cvta.to.global.u64 	%rd3, %rd1;
	cvta.to.global.u64 	%rd4, %rd2;
	mov.u32 	%r1, %tid.x;
	mul.wide.u32 	%rd5, %r1, 8;
	add.s64 	%rd6, %rd3, %rd5;
	add.s64 	%rd7, %rd4, %rd5;
	ld.global.f32 	%f1, [%rd7];
	ld.global.f32 	%f2, [%rd6];
	add.f32 	%f3, %f1, %f2;
	ld.global.v2.f32 	{%f4, %f5}, [%rd6];
	add.f32 	%f6, %f4, %f5;
	ld.global.v2.f32 	{%f7, %f8}, [%rd6+512];
	ret;

}
"""


@pytest.mark.parametrize("method", METHODS)
def test_pruning_untracked_loads_changes_no_count(method, monkeypatch):
    """tracked_l1_loads leaves out loads no vector load can hit; counting with every L1 load tracked must agree."""
    from hwaware.ptx import analysis, engine, slicer
    from hwaware.ptx.parser import parse

    fn = parse(TWO_BUFFERS).functions[0]
    assert len(slicer.tracked_l1_loads(fn)) < len(slicer.l1_loads(fn))  # something is pruned: not a vacuous check
    cases = [(TWO_BUFFERS, {"grid": (2, 1, 1), "block": (64, 1, 1),
                            "args": {0: buffer_from_array(None, 1024), 1: buffer_from_array(None, 1024)}}),
             (L1_CASES, {"grid": (1, 1, 1), "block": (64, 1, 1), "args": {0: buffer_from_array(None, 2048)}})]

    def counts() -> list[tuple]:
        analysis._prepare_text.cache_clear()
        analysis._parse_text.cache_clear()
        out = []
        for text, launch in cases:
            r = analyze(text, launch, method=method)[0]
            out.append((r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true,
                        r.l1_repeat_warp_instructions, r.l1_repeat_lanes))
        return out

    pruned = counts()
    monkeypatch.setattr(slicer, "tracked_l1_loads", slicer.l1_loads)
    monkeypatch.setattr(engine, "tracked_l1_loads", slicer.l1_loads)
    assert counts() == pruned
    assert pruned[0][3:] == (4, 4 * 32)


def test_l1_key_set_is_a_set():
    """The L1 model's numpy hash set (batched linear probing) against Python's set: colliding keys (a small table
    grown while filled), duplicates within a batch, clearing, and the keys it holds."""
    import numpy as np

    from hwaware.ptx.engine import _KeySet

    rng = np.random.default_rng(0)
    keys, reference = _KeySet(bits=2), set()
    for step in range(60):
        batch = rng.integers(0, 1 << 12, size=int(rng.integers(0, 300))) << int(rng.integers(0, 40))
        if step % 3 == 0:
            queries = np.concatenate([batch, rng.integers(0, 1 << 52, size=50)])
            assert keys.contains(queries).tolist() == [int(q) in reference for q in queries]
        keys.add(np.concatenate([batch, batch[:10]]))
        reference.update(batch.tolist())
        if step == 30:
            keys.clear()
            reference.clear()
        assert sorted(keys.array().tolist()) == sorted(reference)
