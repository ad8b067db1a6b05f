"""The public entry points: :func:`latency`, :func:`estimate`, :func:`features`."""
from __future__ import annotations

import dataclasses

from hwaware.errors import InvalidArgumentError
from hwaware.estimators.base import Estimate, default_estimator, get_estimator
from hwaware.features import NetworkFeatures, network_features
from hwaware.graph.layer import Graph
from hwaware.graph.sources import InputSize, ModelLike, capture
from hwaware.hardware.catalog import Device, Platform
from hwaware.threads import torch_threads


def _graph(model: ModelLike | Graph, batch_size: int, input_size: InputSize, precision: str, trace_device: str) -> Graph:
    if isinstance(model, Graph):
        if model.batch_size != batch_size or model.precision != precision:
            raise InvalidArgumentError(
                f"the graph was captured at batch {model.batch_size}, {model.precision}; pass batch_size="
                f"{model.batch_size}, precision={model.precision!r} or capture it again")
        return model
    return capture(model, batch_size=batch_size, input_size=input_size, precision=precision, trace_device=trace_device)


def estimate(model: ModelLike | Graph, gpu: str | Device = "agx", *, batch_size: int = 1, input_size: InputSize = None,
             precision: str = "fp32", runtime: str = "pytorch", estimator: str | None = None,
             trace_device: str = "meta") -> Estimate:
    """Predict the inference latency of ``model`` on ``gpu``, with its breakdown.

    ``gpu``: a GPU name or alias from :func:`hwaware.gpus`, or ``"cpu"`` for the measured CPU target.
    ``model``: an ``nn.Module``, a timm name, ``"torchvision:<name>"``, an ``.onnx`` path, an
    ``onnx.ModelProto`` or a captured :class:`~hwaware.graph.Graph`. ``input_size``: ``(C, H, W)``,
    ``"3x224x224"`` or ``224``; default from the model's timm config. ``estimator``: a name from
    :func:`hwaware.estimators.list_estimators`; default: the best one trained for the platform.

    >>> import hwaware
    >>> est = hwaware.estimate("resnet18", gpu="agx")
    >>> round(est.total_ms, 6) == round(est.pre_ms + est.exe_ms + est.post_ms, 6)
    True
    """
    platform = Platform.resolve(gpu, precision=precision, runtime=runtime, batch_size=batch_size)
    graph = _graph(model, batch_size, input_size, precision, trace_device)
    with torch_threads(1):  # learned estimators run torch, whose default thread count stalls under CPU contention
        result = get_estimator(estimator or default_estimator(platform)).predict(graph, platform)
    if graph.notes:  # what the model's source changed (e.g. folded batch norm), beside what the estimator says
        result = dataclasses.replace(result, notes=result.notes + graph.notes)
    return result


def latency(model: ModelLike | Graph, gpu: str | Device = "agx", *, batch_size: int = 1, input_size: InputSize = None,
            precision: str = "fp32", runtime: str = "pytorch", estimator: str | None = None,
            trace_device: str = "meta") -> float:
    """Predicted latency in milliseconds of one forward pass of a batch; see :func:`estimate`.

    >>> import hwaware
    >>> hwaware.latency("resnet18", gpu="agx") > 0
    True
    """
    return estimate(model, gpu, batch_size=batch_size, input_size=input_size, precision=precision, runtime=runtime,
                    estimator=estimator, trace_device=trace_device).total_ms


def features(model: ModelLike | Graph, *, batch_size: int = 1, input_size: InputSize = None, precision: str = "fp32",
             trace_device: str = "meta") -> NetworkFeatures:
    """Static network features (params, MACs, activations, weighted neurons, depth ...).

    >>> import hwaware
    >>> hwaware.features("resnet18").params
    11689512
    """
    return network_features(_graph(model, batch_size, input_size, precision, trace_device))
