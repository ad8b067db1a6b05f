"""Three-phase timing of one layer or one network on a device (paper 004, Eqs. 2-6).

* pre: the input copied from host memory to the device (CPU: into a separate buffer) and the op issued;
* exe: the layer (or the whole forward pass);
* post: the result copied back to host memory and the device synchronised.

Each phase is repeated after a warm-up until ``min_repeats`` and ``min_time_s`` of execution are
reached (at most ``max_repeats``); the median and the inter-quartile range are kept.
CUDA timing uses CUDA events with a synchronisation around each phase; it cannot run on machines
without a GPU and its tests skip there.
"""
from __future__ import annotations

import contextlib
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PhaseTimes:
    pre_ms: float
    exe_ms: float
    post_ms: float
    pre_iqr_ms: float
    exe_iqr_ms: float
    post_iqr_ms: float
    repeats: int

    @property
    def total_ms(self) -> float:
        return self.pre_ms + self.exe_ms + self.post_ms


def _summary(values: list[float]) -> tuple[float, float]:
    if len(values) < 4:
        return statistics.median(values), max(values) - min(values)
    q = statistics.quantiles(values, n=4)
    return statistics.median(values), q[2] - q[0]


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_phases(fn: Callable[..., torch.Tensor], host_inputs: Sequence[torch.Tensor], device: torch.device, *,
                warmup: int = 3, min_repeats: int = 5, max_repeats: int = 50, min_time_s: float = 0.02) -> PhaseTimes:
    """Time ``fn`` on inputs copied from ``host_inputs`` to ``device``; see the module docstring."""
    cuda = device.type == "cuda"
    if cuda:  # inputs built on the GPU (a rebuilt layer's) are copied from the host like any others
        host = [h.detach().cpu().pin_memory() for h in host_inputs]
        dev = [torch.empty_like(h, device=device) for h in host]
    else:
        host = list(host_inputs)
        dev = [torch.empty_like(h) for h in host]
    # events and synchronize act on the current device: on cuda:1 they timed cuda:0's empty stream
    with torch.inference_mode(), (torch.cuda.device(device) if cuda else contextlib.nullcontext()):
        y = fn(*[d.copy_(h) for d, h in zip(dev, host)])
        out_host = torch.empty(y.shape, dtype=y.dtype, pin_memory=cuda)
        pre, exe, post = [], [], []
        n = 0
        spent = 0.0
        while n < warmup + max_repeats and (n < warmup + min_repeats or spent < min_time_s):
            if cuda:
                p, e, q = _cuda_once(fn, host, dev, out_host)
            else:
                p, e, q = _cpu_once(fn, host, dev, out_host)
            if n >= warmup:
                pre.append(p)
                exe.append(e)
                post.append(q)
                spent += e / 1e3
            n += 1
    (pm, pi), (em, ei), (qm, qi) = _summary(pre), _summary(exe), _summary(post)
    return PhaseTimes(pm, em, qm, pi, ei, qi, len(exe))


def _cpu_once(fn, host, dev, out_host) -> tuple[float, float, float]:
    t0 = time.perf_counter_ns()
    for d, h in zip(dev, host):
        d.copy_(h)
    t1 = time.perf_counter_ns()
    y = fn(*dev)
    t2 = time.perf_counter_ns()
    out_host.copy_(y)
    t3 = time.perf_counter_ns()
    return (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6


def _cuda_once(fn, host, dev, out_host) -> tuple[float, float, float]:  # pragma: no cover - needs a GPU
    start, mid, end = (torch.cuda.Event(enable_timing=True) for _ in range(3))
    torch.cuda.synchronize()
    start.record()
    for d, h in zip(dev, host):
        d.copy_(h, non_blocking=True)
    mid.record()
    y = fn(*dev)
    end.record()
    torch.cuda.synchronize()
    t = time.perf_counter_ns()
    out_host.copy_(y)
    torch.cuda.synchronize()
    post = (time.perf_counter_ns() - t) / 1e6
    return start.elapsed_time(mid), mid.elapsed_time(end), post
