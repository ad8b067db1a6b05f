"""An explicit torch thread count for the CPU work hwaware does itself (proxies, CPU traces, measurements)."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch


_lock = threading.Lock()
_depth = [0]  # blocks inside torch_threads, in any thread
_outside = [1]  # the count before the first of them


@contextlib.contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the caller's count.

    torch's default (one thread per core) waits at OpenMP barriers whenever another process is busy on
    the machine: the example search, a few seconds alone, did not finish in 150 s beside one busy loop
    per core. One thread never waits for a descheduled sibling.

    torch keeps the count per thread (OpenMP's), and a thread's first use takes the process's last set one: blocks in
    several threads at once (a search's ``n_jobs``) each restore their own thread's count, and the last to leave the
    process's as it was before the first entered (helper-163: a worker that entered while another ran took 1 as its
    caller's count, restored it last, and threads started afterwards ran on 1)."""
    with _lock:
        if not _depth[0]:
            _outside[0] = torch.get_num_threads()
        _depth[0] += 1
        previous = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        yield
    finally:
        with _lock:
            _depth[0] -= 1
            torch.set_num_threads(previous if _depth[0] else _outside[0])
