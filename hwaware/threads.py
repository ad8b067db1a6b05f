"""An explicit torch thread count for the CPU work hwaware does itself (proxies, CPU traces, measurements)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the caller's count.

    torch's default (one thread per core) waits at OpenMP barriers whenever another process is busy on
    the machine: the example search, a few seconds alone, did not finish in 150 s beside one busy loop
    per core. One thread never waits for a descheduled sibling."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
