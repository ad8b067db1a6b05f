"""Collect measured samples: micro-benchmarked layers and whole networks, three phases each.

Rows carry the environment (device, torch version, threads, dtype) and, for layers, the captured
:class:`Layer` record as JSON, which the dataset loader turns back into a layer. Collections are
resumable (see :class:`~hwaware.measure.store.SampleStore`) and deterministic for a given seed. A row whose
execution time is noisy is measured again (:data:`NOISY`, :data:`TRIES`); the quietest run is kept, and rows that stay
noisy are named in one warning.
"""
from __future__ import annotations

import contextlib
import json
import math
import random
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path

import torch

from hwaware.errors import HwawareError, HwawareWarning, InvalidArgumentError, positive_integer
from hwaware.graph.layer import Layer
from hwaware.measure.microbench import network_layers, random_layers
from hwaware.graph.rebuild import build_op
from hwaware.measure.store import SampleStore, exclusive
from hwaware.measure.timing import PhaseTimes, device_name, time_phases
from hwaware.threads import torch_threads
from hwaware.zoo.spaces import checked_spec, from_spec, is_spec

ENV_COLUMNS = ["device", "device_name", "torch_version", "threads", "dtype"]
# where a row was measured: what a file's rows must share to be resumed, and a calibration's rows to be one setting
SETTING_COLUMNS = ("device", "device_name", "threads", "dtype")
PHASE_COLUMNS = ["pre_ms", "exe_ms", "post_ms", "pre_iqr_ms", "exe_iqr_ms", "post_iqr_ms", "repeats"]
LAYER_COLUMNS = ["sample_id", "source", "kind", "op", "batch", "macs", *PHASE_COLUMNS, *ENV_COLUMNS, "layer_json"]
NETWORK_COLUMNS = ["sample_id", "model", "family", "img_size", "batch", *PHASE_COLUMNS, *ENV_COLUMNS]
# A row is measured again while its execution time's IQR passes NOISY of its median, TRIES runs at most. 0.5 is an
# assumption set from the shipped files of this shared 2-core machine: the IQR/median of data/cpu/layers.csv.gz is
# 0.05 at the median and 0.52 at the 99th percentile (1 % of rows measured again)
NOISY, TRIES = 0.5, 3
NETWORK_WARMUP = 3  # untimed forward passes before a network's timed ones


def img_size_text(size: Sequence[int]) -> str:
    """A network's ``img_size`` cell: its side when the C x H x W input is a square image, else the whole ``CxHxW``
    (timm's sapiens ViTs take 3 x 1024 x 768; one side alone would calibrate them at 768 x 768)."""
    c, h, w = size
    return str(w) if h == w and c == 3 else f"{c}x{h}x{w}"


class Progress:
    """A one-line progress bar on stderr (rate and time left)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done, self.t0 = total, label, 0, time.time()

    def step(self, note: str = "") -> None:
        self.done += 1
        elapsed = time.time() - self.t0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate else 0.0
        bar = "#" * int(30 * self.done / max(self.total, 1))
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {self.done}/{self.total} {rate:.1f}/s {left / 60:.1f} min left {note[:30]:<30}")
        if self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def measurement_device(device: str) -> torch.device:
    """``device`` as a torch device that exists on this machine (a CUDA device needs a visible GPU)."""
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise InvalidArgumentError(f"malformed device {device!r}: write cpu, cuda or cuda:N") from None
    if dev.type not in ("cpu", "cuda"):
        raise InvalidArgumentError(f"cannot measure on {device!r}: write cpu, cuda or cuda:N")
    if dev.type == "cuda":
        count = torch.cuda.device_count()  # 0 without a driver; does not initialise CUDA
        if count == 0:
            raise InvalidArgumentError(f"no CUDA GPU is visible here, so nothing can be measured on {device!r}: "
                                       "run on a machine with an NVIDIA GPU and driver, or pass --device cpu")
        if dev.index is not None and dev.index >= count:
            raise InvalidArgumentError(f"no GPU {dev.index}: this machine has {count}; pass cuda:0 to cuda:{count - 1}")
    return dev


def environment(device: torch.device, dtype: torch.dtype) -> dict[str, object]:
    return {"device": device.type, "device_name": device_name(device), "torch_version": torch.__version__,
            "threads": torch.get_num_threads(), "dtype": str(dtype).replace("torch.", "")}


def _setting(env: dict[str, object]) -> dict[str, object]:
    """What a file's rows must share to be resumed (a row's id names the sample, not where it was measured): the
    setting and the torch version (an upgrade appended to an old file mixed two versions' timings unsaid)."""
    return {k: env[k] for k in (*SETTING_COLUMNS, "torch_version")}


def _phases(t: PhaseTimes) -> dict[str, object]:
    return {"pre_ms": f"{t.pre_ms:.6f}", "exe_ms": f"{t.exe_ms:.6f}", "post_ms": f"{t.post_ms:.6f}",
            "pre_iqr_ms": f"{t.pre_iqr_ms:.6f}", "exe_iqr_ms": f"{t.exe_iqr_ms:.6f}",
            "post_iqr_ms": f"{t.post_iqr_ms:.6f}", "repeats": t.repeats}


def layer_plan(n_random: int, models: Sequence[str], batch_sizes: Sequence[int] = (1,), seed: int = 0
               ) -> list[tuple[str, str, Layer]]:
    """(sample_id, source, layer) in a seeded random order: real-network layers, then random ones."""
    plan = [(f"net-{layer.signature()}", model, layer) for model, layer in network_layers(models, batch_sizes)]
    plan += [(f"rnd{seed}-{i:06d}", "random", layer) for i, layer in enumerate(random_layers(n_random, seed))]
    random.Random(seed).shuffle(plan)
    return plan


def collect_layers(out: str | Path, plan: Iterable[tuple[str, str, Layer]], *, device: str = "cpu",
                   dtype: torch.dtype = torch.float32, threads: int = 1) -> int:
    """Measure every planned layer not yet in ``out`` with ``threads`` torch threads (recorded; the default, one, is
    what the shipped CPU model was trained at); returns how many were measured now."""
    dev, threads = measurement_device(device), checked_threads(threads)
    with exclusive(out), torch_threads(threads):
        env = environment(dev, dtype)
        store = SampleStore(out, LAYER_COLUMNS, same=_setting(env))
        todo = [p for p in plan if p[0] not in store]
        progress = Progress(len(todo), f"layers -> {out}")
        with _noisy_rows(out, lambda: progress.done) as noisy:
            for sample_id, source, layer in todo:
                op = build_op(layer, dev, dtype)
                what = f"layer {sample_id} (of {source})"
                times = _measured(partial(time_phases, op.fn, op.inputs(), dev), what,
                                  "leave that model out" if source != "random" else "collect with another --seed", out)
                _note_noisy(noisy, times, what)
                store.append({"sample_id": sample_id, "source": source, "kind": layer.kind.value, "op": layer.op,
                              "batch": layer.input_shapes[0][0], "macs": layer.macs, **_phases(times), **env,
                              "layer_json": json.dumps(layer.as_dict(), separators=(",", ":"))})
                progress.step(layer.kind.value)
    return len(todo)


def checked_threads(threads: object) -> int:
    """``threads`` (torch threads to measure with) as an int, or one line refusing it."""
    if not positive_integer(threads):
        raise InvalidArgumentError(f"threads is a number of torch threads, 1 or more; got {threads!r}")
    return int(threads)


def checked_rounds(rounds: object) -> int:
    """``rounds`` (how many times :func:`collect_networks` times each network) as an int, or one line refusing it."""
    if not positive_integer(rounds):
        raise InvalidArgumentError(f"rounds is how many times each network is timed, 1 or more; got {rounds!r}")
    return int(rounds)


def _measured(measure: Callable[[], PhaseTimes], what: str, fix: str, out: str | Path | None) -> PhaseTimes:
    """The quietest of up to :data:`TRIES` runs of ``measure()``: another run while the execution phase's IQR passes
    :data:`NOISY` of its median, the quietest kept (the reliable one: a noisy run's median may be low or high; the
    caller judges the row it keeps, :func:`_note_noisy`). A failure (a forward that refuses its input, memory) is one
    line naming ``what`` and ``fix`` (and ``out``, where the rows before it are kept; None: nowhere to say)."""
    try:
        runs = [measure()]
        while _spread(runs[-1]) > NOISY and len(runs) < TRIES:  # a row kept noisy is never re-measured on resume
            runs.append(measure())
    except HwawareError:
        raise
    except (RuntimeError, ValueError, TypeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        kept = f"the rows measured before it are kept in {out}: {fix} and run again" if out is not None else fix
        raise InvalidArgumentError(f"measuring {what} failed ({type(exc).__name__}: {first}); {kept}") from None
    return min(runs, key=_spread)


def _note_noisy(noisy: list[str], kept: PhaseTimes, what: str) -> None:
    """``what`` appended to ``noisy`` where the measurement ``kept`` for its row passes :data:`NOISY`."""
    if _spread(kept) > NOISY:
        noisy.append(what)


def _spread(t: PhaseTimes) -> float:
    return t.exe_iqr_ms / t.exe_ms if t.exe_ms > 0 else math.inf


@contextlib.contextmanager
def _noisy_rows(out: str | Path, measured: Callable[[], int], advice: str | None = None) -> Iterator[list[str]]:
    """The list :func:`_note_noisy` names noisy rows in; on the way out, a stop or a failure too, one warning of them
    (of ``measured()`` rows measured; ending in ``advice``, default: delete them from ``out`` and collect again)."""
    noisy: list[str] = []
    try:
        yield noisy
    finally:
        if noisy:  # stacklevel: the caller of collect_layers / collect_networks
            where = f" in {out}" if advice is None else ""
            advice = advice or "delete those rows and collect again when it is quiet"
            warnings.warn(f"{len(noisy)} of {measured()} rows measured now{where} stayed noisy after {TRIES} runs "
                          f"(the IQR of the execution time above {NOISY:.0%} of its median; first: {noisy[0]}): the "
                          f"machine may have been busy; {advice}", HwawareWarning, stacklevel=4)


def _network(name: str, dev: torch.device, dtype: torch.dtype) -> tuple[torch.nn.Module, tuple[int, ...], str]:
    """(module, input size, family) of a timm name or a model-space spec (``nb201:{...}``, :meth:`ModelSpace.spec`)."""
    if is_spec(name):
        space, arch = from_spec(name)
        return space.build(arch).eval().to(dev, dtype), space.input_size(arch), space.name
    from hwaware.graph.sources import TORCHVISION_PREFIXES, build_model, timm_family

    model, size = build_model(name, weights=True)  # fused, as captured for prediction
    family = "torchvision" if name.startswith(TORCHVISION_PREFIXES) else timm_family(name)
    return model.eval().to(dev, dtype), size, family


def collect_networks(out: str | Path, models: Sequence[str], *, batch_sizes: Sequence[int] = (1,),
                     device: str = "cpu", dtype: torch.dtype = torch.float32, min_time_s: float = 1.0,
                     threads: int = 1, advice: str | None = None, rounds: int = 1) -> int:
    """Measure whole networks (random weights, eval mode) three-phase with ``threads`` torch threads (recorded): timm
    names at timm's default input size, or model-space specs (``hwaware.search.get_space(name).spec(arch)``) at the
    space's input size. ``advice``: what a failure or noisy rows tell the user to do, in place of editing ``out`` (a
    caller whose file is its own, such as ``hwaware calibrate --here``). ``rounds``: each network is timed once per
    round, every network in a round before the next round starts, and its row is its median round by total time (of
    an even count, the faster middle one): a busy spell of the machine then falls on a round of every network, not on
    a few networks' only. A network's row is written after its last round (a stop before it keeps none of that
    network), and does not record the rounds: do not resume a file at another count."""
    from hwaware.graph.sources import TORCHVISION_PREFIXES, build_model, capture, check_timm_name

    dev, threads = measurement_device(device), checked_threads(threads)
    rounds = checked_rounds(rounds)
    for name in models:  # every name, before hours of measuring stop at a typo
        if is_spec(name):
            checked_spec(name)
        elif name.lower().endswith(".onnx"):
            raise InvalidArgumentError(f"{name!r}: collect networks times PyTorch modules, not ONNX files; time the "
                                       "file in its runtime and calibrate from a model,ms table")
        elif name.startswith(TORCHVISION_PREFIXES):
            shell, size = build_model(name)  # on the meta device: an unknown name fails here
            if size is None:
                raise InvalidArgumentError(f"{name!r} has no default input size to measure it at; collect timm "
                                           "names, or time it yourself and calibrate from a model,ms,batch,input table")
            try:  # a model that takes no N x C x H x W image (a video model) fails here, not hours in
                capture(shell, input_size=size)
            except HwawareError as exc:
                reason = re.split(r": pass |\. |; ", str(exc), maxsplit=1)[0]  # the capture's fixes are not collect's
                raise InvalidArgumentError(f"{name} cannot be measured at its default input ({reason}); leave it out "
                                           "of the models") from None
        else:
            check_timm_name(name)
    with exclusive(out), torch_threads(threads):
        env = environment(dev, dtype)
        store = SampleStore(out, NETWORK_COLUMNS, same=_setting(env))
        # each network and batch once (a repeat would be measured twice; calibrate refuses a file listing one twice)
        todo = [(m, b) for m in dict.fromkeys(models) for b in dict.fromkeys(batch_sizes) if f"{m}-b{b}" not in store]
        progress = Progress(len(todo) * rounds, f"networks{f' x {rounds} rounds' if rounds > 1 else ''} -> {out}")
        timed: dict[tuple[str, int], list[PhaseTimes]] = {}
        written = [0]
        with _noisy_rows(out, lambda: written[0], advice) as noisy:
            for model_name, batch in (step for _ in range(rounds) for step in todo):
                model, size, family = _network(model_name, dev, dtype)  # built again each round: memory stays one's
                x = torch.randn((batch, *size), dtype=dtype)
                times = timed.setdefault((model_name, batch), [])
                what = f"{model_name} at batch {batch}"
                times.append(_measured(partial(time_phases, model, [x], dev, warmup=NETWORK_WARMUP, min_repeats=10,
                                                max_repeats=100, min_time_s=min_time_s), what,
                                        advice or "leave it out of the models (or that batch)",
                                        None if advice or rounds > 1 else out))
                if len(times) == rounds:
                    median = sorted(times, key=lambda t: t.total_ms)[(rounds - 1) // 2]
                    _note_noisy(noisy, median, what)  # the row kept: a noisy round that is not kept does not matter
                    store.append({"sample_id": f"{model_name}-b{batch}", "model": model_name, "family": family,
                                  "img_size": img_size_text(size), "batch": batch, **_phases(median), **env})
                    written[0] += 1
                progress.step(model_name)
                del model
    return len(todo)
