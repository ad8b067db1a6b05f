"""PTX analyzer under hostile and random input: warp-issue rules on hand-written kernels with counts
derived by hand, slicer == interpreter on random valid kernels (hypothesis, fixed seeds), mutation
fuzzing of corpus PTX (counts or a located PTXError, never another exception), ``--arg`` names."""
from __future__ import annotations

import collections
import random
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwaware.cli import main
from hwaware.datasets.ptx_golden import golden_root, load_golden_cases
from hwaware.errors import InvalidArgumentError, PTXError, PTXExecutionError, PTXParseError, StepLimitError
from hwaware.ptx import analyze, buffer_from_array, parse
from hwaware.ptx.fuzz import (SHORTCUTS, check, counts_of, hostile_launch, mutate, random_call_kernel,
                              random_grid_kernel, random_kernel, shortcuts_fired)

HEADER = ".version 9.0\n.target sm_80\n.address_size 64\n"

# Three successive guarded branches to one label L (TVM's padding checks), one warp of 32 lanes.
# L is the immediate post-dominator of all three branch blocks.
PADDING = HEADER + """.visible .entry pad3(
	.param .u64 pad3_param_0,
	.param .u32 pad3_param_1
)
{
	.reg .pred %p<4>;
	.reg .b32 %r<4>;
	.reg .f32 %f<2>;
	.reg .b64 %rd<4>;

	ld.param.u64 %rd1, [pad3_param_0];
	ld.param.u32 %r3, [pad3_param_1];
	mov.u32 %r1, %tid.x;
	mov.f32 %f1, 0f00000000;
	setp.lt.u32 %p1, %r1, 4;
	@%p1 bra $L_pad;
	setp.ge.u32 %p2, %r1, %r3;
	@%p2 bra $L_pad;
	and.b32 %r2, %r1, 7;
	setp.eq.u32 %p3, %r2, 7;
	@%p3 bra $L_pad;
	cvta.to.global.u64 %rd2, %rd1;
	mul.wide.u32 %rd3, %r1, 4;
	add.s64 %rd2, %rd2, %rd3;
	ld.global.f32 %f1, [%rd2];
$L_pad:
	add.f32 %f1, %f1, %f1;
	ret;
}
"""


def _pad3(bound: int):
    launch = {"grid": (1, 1, 1), "block": (32, 1, 1), "args": {0: buffer_from_array(np.zeros(32, np.float32)), 1: bound}}
    return [analyze(PADDING, launch, method=m)[0] for m in ("slice", "interpret")]


def test_padding_branches_to_the_reconvergence_point_issue_nothing_there():
    """Blocks: B0 = 6 instructions (ld, ld, mov, mov, setp, bra), B1 = 2, B2 = 3, B3 = 4 (the load), L = 2.

    With bound 28: B0's branch is taken by lanes 0-3 (4 lanes), 28 fall through to B1; B1's by lanes 28-31,
    24 fall through; B2's by lanes with tid % 8 == 7 among 4..27 (7, 15, 23), 21 reach B3. Taken lanes
    jump to L, which is the reconvergence point of the branch (GPGPU-Sim's simt_stack::update drops a
    path whose next PC is the reconvergence PC: nothing is issued for it before the warp reconverges),
    and L issues once for all 32 lanes.
      thread     = 6*32 + 2*28 + 3*24 + 4*21 + 2*32 = 192 + 56 + 72 + 84 + 64 = 468
      warp       = 6 + 2 + 3 + 4 + 2 = 17 (one issue per block visit)
      guard-true = thread - fall-through lanes of the three branches = 468 - (28 + 24 + 21) = 395
    """
    for r in _pad3(28):
        assert (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true) == (468, 17, 395)
        assert r.per_line[PADDING.split("\n").index("\tadd.f32 %f1, %f1, %f1;") + 1] == 32


def test_uniformly_taken_branch_to_the_reconvergence_point():
    """Bound 4: B1's branch is taken by all 28 lanes that reach it, so B2 and B3 never issue and the
    warp is whole again at L (a uniform jump to the reconvergence point pushes nothing).
      thread = 6*32 + 2*28 + 2*32 = 312; warp = 6 + 2 + 2 = 10; guard-true = 312 - 28 (B0's fall-through) = 284
    """
    for r in _pad3(4):
        assert (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true) == (312, 10, 284)


REDEFINED_GUARD = HEADER + """.visible .entry guard2()
{
	.reg .pred %p<2>;
	.reg .b32 %r<4>;

	mov.u32 %r1, %tid.x;
	setp.lt.u32 %p1, %r1, 8;
	@%p1 add.s32 %r2, %r1, 1;
	setp.lt.u32 %p1, %r1, 24;
	@%p1 add.s32 %r3, %r1, 1;
	ret;
}
"""


def test_guard_is_read_at_its_instruction_not_at_the_end_of_the_block():
    """One block of 6 instructions, 32 lanes: 192 thread, 6 warp instructions. The first guarded add
    sees %p1 = tid < 8 (24 lanes false), the second the redefined %p1 = tid < 24 (8 lanes false):
    guard-true = 192 - 24 - 8 = 160. (Reading both guards after the block gave 192 - 8 - 8 = 176.)"""
    for m in ("slice", "interpret"):
        r = analyze(REDEFINED_GUARD, {"grid": (1, 1, 1), "block": (32, 1, 1)}, method=m)[0]
        assert (r.thread_instructions, r.warp_instructions, r.thread_instructions_guard_true) == (192, 6, 160)


# -- property tests: random valid kernels, slicer == interpreter -----------------------------------------------------
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_kernels_slice_equals_interpretation(seed):
    g = random_kernel(seed)
    s = analyze(g.ptx, g.launch, max_steps=200_000)[0]
    i = analyze(g.ptx, g.launch, method="interpret", max_steps=200_000)[0]
    assert counts_of(s) == counts_of(i), seed
    assert sum(s.per_line.values()) == s.thread_instructions


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_call_kernels_slice_equals_interpretation(seed):
    """Kernels calling a random device function (inlined per call site, hwaware.ptx.calls) and opening inline-asm
    brace blocks with registers and labels of their own: both methods count the same (agreement only: what is
    counted, the hand-counted cases of test_ptx_calls.py check)."""
    g = random_call_kernel(seed)
    assert check(g.ptx, g.launch) == "counted", seed


def test_random_call_kernels_call_return_early_and_shadow():
    texts = [random_call_kernel(s).ptx for s in range(30)]
    assert random_call_kernel(7).ptx == random_call_kernel(7).ptx
    for feature in ("call.uni (retval0), helper, (param0);", "@%p", "\t.reg .b32 t0, t1;", "@q bra SKIP;",
                    "st.param.b32 [param0+0]"):
        assert any(feature in t for t in texts), feature
    assert any(t.count("SKIP:") > 1 for t in texts)  # sibling blocks' labels of one name
    assert any(re.search(r"\$L_\d+:\n\tst\.param\.b32 \[func_retval0\+0\]", t) for t in texts)  # an early exit


def test_random_kernels_are_reproducible_and_varied():
    a, b = random_kernel(7), random_kernel(7)
    assert a.ptx == b.ptx and a.launch["grid"] == b.launch["grid"]
    texts = [random_kernel(s).ptx for s in range(30)]
    for feature in ("bar.sync", "shfl.sync", "ld.global.u32", "bra.uni", "@%p"):
        assert any(feature in t for t in texts), feature
    assert any(re.search(r"@%p\d+ (ret|exit)", t) for t in texts)


def test_random_grid_kernels_agree_and_reach_every_shortcut():
    """random_grid_kernel's 2-D/3-D grids of up to 64 CTAs, %ctaid guards and bound checks, ld.global.nc.v2/v4 loads
    and canonical counted loops: each input counts alike by both methods (or both refuse it cleanly), and across the
    examples the slicer takes each of its shortcuts (free %ctaid dimensions, key classes, interior CTAs, the L1 rule
    for vector loads, loop batching) at least once, so the property keeps covering them."""
    fired: collections.Counter[str] = collections.Counter()
    outcomes: collections.Counter[str] = collections.Counter()

    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(0, 2**32 - 1))
    def one(seed):
        g = random_grid_kernel(seed)
        outcome = check(g.ptx, g.launch)
        assert outcome in ("counted", "error"), (seed, outcome)
        outcomes[outcome] += 1
        if outcome == "counted":
            fired.update(shortcuts_fired(g.ptx, g.launch))

    one()
    assert outcomes["counted"] >= 30, outcomes
    assert all(fired[s] for s in SHORTCUTS), fired


def test_random_grid_kernels_are_reproducible_and_varied():
    a, b = random_grid_kernel(7), random_grid_kernel(7)
    assert a.ptx == b.ptx and a.launch["grid"] == b.launch["grid"]
    gens = [random_grid_kernel(s) for s in range(30)]
    texts = "\n".join(g.ptx for g in gens)
    for feature in ("ld.global.nc.v2.f32", "ld.global.nc.v4.f32", "mad.lo.s32 %r", "setp.gt.u32", "bar.sync"):
        assert feature in texts, feature
    assert re.search(r"add.s32 (%r\d+), \1, \d+;\n\tsetp.(ne|lt|le).s32 (%p\d+), \1, \d+;\n\t@\3 bra", texts)
    grids = [g.launch["grid"] for g in gens]
    assert any(y > 1 and z == 1 for _, y, z in grids) and any(z > 1 for _, _, z in grids)
    assert max(x * y * z for x, y, z in grids) <= 64 and max(x for x, _, _ in grids) >= 16


def test_the_check_catches_a_wrong_count(monkeypatch):
    """The differential check can fail: a slicer that drops one warp instruction is reported."""
    import hwaware.ptx.fuzz as fuzz

    real = fuzz.analyze

    def off_by_one(*args, **kwargs):
        r = real(*args, **kwargs)
        if kwargs.get("method", "slice") == "slice":
            r[0].warp_instructions -= 1
        return r

    monkeypatch.setattr(fuzz, "analyze", off_by_one)
    g = random_kernel(3)
    with pytest.raises(AssertionError, match="slicer"):
        check(g.ptx, g.launch)


# -- mutation fuzzing of corpus PTX and launches ----------------------------------------------------------------------
CASES = load_golden_cases()


@pytest.mark.parametrize("seed", range(0, 120))
def test_mutated_corpus_ptx_counts_or_raises_a_located_error(seed):
    rng = random.Random(seed)  # seeded by a number: reproducible in any process
    case = CASES[seed % len(CASES)]
    text, launch = case.ptx_path.read_text(), dict(case.launch)
    if seed % 4 == 3:
        launch, _ = hostile_launch(launch, rng)
    else:
        text, _ = mutate(text, rng)
    assert check(text, launch, case.kernel) in ("counted", "error", "invalid launch")


@pytest.mark.parametrize("src,error,message", [
    (".version 9.0\n.target sm_80\n.section .debug_info", PTXParseError, "unterminated .section"),  # was a hang
    (HEADER + ".visible .entry k()\n{\n\t@%p1 bra;\n}\n", PTXParseError, "without a target label"),  # IndexError
    (HEADER + ".visible .entry k(\n\t.param .u32 k_param_0\n)\n{\n\t.reg .b32 %r<2>;\n\tld.param.u32", PTXParseError,
     "end of file"),  # IndexError past the end of the tokens
    (HEADER + ".visible .entry k()\n{\n\tld.global.u32 %r1, [nosuchsymbol];\n\tret;\n}\n", PTXParseError,
     r"<ptx>:6:2: unknown symbol"),  # the message had no location (now refused before counting, by both methods)
])
def test_crashes_found_by_the_fuzzer_are_located_errors(src, error, message):
    with pytest.raises(error, match=message):
        analyze(src, {"grid": (1, 1, 1), "block": (32, 1, 1)}, method="interpret")


@pytest.mark.parametrize("launch,error,message", [
    ({"grid": (2**31 - 1, 65535, 1), "block": (1024, 1, 1)}, StepLimitError, "cannot finish|exceed"),  # MemoryError
    ({"grid": (1, 1, 1), "block": (2048, 1, 1)}, InvalidArgumentError, "CUDA's limits"),
    ({"grid": (1, 1, 1), "block": (32, 1, 1), "dynamic_shared_mem_bytes": -16}, InvalidArgumentError, "0 ... 1 MiB"),
    ({"grid": (1, 1, 1), "block": (32, 1, 1), "args": {"1": 3}}, PTXExecutionError, r":\d+: kernel .* no value"),
])
def test_hostile_launches_are_refused_before_running(launch, error, message):
    case = next(c for c in CASES if c.id == "p18_saxpy_gridstride_a")
    with pytest.raises(error, match=message):
        analyze(case.ptx_path, launch)


def test_launch_and_input_slips_are_one_line_errors(tmp_path):
    """Misspelt launch keys were counted as a 1x1 launch, silently; a negative Buffer, PTX as bytes, a folder and an
    empty module gave misleading errors; an integer grid (as the CLI's --grid 2) a TypeError (review helper-109)."""
    from hwaware.ptx import Buffer

    case = next(c for c in CASES if c.id == "p18_saxpy_gridstride_a")
    args = case.launch["args"]
    with pytest.raises(InvalidArgumentError, match=r"unknown launch keys \['blocks', 'grids'\]; a launch has grid"):
        analyze(case.ptx_path, {"grids": (2, 1, 1), "blocks": (128, 1, 1), "args": args})
    with pytest.raises(InvalidArgumentError, match=r"unknown launch keys \['shared'\]"):
        analyze(case.ptx_path, {"grid": (1, 1, 1), "block": (32, 1, 1), "shared": 64})
    with pytest.raises(InvalidArgumentError, match="nbytes must be a non-negative integer, got -4"):
        Buffer(-4)
    text = Path(case.ptx_path).read_text()
    launch = {"grid": (2, 1, 1), "block": (64, 1, 1), "args": {0: 1000, 1: 2.0, 2: Buffer(4000), 3: Buffer(4000)}}
    want = analyze(text, launch)[0].thread_instructions
    assert analyze(text.encode(), launch)[0].thread_instructions == want
    assert analyze(case.ptx_path, {**launch, "grid": 2, "block": 64})[0].thread_instructions == want
    with pytest.raises(InvalidArgumentError, match="is a folder; pass a .ptx file or the PTX text"):
        analyze(str(tmp_path), launch)
    with pytest.raises(PTXParseError, match=r"no kernel \(.entry with a body\) in the module"):
        analyze(HEADER, launch)


def test_an_argument_the_parameter_cannot_hold_is_refused(tmp_path, capsys):
    """saxpy(n: .u32, a: .f32, x, y: .u64): an array for n ran as n ~ 0, 3.5 for n as 3, a buffer for a; a repeated
    --arg kept the last and a negative --max-steps was taken (review helper-109)."""
    from hwaware.ptx import Buffer

    case = next(c for c in CASES if c.id == "p18_saxpy_gridstride_a")
    ok = {0: 1000, 1: 2.0, 2: Buffer(4000), 3: Buffer(4000)}
    for bad, message in (({0: Buffer(40)}, r"param_0 is a .u32 scalar, not a pointer"),
                         ({0: 3.5}, r"param_0 is a .u32 integer: pass a whole number, got 3.5"),
                         ({1: Buffer(4)}, r"param_1 is a .f32 scalar, not a pointer")):
        with pytest.raises(InvalidArgumentError, match=message):
            analyze(case.ptx_path, {"grid": (1, 1, 1), "block": (32, 1, 1), "args": {**ok, **bad}})
    whole = analyze(case.ptx_path, {"grid": (1, 1, 1), "block": (32, 1, 1), "args": {**ok, 0: 1000.0}})[0]
    # numpy numbers are numbers, in the arguments and the launch (they were refused, review helper-112 and -113)
    numpy_launch = {"grid": np.int64(1), "block": (np.int32(32), 1, 1), "dynamic_shared_mem_bytes": np.int64(0),
                    "args": {**ok, 0: np.uint32(1000), 1: np.float32(2.0)}}
    assert analyze(case.ptx_path, numpy_launch)[0].thread_instructions == whole.thread_instructions
    base = ["ptx", "analyze", str(case.ptx_path), "--block", "32", "--arg", "1=2.0", "--arg", "2=ptr:4000",
            "--arg", "3=ptr:4000"]
    assert main([*base, "--arg", "0=10", "--arg", "0=20"]) == 2
    assert "--arg 0 given more than once" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--arg", "0=10", "--max-steps", "-3"])
    assert "--max-steps: must be a positive integer" in capsys.readouterr().err


# -- --arg names ---------------------------------------------------------------------------------------------------
DEBUG_INFO = HEADER + """.visible .entry k(
	.param .u64 k_param_0,
	.param .u32 k_param_1
)
{
	.reg .pred %p<2>;
	.reg .b32 %r<3>;
	ld.param.u32 %r1, [k_param_1];
	mov.u32 %r2, %tid.x;
	setp.ge.u32 %p1, %r2, %r1;
	@%p1 bra $L_end;
	add.s32 %r2, %r2, 1;
$L_end:
	ret;
}
	.section	.debug_info
	{
.b8 3
.b64 k_param_0
.b8 7
.b8 120
.b8 0
.b8 3
.b64 k_param_1
.b8 7
.b8 110,95,111,117,116
.b8 0
	}
"""


def test_arguments_by_position_ptx_name_suffix_and_source_name():
    """nvcc -G keeps each parameter's CUDA name in DWARF after its location (.b64 k_param_N): here x, n_out."""
    assert parse(DEBUG_INFO).source_names == {"k_param_0": "x", "k_param_1": "n_out"}
    counts = set()
    for args in ({0: buffer_from_array(None, 4), 1: 20}, {"k_param_0": buffer_from_array(None, 4), "k_param_1": 20},
                 {"param_0": buffer_from_array(None, 4), "1": 20}, {"x": buffer_from_array(None, 4), "n_out": 20}):
        counts.add(analyze(DEBUG_INFO, {"block": (32, 1, 1), "args": args})[0].thread_instructions)
    assert counts == {32 * 4 + 20 * 1 + 32 * 1}  # 4 in the entry block, the add for 20 lanes, ret for all
    with pytest.raises(InvalidArgumentError, match=r"0=k_param_0 \(x\)"):
        analyze(DEBUG_INFO, {"block": (32, 1, 1), "args": {"y": 1}})
    with pytest.raises(InvalidArgumentError, match="given twice"):
        analyze(DEBUG_INFO, {"block": (32, 1, 1), "args": {"x": 1, "0": 1}})


def _readme_ptx_commands() -> list[str]:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## PTX analysis\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc (CUDA 13) not installed")
def test_readme_ptx_example_runs_as_written(tmp_path, monkeypatch, capsys):
    """The README's commands, verbatim: nvcc -G, then hwaware ptx analyze with source-name --arg."""
    shutil.copy(golden_root() / "src" / "ragged_row_sum.cu", tmp_path)
    np.save(tmp_path / "lengths.npy", np.array([3, 0, 7, 1, 12, 5, 5, 2, 9, 0, 4, 6, 1, 1, 8, 3, 10, 0, 2, 7, 4, 4, 11, 6],
                                                dtype=np.int32))
    monkeypatch.chdir(tmp_path)
    nvcc, analyze_cmd = _readme_ptx_commands()
    subprocess.run(nvcc.split(), check=True, cwd=tmp_path, timeout=120)
    argv = analyze_cmd.split()
    assert argv[:3] == ["hwaware", "ptx", "analyze"]
    assert main(argv[1:]) == 0
    out = capsys.readouterr().out
    assert "kernel ragged_row_sum" in out and "thread instructions" in out


# -- what the audit of 2026-11-30 found: a silently wrong count the oracle hid, and exceptions that were not PTXErrors --
_HEAD = ".version 7.0\n.target sm_70\n.address_size 64\n"
_ONE_WARP = {"grid": (1, 1, 1), "block": (32, 1, 1), "args": {}}


def test_a_device_function_call_counts_the_callee_in_both_methods():
    """The slicer used to count ``call`` as one instruction and miss the callee's (96 thread instructions instead of
    192); the interpreter refused it, and check() took the first refusal for a clean one. Calls are now inlined
    (hwaware.ptx.calls): both methods count the callee's three instructions per thread."""
    ptx = _HEAD + (".func f()\n{\n.reg .b32 %r<3>;\nmov.u32 %r1, 1;\nadd.s32 %r2, %r1, 1;\nret;\n}\n"
                   ".visible .entry k()\n{\n.reg .b32 %r<3>;\nmov.u32 %r1, %tid.x;\ncall.uni f;\nret;\n}\n")
    for method in ("slice", "interpret"):
        assert analyze(ptx, _ONE_WARP, kernel="k", method=method)[0].thread_instructions == 192
    assert check(ptx, _ONE_WARP, "k") == "counted"


def test_check_flags_one_method_counting_what_the_other_refuses(monkeypatch):
    """The oracle: a count from one method and a refusal from the other is a finding, except for the refusals one
    method makes alone by design (step budget, missing data for the slicer, out-of-bounds or unknown instructions the
    interpreter meets outside the slice)."""
    from hwaware.errors import DataDependentError, OutOfBoundsError, UnsupportedInstructionError
    from hwaware.ptx import fuzz

    ptx = _HEAD + ".visible .entry k()\n{\n.reg .b32 %r<2>;\nmov.u32 %r1, %tid.x;\nret;\n}\n"
    real = fuzz.analyze

    def refusing(refuser: str, exc: Exception):
        def fake(*a, method: str = "slice", **kw):
            if method == refuser:
                raise exc
            return real(*a, method=method, **kw)
        return fake

    located = "<ptx>:5: x"
    for refuser, exc, ok in [("interpret", PTXExecutionError(located), False),
                             ("slice", PTXExecutionError(located), False),
                             ("interpret", StepLimitError(located), True),
                             ("interpret", OutOfBoundsError(located), True),
                             ("interpret", UnsupportedInstructionError(located), True),
                             ("slice", DataDependentError(located, param="p", location="l"), True),
                             ("slice", OutOfBoundsError(located), False)]:
        monkeypatch.setattr(fuzz, "analyze", refusing(refuser, exc))
        if ok:
            assert check(ptx, _ONE_WARP) == "error"
        else:
            with pytest.raises(AssertionError, match="slicer .* but interpreter"):
                check(ptx, _ONE_WARP)


@pytest.mark.parametrize("declaration, message", [
    (".reg .b32 %q<2000000000>;", r"^<ptx>:\d+:\d+: %q<2000000000> declares 2,000,000,000 registers"),
    (".shared .align 4 .b8 sm[99999999999];", r"^<ptx>:\d+: kernel k declares [0-9,]{15} bytes of shared memory"),
    (".local .align 4 .b8 lm[9999999999];", r"^<ptx>:\d+: kernel k declares 9,999,999,999 bytes of local memory"),
])
def test_absurd_declarations_are_located_errors_not_memory_errors(declaration, message):
    """Each used to exhaust memory (a 2e9-entry register table, a 93 GiB numpy array) before any step budget."""
    ptx = _HEAD + f".visible .entry k()\n{{\n.reg .b32 %r<2>;\n{declaration}\nmov.u32 %r1, %tid.x;\nret;\n}}\n"
    for method in ("slice", "interpret"):
        with pytest.raises(PTXError, match=message):
            analyze(ptx, _ONE_WARP, method=method)


def test_a_shift_wider_than_the_register_is_counted_not_a_memory_error():
    """``shl`` by 99,999,999,999 made the slicer's offset analysis build 1 << k (a MemoryError); PTX clamps the shift
    (the result is 0), so every lane takes the branch: 5 warp instructions (mov, shl, setp, bra, ret), 160 thread."""
    ptx = _HEAD + (".visible .entry k()\n{\n.reg .b32 %r<3>;\n.reg .pred %p<2>;\nmov.u32 %r1, %tid.x;\n"
                   "shl.b32 %r2, %r1, 99999999999;\nsetp.eq.u32 %p1, %r2, 0;\n@%p1 bra L;\nadd.u32 %r1, %r1, 1;\n"
                   "L:\nret;\n}\n")
    for method in ("slice", "interpret"):
        r = analyze(ptx, _ONE_WARP, method=method)[0]
        assert (r.thread_instructions, r.warp_instructions) == (160, 5)


@pytest.mark.parametrize("line, message", [
    ("add.s32 16, %r1, 1;", r"add.s32 writes its first operand, which must be a register, not 16"),
    ("shfl.sync.down.b32 16|%p1, %r1, 1, 31, -1;", r"writes its first operand, which must be a register"),
    ("add.s32 %r1, 0;", r"add.s32 takes 3 operands, got 2"),
    ("rem.s32 %r1, [%rd1];", r"rem.s32 takes 3 operands, got 2"),
    ("mov.u32 %r1, [%rd1];", r"an address \[...\] is not a value operand"),
    ("mov.u32 %r1, L;", r"unknown symbol 'L' \(no parameter or variable has this name\)"),
    ("ld.param.u32 %r1, [%rd1];", r"through a register or numeric address is not supported"),
    ("ld.param.u32 %r1, [1];", r"through a register or numeric address is not supported"),  # seed 200128
    ("mov.u64 %rd1, k;", r"unknown symbol 'k' \(no parameter or variable has this name\)"),  # a function: seed 300899
])
def test_malformed_instructions_outside_the_slice_are_refused_by_both_methods(line, message):
    """Mutation fuzzing found each: the slicer never executes an instruction outside its slice, so it counted these
    kernels while the interpreter refused them. They are now refused before counting, with the place."""
    ptx = _HEAD + (".visible .entry k()\n{\n.reg .b32 %r<3>;\n.reg .b64 %rd<2>;\n.reg .pred %p<2>;\n"
                   f"mov.u32 %r2, %tid.x;\n{line}\nL:\nret;\n}}\n")
    for method in ("slice", "interpret"):
        with pytest.raises(PTXError, match=r"^<ptx>:10(:\d+)?: .*" + message):
            analyze(ptx, _ONE_WARP, method=method)
    assert check(ptx, _ONE_WARP) == "error"


def test_a_global_variable_outside_the_slice_is_counted_by_both_methods():
    """The interpreter gave no address to a .global variable (a one-sided refusal check() accepted); module variables
    now live in global memory (tests/test_ptx_calls.py), so both methods count 2 instructions + ret per thread."""
    ptx = _HEAD + (".global .align 4 .b8 table[64];\n.visible .entry k()\n{\n.reg .b64 %rd<2>;\n"
                   "mov.u64 %rd1, table;\nret;\n}\n")
    assert analyze(ptx, _ONE_WARP)[0].warp_instructions == 2
    assert analyze(ptx, _ONE_WARP, method="interpret")[0].warp_instructions == 2
    assert check(ptx, _ONE_WARP) == "counted"
