"""End-to-end: compile a network to PTX without a GPU (TVM + NVRTC) and count its executed
instructions by slicing; a second count shows the per-(kernel, launch) cache.

Run: ``python benchmarks/ptx_compile.py [--arch sm_72]`` (needs ``pip install 'hwaware[ptx]'``)
"""
from __future__ import annotations

import argparse
import time

import timm
import torch

from hwaware.ptx.compile import count_network_instructions, network_instructions
from hwaware.zoo import build

NB201_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="sm_72", help="PTX architecture (sm_72: Jetson AGX Xavier)")
    args = ap.parse_args()
    torch.set_num_threads(2)
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


if __name__ == "__main__":
    main()
