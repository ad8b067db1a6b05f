"""End-to-end: compile a network to PTX without a GPU (TVM + NVRTC) and count its executed
instructions by slicing; a second count shows the per-(kernel, launch) cache. Cold counting speed
(launches counted per second, every cache cleared, median of ``--repeat`` runs) is the figure to
compare across versions of the analyzer; it is printed with the date and the load average, since the
machine is shared (compare versions in one session, under the same load).

Run: ``python benchmarks/ptx_compile.py [--arch sm_72] [--repeat 3]`` (needs ``pip install 'hwaware[ptx]'``)
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time

import timm
import torch

from hwaware.ptx.compile import count_network_instructions, network_instructions
from hwaware.zoo import build

NB201_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="sm_72", help="PTX architecture (sm_72: Jetson AGX Xavier)")
    ap.add_argument("--repeat", type=int, default=3, help="cold counting runs (median reported)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"{datetime.date.today()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    nets = {"resnet18": (timm.create_model("resnet18"), (3, 224, 224)),
            "NB201 (cifar10)": (build("nb201", arch=NB201_CELL), (3, 32, 32))}
    for name, (model, size) in nets.items():
        t = time.perf_counter()
        compiled, counts = network_instructions(model, size, arch=args.arch)
        total = time.perf_counter() - t
        again = count_network_instructions(compiled.ptx, compiled.launches)
        print(f"{name}: {len(compiled.launches)} launches, {counts.total_thread_instructions:,} thread / "
              f"{counts.total_warp_instructions:,} warp instructions; compile {compiled.seconds:.1f} s + count "
              f"{counts.seconds:.1f} s = {total:.1f} s end to end; recount from cache {again.seconds * 1e3:.1f} ms "
              f"({again.cache_hits} hits)")
        cold = statistics.median(_cold_count(compiled) for _ in range(args.repeat))
        print(f"  cold count: {cold:.2f} s = {len(compiled.launches) / cold:.1f} launches/s, "
              f"{counts.total_thread_instructions / cold:,.0f} thread instructions/s (median of {args.repeat}; "
              f"load {os.getloadavg()[0]:.2f})")


def _cold_count(compiled) -> float:
    """Seconds to count every launch with the parse, slice and count caches empty."""
    from hwaware.ptx import analysis, compile as ptx_compile

    ptx_compile._COUNT_CACHE.clear()
    analysis._prepare_text.cache_clear()
    analysis._parse_text.cache_clear()
    t = time.perf_counter()
    count_network_instructions(compiled.ptx, compiled.launches)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
