"""The public entry points: :func:`latency`, :func:`latency_many`, :func:`estimate`, :func:`calibrate`,
:func:`features`."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import numbers
import os
import statistics
import sys
import time
import warnings
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

from hwaware.calibration.measurements import Measurement, check_latency, check_setting, read_measurements
from hwaware.calibration.folder import list_profiles, profile_dir
from hwaware.calibration.profile import (FORMS, Breakdown, Profile, check_forms, check_profile_name, check_rows,
                                        find_profile, fit_profile, profile_path, save_profile, saved_profile)
from hwaware.errors import (CacheSettingError, HwawareError, HwawareWarning, ImplausibleEstimateWarning,
                            InvalidArgumentError, OtherCPUWarning, ProfileReplacedWarning, UnknownGPUError,
                            UnsupportedPlatformError)
from hwaware.estimators.base import Estimate, default_estimator, get_estimator
from hwaware.estimators.gpu_features import arithmetic_ms, network_floor_ms
from hwaware.features import NetworkFeatures, network_features
from hwaware.graph.capture import check_trace_device
from hwaware.graph.layer import Graph, data_dependent_ops
from hwaware.graph.onnx_import import FOLDED_NORM_NOTE, ONNX_EAGER_NOTE
from hwaware.graph.transform import at_batch, derived
from hwaware.graph.sources import InputSize, ModelLike, parse_input_size
from hwaware.graph.sources import capture as capture_model
from hwaware.hardware.catalog import CPUSpec, Device, GPUSpec, Platform, check_batch_size, check_precision
from hwaware.threads import torch_threads
from hwaware.zoo.spaces import is_spec, spec_graph


def _noted(graph: Graph, note: str) -> Graph:
    return dataclasses.replace(graph, notes=(note, *graph.notes))


def _graph(model: ModelLike | Graph, batch_size: int, input_size: InputSize, precision: str, trace_device: str) -> Graph:
    check_trace_device(trace_device)  # a graph or a spec is not traced, but the argument is still checked
    space = model.partition(":")[0] if is_spec(model) else None
    if space:  # its space builds it at the space's own input size, as the search predicted it
        model = spec_graph(model, batch_size=batch_size, precision=precision)
    if isinstance(model, Graph):
        size = parse_input_size(input_size)
        if size is not None and tuple(size) != tuple(model.input_shape[1:]):  # a graph's input is fixed at capture
            have, want = "x".join(map(str, model.input_shape[1:])), "x".join(map(str, size))
            raise InvalidArgumentError(
                f"an architecture of the {space} space takes its input, {have}, not {want}; drop input_size (CLI: "
                "--input)" if space else f"the graph was captured with input {have}; drop input_size or capture the "
                f"model again at {want}")
        if model.batch_size != batch_size or model.precision != precision:
            try:  # exact for every layer that carries the batch first (hwaware.graph.transform)
                # said (helper-163: a graph captured at batch 8 in fp16 was answered at batch 1 in fp32, unsaid);
                # the noted graph remembered too, or every warm call re-derives its batch checks' moved graphs
                return derived(model, ("asked", batch_size, precision), lambda g: _noted(
                    at_batch(g, batch_size, precision), f"the graph was captured at batch {g.batch_size}, "
                    f"{g.precision}, and moved to batch {batch_size}, {precision}, as asked (batch_size=, precision=; "
                    "CLI: --batch, --precision)"))
            except ValueError as exc:  # only a batch can fail to move (helper-136: the message asked for both)
                why = exc.__cause__ or exc  # with_batch's own words wrap the layer's
                raise InvalidArgumentError(
                    f"the graph, captured at batch {model.batch_size}, cannot move to batch {batch_size} ({why}); "
                    f"pass batch_size={model.batch_size} or capture the model at batch_size={batch_size} (a capture at "
                    "a batch above 1 tells the batch from the other sizes where batch 1 cannot)") from None
        return model
    return capture_model(model, batch_size=batch_size, input_size=input_size, precision=precision,
                         trace_device=trace_device)


def capture(model: ModelLike, *, batch_size: int = 1, input_size: InputSize = None, precision: str = "fp32",
            trace_device: str = "meta") -> Graph:
    """The layer graph of ``model`` for one forward pass at ``batch_size``: what every estimator reads, and what
    :func:`estimate` takes in place of the model (moved to another batch or precision where it can be). ``model`` as
    :func:`estimate` takes it, a search space's architecture spec (``"nb201:{...}"``) too, at the space's input size.

    >>> g = capture("resnet18")
    >>> g.input_shape, round(g.macs / 1e9, 2)
    ((1, 3, 224, 224), 1.81)
    >>> from hwaware.search import get_space
    >>> space = get_space("fbnet")
    >>> capture(space.spec(space.default()), batch_size=8).input_shape
    (8, 3, 32, 32)
    """
    if not is_spec(model):
        return capture_model(model, batch_size=batch_size, input_size=input_size, precision=precision,
                             trace_device=trace_device)
    return _graph(model, check_batch_size(batch_size), input_size, check_precision(precision), trace_device)


def estimate(model: ModelLike | Graph, gpu: str | os.PathLike | Device | Profile = "agx", *, batch_size: int = 1,
             input_size: InputSize = None, precision: str | None = None, runtime: str | None = None,
             estimator: str | None = None, trace_device: str = "meta") -> Estimate:
    """Predict the inference latency of ``model`` on ``gpu``, with its breakdown.

    ``gpu``: a GPU name or alias from :func:`hwaware.gpus`, ``"cpu"`` for the measured CPU target, or a
    calibration profile (a ``.json`` path, a saved profile's name, or the :class:`Profile` :func:`calibrate` returns;
    see :mod:`hwaware.calibration`).
    ``model``: an ``nn.Module``, a timm name, ``"torchvision:<name>"``, an ``.onnx`` path, an
    ``onnx.ModelProto``, a captured :class:`~hwaware.graph.Graph`, or a search space's architecture spec
    (``"nb201:{...}"``, as a search records it; at the space's input size). ``input_size``: ``(C, H, W)``,
    ``"3x224x224"`` or ``224``; default from the model's timm config. ``precision`` and ``runtime``: default a
    profile's own, else ``"fp32"`` and ``"pytorch"`` (a profile refuses others). ``estimator``: a name from
    :func:`hwaware.estimators.list_estimators`; default: the best one trained for the platform.

    >>> import hwaware
    >>> est = hwaware.estimate("resnet18", gpu="agx")
    >>> round(est.total_ms, 6) == round(est.pre_ms + est.exe_ms + est.post_ms, 6)
    True
    """
    platform, profile, name = resolve(gpu, precision=precision, runtime=runtime, batch_size=batch_size,
                                      estimator=estimator)
    graph = _graph(model, batch_size, input_size, platform.precision, trace_device)
    est = get_estimator(name)
    with torch_threads(1):  # learned estimators run torch, whose default thread count stalls under CPU contention
        result = est.predict(graph, platform)
    return _finish(result, graph, platform, profile)


# ops that make a tensor from nothing (a fill): no work to miss (torchvision's Swin builds a mask with new_zeros)
ALLOCATIONS = {"zeros", "ones", "full", "empty", "eye", "arange", "linspace", "new_zeros", "new_ones", "new_full",
               "new_empty", "zeros_like", "ones_like", "full_like", "empty_like", "scalar_tensor"}
# ops of a whole recurrent layer (ONNX's, or the fused kernels a CPU trace records), by their name after the namespace
RECURRENT_OPS = {"lstm", "gru", "rnn", "mkldnn_rnn_layer", "_cudnn_rnn", "rnn_tanh", "rnn_relu", "lstm_cell",
                 "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "_thnn_fused_lstm_cell", "_thnn_fused_gru_cell"}


UNSOURCED_RATE = "a rate the catalog lacks"  # the warning's kind: an answer on a lower bound of a GPU's rate


def _finish(result: Estimate, graph: Graph, platform: Platform, profile: Profile | None) -> Estimate:
    """``result`` with what the graph's source changed (e.g. folded batch norm) in its notes, a warning where the
    batch cannot fit the GPU's memory, and the profile's correction. Each kind of warning is also raised, in words
    that do not change with the network, so that a search loop shows it once per platform, not once per candidate."""
    memory = _memory_warning(graph, platform) + (_stale_profile(profile, result.estimator, platform) if profile else ())
    steps = sum(layer.kind.launches_kernel and bool(layer.attrs.get("rnn_step")) for layer in graph.layers)
    if steps and isinstance(platform.device, GPUSpec):  # the CPU runs the decomposition the trace records
        memory += (f"outside the training domain: {steps} kernels are the time steps of a recurrent module (nn.LSTM, "
                   "nn.GRU, nn.RNN or a cell's loop) as the CPU decomposes it, each priced as its own launch, where a "
                   "GPU fuses them (cuDNN's RNN under eager PyTorch, a cell's fused kernel per step, TensorRT's RNN "
                   "layer): no table times an RNN, and the answer is likely high",)
    # the graph's: a whole-network estimator reports no unknown ops of its own
    recurrent = [op for op in graph.unknown_ops if op.rsplit(".", 1)[-1].lower() in RECURRENT_OPS]
    if recurrent and not steps:  # an ONNX LSTM node, or the CPU's fused RNN layer: one op nothing prices
        memory += (f"outside the training domain: the recurrent op {', '.join(recurrent)} is not modelled (an unknown "
                   "op to the estimator): no table times an RNN, and the answer is no prediction of its time",)
    others = {op: n for op, n in graph.unknown_ops.items()
              if op not in recurrent and op.rsplit(".", 1)[-1] not in ALLOCATIONS}
    if others:  # rare (none in 60 random timm models, nor in ONNX exports of five): a deformable conv, RoIAlign, NMS
        how = ("each timed as a copy of its bytes" if result.layers else
               "none of it seen by this whole-network estimator")
        memory += (f"not modelled: {sum(others.values())} op{'s' if sum(others.values()) > 1 else ''} no estimator "
                   f"knows ({', '.join(f'{op} x{n}' for op, n in others.items())}), {how}; an op that computes (a "
                   "deformable convolution, RoIAlign, NMS) takes longer, which the interval does not cover: the answer "
                   "is likely low" + _one_engine(graph, platform),)
    if profile is None and isinstance(platform.device, GPUSpec) and any(
            n in result.notes for n in platform.device.unsourced_rates(platform.precision)):  # (ipc-tree reads none)
        # a GPU answered slower than a slower one of its chip (RTX A6000 against A40, helper-161): said, not only noted
        memory += (f"{UNSOURCED_RATE}: some of {platform.device.name}'s {platform.precision} layers are timed at a "
                   "lower bound on their rate (the notes say which), so the answer is likely high; a few "
                   "measurements of your device correct it (hwaware calibrate)",)
    if not any(layer.kind.launches_kernel for layer in graph.layers):  # nn.Identity, an ONNX graph without nodes
        memory += (f"no kernels: {graph.name} runs no layer that launches a kernel; the answer is the per-call time "
                   "alone" + (f", which {result.estimator} does not price: 0 ms is no prediction of a call's cost"
                              if result.total_ms == 0 and profile is None else ""),)  # (a profile may add one)
    result = _below_floor(result, graph, platform)
    renewed = ()
    if profile:
        profile, renewed = _current_held_out(profile, result.estimator)
    source = (ONNX_EAGER_NOTE,) if graph.source == "onnx" and platform.runtime == "pytorch" else ()
    if profile is None and isinstance(platform.device, CPUSpec):
        source += _other_cpu(platform.device)
    # TensorRT folds a module's batch norms as the exporter did: the two are one engine (helper-139: said otherwise)
    kept = tuple(n for n in graph.notes if n != FOLDED_NORM_NOTE or platform.runtime != "tensorrt")
    result = dataclasses.replace(result, notes=result.notes + kept + source + renewed,
                                 warnings=result.warnings + memory)
    # first: a profile drops what it resolves
    result = profile.apply_estimate(result, graph.input_shape) if profile else result
    result = _beats_arithmetic(result, graph, platform)  # the calibrated answer's (helper-132)
    result = _interval_above_floors(result)
    for kind in dict.fromkeys(text.split(":", 1)[0] for text in result.warnings):
        warnings.warn(f"{platform.device.name} ({platform.runtime}, {platform.precision}, batch {platform.batch_size}): "
                      f"{kind} (why, per network: hwaware.estimate(...).warnings, or `hwaware latency`)",
                      ImplausibleEstimateWarning, stacklevel=_user_stacklevel())
    return result


def _other_cpu(target: CPUSpec) -> tuple[str, ...]:
    """The note (and, once, the warning) that ``target``, a CPU model, answers for the CPU it was measured on, where
    this machine's is another (its name as ``/proc/cpuinfo`` gives it, which the measurements recorded): nothing where
    it is that one."""
    here = _this_cpu() or "CPU (no model name found)"
    if here == target.device_name:
        return ()
    warnings.warn(f"{target.name} answers for the {target.device_name} it was measured on, not this machine's "
                  f"{here}; {OTHER_CPU_FIX}", OtherCPUWarning, stacklevel=_user_stacklevel())
    return (f"{target.name}: the {target.device_name} the CPU model was measured on ({target.threads} torch "
            f"thread{'s' if target.threads > 1 else ''}), not this machine's {here}; another CPU runs networks at "
            "other speeds (an Intel Xeon ran 38 timm networks in x0.83 to x1.29 of the EPYC's times, 10th to 90th "
            "percentile, under another torch version, where its own two runs 6 minutes apart differed by x0.88 to "
            f"x1.04; `python benchmarks/cpu_host_profile.py`); {OTHER_CPU_FIX}",)


OTHER_CPU_FIX = ("for yours: hwaware.calibrate_here(NAME) or `hwaware calibrate --here --name NAME` "
                 "(about 45 s), then gpu=NAME (CLI: --gpu NAME)")


@functools.cache
def _this_cpu() -> str:
    import torch

    from hwaware.measure.timing import device_name

    return device_name(torch.device("cpu"))


def _one_engine(graph: Graph, platform: Platform) -> str:
    """What a TensorRT answer assumes of a graph with ops whose output shapes depend on the values (helper-134: Faster
    R-CNN answered with a narrow interval as one engine): '' where it has none or the runtime is not TensorRT."""
    ops = data_dependent_ops(graph)
    if platform.runtime != "tensorrt" or not ops:
        return ""
    return (f"; and under TensorRT as one engine, though {', '.join(ops)} give data-dependent shapes, which take "
            "TensorRT 8.5's data-dependent-shape support or plugins, or a graph split around them (torch2trt, the "
            "tables' converter, has no converter for them)")


def _below_floor(result: Estimate, graph: Graph, platform: Platform) -> Estimate:
    """``result`` warned, its interval widened to reach it, where an answer of an estimator that floors no layer (a
    whole-network regressor, the roofline: not :attr:`~hwaware.estimators.Estimator.floors_layers`) lies below the
    least time the network's kernels allow on the GPU (:func:`network_floor_ms`): a regressor outside its training
    networks answered 0.71 ms for VGG16 at batch 256 on an RTX 2080 Ti, which its FLOPs alone forbid."""
    if not isinstance(platform.device, GPUSpec) or get_estimator(result.estimator).floors_layers:
        return result
    floor = network_floor_ms(graph, platform.device, platform.precision, platform.runtime)
    if result.total_ms >= floor:
        return result
    said = (f"physically implausible: {result.total_ms:.4g} ms is below the least time this network's kernels allow "
            f"on the {platform.device.name} ({floor:.4g} ms: GEMMs at the peak rate, the bytes at the DRAM bandwidth; "
            f"the interval is widened to it); {result.estimator} is outside its training networks here: leave "
            "estimator out for the platform's default")
    return _warned(result, said, floor)


def _warned(result: Estimate, said: str, reach: float) -> Estimate:
    """``result`` with the warning ``said`` and its interval's high end raised to ``reach``, a time it is below."""
    span = None if result.interval_ms is None else (result.interval_ms[0], max(result.interval_ms[1], reach))
    return dataclasses.replace(result, warnings=result.warnings + (said,), interval_ms=span)


def _interval_above_floors(result: Estimate) -> Estimate:
    """``result`` with its interval's low end no lower than the least time its layers' floors allow together
    (:attr:`~hwaware.estimators.base.LayerEstimate.floor_ms`, summed; the answer's own where that is lower): the
    interval scales a whole answer, floored layers too, and reached 0.34x the arithmetic of fcn_resnet50 on an Orin
    at batch 8 under TensorRT (helper-134)."""
    least = min(sum(row.floor_ms for row in result.layers), result.total_ms)
    if result.interval_ms is None or result.interval_ms[0] >= least:
        return result
    return dataclasses.replace(result, interval_ms=(least, result.interval_ms[1]))


def _beats_arithmetic(result: Estimate, graph: Graph, platform: Platform) -> Estimate:
    """``result`` warned where it is below the time the network's multiply-adds take at the GPU's fastest datasheet
    rate (:func:`arithmetic_ms`): possible only with Winograd or FFT on most of its arithmetic at that rate, and
    TensorRT answers did so unwarned, VGG16 on an A100 in fp32 at batch 256 46.4 ms against its 50.8 ms of TF32
    arithmetic, a Jetson TX2's down to 0.59x (helper-131: 164 of 6,769 TensorRT answers, none of eager PyTorch's)."""
    # an answer already warned physically implausible keeps that warning alone (a layer split's warning, which says
    # nothing of the total, is of another kind: helper-142)
    if not isinstance(platform.device, GPUSpec) or any(w.startswith("physically implausible:")
                                                       for w in result.warnings):
        return result
    least = arithmetic_ms(graph, platform.device, platform.precision)
    if least is None or result.total_ms >= least:
        return result
    said = (f"faster than its arithmetic: {result.total_ms:.4g} ms is below the {least:.4g} ms its convolutions' and "
            f"dense layers' multiply-adds take at the {platform.device.name}'s fastest datasheet rate for "
            f"{platform.precision}, which only Winograd or FFT on most of them at that rate allows: likely answered "
            "too fast (the interval is widened to it)")
    return _warned(result, said, least)


def _stale_profile(profile: Profile, estimator: str, platform: Platform) -> tuple[str, ...]:
    """A warning where ``profile`` was fitted on other predictions than the estimator now gives (re-trained weights,
    a new estimator version, another catalog spec of its GPU): its correction was fitted to errors that may have
    changed."""
    now = get_estimator(estimator).model_id(platform)
    if not profile.base or profile.base == now:
        return ()
    return (f"stale profile: {profile.name!r} was fitted on predictions of {profile.base}, these come from {now} "
            "(re-trained weights, a new estimator version or another GPU spec); re-run `hwaware calibrate` with the "
            "same measurements",)


def _current_held_out(profile: Profile, estimator: str) -> tuple[Profile, tuple[str, ...]]:
    """``profile`` with the estimator's 10-shot interval on held-out GPUs as it is now, and a note where that differs
    from the one the profile recorded: the interval is the model's (a re-run of ``scripts/train_gpu.py logo`` moves it
    without new weights, which :func:`_stale_profile` would not see), the leave-one-out range the profile's. Where the
    model now has none (weights retrained before that stage ran), the recorded one stays, the wider choice, and is
    named."""
    now = get_estimator(estimator).calibrated_interval()
    if profile.held_out_interval == now:
        return profile, ()
    was = "none" if profile.held_out_interval is None else "[{:+.3f}, {:+.3f}]".format(*profile.held_out_interval)
    head = f"profile {profile.name!r} recorded the model's 10-shot interval on held-out GPUs as {was} (log)"
    if now is None:
        return profile, (f"{head}; the model has none measured now, so the estimate's interval keeps it",)
    return dataclasses.replace(profile, held_out_interval=now), (
        f"{head}; the estimate's interval is widened with its current one instead, "
        "[{:+.3f}, {:+.3f}]".format(*now),)


def _user_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside the hwaware package, seen from the caller's ``warnings.warn``:
    a warning names the user's line whichever public function (latency, rank, the search hook) led here."""
    package = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _memory_warning(graph: Graph, platform: Platform) -> tuple[str, ...]:
    """A warning where even a lower bound of the memory the forward pass needs exceeds the GPU's (for the CPU target,
    the RAM of the machine that runs hwaware, where it is known)."""
    gb = getattr(platform.device, "memory_size_gb", None)
    if gb is None and isinstance(platform.device, CPUSpec):
        try:  # POSIX only: elsewhere no warning, as for a GPU the catalog gives no memory for
            gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        except (AttributeError, ValueError, OSError):
            gb = None
    # the catalog's GB are the binary ones of the datasheets: the larger reading; the linear upper bound first (most
    # networks fit by far, and the lower bound's attention check costs a warm call a millisecond)
    if not gb or graph.max_memory_bytes() <= gb * 2**30 or (need := graph.min_memory_bytes()) <= gb * 2**30:
        return ()
    kind = "GPU" if isinstance(platform.device, GPUSpec) else "CPU"
    return (f"does not fit in memory: batch {graph.batch_size} needs at least {need / 2**30:.1f} GiB (the weights "
            f"and the largest layer's activations) on a {gb:.1f} GB {kind}; no real run at this size exists, so the "
            "answer is an extrapolation: lower the batch or the input size",)


def resolve(gpu: str | os.PathLike | Device | Profile, *, precision: str | None = None, runtime: str | None = None,
            batch_size: int = 1, estimator: str | None = None) -> tuple[Platform, Profile | None, str]:
    """(platform, profile or None, estimator name) of a prediction request, as :func:`estimate` resolves it: ``gpu``
    is a catalog GPU, the CPU target, or a calibration profile (a ``.json`` path, a saved profile's name or a
    :class:`Profile`), whose base GPU, runtime, precision and estimator it takes (``precision``/``runtime`` None: its
    own, else fp32 and eager PyTorch; given and not its own: refused). Every entry point that accepts a profile
    resolves here.

    >>> platform, profile, name = resolve("2080ti", precision="fp16")
    >>> (platform.precision, profile, name == default_estimator(platform))
    ('fp16', None, True)
    """
    platform, profile = _platform(gpu, precision, runtime, batch_size)
    return platform, profile, _estimator_name(estimator, profile, platform)


def _platform(gpu: str | os.PathLike | Device | Profile, precision: str | None, runtime: str | None, batch_size: int
              ) -> tuple[Platform, Profile | None]:
    # a profile's pathlib.Path as its string; "FP16" and "TensorRT" as GPU names are spelled: in any case (helper-130)
    gpu = os.fspath(gpu) if isinstance(gpu, os.PathLike) else gpu
    precision, runtime = (v.lower() if isinstance(v, str) else v for v in (precision, runtime))
    profile = gpu if isinstance(gpu, Profile) else find_profile(gpu) if isinstance(gpu, str) else None
    if profile is None:
        try:
            return Platform.resolve(gpu, precision=precision or "fp32", runtime=runtime or "pytorch",
                                    batch_size=batch_size), None
        except UnknownGPUError as exc:  # a name may be meant as a profile's: say where profiles are looked for
            if exc.hint:  # an ambiguous catalog spelling: its candidates are the answer
                raise
            folder, saved = profile_dir(), list_profiles()
            raise UnknownGPUError(exc.name, exc.suggestions + saved, hint=(
                f"no catalog GPU and no calibration profile in {folder} has that name"
                + (f" (saved: {', '.join(saved[:8])}{' ...' if len(saved) > 8 else ''})" if saved else ""))) from None
    for arg, given, own in (("precision", precision, profile.precision), ("runtime", runtime, profile.runtime)):
        if given is not None and given != own:  # an explicit fp32 on an fp16 profile too: never answered silently
            raise InvalidArgumentError(f"profile {profile.name!r} was calibrated with {arg}={own!r}, not {given!r}; "
                                       f"calibrate another profile for {given}")
    batch_size = check_batch_size(batch_size)  # the caller's argument, not the file's
    try:
        return Platform.resolve(profile.gpu, precision=profile.precision, runtime=profile.runtime,
                                batch_size=batch_size), profile
    except (InvalidArgumentError, UnknownGPUError) as exc:  # an edited file: said as the file's
        path = (f"{gpu.name!r}" if isinstance(gpu, Profile) else gpu if gpu.endswith(".json")
                else profile_dir() / f"{gpu}.json")
        raise InvalidArgumentError(f"calibration profile {path} holds settings hwaware refuses ({exc}); re-run "
                                   "`hwaware calibrate` rather than editing the file") from None


def _estimator_name(given: str | None, profile: Profile | None, platform: Platform) -> str:
    """The estimator to run: a profile's own (its correction was fitted on that estimator's predictions), else the
    one given, else the platform's default."""
    if given is not None and (not isinstance(given, str) or not given):
        raise InvalidArgumentError(f"estimator: a name from hwaware.list_estimators() or None (the default), got "
                                   f"{given!r}")
    if profile is None:
        return given or default_estimator(platform)
    if given is not None and given != profile.estimator:
        raise InvalidArgumentError(f"profile {profile.name!r} corrects {profile.estimator}'s predictions, not {given}'s; "
                                   "drop estimator= (CLI: --estimator): the profile answers with its own")
    return profile.estimator


def latency(model: ModelLike | Graph, gpu: str | os.PathLike | Device | Profile = "agx", *, batch_size: int = 1,
            input_size: InputSize = None, precision: str | None = None, runtime: str | None = None,
            estimator: str | None = None, trace_device: str = "meta") -> float:
    """Predicted latency in milliseconds of one forward pass of a batch; see :func:`estimate`.

    >>> import hwaware
    >>> hwaware.latency("resnet18", gpu="agx") > 0
    True
    """
    return estimate(model, gpu, batch_size=batch_size, input_size=input_size, precision=precision, runtime=runtime,
                    estimator=estimator, trace_device=trace_device).total_ms


def model_list(models: Iterable[ModelLike | Graph], caller: str) -> list[ModelLike | Graph]:
    """``models`` as a list; one model where a list belongs (a name is itself iterable, one model per character) is
    an error that names ``caller``."""
    if isinstance(models, (str, Path)) or not isinstance(models, Iterable):
        one = {"estimate_many": "hwaware.estimate"}.get(caller, "hwaware.latency")
        raise InvalidArgumentError(f"{caller} takes a list of models, got {models!r}; pass [model] (one model: {one})")
    return list(models)


def latency_many(models: Iterable[ModelLike | Graph], gpu: str | Device | Profile = "agx", *, batch_size: int = 1,
                 input_size: InputSize = None, precision: str | None = None, runtime: str | None = None,
                 estimator: str | None = None, trace_device: str = "meta", progress: bool | None = None) -> list[float]:
    """:func:`latency` of each model, equal to calling it one by one, in one batched prediction
    (:func:`estimate_many`'s totals).

    >>> import hwaware
    >>> ms = hwaware.latency_many(["resnet18", "resnet34"], gpu="2080ti")
    >>> ms == [hwaware.latency("resnet18", gpu="2080ti"), hwaware.latency("resnet34", gpu="2080ti")]
    True
    """
    return [e.total_ms for e in estimate_many(model_list(models, "latency_many"), gpu, batch_size=batch_size,
                                              input_size=input_size, precision=precision, runtime=runtime,
                                              estimator=estimator, trace_device=trace_device, progress=progress)]


def estimate_many(models: Iterable[ModelLike | Graph], gpu: str | Device | Profile = "agx", *, batch_size: int = 1,
                  input_size: InputSize = None, precision: str | None = None, runtime: str | None = None,
                  estimator: str | None = None, trace_device: str = "meta", progress: bool | None = None
                  ) -> list[Estimate]:
    """:func:`estimate` of each model (its interval, notes and warnings too), equal to calling it one by one, in one
    batched prediction.

    Graphs come from the graph cache where a structure was seen before; the estimator predicts all
    graphs at once (:meth:`~hwaware.estimators.Estimator.predict_many`). ``progress``: a bar on
    stderr (default: when stderr is a terminal and there are more than 20 models).

    >>> import hwaware
    >>> many = hwaware.estimate_many(["resnet18", "resnet34"], gpu="2080ti")
    >>> [e.interval_ms for e in many] == [hwaware.estimate(m, gpu="2080ti").interval_ms
    ...                                   for m in ("resnet18", "resnet34")]
    True
    """
    models = model_list(models, "estimate_many")
    if progress is not None and not isinstance(progress, bool):
        raise InvalidArgumentError(f"progress: True, False or None (when stderr is a terminal), got {progress!r}")
    platform, profile, est_name = resolve(gpu, precision=precision, runtime=runtime, batch_size=batch_size,
                                          estimator=estimator)
    bar = Progress(len(models), f"{est_name} on {platform.device.name}", enabled=progress)
    graphs = []
    for i, m in enumerate(models):
        try:
            graphs.append(_graph(m, batch_size, input_size, platform.precision, trace_device))
        except CacheSettingError:  # the machine's, not a candidate's (helper-170)
            raise
        except HwawareError as exc:  # in a search's hundreds of candidates, say which (helper-169)
            what = repr(str(m)) if isinstance(m, (str, Path)) else getattr(m, "name", None) or type(m).__name__
            raise _said_of(exc, f"models[{i}] ({what})")
        bar.step()
    out = graphs_estimates(graphs, platform, profile, est_name)
    bar.close()
    return out


def _said_of(exc: HwawareError, what: str) -> HwawareError:
    """``exc``, its message led by ``what`` it is about (one of many models or rows), its class kept for callers."""
    exc.args = (f"{what}: {exc}", *exc.args[1:])
    return exc


def graphs_estimates(graphs: Sequence[Graph], platform: Platform, profile: Profile | None, estimator: str
                     ) -> list[Estimate]:
    """The estimate of each captured graph (at the platform's batch and precision) on a request :func:`resolve`
    returned, in one batched prediction, each as :func:`estimate` answers it: the same notes, warnings and profile
    correction."""
    with torch_threads(1):  # as in estimate(): latency_many and space tables must not stall under contention
        estimates = get_estimator(estimator).predict_many(graphs, platform)
    return [_finish(e, g, platform, profile) for e, g in zip(estimates, graphs)]


class Progress:
    """A one-line progress bar on stderr: ``done/total``, rate and time left.

    >>> bar = Progress(3, "demo", enabled=False)
    >>> bar.step(); bar.close()
    """

    def __init__(self, total: int, label: str, *, enabled: bool | None = None, min_total: int = 20) -> None:
        self.total, self.label, self.done = total, label, 0
        self.enabled = sys.stderr.isatty() and total > min_total if enabled is None else enabled
        self.t0 = self.shown = time.perf_counter()

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self.shown > 0.2 or self.done == self.total):  # redraw at most 5 times a second
            self.shown = now
            rate = self.done / max(now - self.t0, 1e-9)
            left = (self.total - self.done) / rate if rate else 0.0
            print(f"\r{self.label}: {self.done}/{self.total} ({rate:.0f}/s, {left:.0f} s left)", end="", file=sys.stderr)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


_MEASUREMENTS = ("measurements: a CSV path, or a list of hwaware.Measurement(model, ms, batch, input_size) or of "
                 "(model, ms[, batch[, input_size]]) tuples")


def _as_measurement(row: Any) -> Measurement:
    """A :class:`Measurement` of ``row`` (one already, or a tuple or list of its first fields: a table's rows);
    anything else is refused."""
    if isinstance(row, Measurement):
        return row
    if isinstance(row, (tuple, list)) and 2 <= len(row) <= 4:
        return Measurement(*row)
    raise InvalidArgumentError(f"{_MEASUREMENTS}, got {row!r}")


def calibrate(measurements: str | Path | Sequence[Measurement | tuple], gpu: str, *, name: str,
              runtime: str = "pytorch", precision: str = "fp32", estimator: str | None = None,
              save: bool | str | Path = True, forms: Sequence[str] | None = None) -> Profile:
    """Fit a calibration profile of your device from a handful of whole-network measurements.

    ``measurements``: a CSV (``hwaware collect networks`` output or ``model,ms[,batch,input]``) or a list of
    :class:`hwaware.Measurement` or of ``(model, ms[, batch[, input_size]])`` tuples. ``gpu``: the catalog GPU your
    device is (or is closest to), or ``"cpu"`` (the CPU model; :func:`calibrate_here` measures your CPU itself). The
    profile is saved under its ``name`` (``save=True``), to a path (``save=PATH``) or not at all, and resolves wherever
    a GPU name goes: ``latency(model, gpu=name)``. A name is letters, digits, ``.``, ``_`` and ``-``, and no catalog
    GPU's name or alias (it would replace that GPU).
    Measurements are milliseconds, one row per network and batch; a median more than 50x from the predictions (seconds,
    microseconds) is refused. ``forms``: the profile forms chosen among by leave-one-out error (default
    :data:`hwaware.calibration.FORMS`, e.g. ``forms="scale, kernel"`` to fit that one alone).

    >>> import hwaware
    >>> mine = hwaware.calibrate([("resnet18", 21.0), ("resnet50", 52.0), ("mobilenetv2_100", 31.0)], gpu="agx",
    ...                          name="my-agx", save=False)  # your device's milliseconds: here made up
    >>> ms = hwaware.latency("resnet34", gpu=mine)
    """
    check_profile_name(name)  # before any prediction: a name that would shadow a GPU fails at once
    forms = FORMS if forms is None else check_forms(forms)
    if isinstance(measurements, Measurement):  # one row: a list of one, refused below as too few
        measurements = [measurements]
    if not isinstance(measurements, (str, Path, Iterable)):
        raise InvalidArgumentError(f"{_MEASUREMENTS}, got {type(measurements).__name__}")
    _check_save(name, save)
    rows = (read_measurements(measurements) if isinstance(measurements, (str, Path))
            else [_as_measurement(m) for m in measurements])
    for i, m in enumerate(rows):  # a CSV's rows were checked as read
        check_latency(m, f"measurement {i + 1}")
    based = gpu if isinstance(gpu, Profile) else find_profile(gpu) if isinstance(gpu, str) else None
    if based is not None:  # a profile corrects a catalog GPU's answers; it is not one to correct again
        shown = repr(based.name) if isinstance(gpu, Profile) else repr(gpu)  # not the dataclass's 900 characters
        raise InvalidArgumentError(f"{shown} is a calibration profile (of {based.gpu}); calibrate against the catalog "
                                   f"GPU itself: gpu={based.gpu!r} (CLI: --gpu {based.gpu!r})")
    platform = Platform.resolve(gpu, precision=precision, runtime=runtime)
    precision, runtime = platform.precision, platform.runtime  # as spelled there: any case
    check_setting(rows, platform)
    est_name = _estimator_name(estimator, None, platform)
    est = get_estimator(est_name)  # an unknown name is the call's, not its first row's
    # through estimate(): a measurement whose prediction is doubtful (capped batch, outside the training domain,
    # cannot fit in memory) warns as it would at prediction time, before the profile is fitted on it
    nets, labels, shapes, networks, spans, inputs = [], [], {}, [], [], []
    for i, m in enumerate(rows):
        where = f"{measurements} row {m.line}" if m.line else f"measurement {i + 1}"
        labels.append(f"{where} ({m.model or 'no model'}, batch {m.batch})")
        try:
            graph = _graph(m.model, m.batch, m.input_size, precision, "meta")
            with warnings.catch_warnings():  # the CPU model's answers are what a profile of another CPU corrects,
                warnings.simplefilter("ignore", OtherCPUWarning)  # as a rate the catalog lacks is what this one does
                warnings.filterwarnings("ignore", f".*: {UNSOURCED_RATE} ", ImplausibleEstimateWarning)
                answer = estimate(graph, platform.device, batch_size=m.batch, precision=precision, runtime=runtime,
                                  estimator=est_name)
        except HwawareError as exc:  # which row: the message alone points at options the user never passed
            if isinstance(exc, (UnsupportedPlatformError, CacheSettingError)):  # the platform's or machine's
                raise
            raise _said_of(exc, labels[-1])
        # one network at one input, however the row spells it (none: the timm default, 224, 3x224x224; resnet18,
        # resnet18.a1_in1k and torchvision:resnet18 are one graph, helper-137); repeats would count as independent
        # networks and narrow the interval to nothing
        at_one = _structure(graph, 1)
        if at_one is None:  # captured at batch 1 to be known; a model that runs at its own batch only stays by name
            with contextlib.suppress(HwawareError):  # (helper-140: an ONNX file's fixed batch stopped calibrate)
                at_one = _structure(_graph(m.model, 1, m.input_size, precision, "meta"))
        # one network at several batches, or by one name at several input sizes: left out together (helper-164: a
        # network at 224 and 320 was two, and left out, each was predicted from the other)
        networks.append([("name", m.model)] + ([at_one] if at_one else []))
        first = shapes.setdefault(_structure(graph), labels[-1])
        if first != labels[-1]:
            raise InvalidArgumentError(f"{labels[-1]} measures the network of {first} again (input "
                                       f"{'x'.join(map(str, graph.input_shape[1:]))}); give one row per network and "
                                       "batch (the median of repeated timings)")
        if not Breakdown.kernels(answer):  # a profile corrects layer by layer: a bare total would calibrate to 0
            raise InvalidArgumentError(f"{est_name} answers whole networks, without the per-layer breakdown a profile "
                                       f"corrects; calibrate with {default_estimator(platform)!r} (the default) or "
                                       "'roofline'")
        nets.append(Breakdown.of(answer))
        inputs.append(math.prod(graph.input_shape[1:]))
        spans.append(None if answer.interval_ms is None else [b / answer.total_ms for b in answer.interval_ms])
    check_rows(nets, [m.ms for m in rows], labels)
    profile = fit_profile(gpu, nets, [m.ms for m in rows], name=name, runtime=runtime, precision=precision,
                          estimator=est_name, base=est.model_id(platform), held_out_interval=est.calibrated_interval(),
                          groups=_joined(networks), batches=[m.batch for m in rows], forms=forms,
                          inputs=inputs)
    _doubt_level(rows, nets, spans, platform, profile)
    if save is not False:
        target = profile_path(name, None if save is True else save)
        old = saved_profile(target)
        setting = (profile.gpu, profile.runtime, profile.precision)
        if isinstance(old, Profile) and (old.gpu, old.runtime, old.precision) != setting:
            warnings.warn(f"profile {name!r} replaces one of another platform ({old.gpu}, {old.runtime}, "
                          f"{old.precision}) at {target}; give the new one another name to keep both",
                          ProfileReplacedWarning, stacklevel=_user_stacklevel())
        save_profile(profile, None if save is True else save)
    return profile


def calibrate_here(name: str, *, threads: int = 1, save: bool | str | Path = True,
                   measurements_out: str | Path | None = None, min_time_s: float = 1.0, rounds: int | None = None
                   ) -> Profile:
    """Measure the host suite (:func:`hwaware.measure.suite.host_suite`: 12 NAS-space networks and 3 timm ones) on
    this machine's CPU with ``threads`` torch threads, and fit a profile of the CPU model (``gpu="cpu"``) on them, as
    :func:`calibrate` does: the CPU model was trained on another CPU, whose times differ from yours by a factor
    that depends on the network. ``rounds`` (default :data:`~hwaware.measure.suite.SUITE_ROUNDS`, 3): the suite is
    timed round after round, each network's median round kept (:func:`~hwaware.measure.collect.collect_networks`), so
    that a busy spell of the machine falls on a round of every network; 44-46 s at one thread on an Intel Xeon (``time
    hwaware calibrate --here --name x``; one round: 13-15 s of measuring, ``python benchmarks/cpu_here_rounds.py``'s
    schedule); ``min_time_s``: the least time each network is timed for in a round.
    The profile describes this machine as it ran while measured: on a shared or virtual machine, whose speed drifts
    (an Intel Xeon: the same networks x1.26 to x1.36 as long seven hours apart; of three one-round runs within a
    minute, one gave 5-11 % MAPE per NAS space on test networks measured minutes before, one 23-26 %,
    ``python benchmarks/cpu_host_profile.py``; over 16 minutes the machine's speed moved by a quarter, and four
    three-round profiles gave 6-17 % at worst per NAS space, ``python benchmarks/cpu_here_rounds.py``), measure in the
    state you will run the networks in.

    The measurements are kept, as ``hwaware collect networks`` writes them: at ``measurements_out``, else beside the
    saved profile (its path with ``.csv``), else (``save=False``) nowhere; an existing file there is replaced, and
    kept even where the fit then fails (``hwaware calibrate FILE --gpu cpu`` fits them again).

    >>> import hwaware
    >>> mine = hwaware.calibrate_here("my-cpu")  # doctest: +SKIP
    >>> ms = hwaware.latency("resnet50", gpu="my-cpu")  # doctest: +SKIP
    """
    import tempfile

    from hwaware.measure.collect import checked_rounds, checked_threads, collect_networks
    from hwaware.measure.suite import SUITE_ROUNDS, host_suite

    check_profile_name(name)  # everything checked before a network is measured
    _check_save(name, save)
    if isinstance(min_time_s, bool) or not isinstance(min_time_s, numbers.Real) or not 0 < min_time_s < math.inf:
        raise InvalidArgumentError(f"min_time_s is the least seconds each network is timed for, above 0; got "
                                   f"{min_time_s!r}")
    rounds, threads = checked_rounds(SUITE_ROUNDS if rounds is None else rounds), checked_threads(threads)
    if measurements_out is not None and not isinstance(measurements_out, (str, Path)):
        raise InvalidArgumentError(f"measurements_out: a .csv file's path, got {type(measurements_out).__name__}")
    kept = here_measurements(name, save, measurements_out)
    if kept is not None:
        if kept.is_dir() or kept.suffix in (".json", ".gz"):
            raise InvalidArgumentError(f"measurements_out={str(kept)!r} is a folder, a profile's path or a gzip "
                                       "file's; pass a .csv file's path")
        if not kept.parent.is_dir() and measurements_out is not None:
            raise InvalidArgumentError(f"cannot keep the measurements at {kept}: no folder {kept.parent}; create it "
                                       "or pass another path")
    try:
        if kept is not None:
            kept.parent.mkdir(parents=True, exist_ok=True)  # the profiles' own folder, made on first use
        work = tempfile.TemporaryDirectory(dir=None if kept is None else kept.parent, prefix=".hwaware-here-")
    except OSError as exc:
        raise InvalidArgumentError(f"cannot write the measurements in {kept.parent if kept else 'the temporary folder'}"
                                   f" ({exc.strerror}); pass measurements_out= a writable .csv path") from exc
    with work as tmp:
        out = Path(tmp) / "host_suite.csv"
        collect_networks(out, host_suite(), threads=threads, min_time_s=min_time_s, advice=HERE_ADVICE,
                         rounds=rounds)
        if kept is not None:  # kept whole, before the fit: a fit that fails leaves them to calibrate from
            os.replace(out, kept)
        return calibrate(out if kept is None else kept, "cpu", name=name, save=save)


# what a failure or noisy rows of the host suite tell the user (the suite's file is calibrate_here's own)
HERE_ADVICE = ("the host suite is the same on every machine: run `hwaware calibrate --here` again when this one is "
               "quiet, or calibrate from networks you measured (`hwaware collect networks`, then `hwaware calibrate "
               "FILE --gpu cpu`)")


def here_measurements(name: str, save: bool | str | Path = True, measurements_out: str | Path | None = None
                      ) -> Path | None:
    """Where :func:`calibrate_here` keeps its measurements: ``measurements_out``, else beside the saved profile (its
    path with ``.csv``), else None (``save=False``)."""
    if measurements_out is not None:
        return Path(measurements_out)
    return None if save is False else profile_path(name, None if save is True else save).with_suffix(".csv")


def _check_save(name: str, save: object) -> None:
    """Refuse, before anything is predicted or measured, a ``save`` that is no bool or path, or a path gpu=PATH would
    not read."""
    if not isinstance(save, (bool, str, Path)):
        raise InvalidArgumentError(f"save: True (under the profile's name), False, or a path; got {save!r}")
    if not isinstance(save, bool):
        profile_path(name, save)


def _structure(graph: Graph, batch: int | None = None) -> tuple | None:
    """The network ``graph`` computes, whatever it is named: each layer's signature and the layers it reads (two NB201
    cells of the same ops wired otherwise are two networks), at ``batch`` (default its own; None where the graph
    cannot move there exactly: a transformer's views fold the batch, and :func:`calibrate` captures it there)."""
    try:
        moved = graph if batch in (None, graph.batch_size) else at_batch(graph, batch)
    except ValueError:
        return None
    return moved.input_shape, tuple((layer.signature(), layer.inputs) for layer in moved.layers)


def _joined(keys: Sequence[Sequence[Hashable]]) -> list[int]:
    """Each row's group: rows that share any of their keys (a name, a network at batch 1), directly or
    through other rows, are one network."""
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    first: dict[Hashable, int] = {}
    for i, row in enumerate(keys):
        for key in row:
            parent[root(i)] = root(first.setdefault(key, i))
    return [root(i) for i in range(len(keys))]


# A fitted scale of the kernels (or the host side) beyond this factor either way: the measurements relate the networks
# otherwise than the model does (an assumption: an order of magnitude, not fitted to any figure)
SCALE_DOUBT = 10.0


def _doubt_level(rows: Sequence[Measurement], nets: Sequence[Breakdown], spans: Sequence[list[float] | None],
                 platform: Platform, profile: Profile) -> None:
    """Warn where the measurements' median ratio to the zero-shot answers lies more than twice outside the answers' own
    median interval: a profile then corrects by far more than the model's error explains (ms read as another unit,
    another batch or device), which fit_profile's 50x refusal lets through (0.047x fitted silently: helper-128's
    audit). Twice: a power mode or a device only close to its catalog GPU sits just outside (1.35x on the AGX Xavier
    under TensorRT, whose interval ends at x1.30, is what calibration is for; helper-129). A fitted scale beyond
    :data:`SCALE_DOUBT` either way warns too, interval or not."""
    scales = {"kernels": profile.scale, "host side": profile.host_scale}
    far = {k: v for k, v in scales.items() if v is not None and not 1 / SCALE_DOUBT <= v <= SCALE_DOUBT}
    if far:  # whatever the median ratio: an Orin's rows fitted to the CPU target at x0.027 (helper-130)
        warnings.warn(f"the profile scales the {' and the '.join(f'{k} x{v:.3g}' for k, v in far.items())} of "
                      f"{platform.device.name}'s answers: the measurements relate the networks otherwise than the "
                      "model does (another device, batch, precision or runtime?); the profile is fitted anyway",
                      HwawareWarning, stacklevel=_user_stacklevel())
        return
    known = [s for s in spans if s is not None]
    if not known:  # the roofline and the CPU model give none: nothing says how far off they may be
        return
    ratio = statistics.median(m.ms / n.total_ms for m, n in zip(rows, nets))
    lo, hi = (statistics.median(s[i] for s in known) for i in (0, 1))
    if not lo / 2 <= ratio <= 2 * hi:
        warnings.warn(f"the measurements are {ratio:.3g}x the answers on {platform.device.name} (median), more than "
                      f"twice outside the model's own interval (x{lo:.2f}-x{hi:.2f}): they may be in another unit than "
                      "ms per forward pass, or of another batch, precision, runtime or GPU; the profile is fitted "
                      "anyway", HwawareWarning, stacklevel=_user_stacklevel())


def features(model: ModelLike | Graph, *, batch_size: int = 1, input_size: InputSize = None, precision: str = "fp32",
             trace_device: str = "meta") -> NetworkFeatures:
    """Static network features (params, MACs, activations, weighted neurons, depth ...).

    >>> import hwaware
    >>> hwaware.features("resnet18").params
    11689512
    """
    return network_features(_graph(model, batch_size, input_size, precision, trace_device))
