"""Slice execution vs full interpretation on the golden corpus: interpreted instructions and wall time.

Both methods produce identical counts (checked here); the slicer evaluates only the instructions
that decide control flow, for all warps of the launch at once. Wall time: median of 5 runs.

Run: ``python benchmarks/ptx_slicing.py``
"""
from __future__ import annotations

import statistics
import time

from hwaware.datasets.ptx_golden import load_golden_cases
from hwaware.ptx import analyze

LOOP_HEAVY = {"conv2d_direct_naive", "gemm_naive", "gemm_tiled_smem", "tvm_conv2d_smem_tiled", "maxpool2d",
              "loop_bound_from_scalar_arg", "grid_stride_loop", "global_avgpool_smem_reduction"}


def timed(case, method: str):
    analyze(case.ptx_path, case.launch, kernel=case.kernel, method=method)  # warm-up: parse, CFG, slice
    times, r = [], None
    for _ in range(5):
        t = time.perf_counter()
        r = analyze(case.ptx_path, case.launch, kernel=case.kernel, method=method)[0]
        times.append(time.perf_counter() - t)
    return r, statistics.median(times)


def main() -> None:
    from hwaware.ptx.analysis import _prepare_text

    t = time.perf_counter()
    for case in load_golden_cases():
        _prepare_text(case.ptx_path.read_text(), str(case.ptx_path), case.kernel)
    print(f"parse + CFG + slice of all {len(load_golden_cases())} cases once: {(time.perf_counter() - t) * 1e3:.0f} ms")
    print(f"{'case':<28}{'warp instr':>11}{'interp evals':>13}{'slice evals':>12}{'fewer':>8}"
          f"{'interp ms':>11}{'slice ms':>10}{'speed-up':>9}  exact")
    sums = {"ie": 0, "se": 0, "it": 0.0, "st": 0.0}
    for case in load_golden_cases():
        i, ti = timed(case, "interpret")
        s, ts = timed(case, "slice")
        exact = (s.thread_instructions, s.warp_instructions, s.thread_instructions_guard_true) == (
            case.thread_instructions, case.warp_instructions, case.thread_instructions_guard_true) == (
            i.thread_instructions, i.warp_instructions, i.thread_instructions_guard_true)
        mark = "*" if case.kind in LOOP_HEAVY else " "
        print(f"{mark}{case.id:<27}{case.warp_instructions:>11,}{i.evaluated:>13,}{s.evaluated:>12,}"
              f"{i.evaluated / max(s.evaluated, 1):>7.0f}x{ti * 1e3:>11.2f}{ts * 1e3:>10.2f}{ti / ts:>8.1f}x  {exact}")
        if case.kind in LOOP_HEAVY:
            sums["ie"] += i.evaluated
            sums["se"] += s.evaluated
            sums["it"] += ti
            sums["st"] += ts
    print(f"\nloop-heavy kernels (*): {sums['ie'] / sums['se']:.0f}x fewer interpreted instructions, "
          f"{sums['it'] / sums['st']:.0f}x less wall time in total")


if __name__ == "__main__":
    main()
