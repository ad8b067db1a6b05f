"""An explicit torch thread count for the CPU work hwaware does itself (proxies, CPU traces, measurements)."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch


_lock = threading.Lock()
_depth = [0]  # blocks inside torch_threads, in any thread
_outside = [1]  # the count before the first of them
_mine = threading.local()  # this thread's blocks (``depth``): its outermost one restores the process's count


@contextlib.contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the caller's count.

    torch's default (one thread per core) waits at OpenMP barriers whenever another process is busy on
    the machine: the example search, a few seconds alone, did not finish in 150 s beside one busy loop
    per core. One thread never waits for a descheduled sibling.

    torch keeps the count per thread (OpenMP's), and a thread's first use takes the process's last set one. A block
    nested in another of its thread restores that block's count; a thread's outermost block restores the process's
    count as it was before the first block of any thread entered (a thread of a count of its own ends at that one):
    with blocks in several threads at once (a search's ``n_jobs``), each had restored what it saw on entering, and a
    thread that entered while another ran saw 1, so threads started afterwards ran on 1 (helper-163, helper-166)."""
    with _lock:
        previous = torch.get_num_threads()
        torch.set_num_threads(n)  # first: a count torch refuses raises before anything is counted (helper-166)
        if not _depth[0]:
            _outside[0] = previous
        _depth[0] += 1
        nested = getattr(_mine, "depth", 0)
        _mine.depth = nested + 1
    try:
        yield
    finally:
        with _lock:
            _depth[0] -= 1
            _mine.depth = nested
            torch.set_num_threads(previous if nested else _outside[0])
