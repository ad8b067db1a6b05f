"""Count the executed PTX instructions of every distinct layer of the training networks, once, for ``ipc-tree``.

The networks are the graph stores of HELP's tables (``data/gpu/graphs/{nb201,fbnet,ofa_mbv3}.json.gz``): every layer
they hold is compiled and counted (:mod:`hwaware.ptx.layers`) and the counts are written to
``hwaware/ptx/data/layer_instructions.json.gz`` after every chunk, so an interrupted run resumes where it stopped
and neither training nor CI compiles. Needs ``pip install 'hwaware[ptx]'``.

Run: ``nice python scripts/count_instructions.py [--spaces nb201 fbnet ofa_mbv3]`` (2026-11-30, one core:
NB201's 33 layers ~15 s, all three spaces' 3,771 distinct layers ~15 min). ``--check`` recounts every layer with
the current code and lists those whose count differs from the shipped one, writing nothing (after a change to the
rebuild or the compile path: the shipped counts and the ipc-tree trained on them stand only if none differs; it exits 1
if any does).
"""
from __future__ import annotations

import argparse
import time

from hwaware.datasets.graph_store import load_store
from hwaware.ptx.layers import CHUNK, shipped_counts_path, count_layers, load_counts, save_counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", nargs="+", default=["nb201", "fbnet", "ofa_mbv3"])
    ap.add_argument("--check", action="store_true", help="recount every layer and list differences; write nothing")
    args = ap.parse_args(argv)
    path = shipped_counts_path()
    counts = load_counts(path)
    if args.check:
        if check(args.spaces, counts):
            raise SystemExit(1)
        return
    for space in args.spaces:
        layers = [l for l in {l.signature(): l for l in load_store(space).layers}.values()
                  if l.signature() not in counts]
        print(f"{space}: {len(layers)} layers to count ({len(counts)} counted so far)", flush=True)
        t0 = time.perf_counter()
        for i in range(0, len(layers), CHUNK):
            counts.update(count_layers(layers[i:i + CHUNK]))
            save_counts(path, counts)
            done = min(i + CHUNK, len(layers))
            print(f"  {done}/{len(layers)} in {time.perf_counter() - t0:.0f} s", flush=True)


def check(spaces: list[str], counts: dict[str, tuple[int, int]]) -> int:
    """How many layers count differently now (each printed); 0: the shipped counts stand."""
    layers = list({l.signature(): l for space in spaces for l in load_store(space).layers}.values())
    differ = 0
    t0 = time.perf_counter()
    for i in range(0, len(layers), CHUNK * 10):
        for sig, new in count_layers(layers[i:i + CHUNK * 10]).items():
            if tuple(counts.get(sig, ())) != tuple(new):
                differ += 1
                print(f"  differs: {sig[:100]} shipped {counts.get(sig)} now {new}", flush=True)
        print(f"  {min(i + CHUNK * 10, len(layers))}/{len(layers)} checked, {differ} differ, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    print(f"{len(layers)} layers: {len(layers) - differ} same, {differ} differ")
    return differ


if __name__ == "__main__":
    main()
